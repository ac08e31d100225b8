//! Loading an aggregate: folding its stream (optionally up to a point in the log).
//!
//! [`Loaded`] is also what the projections keep per row, so that a read model row and a
//! command's answer are built by the same code from the same fold.

use chrono::{DateTime, Utc};
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use super::{FirstSeen, FoldError};
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
    /// When each of the [`TIMED_EVENT_TYPES`](super::TIMED_EVENT_TYPES) was first recorded on this stream (stored
    /// only when there is one).
    #[serde(default, skip_serializing_if = "FirstSeen::is_empty")]
    pub first_seen: FirstSeen,
}

impl<A: Aggregate> Loaded<A> {
    /// Folds recorded events (in sequence order) into the aggregate.
    pub fn fold(events: &[RecordedEvent]) -> Result<Self, FoldError> {
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
    pub fn apply_recorded(&mut self, recorded: &RecordedEvent) -> Result<(), FoldError> {
        self.apply_recorded_with(Upcasters::standard(), recorded)
    }

    /// Applies one recorded event, first bringing an older `schema_version` to the current
    /// one with `upcasters`.
    pub fn apply_recorded_with(
        &mut self,
        upcasters: &Upcasters,
        recorded: &RecordedEvent,
    ) -> Result<(), FoldError> {
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
    ) -> Result<(), FoldError> {
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
    pub fn apply_folding(&mut self, event: &FoldingEvent) -> Result<(), FoldError> {
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
) -> Result<Loaded<A>, FoldError> {
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
) -> Result<Loaded<A>, FoldError> {
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
