//! cqrs-es's repository trait over our event store, so that a `cqrs_es::CqrsFramework`
//! (through `cqrs_es::persist::PersistedEventStore`) appends to the same gap-free log, with
//! event ids, positions and hashes, as the command service does.
//!
//! Only the event stream is the source of truth here: snapshots are not stored
//! (`get_snapshot` answers none, a snapshot update is ignored), so use
//! `PersistedEventStore::new_event_store`.

use std::sync::Arc;

use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::Aggregate;
use serde_json::{json, Value};
use uuid::Uuid;

use super::model::{
    AppendOutcome, AppendRequest, EventFilter, EventMetadata, NewEvent, RecordedEvent, StreamWrite,
};
use super::{EventStore, StoreError};

/// [`PersistedEventRepository`] backed by an [`EventStore`].
#[derive(Clone)]
pub struct StoreRepository {
    store: Arc<dyn EventStore>,
}

impl StoreRepository {
    /// A repository over `store`.
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        Self { store }
    }
}

fn persistence(error: StoreError) -> PersistenceError {
    match error {
        StoreError::Conflict { .. } => PersistenceError::OptimisticLockError,
        StoreError::Database(e) => PersistenceError::ConnectionError(Box::new(e)),
        StoreError::Serde(e) => PersistenceError::DeserializationError(Box::new(e)),
        other => PersistenceError::UnknownError(Box::new(other)),
    }
}

/// cqrs-es serialises our adjacently tagged events as `{"type": …, "data": …}`; the log
/// keeps the type and the data apart.
fn serialized(event: RecordedEvent) -> Result<SerializedEvent, PersistenceError> {
    let metadata = serde_json::to_value(&event.metadata)
        .map_err(|e| PersistenceError::DeserializationError(Box::new(e)))?;
    Ok(SerializedEvent {
        aggregate_id: event.aggregate_id,
        sequence: event.sequence as usize,
        aggregate_type: event.aggregate_type,
        payload: json!({ "type": event.event_type, "data": event.data }),
        event_type: event.event_type,
        event_version: event.schema_version.to_string(),
        metadata,
    })
}

fn metadata(value: &Value) -> EventMetadata {
    let field = |name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    EventMetadata {
        actor: field("actor"),
        correlation_id: field("correlation_id"),
        causation_id: field("causation_id"),
        traceparent: field("traceparent"),
        idempotency_key: value
            .get("idempotency_key")
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}

fn new_event(event: &SerializedEvent) -> NewEvent {
    NewEvent {
        id: Uuid::now_v7(),
        event_type: event.event_type.clone(),
        schema_version: event.event_version.parse().unwrap_or(1),
        data: event
            .payload
            .get("data")
            .cloned()
            .unwrap_or_else(|| json!({})),
        recorded_at: crate::store::now(),
    }
}

impl StoreRepository {
    async fn stream<A: Aggregate>(
        &self,
        id: &str,
        after: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let events = self
            .store
            .read_stream(A::TYPE, id, None)
            .await
            .map_err(persistence)?;
        events
            .into_iter()
            .filter(|e| e.sequence as usize > after)
            .map(serialized)
            .collect()
    }

    fn replay(&self, filter: EventFilter) -> ReplayStream {
        let (mut feed, stream) = ReplayStream::new(256);
        let store = Arc::clone(&self.store);
        tokio::spawn(async move {
            let mut after = 0;
            loop {
                let batch = match store.read_all(after, 500, &filter).await {
                    Ok(batch) if batch.is_empty() => return,
                    Ok(batch) => batch,
                    Err(error) => {
                        let _ = feed.push(Err(persistence(error))).await;
                        return;
                    }
                };
                for event in batch {
                    after = event.position;
                    if feed.push(serialized(event)).await.is_err() {
                        return;
                    }
                }
            }
        });
        stream
    }
}

impl PersistedEventRepository for StoreRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.stream::<A>(aggregate_id, 0).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        self.stream::<A>(aggregate_id, last_sequence).await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        _: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        Ok(None)
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        _snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        let Some(first) = events.first() else {
            return Ok(());
        };
        let request = AppendRequest {
            writes: vec![StreamWrite {
                aggregate_type: A::TYPE.to_owned(),
                aggregate_id: first.aggregate_id.clone(),
                expected_version: first.sequence.saturating_sub(1) as u64,
                events: events.iter().map(new_event).collect(),
            }],
            metadata: metadata(&first.metadata),
            idempotency: None,
        };
        match self.store.append(request).await.map_err(persistence)? {
            AppendOutcome::Committed(_) => Ok(()),
            AppendOutcome::Duplicate(_) => Err(PersistenceError::OptimisticLockError),
        }
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        let filter = EventFilter {
            aggregate_type: Some(A::TYPE.to_owned()),
            aggregate_id: Some(aggregate_id.to_owned()),
            ..EventFilter::default()
        };
        Ok(self.replay(filter))
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        Ok(self.replay(EventFilter {
            aggregate_type: Some(A::TYPE.to_owned()),
            ..EventFilter::default()
        }))
    }
}
