//! [`Folds`]: the aggregates a command service loaded lately, kept folded.
//!
//! Loading an aggregate reads its snapshot and folds the events after it. A process that
//! works on the same aggregates again and again (the job runtime on a job and its droplet,
//! commands on a busy cluster) keeps the fold instead, and reads only the stream's events
//! after the version it holds ([`EventStore::read_stream_since`]): behind a
//! [`TailedStore`](crate::store::TailedStore) these come from memory, so a load costs no
//! query. What is kept is only ever a starting point: every load still brings it up to the
//! log's head, and an append decided on a state that another process has changed
//! meanwhile fails its version guard, after which the stream is read afresh.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use cqrs_es::Aggregate;

use super::{CommandError, Loaded};
use crate::store::EventStore;

/// Aggregates kept at most; past it, the oldest half is dropped.
pub const CAPACITY: usize = 4096;

type Key = (String, String);

/// The folds kept, with the order they were last used in.
#[derive(Default)]
pub struct Folds {
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    folds: HashMap<Key, (u64, Box<dyn Any + Send + Sync>)>,
    /// Incremented on every use; each fold remembers its last.
    clock: u64,
}

impl Folds {
    fn held(&self) -> MutexGuard<'_, Held> {
        // Every change leaves the map consistent: a poisoned lock is usable.
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Loads aggregate `A` with id `id` at the log's head: the fold kept, brought forward
    /// by the stream's newer events, or a full [`load`](super::load).
    pub async fn load<A>(&self, store: &dyn EventStore, id: &str) -> Result<Loaded<A>, CommandError>
    where
        A: Aggregate + Clone + 'static,
    {
        let Some(mut loaded) = self.get::<A>(id) else {
            let loaded = super::load::<A>(store, id, None).await?;
            if loaded.exists() {
                self.put(id, &loaded);
            }
            return Ok(loaded);
        };
        let newer = store
            .read_stream_since(A::TYPE, id, loaded.version as i64, loaded.last_position)
            .await?;
        if !newer.is_empty() {
            for recorded in &newer {
                loaded.apply_recorded(recorded)?;
            }
            self.put(id, &loaded);
        }
        Ok(loaded)
    }

    /// Drops the fold of a stream (after an append on it failed its version guard).
    pub fn forget(&self, aggregate_type: &str, id: &str) {
        self.held()
            .folds
            .remove(&(aggregate_type.to_owned(), id.to_owned()));
    }

    fn get<A: Aggregate + Clone + 'static>(&self, id: &str) -> Option<Loaded<A>> {
        let mut held = self.held();
        held.clock += 1;
        let clock = held.clock;
        let (used, fold) = held.folds.get_mut(&(A::TYPE.to_owned(), id.to_owned()))?;
        *used = clock;
        fold.downcast_ref::<Loaded<A>>().cloned()
    }

    fn put<A: Aggregate + Clone + 'static>(&self, id: &str, loaded: &Loaded<A>) {
        let mut held = self.held();
        held.clock += 1;
        let clock = held.clock;
        if held.folds.len() >= CAPACITY {
            held.drop_oldest_half();
        }
        held.folds.insert(
            (A::TYPE.to_owned(), id.to_owned()),
            (clock, Box::new(loaded.clone())),
        );
    }
}

impl Held {
    fn drop_oldest_half(&mut self) {
        let mut uses: Vec<u64> = self.folds.values().map(|(used, _)| *used).collect();
        let middle = uses.len() / 2;
        let (_, cutoff, _) = uses.select_nth_unstable(middle);
        let cutoff = *cutoff;
        self.folds.retain(|_, (used, _)| *used > cutoff);
    }
}
