//! The shapes that go in and out of the log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{IdempotencyRecord, IdempotencyWrite};

/// Who and what caused an event (stored with every event, see EVENTS.md).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventMetadata {
    pub actor: String,
    pub correlation_id: String,
    pub causation_id: String,
    pub traceparent: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// An event about to be appended.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub id: Uuid,
    pub event_type: String,
    pub schema_version: i32,
    pub data: Value,
    pub recorded_at: DateTime<Utc>,
}

/// The events one command appends to one stream, guarded by the version it read.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamWrite {
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// The stream version the decision was made on (0 for a new stream).
    pub expected_version: u64,
    pub events: Vec<NewEvent>,
}

/// Everything one command appends, atomically: events on one or more streams and the
/// idempotency record (each event is its own outbox entry: the log is the outbox).
#[derive(Debug, Clone, PartialEq)]
pub struct AppendRequest {
    pub writes: Vec<StreamWrite>,
    pub metadata: EventMetadata,
    pub idempotency: Option<IdempotencyWrite>,
}

impl AppendRequest {
    /// How many events the request appends.
    pub fn event_count(&self) -> usize {
        self.writes.iter().map(|w| w.events.len()).sum()
    }
}

/// An event as a fold reads it in bulk ([`EventLog::read_for_folding`](super::EventLog::read_for_folding)):
/// no id, metadata or hash, and `data` as the JSON text stored, which a fold decodes
/// straight into the event type (no intermediate [`Value`] tree per event).
#[derive(Debug, Clone, PartialEq)]
pub struct FoldingEvent {
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub schema_version: i32,
    pub recorded_at: DateTime<Utc>,
    /// The event's data object as JSON text.
    pub data: String,
}

impl From<&RecordedEvent> for FoldingEvent {
    fn from(event: &RecordedEvent) -> Self {
        Self {
            position: event.position,
            aggregate_type: event.aggregate_type.clone(),
            aggregate_id: event.aggregate_id.clone(),
            sequence: event.sequence,
            event_type: event.event_type.clone(),
            schema_version: event.schema_version,
            recorded_at: event.recorded_at,
            data: event.data.to_string(),
        }
    }
}

/// An event as stored in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RecordedEvent {
    pub id: Uuid,
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub schema_version: i32,
    pub recorded_at: DateTime<Utc>,
    pub data: Value,
    pub metadata: EventMetadata,
    /// Hex SHA-256 chained to the previous event of the same stream.
    #[serde(skip)]
    pub hash: String,
}

/// What an accepted append produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Committed {
    pub events: Vec<RecordedEvent>,
}

impl Committed {
    /// Global position of the last appended event (0 when the request appended none).
    pub fn last_position(&self) -> i64 {
        self.events.last().map_or(0, |e| e.position)
    }
}

/// The result of an append.
#[derive(Debug, Clone, PartialEq)]
pub enum AppendOutcome {
    Committed(Committed),
    /// The idempotency key was seen before with the same request: here is the first answer.
    Duplicate(IdempotencyRecord),
}

/// Filters for reading the global log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    pub aggregate_type: Option<String>,
    pub aggregate_id: Option<String>,
    pub event_type: Option<String>,
    /// Only the events recorded for this actor (`metadata.actor`).
    pub actor: Option<String>,
    /// Only the events of this correlation id (`metadata.correlation_id`), across
    /// aggregates: one request's events.
    pub correlation_id: Option<String>,
}

impl EventFilter {
    /// True when `event` passes every set filter.
    pub fn matches(&self, event: &RecordedEvent) -> bool {
        self.aggregate_type
            .as_ref()
            .is_none_or(|t| *t == event.aggregate_type)
            && self
                .aggregate_id
                .as_ref()
                .is_none_or(|i| *i == event.aggregate_id)
            && self
                .event_type
                .as_ref()
                .is_none_or(|t| *t == event.event_type)
            && self
                .actor
                .as_ref()
                .is_none_or(|a| *a == event.metadata.actor)
            && self
                .correlation_id
                .as_ref()
                .is_none_or(|c| *c == event.metadata.correlation_id)
    }
}

/// A stream's fold at some version, so that loading need not replay the whole stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// The stream version (last sequence) the fold includes.
    pub version: i64,
    /// The global position of that last event.
    pub position: i64,
    /// The fold as JSON text (`engine::fold::Loaded<A>`).
    pub state: String,
}

/// The current time as the log stores it (microseconds).
pub fn now() -> DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(6)
}

/// Times as the log writes them in text: RFC 3339 with microseconds and `Z`, which sorts
/// chronologically (SQLite columns, read-model columns, the hashed canonical JSON).
pub fn format_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// An event as the Kafka relay publishes it: `data` as JSON text, not parsed, and of the
/// metadata only the trace context (what the message headers carry).
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedEvent {
    pub id: Uuid,
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub schema_version: i32,
    pub recorded_at: DateTime<Utc>,
    /// The payload, as JSON text.
    pub data: String,
    /// `metadata.traceparent` (empty when none).
    pub traceparent: String,
}

impl From<&RecordedEvent> for PublishedEvent {
    fn from(event: &RecordedEvent) -> Self {
        Self {
            id: event.id,
            position: event.position,
            aggregate_type: event.aggregate_type.clone(),
            aggregate_id: event.aggregate_id.clone(),
            sequence: event.sequence,
            event_type: event.event_type.clone(),
            schema_version: event.schema_version,
            recorded_at: event.recorded_at,
            data: event.data.to_string(),
            traceparent: event.metadata.traceparent.clone(),
        }
    }
}
