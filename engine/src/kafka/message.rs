//! One event as one Kafka message: CloudEvents binary content mode (EVENTS.md).
//!
//! The value is the event's `data` as JSON; the key is the aggregate id, so one aggregate's
//! events stay in order on one partition; the headers carry the envelope.

use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::FutureRecord;

use crate::store::{format_time, PublishedEvent, RecordedEvent};

/// The topic of an aggregate type's events: `clustergenie.events.<aggregate_type>.v1`.
pub fn events_topic(aggregate_type: &str) -> String {
    format!("clustergenie.events.{aggregate_type}.v1")
}

/// The CloudEvents type of an event type at a schema version:
/// `io.clustergenie.<type>.v<schema_version>`.
pub fn ce_type(event_type: &str, schema_version: i32) -> String {
    format!("io.clustergenie.{event_type}.v{schema_version}")
}

/// A message ready for the producer.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingMessage {
    /// The log position it carries.
    pub position: i64,
    pub topic: String,
    pub key: String,
    pub payload: Vec<u8>,
    /// Header names and values, in the order they are sent.
    pub headers: Vec<(&'static str, String)>,
}

impl OutgoingMessage {
    /// The producer record: topic, key, payload and headers, borrowed from the message.
    pub fn record(&self) -> FutureRecord<'_, String, Vec<u8>> {
        let headers = self.headers.iter().fold(
            OwnedHeaders::new_with_capacity(self.headers.len()),
            |headers, (key, value)| {
                headers.insert(Header {
                    key,
                    value: Some(value.as_str()),
                })
            },
        );
        FutureRecord::to(&self.topic)
            .key(&self.key)
            .payload(&self.payload)
            .headers(headers)
    }
}

/// Encodes a recorded event.
pub fn encode(event: &RecordedEvent) -> OutgoingMessage {
    encode_published(PublishedEvent::from(event))
}

/// Encodes an event read for publishing (its `data` text becomes the value as it is).
pub fn encode_published(event: PublishedEvent) -> OutgoingMessage {
    let mut headers = vec![
        ("ce_specversion", "1.0".to_owned()),
        ("ce_id", event.id.to_string()),
        ("ce_source", "clustergenie".to_owned()),
        ("ce_type", ce_type(&event.event_type, event.schema_version)),
        ("ce_time", format_time(event.recorded_at)),
        ("ce_subject", event.aggregate_id.clone()),
        ("content-type", "application/json".to_owned()),
        ("cg_position", event.position.to_string()),
        ("cg_sequence", event.sequence.to_string()),
    ];
    if !event.traceparent.is_empty() {
        headers.push(("traceparent", event.traceparent));
    }
    OutgoingMessage {
        position: event.position,
        topic: events_topic(&event.aggregate_type),
        key: event.aggregate_id,
        payload: event.data.into_bytes(),
        headers,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::store::EventMetadata;

    fn event(traceparent: &str) -> RecordedEvent {
        RecordedEvent {
            id: Uuid::nil(),
            position: 42,
            aggregate_type: "droplet".into(),
            aggregate_id: "d-1".into(),
            sequence: 3,
            event_type: "droplet.resized".into(),
            schema_version: 2,
            recorded_at: chrono::Utc
                .with_ymd_and_hms(2026, 11, 30, 12, 0, 0)
                .unwrap(),
            data: json!({"size": "s-2vcpu-4gb"}),
            metadata: EventMetadata {
                traceparent: traceparent.into(),
                ..EventMetadata::default()
            },
            hash: String::new(),
        }
    }

    #[test]
    fn an_event_becomes_a_cloudevent_keyed_by_its_aggregate() {
        let message = encode(&event("00-abc-def-01"));
        assert_eq!(message.topic, "clustergenie.events.droplet.v1");
        assert_eq!(message.key, "d-1");
        assert_eq!(message.position, 42);
        let value: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
        assert_eq!(value, json!({"size": "s-2vcpu-4gb"}));
        let header = |name: &str| {
            message
                .headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(header("ce_specversion"), Some("1.0"));
        assert_eq!(header("ce_id"), Some(Uuid::nil().to_string().as_str()));
        assert_eq!(header("ce_source"), Some("clustergenie"));
        assert_eq!(
            header("ce_type"),
            Some("io.clustergenie.droplet.resized.v2")
        );
        assert_eq!(header("ce_time"), Some("2026-11-30T12:00:00.000000Z"));
        assert_eq!(header("ce_subject"), Some("d-1"));
        assert_eq!(header("content-type"), Some("application/json"));
        assert_eq!(header("cg_position"), Some("42"));
        assert_eq!(header("cg_sequence"), Some("3"));
        assert_eq!(header("traceparent"), Some("00-abc-def-01"));
    }

    #[test]
    fn an_empty_traceparent_is_left_out() {
        let message = encode(&event(""));
        assert!(message.headers.iter().all(|(n, _)| *n != "traceparent"));
    }
}
