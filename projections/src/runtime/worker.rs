//! The live worker: follows the log into the live tables of every projection at once.
//!
//! Each page of events is applied to all the projections in one transaction, with their
//! checkpoints: one read of the log and one commit per page however many projections
//! there are. A projection none of whose events are in the page neither writes rows nor
//! moves its stored checkpoint (only its position in memory), until it falls
//! [`RuntimeOptions::idle_checkpoint_every`](super::RuntimeOptions) behind. On PostgreSQL
//! the transaction does not wait for its WAL flush (`synchronous_commit = off`): rows and
//! checkpoints commit together and are derived from the log, so a commit lost to a
//! database crash is found (a stored checkpoint behind the one this worker saved) and
//! applied again (see docs/architecture.md).
//!
//! On PostgreSQL a projection's tables are analysed as they grow ([`super::statistics`]),
//! so the planner knows their size while autovacuum has yet to catch up.
//!
//! An event one projection cannot apply fails the shared transaction: the page is then
//! applied projection by projection through each one's [`Applier`], which retries the
//! event and parks it as a dead letter, so the others go on.

use std::sync::Arc;
use std::time::Duration;

use engine::store::{EventFilter, EventStore, RecordedEvent};
use tokio::sync::watch;

use super::checkpoint::{lock_checkpoints, save_checkpoint};
use super::pending_lists::PendingLists;
use super::service::Entry;
use super::statistics::{analyse, Growth};
use super::{error_chain, is_poison, Applier, WorkerState};
use crate::{ProjectionError, Target};

/// One live projection: its entry (position, status) and how to apply events to it.
pub struct Live {
    pub entry: Arc<Entry>,
    pub applier: Applier,
    /// The checkpoint this worker last stored or read for it.
    saved: std::sync::atomic::AtomicI64,
    /// Rows written since its tables were last analysed.
    growth: Growth,
    /// Whether one of its tables has a trigram index (its writes fill a pending list).
    searched: bool,
}

impl Live {
    pub fn new(entry: Arc<Entry>, applier: Applier, checkpoint: i64) -> Self {
        let searched = applier
            .projection
            .tables()
            .iter()
            .any(|t| t.search.is_some());
        Self {
            entry,
            applier,
            saved: checkpoint.into(),
            // What the log held before counts as written before (see `statistics`).
            growth: Growth::starting_at(u64::try_from(checkpoint).unwrap_or(0)),
            searched,
        }
    }

    fn position(&self) -> i64 {
        *self.entry.position.borrow()
    }

    fn name(&self) -> &'static str {
        self.applier.projection.name()
    }

    fn saved(&self) -> i64 {
        self.saved.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn set_saved(&self, position: i64) {
        self.saved
            .store(position, std::sync::atomic::Ordering::Relaxed);
    }
}

/// What one transaction did to one projection.
enum Applied {
    /// Rows and checkpoint written up to `position`, from `handled` events.
    Written { position: i64, handled: u64 },
    /// Nothing for it in the page: only its position in memory moves.
    Passed,
}

pub struct Worker {
    pub store: Arc<dyn EventStore>,
    /// In name order (the order their checkpoints are locked in).
    pub live: Vec<Live>,
    /// Told when rows of a searched table are committed.
    pub pending: Arc<PendingLists>,
}

impl Worker {
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut head = self.store.watch_head();
        let mut failures = 0u32;
        let Some(options) = self.live.first().map(|l| l.applier.options.clone()) else {
            return;
        };
        while !*shutdown.borrow() {
            match self.step().await {
                Ok(0) => {
                    self.set_status(WorkerState::Running, None);
                    failures = 0;
                    tokio::select! {
                        _ = head.changed() => {}
                        _ = tokio::time::sleep(options.poll_interval) => {}
                        _ = shutdown.changed() => {}
                    }
                }
                Ok(_) => failures = 0,
                Err(error) => {
                    failures += 1;
                    tracing::warn!(error = %error_chain(&error), failures, "projection batch failed; retrying");
                    self.set_status(WorkerState::Retrying, Some(error_chain(&error)));
                    let pause = Duration::from_millis(100 * 2u64.pow(failures.min(6)));
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }
        }
        // Shutting down: the API has stopped taking commands; bring the read models up to
        // the head before stopping (the caller bounds how long this may take), and store
        // every checkpoint.
        while let Ok(applied) = self.step().await {
            if applied == 0 {
                break;
            }
        }
        if let Err(error) = self.save_positions().await {
            tracing::warn!(error = %error_chain(&error), "could not store the projections' checkpoints");
        }
        self.set_status(WorkerState::Stopped, None);
    }

    fn set_status(&self, status: WorkerState, error: Option<String>) {
        for live in &self.live {
            live.entry.set_status(status, error.clone());
        }
    }

    /// Applies the next page; returns how many events it read.
    async fn step(&self) -> Result<usize, ProjectionError> {
        let Some(from) = self.live.iter().map(Live::position).min() else {
            return Ok(0);
        };
        let limit = self.live[0].applier.options.batch_size;
        let events = self
            .store
            .read_all(from, limit, &EventFilter::default())
            .await?;
        let Some(last) = events.last().map(|e| e.position) else {
            return Ok(0);
        };
        match self.apply_together(&events).await {
            Ok(true) => {}
            // Positions went back to the stored checkpoints: read again from there.
            Ok(false) => return Ok(events.len()),
            Err(error) if is_poison(&error) => self.apply_apart(&events).await?,
            Err(error) => return Err(error),
        }
        for live in &self.live {
            if live.position() < last {
                live.entry.advance(last);
            }
            live.entry.set_status(WorkerState::Running, None);
        }
        Ok(events.len())
    }

    /// Applies `events` to every projection and moves their checkpoints, in one
    /// transaction; `false` when a stored checkpoint went back and nothing was applied.
    async fn apply_together(&self, events: &[RecordedEvent]) -> Result<bool, ProjectionError> {
        let db = &self.live[0].applier.db;
        let names: Vec<&str> = self.live.iter().map(Live::name).collect();
        let mut tx = db.begin().await?;
        if !db.is_sqlite() {
            sqlx::query("SET LOCAL synchronous_commit = off")
                .execute(&mut *tx)
                .await?;
        }
        let stored = lock_checkpoints(&mut tx, &names, db.is_sqlite()).await?;
        if let Some(lost) = self.regressed(&stored) {
            // A commit of ours is gone (the database lost it in a crash): start again
            // from what is stored.
            drop(tx);
            tracing::warn!(
                projection = lost,
                "a stored checkpoint went back; re-applying from it"
            );
            self.restart_from(&stored);
            return Ok(false);
        }
        let mut outcomes = Vec::with_capacity(self.live.len());
        for (live, stored) in self.live.iter().zip(&stored) {
            outcomes.push(apply_one(&mut tx, live, *stored, events).await?);
        }
        tx.commit().await?;
        for (live, outcome) in self.live.iter().zip(outcomes) {
            if let Applied::Written { position, handled } = outcome {
                live.set_saved(position);
                if handled > 0 && live.searched {
                    self.pending.written();
                }
                if live.growth.grew(handled) {
                    let tables = live.applier.projection.tables();
                    analyse(&live.applier.db, tables.iter().map(|t| t.name).collect());
                }
            }
        }
        Ok(true)
    }

    /// The first projection whose stored checkpoint is behind the one last saved.
    fn regressed(&self, stored: &[i64]) -> Option<&'static str> {
        self.live
            .iter()
            .zip(stored)
            .find(|(live, stored)| **stored < live.saved())
            .map(|(live, _)| live.name())
    }

    fn restart_from(&self, stored: &[i64]) {
        for (live, stored) in self.live.iter().zip(stored) {
            live.set_saved(*stored);
            live.entry.position.send_replace(*stored);
        }
    }

    /// Applies `events` projection by projection (each retries and parks what it cannot
    /// apply).
    async fn apply_apart(&self, events: &[RecordedEvent]) -> Result<(), ProjectionError> {
        for live in &self.live {
            let entry = Arc::clone(&live.entry);
            let retrying =
                move |error: String| entry.set_status(WorkerState::Retrying, Some(error));
            let position = live.applier.apply(events, &retrying).await?;
            live.set_saved(position);
            if live.searched {
                self.pending.written();
            }
        }
        Ok(())
    }

    /// Stores the position of every projection whose stored checkpoint is behind it.
    async fn save_positions(&self) -> Result<(), ProjectionError> {
        let db = &self.live[0].applier.db;
        let mut tx = db.begin().await?;
        let names: Vec<&str> = self.live.iter().map(Live::name).collect();
        let stored = lock_checkpoints(&mut tx, &names, db.is_sqlite()).await?;
        for (live, stored) in self.live.iter().zip(stored) {
            if live.position() > stored {
                save_checkpoint(&mut tx, live.name(), live.position()).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Applies the events of `events` that `live`'s projection has not seen (its checkpoint is
/// `stored`) and handles, inside the shared transaction.
async fn apply_one(
    tx: &mut sqlx::AnyConnection,
    live: &Live,
    stored: i64,
    events: &[RecordedEvent],
) -> Result<Applied, ProjectionError> {
    let fresh = &events[events.partition_point(|e| e.position <= stored)..];
    let Some(last) = fresh.last().map(|e| e.position) else {
        return Ok(Applied::Passed);
    };
    let projection = &*live.applier.projection;
    let handled = fresh.iter().filter(|e| projection.handles(e)).count() as u64;
    let every = live.applier.options.idle_checkpoint_every;
    if handled > 0 {
        projection.apply(&mut *tx, fresh, &Target::Live).await?;
    } else if last - stored < every {
        return Ok(Applied::Passed);
    }
    save_checkpoint(tx, live.name(), last).await?;
    Ok(Applied::Written {
        position: last,
        handled,
    })
}
