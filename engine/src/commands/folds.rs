//! [`Folds`]: the aggregates a command service loaded lately, kept folded.
//!
//! Loading an aggregate reads its snapshot and folds the events after it. A process that
//! works on the same aggregates again and again (the job runtime on a job and its droplet,
//! commands on a busy cluster) keeps the fold instead, and reads only the stream's events
//! after the version it holds ([`EventLog::read_stream_since`](crate::store::EventLog::read_stream_since)): behind a
//! [`TailedStore`](crate::store::TailedStore) these come from memory, so a load costs no
//! query. What is kept is only ever a starting point: every load still brings it up to the
//! log's head as this process knows it, and an append decided on a state that another
//! process has changed meanwhile fails its version guard; the next load then brings the
//! fold at least to the version the append found, from the store when the tail does not
//! have it yet.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use cqrs_es::Aggregate;

use crate::fold::{load, FoldError, Loaded};
use crate::store::EventStore;

/// Aggregates kept at most; past it, the oldest half is dropped.
pub const CAPACITY: usize = 4096;

type Key = (String, String);

/// The folds kept, with the order they were last used in.
#[derive(Default)]
pub struct Folds {
    held: Mutex<Held>,
}

/// One fold kept.
struct Kept {
    /// The clock at its last use.
    used: u64,
    /// The stream holds no event newer than the fold up to this log position.
    checked: i64,
    /// The fold's version.
    version: u64,
    /// A version an append found the stream at (0: none past the fold).
    floor: u64,
    fold: Box<dyn Any + Send + Sync>,
}

#[derive(Default)]
struct Held {
    folds: HashMap<Key, Kept>,
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
    /// by the stream's newer events, or a full [`load`].
    pub async fn load<A>(&self, store: &dyn EventStore, id: &str) -> Result<Loaded<A>, FoldError>
    where
        A: Aggregate + Clone + 'static,
    {
        // Whatever is read next includes every commit up to the head known now.
        let head = *store.watch_head().borrow();
        let Some((mut loaded, checked, floor)) = self.get::<A>(id) else {
            return self.afresh(store, id, head).await;
        };
        // The stream has no event after the fold's version up to `checked`: only what
        // came after is read (from memory, behind a tail).
        let since = checked.max(loaded.last_position);
        let newer = store
            .read_stream_since(A::TYPE, id, loaded.version as i64, since)
            .await?;
        for recorded in &newer {
            loaded.apply_recorded(recorded)?;
        }
        if loaded.version < floor {
            // An append found the stream further on than this process has seen (another
            // process's commit not yet told): read it from the store.
            return self.afresh(store, id, head).await;
        }
        if newer.is_empty() {
            // Unchanged: only how far it is known current moves (no copy of the fold).
            self.checked::<A>(id, head.max(since));
        } else {
            self.put(id, &loaded, head.max(since));
        }
        Ok(loaded)
    }

    /// A full load from the store, kept when the aggregate exists.
    async fn afresh<A>(
        &self,
        store: &dyn EventStore,
        id: &str,
        head: i64,
    ) -> Result<Loaded<A>, FoldError>
    where
        A: Aggregate + Clone + 'static,
    {
        let loaded = load::<A>(store, id, None).await?;
        if loaded.exists() {
            self.put(id, &loaded, head);
        }
        Ok(loaded)
    }

    /// Notes that an append found the stream at `version`, past the fold a command
    /// decided on: the next load brings the fold at least that far, from the tail when
    /// it has the events (a commit of this process), else from the store.
    pub fn outdated(&self, aggregate_type: &str, id: &str, version: u64) {
        if let Some(kept) = self
            .held()
            .folds
            .get_mut(&(aggregate_type.to_owned(), id.to_owned()))
        {
            kept.floor = kept.floor.max(version);
        }
    }

    /// The fold kept of `id`, the position up to which its stream is known to hold
    /// nothing newer, and the version the stream is known to have reached.
    fn get<A: Aggregate + Clone + 'static>(&self, id: &str) -> Option<(Loaded<A>, i64, u64)> {
        let mut held = self.held();
        held.clock += 1;
        let clock = held.clock;
        let kept = held.folds.get_mut(&(A::TYPE.to_owned(), id.to_owned()))?;
        kept.used = clock;
        let loaded = kept.fold.downcast_ref::<Loaded<A>>()?.clone();
        Some((loaded, kept.checked, kept.floor))
    }

    /// Moves how far the kept fold of `id` is known current.
    fn checked<A: Aggregate>(&self, id: &str, checked: i64) {
        if let Some(kept) = self
            .held()
            .folds
            .get_mut(&(A::TYPE.to_owned(), id.to_owned()))
        {
            kept.checked = kept.checked.max(checked);
        }
    }

    fn put<A: Aggregate + Clone + 'static>(&self, id: &str, loaded: &Loaded<A>, checked: i64) {
        let mut held = self.held();
        held.clock += 1;
        let used = held.clock;
        let key = (A::TYPE.to_owned(), id.to_owned());
        let mut floor = 0;
        if let Some(kept) = held.folds.get_mut(&key) {
            // A slower load never replaces a newer fold.
            if kept.version > loaded.version {
                kept.used = used;
                return;
            }
            floor = kept.floor;
        } else if held.folds.len() >= CAPACITY {
            held.drop_oldest_half();
        }
        let kept = Kept {
            used,
            checked,
            version: loaded.version,
            floor,
            fold: Box::new(loaded.clone()),
        };
        held.folds.insert(key, kept);
    }
}

impl Held {
    fn drop_oldest_half(&mut self) {
        let mut uses: Vec<u64> = self.folds.values().map(|kept| kept.used).collect();
        let middle = uses.len() / 2;
        let (_, cutoff, _) = uses.select_nth_unstable(middle);
        let cutoff = *cutoff;
        self.folds.retain(|_, kept| kept.used > cutoff);
    }
}
