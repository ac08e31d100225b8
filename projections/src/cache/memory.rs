//! [`MemoryCache`]: the embedded default, an in-process map behind the same
//! [`ReadCache`] trait and with the same rules as Redis (newer-only writes, a guarded
//! generation), so the runner and the API cannot tell the two apart.
//!
//! Unlike Redis (run with `noeviction`), it holds at most a budget of bytes: the least
//! recently used records are dropped to stay within it (see [`super::held`]) while the
//! checkpoint stays, so a dropped record reads as a miss and the runner refolds it from
//! the log when it next changes ([`ReadCache::evicts`]). A write never fills a key it
//! lacks from a fold at or below the checkpoint: such a record was evicted after a later
//! fold was written, and an older writer must not bring back an older version of it.

use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use super::backend::{
    CacheUsage, Checkpoint, ReadCache, Record, RecordKey, StoredState, StoredView, ViewsRead,
    Written,
};
use super::held::Held;
use super::CacheError;

/// The budget of [`MemoryCache::new`]: 64 MiB.
pub const DEFAULT_BUDGET_BYTES: usize = 64 << 20;

struct Inner {
    checkpoint: Option<Checkpoint>,
    records: Held,
}

/// The in-process cache.
pub struct MemoryCache {
    inner: Mutex<Inner>,
}

impl Default for MemoryCache {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryCache {
    /// An empty cache of [`DEFAULT_BUDGET_BYTES`].
    pub fn new() -> Self {
        Self::with_budget(DEFAULT_BUDGET_BYTES)
    }

    /// An empty cache that holds at most `budget` bytes of records (0: none at all,
    /// every read a miss).
    pub fn with_budget(budget: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                checkpoint: None,
                records: Held::new(budget),
            }),
        }
    }

    /// Drops everything, checkpoint included, as a flushed or restarted Redis would.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.checkpoint = None;
        inner.records.clear();
    }

    /// Number of records held.
    pub fn len(&self) -> usize {
        self.lock().records.len()
    }

    /// True when no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-written record (every
        // change is one insert and the evictions after it, none of which fails on the
        // data), so a poisoned lock is still usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl ReadCache for MemoryCache {
    fn backend(&self) -> &'static str {
        "in-memory"
    }

    fn evicts(&self) -> bool {
        true
    }

    fn usage(&self) -> Option<CacheUsage> {
        Some(self.lock().records.usage())
    }

    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }

    async fn checkpoint(&self) -> Result<Option<Checkpoint>, CacheError> {
        Ok(self.lock().checkpoint.clone())
    }

    async fn begin(&self, fresh: &Checkpoint) -> Result<Checkpoint, CacheError> {
        let mut inner = self.lock();
        let checkpoint = inner.checkpoint.get_or_insert_with(|| fresh.clone());
        Ok(checkpoint.clone())
    }

    async fn reset(&self, fresh: &Checkpoint) -> Result<(), CacheError> {
        // Records of the old generation are not this one's (see `backend.rs`).
        let mut inner = self.lock();
        inner.checkpoint = Some(fresh.clone());
        inner.records.clear();
        Ok(())
    }

    async fn states(&self, keys: &[RecordKey]) -> Result<Vec<Option<StoredState>>, CacheError> {
        let inner = self.lock();
        Ok(keys
            .iter()
            .map(|key| {
                inner.records.peek(key).map(|r| StoredState {
                    position: r.position,
                    state: r.state.clone(),
                })
            })
            .collect())
    }

    async fn write(
        &self,
        epoch: &str,
        records: &[(RecordKey, Record)],
        checkpoint: Option<i64>,
    ) -> Result<Written, CacheError> {
        let mut inner = self.lock();
        if inner.checkpoint.as_ref().map(|c| c.epoch.as_str()) != Some(epoch) {
            return Ok(Written::Lost);
        }
        let floor = inner.checkpoint.as_ref().map_or(0, |c| c.position);
        for (key, record) in records {
            let newer = match inner.records.peek(key) {
                Some(current) => current.position < record.position,
                None => record.position > floor,
            };
            if newer {
                inner.records.insert(key.clone(), record.clone());
            }
        }
        if let (Some(position), Some(current)) = (checkpoint, inner.checkpoint.as_mut()) {
            current.position = current.position.max(position);
        }
        Ok(Written::Applied)
    }

    async fn views(&self, keys: &[RecordKey]) -> Result<ViewsRead, CacheError> {
        let mut inner = self.lock();
        let views = keys
            .iter()
            .map(|key| {
                inner.records.get(key).map(|r| StoredView {
                    position: r.position,
                    view: r.view.clone(),
                })
            })
            .collect();
        Ok(ViewsRead {
            checkpoint: inner.checkpoint.clone(),
            views,
        })
    }
}
