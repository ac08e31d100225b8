//! One projection writing to one target: reads the next events, applies them with the
//! checkpoint, and isolates an event that cannot be applied (retries with backoff, then
//! parks it as a dead letter and moves on). The live worker and a rebuild share it.

use std::sync::Arc;

use engine::store::{EventFilter, EventStore, RecordedEvent};

use super::checkpoint::{apply_checkpointed, lock_checkpoint, save_checkpoint};
use super::{error_chain, Projection, RuntimeOptions};
use crate::{dead_letters, ProjectionError, ReadDb, Target};

/// Applies a projection's events to one target.
#[derive(Clone)]
pub struct Applier {
    pub db: ReadDb,
    pub projection: Arc<dyn Projection>,
    pub target: Target,
    pub options: RuntimeOptions,
}

impl Applier {
    /// Applies up to `limit` events after `from`; returns how many events it read and the
    /// checkpoint after them. `retrying` hears of an event being retried.
    pub async fn step(
        &self,
        store: &dyn EventStore,
        from: i64,
        limit: i64,
        retrying: &(dyn Fn(String) + Send + Sync),
    ) -> Result<(usize, i64), ProjectionError> {
        let events = store.read_all(from, limit, &EventFilter::default()).await?;
        if events.is_empty() {
            return Ok((0, from));
        }
        let position = self.apply(&events, retrying).await?;
        Ok((events.len(), position))
    }

    /// Applies `events` (in position order) with the checkpoint; an event that cannot be
    /// applied is retried and then parked. Returns the checkpoint after them.
    pub async fn apply(
        &self,
        events: &[RecordedEvent],
        retrying: &(dyn Fn(String) + Send + Sync),
    ) -> Result<i64, ProjectionError> {
        match apply_checkpointed(&self.db, &*self.projection, &self.target, events).await {
            Ok(position) => Ok(position),
            // One event cannot be applied: go event by event, retrying and parking it.
            Err(error) if is_poison(&error) => self.one_by_one(events, retrying).await,
            Err(error) => Err(error),
        }
    }

    /// Each event with its checkpoint in its own transaction; an event that keeps failing
    /// is retried with backoff, then parked together with the checkpoint past it.
    async fn one_by_one(
        &self,
        events: &[RecordedEvent],
        retrying: &(dyn Fn(String) + Send + Sync),
    ) -> Result<i64, ProjectionError> {
        let mut position = 0;
        for event in events {
            let mut pause = self.options.retry_initial;
            let mut attempt = 1;
            position = loop {
                let single = std::slice::from_ref(event);
                match apply_checkpointed(&self.db, &*self.projection, &self.target, single).await {
                    Ok(position) => break position,
                    Err(error) if is_poison(&error) && attempt >= self.options.max_attempts => {
                        break self.park(event, &error_chain(&error), attempt).await?;
                    }
                    Err(error) if is_poison(&error) => {
                        retrying(error_chain(&error));
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(self.options.retry_max);
                        attempt += 1;
                    }
                    Err(error) => return Err(error),
                }
            };
        }
        Ok(position)
    }

    async fn park(
        &self,
        event: &RecordedEvent,
        error: &str,
        attempts: u32,
    ) -> Result<i64, ProjectionError> {
        let name = self.target.checkpoint(self.projection.name());
        tracing::error!(projection = %name, position = event.position, event_type = %event.event_type, attempts, error, "event parked as a dead letter");
        let mut tx = self.db.begin().await?;
        let stored = lock_checkpoint(&mut tx, &name, self.db.is_sqlite()).await?;
        if stored >= event.position {
            return Ok(stored);
        }
        dead_letters::park(&mut tx, &name, event, error, attempts).await?;
        save_checkpoint(&mut tx, &name, event.position).await?;
        tx.commit().await?;
        Ok(event.position)
    }
}

/// An error of applying one particular event (it will fail again the same way), as
/// opposed to the database being unavailable.
pub fn is_poison(error: &ProjectionError) -> bool {
    matches!(
        error,
        ProjectionError::Fold(_) | ProjectionError::Json(_) | ProjectionError::Rejected(_)
    )
}
