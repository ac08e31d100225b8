//! Loading an aggregate: folding its stream (optionally up to a point in the log).
//!
//! [`Loaded`] is also what the projections keep per row, so that a read model row and a
//! command's answer are built by the same code from the same fold.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use super::CommandError;
use crate::domain::upcast::Upcasters;
use crate::domain::{event_from_ref, event_from_str};
use crate::store::{EventStore, FoldingEvent, RecordedEvent};

/// An aggregate folded from its stream, with what the log says about it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(bound = "A: Serialize + serde::de::DeserializeOwned")]
pub struct Loaded<A> {
    pub state: A,
    /// Number of events in the stream (0: the aggregate does not exist).
    pub version: u64,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Global position of the stream's last event.
    pub last_position: i64,
    /// When each of the [`TIMED_EVENT_TYPES`] was first recorded on this stream (stored
    /// only when there is one).
    #[serde(default, skip_serializing_if = "FirstSeen::is_empty")]
    pub first_seen: FirstSeen,
}

/// The event types whose first time a view shows ([`Loaded::first`]): only these are kept
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

impl<A: Aggregate> Loaded<A> {
    /// Folds recorded events (in sequence order) into the aggregate.
    pub fn fold(events: &[RecordedEvent]) -> Result<Self, CommandError> {
        let mut loaded = Self {
            state: A::default(),
            version: 0,
            created_at: None,
            updated_at: None,
            last_position: 0,
            first_seen: FirstSeen::default(),
        };
        for recorded in events {
            loaded.apply_recorded(recorded)?;
        }
        Ok(loaded)
    }

    /// Applies one recorded event of this stream (read with the standard upcasters).
    pub fn apply_recorded(&mut self, recorded: &RecordedEvent) -> Result<(), CommandError> {
        self.apply_recorded_with(Upcasters::standard(), recorded)
    }

    /// Applies one recorded event, first bringing an older `schema_version` to the current
    /// one with `upcasters`.
    pub fn apply_recorded_with(
        &mut self,
        upcasters: &Upcasters,
        recorded: &RecordedEvent,
    ) -> Result<(), CommandError> {
        let data = upcasters.upcast_ref(
            &recorded.event_type,
            recorded.schema_version,
            &recorded.data,
        )?;
        let event: A::Event = event_from_ref(&recorded.event_type, &data)?;
        self.record(
            event,
            &recorded.event_type,
            recorded.sequence,
            recorded.position,
            recorded.recorded_at,
        );
        Ok(())
    }

    /// Applies one event read for folding in bulk ([`FoldingEvent`], its data as JSON
    /// text): decoded straight from the text when stored at the current version, through
    /// `upcasters` otherwise.
    pub fn apply_folding_with(
        &mut self,
        upcasters: &Upcasters,
        event: &FoldingEvent,
    ) -> Result<(), CommandError> {
        let (event_type, version) = (event.event_type.as_str(), event.schema_version);
        let decoded: A::Event = if version == upcasters.current(event_type) {
            event_from_str(event_type, &event.data)?
        } else {
            let data = upcasters.upcast(event_type, version, serde_json::from_str(&event.data)?)?;
            event_from_ref(event_type, &data)?
        };
        self.record(
            decoded,
            event_type,
            event.sequence,
            event.position,
            event.recorded_at,
        );
        Ok(())
    }

    /// [`Loaded::apply_folding_with`] the standard upcasters.
    pub fn apply_folding(&mut self, event: &FoldingEvent) -> Result<(), CommandError> {
        self.apply_folding_with(Upcasters::standard(), event)
    }

    /// Applies events decided now (at `at`), as the append will record them.
    pub fn apply_new(&mut self, events: &[A::Event], at: DateTime<Utc>) {
        for event in events {
            self.state.apply(event.clone());
            self.version += 1;
            self.mark(&event.event_type(), at);
        }
    }

    /// Applies a decoded event read from the log: its stream's `sequence`th, at `position`,
    /// recorded `at`.
    fn record(
        &mut self,
        event: A::Event,
        event_type: &str,
        sequence: i64,
        position: i64,
        at: DateTime<Utc>,
    ) {
        self.state.apply(event);
        self.version = sequence as u64;
        self.last_position = position;
        self.mark(event_type, at);
    }

    fn mark(&mut self, event_type: &str, at: DateTime<Utc>) {
        self.created_at.get_or_insert(at);
        self.updated_at = Some(at);
        self.first_seen.mark(event_type, at);
    }

    /// True once the stream has at least one event.
    pub fn exists(&self) -> bool {
        self.version > 0
    }

    /// When the first event of `event_type` was recorded.
    pub fn first(&self, event_type: &str) -> Option<DateTime<Utc>> {
        self.first_seen.get(event_type)
    }
}

/// Loads aggregate `A` with id `id`, up to and including `up_to_position` if given.
pub async fn load<A: Aggregate>(
    store: &dyn EventStore,
    id: &str,
    up_to_position: Option<i64>,
) -> Result<Loaded<A>, CommandError> {
    load_with(store, id, up_to_position, Upcasters::standard()).await
}

/// [`load`] reading older event versions with `upcasters`. Starts from the stream's
/// snapshot when there is one at or before `up_to_position` whose fold still reads (a
/// snapshot of an older state shape is ignored), then folds only the events after it.
pub async fn load_with<A: Aggregate>(
    store: &dyn EventStore,
    id: &str,
    up_to_position: Option<i64>,
    upcasters: &Upcasters,
) -> Result<Loaded<A>, CommandError> {
    let snapshot = store.load_snapshot(A::TYPE, id).await?;
    let start = snapshot
        .filter(|s| up_to_position.is_none_or(|p| s.position <= p))
        .and_then(|s| {
            serde_json::from_str::<Loaded<A>>(&s.state)
                .ok()
                .filter(|l| l.version as i64 == s.version)
        });
    let mut loaded = match start {
        Some(loaded) => loaded,
        None => Loaded::fold(&[])?,
    };
    let after = loaded.version as i64;
    for recorded in store
        .read_stream_after(A::TYPE, id, after, up_to_position)
        .await?
    {
        loaded.apply_recorded_with(upcasters, &recorded)?;
    }
    Ok(loaded)
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

    #[test]
    fn a_fold_without_timed_events_is_stored_without_first_seen() {
        let mut loaded = Loaded::<crate::domain::Job>::default();
        loaded.apply_new(&[], at(1));
        loaded.mark("job.created", at(1));
        let json = serde_json::to_value(&loaded).unwrap();
        assert!(json.get("first_seen").is_none(), "{json}");
        // Unset fields of the state are left out too, and read back as unset.
        assert!(json["state"].get("worker").is_none(), "{json}");
        let back: Loaded<crate::domain::Job> = serde_json::from_value(json).unwrap();
        assert_eq!(back.state, loaded.state);
        assert_eq!(back.created_at, Some(at(1)));
    }
}
