//! The consumer of the command topic: one message at a time per process, its outcome
//! published and acknowledged by the broker before its offset is stored, so a crash
//! redelivers a command (answered again from its idempotency record, never done twice)
//! and never loses one.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use engine::commands::context::is_traceparent;
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
use super::outcome::{clip, MAX_HEADER_LEN};
use super::Outcome;
use crate::errors::Problem;

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
            deliver(&producer, &outcome, &header_map(&message)).await?;
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
        let ce_type = headers.get("ce_type").map(String::as_str);
        let Some(ce_id) = headers
            .get("ce_id")
            .map(String::as_str)
            .filter(|id| !id.is_empty())
        else {
            let id = format!(
                "{}/{}/{}",
                message.topic(),
                message.partition(),
                message.offset()
            );
            let detail = "the ce_id header is missing: it is the command's idempotency key";
            return Some(Outcome::rejected(&id, ce_type, detail.into()));
        };
        if let Some(why) = bad_headers(ce_id, ce_type) {
            return Some(Outcome::rejected(ce_id, ce_type, why));
        }
        let request = match request_for(ce_type, message.payload().unwrap_or_default()) {
            Ok(request) => request,
            Err(why) => return Some(Outcome::rejected(ce_id, ce_type, why.to_string())),
        };
        let (ce_id, ce_type) = (ce_id.to_owned(), ce_type.map(str::to_owned));
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
        let response = match http_request(command, headers, ce_id) {
            Ok(request) => {
                let mut service = warp::service(self.routes.clone());
                let response: Result<Response, Infallible> = service.call(request).await;
                let Ok(response) = response;
                response
            }
            Err(detail) => Problem::new(StatusCode::BAD_REQUEST, detail, None).into_response(),
        };
        let status = response.status();
        let replayed = response.headers().contains_key("idempotent-replayed");
        let body = match response.into_body().collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => Bytes::new(),
        };
        (status, replayed, body)
    }
}

/// Why a command's `ce_id` or `ce_type` cannot be taken, if it cannot: `ce_id` is the
/// idempotency key, held to the HTTP `Idempotency-Key`'s rules (1 to 255 characters of
/// visible ASCII or inner spaces); `ce_type` is at most 255 characters too.
fn bad_headers(ce_id: &str, ce_type: Option<&str>) -> Option<String> {
    if ce_id.len() > MAX_HEADER_LEN {
        return Some(format!(
            "the ce_id header is {} bytes long: the idempotency key is 1 to {MAX_HEADER_LEN} characters",
            ce_id.len()
        ));
    }
    if !ce_id.bytes().all(|b| (0x20..0x7f).contains(&b)) || ce_id.trim() != ce_id {
        return Some(
            "the ce_id header must be visible ASCII (spaces only inside): it is the idempotency key"
                .into(),
        );
    }
    match ce_type {
        Some(ce_type) if ce_type.len() > MAX_HEADER_LEN => Some(format!(
            "the ce_type header is {} bytes long: command types are at most {MAX_HEADER_LEN} characters",
            ce_type.len()
        )),
        _ => None,
    }
}

/// The HTTP request a command stands for: `ce_id` is its idempotency key and correlation
/// id; the actor is `cg_actor` or `kafka:<ce_source>`.
fn http_request(
    command: &CommandRequest,
    headers: &HashMap<String, String>,
    ce_id: &str,
) -> Result<Request<Full<Bytes>>, String> {
    let actor = headers.get("cg_actor").cloned().unwrap_or_else(|| {
        let source = headers.get("ce_source").map_or("unknown", String::as_str);
        format!("kafka:{source}")
    });
    let mut request = Request::new(Full::new(Bytes::from(command.body.clone())));
    *request.method_mut() = command.method.clone();
    *request.uri_mut() = command.path.parse().map_err(|error| {
        format!(
            "the command's path {:?} is not a path: {error}",
            command.path
        )
    })?;
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
    Ok(request)
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

/// Publishes an outcome (see [`publish`]). One the broker refuses for good (too large,
/// say) is replaced by its [`Outcome::minimal`] form; when even that is refused, the
/// command is logged and left unanswered: one message never holds up its partition.
/// Other failures (the broker down) are errors: the consumer starts again and the command
/// is delivered again.
async fn deliver(
    producer: &FutureProducer,
    outcome: &Outcome,
    command_headers: &HashMap<String, String>,
) -> Result<(), KafkaError> {
    let Err(error) = publish(producer, outcome, command_headers).await else {
        return Ok(());
    };
    if !refused_for_good(&error) {
        return Err(error);
    }
    let command = clip(&outcome.command_id);
    tracing::warn!(%command, %error, "the broker refused a command outcome; publishing a minimal one");
    match publish(
        producer,
        &outcome.minimal(&error.to_string()),
        &HashMap::new(),
    )
    .await
    {
        Err(error) if refused_for_good(&error) => {
            tracing::error!(%command, %error, "the broker refused even the minimal outcome; the command is left unanswered");
            Ok(())
        }
        delivered => delivered,
    }
}

/// Whether the broker (or the producer) refuses a message for what it is, so that sending
/// it again cannot succeed.
fn refused_for_good(error: &KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode as Code;
    let KafkaError::Client(rdkafka::error::KafkaError::MessageProduction(code)) = error else {
        return false;
    };
    matches!(
        code,
        Code::MessageSizeTooLarge
            | Code::InvalidMessageSize
            | Code::MessageBatchTooLarge
            | Code::InvalidMessage
            | Code::InvalidRecord
            | Code::BadMessage
    )
}

/// Writes an outcome to the results topic, keyed by the command id, as a CloudEvent, and
/// waits for the broker to acknowledge it.
async fn publish(
    producer: &FutureProducer,
    outcome: &Outcome,
    command_headers: &HashMap<String, String>,
) -> Result<(), KafkaError> {
    let payload = serde_json::to_vec(outcome)?;
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
    let traceparent = command_headers.get("traceparent");
    if let Some(traceparent) = traceparent.filter(|t| is_traceparent(t)) {
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

#[cfg(test)]
mod tests {
    use rdkafka::mocking::MockCluster;
    use rdkafka::producer::DefaultProducerContext;
    use serde_json::{json, Value};

    use super::*;

    #[test]
    fn a_command_path_that_is_not_a_uri_is_refused_not_sent_to_the_root() {
        let command = |path: &str| CommandRequest {
            method: warp::http::Method::POST,
            path: path.to_owned(),
            body: b"{}".to_vec(),
            if_match: None,
        };
        let request = http_request(&command("/v1/clusters"), &HashMap::new(), "c-1").unwrap();
        assert_eq!(request.uri().path(), "/v1/clusters");
        let refused = http_request(&command("/v1/clusters/a b"), &HashMap::new(), "c-1");
        let detail = refused.unwrap_err();
        assert!(detail.contains("a b"), "{detail}");
    }

    #[test]
    fn ce_id_and_ce_type_are_held_to_the_idempotency_key_rules() {
        assert_eq!(bad_headers("c-1 x", Some("io.x.v1")), None);
        assert_eq!(bad_headers(&"k".repeat(MAX_HEADER_LEN), None), None);
        for bad in [
            "k".repeat(MAX_HEADER_LEN + 1),
            "a\tb".into(),
            " a".into(),
            "é".into(),
        ] {
            let why = bad_headers(&bad, None).expect("refused");
            assert!(why.contains("ce_id"), "{why}");
        }
        let why = bad_headers("c-1", Some(&"t".repeat(MAX_HEADER_LEN + 1))).expect("refused");
        assert!(why.contains("ce_type"), "{why}");
    }

    /// An outcome the producer refuses as too large is replaced by its minimal form.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_outcome_too_large_to_publish_is_published_minimal() {
        let mock: MockCluster<'static, DefaultProducerContext> =
            MockCluster::new(1).expect("mock cluster");
        mock.create_topic(COMMAND_RESULTS_TOPIC, 1, 1)
            .expect("topic");
        let config = KafkaConfig::new(mock.bootstrap_servers());
        let producer: FutureProducer = config
            .producer_config()
            .set("message.max.bytes", "2000")
            .create()
            .expect("producer");
        let body = json!({ "id": "c-1", "position": 7, "notes": "n".repeat(5000) });
        let outcome = Outcome::from_response(
            "c-1".into(),
            Some("io.clustergenie.cluster.create.v1".into()),
            StatusCode::CREATED,
            false,
            body.to_string().as_bytes(),
        );
        let refused = publish(&producer, &outcome, &HashMap::new()).await;
        assert!(refused.as_ref().is_err_and(refused_for_good), "{refused:?}");
        deliver(&producer, &outcome, &HashMap::new())
            .await
            .expect("delivered");

        let consumer: StreamConsumer = config
            .client_config()
            .set("group.id", "test")
            .set("auto.offset.reset", "earliest")
            .create()
            .expect("consumer");
        consumer
            .subscribe(&[COMMAND_RESULTS_TOPIC])
            .expect("subscribe");
        let message = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
            .await
            .expect("a result")
            .expect("consume");
        let published: Value = serde_json::from_slice(message.payload().unwrap()).unwrap();
        assert_eq!(published["command_id"], "c-1");
        assert_eq!(published["accepted"], true);
        assert_eq!(published["status"], 201);
        assert_eq!(published["position"], 7);
        assert!(published.get("body").is_none(), "{published}");
    }
}
