//! The consumer of the command topic: one message at a time per process, its outcome
//! published and acknowledged by the broker before its offset is stored, so a crash
//! redelivers a command (answered again from its idempotency record, never done twice)
//! and never loses one.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use engine::kafka::{KafkaConfig, KafkaError, COMMANDS_TOPIC, COMMAND_RESULTS_TOPIC};
use engine::store::format_time;
use http_body_util::{BodyExt, Full};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower_service::Service;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, Request, StatusCode};
use warp::reply::Response;

use super::catalog::{request_for, CommandRequest};
use super::Outcome;

/// How the consumer behaves.
#[derive(Debug, Clone)]
pub struct CommandConsumerOptions {
    /// The consumer group every ClusterGenie process joins (partitions are shared).
    pub group_id: String,
    /// First wait before retrying a command the API answered with a 5xx.
    pub retry_backoff: Duration,
    /// Attempts of a command answered with a 5xx before its 5xx is the outcome.
    pub max_attempts: u32,
}

impl Default for CommandConsumerOptions {
    fn default() -> Self {
        Self {
            group_id: "clustergenie-commands".into(),
            retry_backoff: Duration::from_millis(200),
            max_attempts: 8,
        }
    }
}

/// Runs the API's routes for every command on the command topic.
pub struct CommandConsumer {
    config: KafkaConfig,
    routes: BoxedFilter<(Response,)>,
    options: CommandConsumerOptions,
}

impl CommandConsumer {
    /// A consumer answering through `routes` (the API's own).
    pub fn new(
        config: KafkaConfig,
        routes: BoxedFilter<(Response,)>,
        options: CommandConsumerOptions,
    ) -> Self {
        Self {
            config,
            routes,
            options,
        }
    }

    /// Consumes on a task until `shutdown`; a failure of the client starts it again.
    pub fn spawn(self, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(async move {
            while !*shutdown.borrow() {
                let Err(error) = self.consume(&mut shutdown).await else {
                    break;
                };
                tracing::error!(error = %projections::cache::error_chain(&error), "command consumer failed; starting again");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => {}
                }
            }
        })
    }

    async fn consume(&self, shutdown: &mut watch::Receiver<bool>) -> Result<(), KafkaError> {
        let consumer: StreamConsumer = self
            .config
            .client_config()
            .set("group.id", &self.options.group_id)
            .set("enable.auto.commit", "true")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .create()?;
        consumer.subscribe(&[COMMANDS_TOPIC])?;
        let producer: FutureProducer = self.config.producer_config().create()?;
        loop {
            let message = tokio::select! {
                message = consumer.recv() => message?,
                _ = shutdown.changed() => return Ok(()),
            };
            let Some(outcome) = self.answer(&message, shutdown).await else {
                return Ok(());
            };
            publish(&producer, &outcome, &header_map(&message)).await?;
            consumer.store_offset_from_message(&message)?;
        }
    }

    /// The outcome of one message; `None` when shutdown interrupted its retries (it is
    /// not acknowledged, so it is delivered again).
    async fn answer(
        &self,
        message: &BorrowedMessage<'_>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Option<Outcome> {
        let headers = header_map(message);
        let ce_type = headers.get("ce_type").cloned();
        let Some(ce_id) = headers.get("ce_id").filter(|id| !id.is_empty()).cloned() else {
            let id = format!(
                "{}/{}/{}",
                message.topic(),
                message.partition(),
                message.offset()
            );
            let detail = "the ce_id header is missing: it is the command's idempotency key";
            return Some(Outcome::rejected(id, ce_type, detail.into()));
        };
        let request = match request_for(ce_type.as_deref(), message.payload().unwrap_or_default()) {
            Ok(request) => request,
            Err(why) => return Some(Outcome::rejected(ce_id, ce_type, why.to_string())),
        };
        let mut wait = self.options.retry_backoff;
        for attempt in 1.. {
            let (status, replayed, body) = self.dispatch(&request, &headers, &ce_id).await;
            if !status.is_server_error() || attempt >= self.options.max_attempts {
                return Some(Outcome::from_response(
                    ce_id, ce_type, status, replayed, &body,
                ));
            }
            tracing::warn!(command = %ce_id, status = status.as_u16(), attempt, "command failed on the server side; retrying");
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => return None,
            }
            wait = (wait * 2).min(Duration::from_secs(10));
        }
        None
    }

    /// Runs the request through the API's routes: status, replayed, body.
    async fn dispatch(
        &self,
        command: &CommandRequest,
        headers: &HashMap<String, String>,
        ce_id: &str,
    ) -> (StatusCode, bool, Bytes) {
        let request = http_request(command, headers, ce_id);
        let mut service = warp::service(self.routes.clone());
        let response: Result<Response, Infallible> = service.call(request).await;
        let Ok(response) = response;
        let status = response.status();
        let replayed = response.headers().contains_key("idempotent-replayed");
        let body = match response.into_body().collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => Bytes::new(),
        };
        (status, replayed, body)
    }
}

/// The HTTP request a command stands for: `ce_id` is its idempotency key and correlation
/// id; the actor is `cg_actor` or `kafka:<ce_source>`.
fn http_request(
    command: &CommandRequest,
    headers: &HashMap<String, String>,
    ce_id: &str,
) -> Request<Full<Bytes>> {
    let actor = headers.get("cg_actor").cloned().unwrap_or_else(|| {
        let source = headers.get("ce_source").map_or("unknown", String::as_str);
        format!("kafka:{source}")
    });
    let mut request = Request::new(Full::new(Bytes::from(command.body.clone())));
    *request.method_mut() = command.method.clone();
    *request.uri_mut() = command.path.parse().unwrap_or_default();
    let fields = [
        ("content-type", Some("application/json".to_owned())),
        ("content-length", Some(command.body.len().to_string())),
        ("idempotency-key", Some(ce_id.to_owned())),
        ("x-request-id", Some(ce_id.to_owned())),
        ("x-user-id", Some(actor)),
        ("traceparent", headers.get("traceparent").cloned()),
        ("if-match", command.if_match.map(|v| format!("\"{v}\""))),
    ];
    for (name, value) in fields {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            request.headers_mut().insert(name, value);
        }
    }
    request
}

/// A message's headers as text (a header that is not UTF-8 is left out).
fn header_map(message: &BorrowedMessage<'_>) -> HashMap<String, String> {
    let Some(headers) = message.headers() else {
        return HashMap::new();
    };
    headers
        .iter()
        .filter_map(|h| {
            let value = std::str::from_utf8(h.value?).ok()?;
            Some((h.key.to_owned(), value.to_owned()))
        })
        .collect()
}

/// Writes an outcome to the results topic, keyed by the command id, as a CloudEvent, and
/// waits for the broker to acknowledge it.
async fn publish(
    producer: &FutureProducer,
    outcome: &Outcome,
    command_headers: &HashMap<String, String>,
) -> Result<(), KafkaError> {
    let payload = serde_json::to_vec(outcome).unwrap_or_default();
    let id = uuid::Uuid::new_v4().to_string();
    let time = format_time(Utc::now());
    let mut fields = vec![
        ("ce_specversion", "1.0"),
        ("ce_id", id.as_str()),
        ("ce_source", "clustergenie"),
        ("ce_type", "io.clustergenie.command.result.v1"),
        ("ce_time", time.as_str()),
        ("ce_subject", outcome.command_id.as_str()),
        ("content-type", "application/json"),
    ];
    if let Some(traceparent) = command_headers.get("traceparent") {
        fields.push(("traceparent", traceparent.as_str()));
    }
    let headers = fields
        .into_iter()
        .fold(OwnedHeaders::new(), |headers, (key, value)| {
            headers.insert(Header {
                key,
                value: Some(value),
            })
        });
    let record = FutureRecord::to(COMMAND_RESULTS_TOPIC)
        .key(&outcome.command_id)
        .payload(&payload)
        .headers(headers);
    match producer.send(record, Duration::from_secs(30)).await {
        Ok(_) => Ok(()),
        Err((source, _)) => Err(KafkaError::Client(source)),
    }
}
