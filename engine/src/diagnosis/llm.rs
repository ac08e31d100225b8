//! The LLM engine: any OpenAI-compatible `POST {url}/chat/completions`, asked with the
//! versioned prompt ([`super::prompt`]) and a `json_schema` response format. The answer's
//! content is parsed as JSON, checked against the schema, then for sense (score 0-100,
//! known priorities and actions, droplets of the cluster). A 429 or 5xx is retried a
//! bounded number of times, honouring `Retry-After` up to a cap; every failure is an
//! [`LlmFailure`] whose [`reason`](LlmFailure::reason) the diagnosis records when it falls
//! back to the rules engine.
//!
//! The API key is a secret: it is sent as a bearer token and nowhere else (never logged;
//! [`LlmConfig`]'s `Debug` redacts it).

use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::Value;

use super::advice::{Advice, Draft};
use super::inputs::DiagnosisInputs;
use super::prompt::{answer_schema, request_body};
use crate::domain::diagnosis::{health_label, Priority, RecommendedAction};

/// Default seconds an attempt may take.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 20;
/// Retries after a 429 or 5xx.
pub const RETRIES: u32 = 2;
/// The longest `Retry-After` honoured.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(5);

/// Where and how to ask.
#[derive(Clone)]
pub struct LlmConfig {
    /// Base URL; `/chat/completions` is appended.
    pub url: String,
    /// The model named in requests.
    pub model: String,
    /// Bearer token, if the endpoint wants one.
    pub api_key: Option<String>,
    /// Time limit of one attempt.
    pub timeout: Duration,
    /// Retries after a 429 or 5xx.
    pub retries: u32,
    /// The longest wait between attempts.
    pub retry_after_cap: Duration,
}

impl LlmConfig {
    /// A configuration with the default timeout and retries.
    pub fn new(url: impl Into<String>, model: impl Into<String>, api_key: Option<String>) -> Self {
        Self {
            url: url.into(),
            model: model.into(),
            api_key,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECONDS),
            retries: RETRIES,
            retry_after_cap: RETRY_AFTER_CAP,
        }
    }
}

impl fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmConfig")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("retry_after_cap", &self.retry_after_cap)
            .finish()
    }
}

/// Why the LLM's answer could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmFailure {
    /// An attempt took longer than the timeout.
    #[error("timeout")]
    Timeout,
    /// The endpoint could not be reached (or the exchange broke off).
    #[error("connect_error")]
    Connect,
    /// The endpoint answered an error status (after the retries, for 429 and 5xx).
    #[error("http_status {0}")]
    HttpStatus(u16),
    /// The response is not a chat completion with a message content.
    #[error("malformed_response")]
    MalformedResponse,
    /// The message content is not JSON.
    #[error("malformed_json")]
    MalformedJson,
    /// The content breaks the answer schema at this JSON pointer.
    #[error("schema_violation: {0}")]
    SchemaViolation(String),
    /// The content follows the schema but makes no sense for this cluster.
    #[error("invalid_answer: {0}")]
    InvalidAnswer(String),
}

impl LlmFailure {
    /// The fallback reason recorded in the diagnosis.
    pub fn reason(&self) -> String {
        self.to_string()
    }
}

/// A client of one OpenAI-compatible endpoint.
#[derive(Clone, Debug)]
pub struct LlmClient {
    config: LlmConfig,
    http: reqwest::Client,
}

impl LlmClient {
    /// A client for `config`.
    pub fn new(config: LlmConfig) -> Self {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .unwrap_or_default();
        Self { config, http }
    }

    /// The model asked.
    pub fn model(&self) -> &str {
        &self.config.model
    }

    /// Asks the model about `inputs` and checks its answer.
    pub async fn advise(&self, inputs: &DiagnosisInputs) -> Result<Advice, LlmFailure> {
        let body = request_body(&self.config.model, inputs);
        let response = self.post(&body).await?;
        let content = content_of(&response)?;
        let answer: Value =
            serde_json::from_str(content.trim()).map_err(|_| LlmFailure::MalformedJson)?;
        check_schema(&answer)?;
        to_advice(&answer, inputs)
    }

    /// Posts `body`, retrying 429 and 5xx; the response body as JSON.
    async fn post(&self, body: &Value) -> Result<Value, LlmFailure> {
        let url = format!("{}/chat/completions", self.config.url.trim_end_matches('/'));
        let mut attempt = 0;
        loop {
            let mut request = self.http.post(&url).json(body);
            if let Some(key) = &self.config.api_key {
                request = request.bearer_auth(key);
            }
            let response = request.send().await.map_err(transport)?;
            let status = response.status();
            if status.is_success() {
                let text = response.text().await.map_err(transport)?;
                return serde_json::from_str(&text).map_err(|_| LlmFailure::MalformedResponse);
            }
            let retryable = status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
            if !retryable || attempt >= self.config.retries {
                return Err(LlmFailure::HttpStatus(status.as_u16()));
            }
            let wait = retry_after(response.headers())
                .unwrap_or(Duration::from_millis(250 << attempt))
                .min(self.config.retry_after_cap);
            tracing::debug!(
                status = status.as_u16(),
                attempt,
                ?wait,
                "llm endpoint asks to retry"
            );
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

/// A failure to get a response: a timeout, or anything else on the way (refused
/// connection, DNS, TLS).
fn transport(error: reqwest::Error) -> LlmFailure {
    if error.is_timeout() {
        LlmFailure::Timeout
    } else {
        LlmFailure::Connect
    }
}

/// `Retry-After` in seconds (an HTTP date is not honoured: the default backoff applies).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

/// `choices[0].message.content` of a chat completion.
fn content_of(response: &Value) -> Result<&str, LlmFailure> {
    response
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str)
        .ok_or(LlmFailure::MalformedResponse)
}

/// Checks `answer` against the answer schema; the first error's instance path.
pub fn check_schema(answer: &Value) -> Result<(), LlmFailure> {
    let schema = answer_schema();
    let validator = jsonschema::validator_for(&schema)
        .map_err(|e| LlmFailure::SchemaViolation(format!("schema: {e}")))?;
    let first = validator
        .iter_errors(answer)
        .next()
        .map(|error| error.instance_path().to_string());
    match first {
        None => Ok(()),
        Some(path) if path.is_empty() => Err(LlmFailure::SchemaViolation("/".to_owned())),
        Some(path) => Err(LlmFailure::SchemaViolation(path)),
    }
}

/// A schema-valid answer as advice, if it makes sense for `inputs`.
pub fn to_advice(answer: &Value, inputs: &DiagnosisInputs) -> Result<Advice, LlmFailure> {
    let invalid = |m: String| LlmFailure::InvalidAnswer(m);
    let score = answer["health_score"]
        .as_u64()
        .filter(|s| *s <= 100)
        .ok_or_else(|| invalid("health_score must be 0-100".to_owned()))? as u8;
    let insights: Vec<String> = answer["insights"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i.as_str().map(ToOwned::to_owned))
        .collect();
    let mut drafts = Vec::new();
    for (i, item) in answer["recommendations"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        drafts.push(
            to_draft(item, inputs).map_err(|m| invalid(format!("recommendations/{i}: {m}")))?,
        );
    }
    Ok(Advice {
        health_score: score,
        health_label: health_label(score).to_owned(),
        insights,
        drafts,
    })
}

fn to_draft(item: &Value, inputs: &DiagnosisInputs) -> Result<Draft, String> {
    let text = |key: &str| item[key].as_str().unwrap_or_default().to_owned();
    let priority: Priority =
        serde_json::from_value(item["priority"].clone()).map_err(|e| format!("priority: {e}"))?;
    let action: RecommendedAction =
        serde_json::from_value(item["action"].clone()).map_err(|e| format!("action: {e}"))?;
    let known = |id: &crate::domain::DropletId| inputs.droplets.iter().any(|d| d.id == id.as_str());
    match &action {
        RecommendedAction::ScaleUp { count } | RecommendedAction::ScaleDown { count }
            if !(1..=20).contains(count) =>
        {
            return Err("action count must be 1-20".to_owned());
        }
        RecommendedAction::Resize { droplet_id, .. }
        | RecommendedAction::Restart { droplet_id }
            if !known(droplet_id) =>
        {
            return Err(format!(
                "action names droplet {droplet_id}, not one of the cluster's"
            ));
        }
        _ => {}
    }
    Ok(Draft::new(text("title"), text("detail"), priority, action))
}
