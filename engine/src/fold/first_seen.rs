//! [`FirstSeen`]: when each timed event type was first recorded on a stream.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The event types whose first time a view shows ([`Loaded::first`](super::Loaded::first)): only these are kept
/// in [`FirstSeen`], so that a folded row (a read model keeps one per aggregate) carries no
/// time nothing reads. A view that shows another event type's time adds it here.
pub const TIMED_EVENT_TYPES: &[&str] = &["job.started"];

/// When each of the [`TIMED_EVENT_TYPES`] was first recorded on a stream: kept sorted by
/// event type in one small vector (a map per aggregate costs a node of several hundred
/// bytes, and a rebuild holds hundreds of thousands of them), stored as a JSON object.
/// Entries of other types, which rows written by earlier versions hold, are dropped when
/// read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirstSeen(Vec<(String, DateTime<Utc>)>);

impl FirstSeen {
    /// Records `at` for `event_type` when it is timed, unless an earlier time is recorded.
    pub fn mark(&mut self, event_type: &str, at: DateTime<Utc>) {
        if !TIMED_EVENT_TYPES.contains(&event_type) {
            return;
        }
        if let Err(slot) = self.find(event_type) {
            self.0.insert(slot, (event_type.to_owned(), at));
        }
    }

    /// When `event_type` (one of the [`TIMED_EVENT_TYPES`]) was first recorded.
    pub fn get(&self, event_type: &str) -> Option<DateTime<Utc>> {
        debug_assert!(
            TIMED_EVENT_TYPES.contains(&event_type),
            "{event_type} is not among TIMED_EVENT_TYPES: its first time is not kept"
        );
        self.find(event_type).ok().map(|i| self.0[i].1)
    }

    /// True when no timed event was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn find(&self, event_type: &str) -> Result<usize, usize> {
        self.0
            .binary_search_by(|(known, _)| known.as_str().cmp(event_type))
    }
}

impl Serialize for FirstSeen {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de> Deserialize<'de> for FirstSeen {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, DateTime<Utc>>::deserialize(deserializer)?;
        Ok(Self(
            map.into_iter()
                .filter(|(event_type, _)| TIMED_EVENT_TYPES.contains(&event_type.as_str()))
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, second).unwrap()
    }

    #[test]
    fn first_seen_keeps_the_first_time_of_each_timed_type_only() {
        let mut seen = FirstSeen::default();
        seen.mark("job.created", at(1));
        assert!(seen.is_empty());
        seen.mark("job.started", at(2));
        seen.mark("job.started", at(5));

        assert_eq!(seen.get("job.started"), Some(at(2)));
        assert_eq!(seen.0.len(), 1);
    }

    #[test]
    fn first_seen_is_stored_as_an_object_and_reads_older_rows() {
        let mut seen = FirstSeen::default();
        seen.mark("job.started", at(2));
        let json = serde_json::to_string(&seen).unwrap();
        assert_eq!(json, r#"{"job.started":"2026-12-01T12:00:02Z"}"#);
        assert_eq!(serde_json::from_str::<FirstSeen>(&json).unwrap(), seen);

        // Rows written before only timed types were kept hold every type.
        let older =
            r#"{"job.created":"2026-12-01T12:00:01Z","job.started":"2026-12-01T12:00:02Z"}"#;
        assert_eq!(serde_json::from_str::<FirstSeen>(older).unwrap(), seen);
    }
}
