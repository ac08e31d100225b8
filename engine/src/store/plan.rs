//! Planning a batch of appends in memory, once the writer holds the log lock and has read
//! the current state of every stream and idempotency key the batch touches.
//!
//! Planning is pure: it decides, for each request, whether it conflicts, is a duplicate
//! or is accepted, and for the accepted ones assigns global positions (consecutive, in
//! request order), stream sequences and chained hashes. The backends then write the plan.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use sha2::{Digest, Sha256};

use super::model::{AppendOutcome, AppendRequest, Committed, RecordedEvent};
use super::IdempotencyRecord;
use super::StoreError;

/// The stored head of one stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamHead {
    pub version: u64,
    pub last_hash: String,
}

/// Key of a stream: (aggregate type, aggregate id).
pub type StreamKey = (String, String);

/// What the backend read under the lock before planning.
#[derive(Debug, Default)]
pub struct BatchState {
    pub head: i64,
    pub streams: HashMap<StreamKey, StreamHead>,
    pub idempotency: HashMap<String, IdempotencyRecord>,
}

/// Everything a backend must write for one batch.
#[derive(Debug, Default)]
pub struct BatchPlan {
    pub events: Vec<RecordedEvent>,
    /// New heads of the streams the batch appended to.
    pub streams: Vec<(StreamKey, StreamHead)>,
    pub idempotency: Vec<IdempotencyRecord>,
    /// The log head after the batch.
    pub new_head: i64,
    /// The answer for each request, in request order.
    pub outcomes: Vec<Result<AppendOutcome, StoreError>>,
}

/// Streams and idempotency keys that a batch needs to read.
pub fn touched(requests: &[AppendRequest]) -> (Vec<StreamKey>, Vec<String>) {
    let mut streams: Vec<StreamKey> = requests
        .iter()
        .flat_map(|r| r.writes.iter())
        .map(|w| (w.aggregate_type.clone(), w.aggregate_id.clone()))
        .collect();
    streams.sort();
    streams.dedup();
    let mut keys: Vec<String> = requests
        .iter()
        .filter_map(|r| r.idempotency.as_ref().map(|i| i.key.clone()))
        .collect();
    keys.sort();
    keys.dedup();
    (streams, keys)
}

/// Plans a batch against the state read under the lock.
pub fn plan(requests: &[AppendRequest], mut state: BatchState) -> BatchPlan {
    let mut plan = BatchPlan {
        new_head: state.head,
        ..BatchPlan::default()
    };
    let mut touched_streams: HashMap<StreamKey, StreamHead> = HashMap::new();
    for request in requests {
        let outcome = plan_one(request, &mut state, &mut plan, &mut touched_streams);
        plan.outcomes.push(outcome);
    }
    plan.streams = touched_streams.into_iter().collect();
    plan.streams.sort_by(|a, b| a.0.cmp(&b.0));
    plan
}

fn plan_one(
    request: &AppendRequest,
    state: &mut BatchState,
    plan: &mut BatchPlan,
    touched_streams: &mut HashMap<StreamKey, StreamHead>,
) -> Result<AppendOutcome, StoreError> {
    if let Some(idem) = &request.idempotency {
        if let Some(existing) = state.idempotency.get(&idem.key) {
            return if existing.fingerprint == idem.fingerprint {
                Ok(AppendOutcome::Duplicate(existing.clone()))
            } else {
                Err(StoreError::IdempotencyMismatch {
                    key: idem.key.clone(),
                })
            };
        }
    }
    for write in &request.writes {
        let key = (write.aggregate_type.clone(), write.aggregate_id.clone());
        let actual = state.streams.get(&key).map_or(0, |s| s.version);
        if actual != write.expected_version {
            return Err(StoreError::Conflict {
                aggregate_type: write.aggregate_type.clone(),
                aggregate_id: write.aggregate_id.clone(),
                expected: write.expected_version,
                actual,
            });
        }
    }
    let mut committed = Vec::with_capacity(request.event_count());
    for write in &request.writes {
        let key = (write.aggregate_type.clone(), write.aggregate_id.clone());
        let head = state.streams.entry(key.clone()).or_default();
        for new in &write.events {
            plan.new_head += 1;
            head.version += 1;
            let mut event = RecordedEvent {
                id: new.id,
                position: plan.new_head,
                aggregate_type: write.aggregate_type.clone(),
                aggregate_id: write.aggregate_id.clone(),
                sequence: head.version as i64,
                event_type: new.event_type.clone(),
                schema_version: new.schema_version,
                recorded_at: truncate(new.recorded_at),
                data: new.data.clone(),
                metadata: request.metadata.clone(),
                hash: String::new(),
            };
            event.hash = chain_hash(&head.last_hash, &event);
            head.last_hash = event.hash.clone();
            committed.push(event);
        }
        touched_streams.insert(key, head.clone());
    }
    if let Some(idem) = &request.idempotency {
        let record = IdempotencyRecord {
            key: idem.key.clone(),
            fingerprint: idem.fingerprint.clone(),
            kind: idem.kind,
            body: idem.body.clone(),
            position: committed.last().map_or(plan.new_head, |e| e.position),
        };
        state.idempotency.insert(idem.key.clone(), record.clone());
        plan.idempotency.push(record);
    }
    plan.events.extend(committed.iter().cloned());
    Ok(AppendOutcome::Committed(Committed { events: committed }))
}

/// Timestamps are stored with microsecond precision; truncate so that what is hashed and
/// returned is exactly what is read back.
pub fn truncate(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

/// SHA-256 over the previous hash of the stream and the event's canonical JSON: an object
/// of its fields with every object's keys in sorted order (as `serde_json`'s map keeps
/// them), written straight into the hasher.
pub fn chain_hash(previous: &str, event: &RecordedEvent) -> String {
    let canonical = Canonical {
        aggregate_id: &event.aggregate_id,
        aggregate_type: &event.aggregate_type,
        data: &event.data,
        id: event.id,
        // Through a map, for its keys in sorted order (the struct declares another).
        metadata: serde_json::to_value(&event.metadata).unwrap_or_default(),
        recorded_at: super::model::format_time(event.recorded_at),
        schema_version: event.schema_version,
        sequence: event.sequence,
        event_type: &event.event_type,
    };
    let mut hasher = Sha256::new();
    hasher.update(previous.as_bytes());
    // Writing JSON into a hasher cannot fail: its `write` takes every byte.
    let _ = serde_json::to_writer(&mut hasher, &canonical);
    hex::encode(hasher.finalize())
}

/// The hashed form of an event: fields declared in sorted key order.
#[derive(serde::Serialize)]
struct Canonical<'a> {
    aggregate_id: &'a str,
    aggregate_type: &'a str,
    data: &'a serde_json::Value,
    id: uuid::Uuid,
    metadata: serde_json::Value,
    recorded_at: String,
    schema_version: i32,
    sequence: i64,
    #[serde(rename = "type")]
    event_type: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::model::{EventMetadata, NewEvent, StreamWrite};
    use crate::store::{IdempotencyWrite, ReplyKind};
    use serde_json::json;
    use uuid::Uuid;

    fn request(id: &str, expected: u64, n: usize, key: Option<&str>) -> AppendRequest {
        AppendRequest {
            writes: vec![StreamWrite {
                aggregate_type: "cluster".into(),
                aggregate_id: id.into(),
                expected_version: expected,
                events: (0..n)
                    .map(|i| NewEvent {
                        id: Uuid::new_v4(),
                        event_type: "cluster.renamed".into(),
                        schema_version: 1,
                        data: json!({"name": format!("n{i}")}),
                        recorded_at: Utc::now(),
                    })
                    .collect(),
            }],
            metadata: EventMetadata::default(),
            idempotency: key.map(|k| IdempotencyWrite {
                key: k.into(),
                fingerprint: "f".into(),
                kind: ReplyKind::Created,
                body: json!({}),
            }),
        }
    }

    /// The hash as the first versions computed it: a `json!` object, serialized.
    fn hash_through_a_value(previous: &str, event: &RecordedEvent) -> String {
        let canonical = json!({
            "id": event.id,
            "aggregate_type": event.aggregate_type,
            "aggregate_id": event.aggregate_id,
            "sequence": event.sequence,
            "type": event.event_type,
            "schema_version": event.schema_version,
            "recorded_at": crate::store::model::format_time(event.recorded_at),
            "data": event.data,
            "metadata": event.metadata,
        });
        let mut hasher = Sha256::new();
        hasher.update(previous.as_bytes());
        hasher.update(canonical.to_string().as_bytes());
        hex::encode(hasher.finalize())
    }

    #[test]
    fn the_hash_is_the_one_the_log_already_holds() {
        let datas = [
            json!({}),
            json!({"zeta": 1, "alpha": {"b": [1, 2.5, null], "a": "é\"\\\n"}, "mid": true}),
            json!({"id": "cl_1", "name": "web", "region": "nyc1", "provider": null}),
            json!({"n": -9_007_199_254_740_993_i64, "u": 18_446_744_073_709_551_615_u64}),
        ];
        let metadatas = [
            EventMetadata::default(),
            EventMetadata {
                actor: "ops@example.com".into(),
                correlation_id: "c-1".into(),
                causation_id: "c-0".into(),
                traceparent: "00-ab-cd-01".into(),
                idempotency_key: Some("key \u{1F600}".into()),
            },
        ];
        for (i, data) in datas.iter().enumerate() {
            for metadata in &metadatas {
                let event = RecordedEvent {
                    id: Uuid::now_v7(),
                    position: 7,
                    aggregate_type: "cluster".into(),
                    aggregate_id: format!("cl_{i}"),
                    sequence: i as i64 + 1,
                    event_type: "cluster.created".into(),
                    schema_version: 2,
                    recorded_at: truncate(Utc::now()),
                    data: data.clone(),
                    metadata: metadata.clone(),
                    hash: String::new(),
                };
                assert_eq!(
                    chain_hash("prev", &event),
                    hash_through_a_value("prev", &event),
                    "{data} {metadata:?}"
                );
            }
        }
    }

    #[test]
    fn positions_are_consecutive_and_sequences_follow_the_stream() {
        let state = BatchState {
            head: 10,
            ..Default::default()
        };
        let plan = plan(&[request("a", 0, 2, None), request("b", 0, 1, None)], state);
        let positions: Vec<i64> = plan.events.iter().map(|e| e.position).collect();
        assert_eq!(positions, vec![11, 12, 13]);
        let sequences: Vec<i64> = plan.events.iter().map(|e| e.sequence).collect();
        assert_eq!(sequences, vec![1, 2, 1]);
        assert_eq!(plan.new_head, 13);
        assert_eq!(
            plan.events[1].hash,
            chain_hash(&plan.events[0].hash, &plan.events[1])
        );
    }

    #[test]
    fn a_conflicting_request_takes_no_position() {
        let state = BatchState {
            head: 0,
            ..Default::default()
        };
        let plan = plan(
            &[
                request("a", 0, 1, None),
                request("a", 0, 1, None),
                request("a", 1, 1, None),
            ],
            state,
        );
        assert!(matches!(
            plan.outcomes[1],
            Err(StoreError::Conflict { actual: 1, .. })
        ));
        assert_eq!(
            plan.events.iter().map(|e| e.position).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(plan.events[1].sequence, 2);
    }

    #[test]
    fn a_repeated_key_is_a_duplicate_and_another_body_a_mismatch() {
        let state = BatchState::default();
        let mut other = request("c", 0, 1, Some("k"));
        other.idempotency.as_mut().unwrap().fingerprint = "g".into();
        let plan = plan(
            &[
                request("a", 0, 1, Some("k")),
                request("b", 0, 1, Some("k")),
                other,
            ],
            state,
        );
        assert!(matches!(&plan.outcomes[1], Ok(AppendOutcome::Duplicate(r)) if r.position == 1));
        assert!(matches!(
            plan.outcomes[2],
            Err(StoreError::IdempotencyMismatch { .. })
        ));
        assert_eq!(plan.events.len(), 1);
        assert_eq!(plan.idempotency.len(), 1);
    }
}
