//! Tamper evidence: walk the log and check every link.
//!
//! Each event's `hash` is SHA-256 over its stream's previous hash and its canonical JSON
//! ([`plan::chain_hash`]). Walking the global log in position order, [`Verifier`] checks
//! that every hash matches, that each stream's sequences follow one another and that
//! positions have no gap; the first broken link is reported (changing, removing or
//! reordering a stored event breaks the chain from that event on).

use std::collections::HashMap;
use std::fmt;

use super::model::{EventFilter, RecordedEvent};
use super::plan::{self, StreamKey};
use super::{EventStore, StoreError};

/// What is wrong with a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokenReason {
    /// The stored hash is not the hash of the stored event.
    HashMismatch { expected: String, found: String },
    /// The stream's sequence skips or repeats.
    SequenceGap { expected: i64, found: i64 },
    /// The global position skips or repeats.
    PositionGap { expected: i64, found: i64 },
}

impl fmt::Display for BrokenReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HashMismatch { expected, found } => {
                write!(f, "hash mismatch: expected {expected}, found {found}")
            }
            Self::SequenceGap { expected, found } => {
                write!(
                    f,
                    "sequence gap: expected sequence {expected}, found {found}"
                )
            }
            Self::PositionGap { expected, found } => {
                write!(
                    f,
                    "position gap: expected position {expected}, found {found}"
                )
            }
        }
    }
}

/// The first event whose link to what precedes it does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub reason: BrokenReason,
}

impl fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "position {} ({}/{} sequence {}): {}",
            self.position, self.aggregate_type, self.aggregate_id, self.sequence, self.reason
        )
    }
}

/// The outcome of a walk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub events_checked: u64,
    pub streams: usize,
    /// The last position checked.
    pub head: i64,
    pub first_broken: Option<BrokenLink>,
}

/// Checks events one by one, in position order.
#[derive(Debug, Default)]
pub struct Verifier {
    streams: HashMap<StreamKey, (i64, String)>,
    last_position: i64,
    checked: u64,
}

impl Verifier {
    /// Checks the next event; the broken link if it does not follow.
    pub fn check(&mut self, event: &RecordedEvent) -> Option<BrokenLink> {
        let broken = |reason| BrokenLink {
            position: event.position,
            aggregate_type: event.aggregate_type.clone(),
            aggregate_id: event.aggregate_id.clone(),
            sequence: event.sequence,
            reason,
        };
        if event.position != self.last_position + 1 {
            let expected = self.last_position + 1;
            return Some(broken(BrokenReason::PositionGap {
                expected,
                found: event.position,
            }));
        }
        let key = (event.aggregate_type.clone(), event.aggregate_id.clone());
        let (last_sequence, previous) = self.streams.get(&key).cloned().unwrap_or_default();
        if event.sequence != last_sequence + 1 {
            let expected = last_sequence + 1;
            return Some(broken(BrokenReason::SequenceGap {
                expected,
                found: event.sequence,
            }));
        }
        let expected = plan::chain_hash(&previous, event);
        if expected != event.hash {
            return Some(broken(BrokenReason::HashMismatch {
                expected,
                found: event.hash.clone(),
            }));
        }
        self.streams
            .insert(key, (event.sequence, event.hash.clone()));
        self.last_position = event.position;
        self.checked += 1;
        None
    }

    /// The report so far.
    pub fn report(&self, first_broken: Option<BrokenLink>) -> VerifyReport {
        VerifyReport {
            events_checked: self.checked,
            streams: self.streams.len(),
            head: self.last_position,
            first_broken,
        }
    }
}

/// Walks the whole log; `progress` is told the number of events checked after each page.
pub async fn verify(
    store: &dyn EventStore,
    mut progress: impl FnMut(u64),
) -> Result<VerifyReport, StoreError> {
    let mut verifier = Verifier::default();
    let mut after = 0;
    loop {
        let page = store.read_all(after, 5000, &EventFilter::default()).await?;
        let Some(last) = page.last().map(|e| e.position) else {
            return Ok(verifier.report(None));
        };
        for event in &page {
            if let Some(broken) = verifier.check(event) {
                return Ok(verifier.report(Some(broken)));
            }
        }
        after = last;
        progress(verifier.checked);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EventMetadata;
    use chrono::Utc;
    use serde_json::json;
    use uuid::Uuid;

    fn chain(events: &[(&str, i64)]) -> Vec<RecordedEvent> {
        let mut heads: HashMap<&str, String> = HashMap::new();
        events
            .iter()
            .enumerate()
            .map(|(i, (stream, sequence))| {
                let mut event = RecordedEvent {
                    id: Uuid::new_v4(),
                    position: i as i64 + 1,
                    aggregate_type: "cluster".into(),
                    aggregate_id: (*stream).into(),
                    sequence: *sequence,
                    event_type: "cluster.renamed".into(),
                    schema_version: 1,
                    recorded_at: plan::truncate(Utc::now()),
                    data: json!({ "name": format!("n{i}") }),
                    metadata: EventMetadata::default(),
                    hash: String::new(),
                };
                let previous = heads.get(stream).cloned().unwrap_or_default();
                event.hash = plan::chain_hash(&previous, &event);
                heads.insert(stream, event.hash.clone());
                event
            })
            .collect()
    }

    fn walk(events: &[RecordedEvent]) -> VerifyReport {
        let mut verifier = Verifier::default();
        for event in events {
            if let Some(broken) = verifier.check(event) {
                return verifier.report(Some(broken));
            }
        }
        verifier.report(None)
    }

    #[test]
    fn an_intact_log_verifies() {
        let report = walk(&chain(&[("a", 1), ("b", 1), ("a", 2)]));
        assert_eq!(
            report,
            VerifyReport {
                events_checked: 3,
                streams: 2,
                head: 3,
                first_broken: None
            }
        );
    }

    #[test]
    fn an_edited_payload_breaks_at_that_event() {
        let mut events = chain(&[("a", 1), ("b", 1), ("a", 2), ("a", 3)]);
        events[2].data = json!({ "name": "evil" });
        let broken = walk(&events).first_broken.unwrap();
        assert_eq!(broken.position, 3);
        assert!(matches!(broken.reason, BrokenReason::HashMismatch { .. }));
    }

    #[test]
    fn a_removed_event_is_a_position_gap_and_a_repeated_sequence_a_sequence_gap() {
        let mut events = chain(&[("a", 1), ("a", 2), ("a", 3)]);
        events.remove(1);
        let broken = walk(&events).first_broken.unwrap();
        assert_eq!(
            broken.reason,
            BrokenReason::PositionGap {
                expected: 2,
                found: 3
            }
        );
        let mut events = chain(&[("a", 1), ("a", 2)]);
        events[1].sequence = 1;
        let broken = walk(&events).first_broken.unwrap();
        assert_eq!(
            broken.reason,
            BrokenReason::SequenceGap {
                expected: 2,
                found: 1
            }
        );
    }
}
