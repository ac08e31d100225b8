//! [`TailedStore`]: one tail of the log per process, shared by every reader that follows it.
//!
//! The projections, the cache runner, the job runtime, the provider registry and every
//! live SSE stream each follow the log from their own position. Read independently, each
//! commit would cost one query per reader. Wrapped in a `TailedStore`, the store keeps the
//! newest events in memory: a reader at (or near) the head is answered from there, and
//! the events after the newest one held are read once, by whichever reader asks first,
//! while the others wait for that read and share it (single flight). A reader far behind
//! (catching up, a rebuild) reads the store directly.
//!
//! The events this process appends are held as their batch commits, before the head moves
//! past them (see [`EventLog::on_commit`]): in a process that writes most of what it
//! reads, the tail rarely reads at all.
//!
//! While nothing is appended, a reader that has seen the head costs nothing: the head is
//! known from the store's commit notifications ([`EventLog::watch_head`]), so no query is
//! made. As a safety net against a lost notification (another process that stopped between
//! its commit and its notification), the head is read again at most once per
//! [`TailOptions::refresh`], and only when a reader asks.
//!
//! Positions are gap-free and become visible in order, so the events held are always one
//! contiguous run `(start, end]` of the log.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::watch;

use super::model::{
    AppendOutcome, AppendRequest, EventFilter, FoldingEvent, PublishedEvent, RecordedEvent,
    Snapshot,
};
use super::{EventLog, EventStore, IdempotencyStore, RelayStore, SnapshotStore, StoreError};
use crate::store::IdempotencyRecord;

/// Tuning of a [`TailedStore`].
#[derive(Debug, Clone)]
pub struct TailOptions {
    /// The newest events held in memory at most.
    pub capacity: usize,
    /// Events read from the store at once when the tail moves forward.
    pub page: i64,
    /// The longest time the tail trusts the commit notifications alone while idle.
    pub refresh: Duration,
}

impl TailOptions {
    /// Defaults for `backend`: PostgreSQL is told of other processes' commits by
    /// notifications, so its safety read is rare; SQLite has no such channel between
    /// processes, so the head is read again more often (a local read of one row).
    pub fn for_backend(backend: &str) -> Self {
        Self {
            capacity: 8192,
            page: 1000,
            refresh: match backend {
                "postgres" => Duration::from_secs(30),
                _ => Duration::from_secs(1),
            },
        }
    }
}

/// The newest events of the log: positions `start + 1 ..= end`, in order.
struct Recent {
    start: i64,
    events: VecDeque<RecordedEvent>,
}

impl Recent {
    fn end(&self) -> i64 {
        self.start + self.events.len() as i64
    }

    /// The held events after `after` that match `filter`, at most `limit`, or `None` when
    /// `after` is before the held run (the caller must read the store).
    fn after(&self, after: i64, limit: usize, filter: &EventFilter) -> Option<Vec<RecordedEvent>> {
        if after < self.start {
            return None;
        }
        let skip = usize::try_from(after - self.start).unwrap_or(usize::MAX);
        Some(
            self.events
                .iter()
                .skip(skip)
                .filter(|e| filter.matches(e))
                .take(limit)
                .cloned()
                .collect(),
        )
    }

    /// Adds events read after `end()` (those already held are skipped); a run that does
    /// not follow on starts afresh.
    fn extend(&mut self, page: Vec<RecordedEvent>, capacity: usize) {
        let end = self.end();
        let mut page = page
            .into_iter()
            .skip_while(|e| e.position <= end)
            .peekable();
        let Some(first) = page.peek() else {
            return;
        };
        if first.position != end + 1 {
            tracing::debug!(
                expected = end + 1,
                got = first.position,
                "log tail restarts"
            );
            self.events.clear();
            self.start = first.position - 1;
        }
        self.events.extend(page);
        self.trim(capacity);
    }

    /// Adds the events of a commit of this process when they follow on from the held
    /// run (otherwise a reader reads them, with what came between, from the store).
    fn committed(&mut self, events: &[RecordedEvent], capacity: usize) {
        if events.first().map(|e| e.position) == Some(self.end() + 1) {
            self.events.extend(events.iter().cloned());
            self.trim(capacity);
        }
    }

    /// Drops the held run and starts an empty one at `head`, unless the run has moved on
    /// from `end` meanwhile. Events after `head` then follow on as they are committed or
    /// read; readers before it read the store.
    fn restart_at(&mut self, end: i64, head: i64) {
        if self.end() == end && head > end {
            tracing::debug!(from = end, to = head, "log tail restarts at the head");
            self.events.clear();
            self.start = head;
        }
    }

    fn trim(&mut self, capacity: usize) {
        while self.events.len() > capacity {
            self.events.pop_front();
            self.start += 1;
        }
    }
}

/// An [`EventStore`] whose log readers share one tail (see the module documentation).
/// Everything but reading the log goes straight to the wrapped store.
pub struct TailedStore {
    inner: Arc<dyn EventStore>,
    options: TailOptions,
    recent: Mutex<Recent>,
    /// Held while the tail reads forward, so that concurrent readers share one read.
    forward: tokio::sync::Mutex<()>,
    /// The highest head this process knows of: notifications and refreshes.
    head: watch::Receiver<i64>,
    refreshed_head: AtomicI64,
    refreshed_at: Mutex<Instant>,
    queries: AtomicI64,
}

impl TailedStore {
    /// Wraps `inner` (already migrated); the tail starts at its head.
    pub async fn wrap(inner: Arc<dyn EventStore>) -> Result<Arc<Self>, StoreError> {
        let options = TailOptions::for_backend(inner.backend());
        Self::with_options(inner, options).await
    }

    /// [`TailedStore::wrap`] with explicit tuning.
    pub async fn with_options(
        inner: Arc<dyn EventStore>,
        options: TailOptions,
    ) -> Result<Arc<Self>, StoreError> {
        let head = inner.head().await?;
        let tail = Arc::new(Self {
            head: inner.watch_head(),
            inner,
            options,
            recent: Mutex::new(Recent {
                start: head,
                events: VecDeque::new(),
            }),
            forward: tokio::sync::Mutex::new(()),
            refreshed_head: AtomicI64::new(head),
            refreshed_at: Mutex::new(Instant::now()),
            queries: AtomicI64::new(0),
        });
        // This process's own commits are held as they commit: readers at the head then
        // find them without a read.
        let weak = Arc::downgrade(&tail);
        tail.inner
            .on_commit(Arc::new(move |events: &[RecordedEvent]| {
                if let Some(tail) = weak.upgrade() {
                    let capacity = tail.options.capacity;
                    tail.recent().committed(events, capacity);
                }
            }));
        Ok(tail)
    }

    /// How many log reads this tail has sent to the store (tests, metrics).
    pub fn queries(&self) -> i64 {
        self.queries.load(Ordering::Relaxed)
    }

    fn recent(&self) -> MutexGuard<'_, Recent> {
        // Every change to `Recent` leaves it consistent, so a poisoned lock is usable.
        self.recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn known_head(&self) -> i64 {
        (*self.head.borrow()).max(self.refreshed_head.load(Ordering::Relaxed))
    }

    /// Reads the head again when the last read is older than `refresh`; answers the
    /// highest head known.
    async fn refresh_head(&self) -> Result<i64, StoreError> {
        let due = {
            let mut at = self
                .refreshed_at
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let due = at.elapsed() >= self.options.refresh;
            if due {
                *at = Instant::now();
            }
            due
        };
        if due {
            let head = self.inner.head().await?;
            self.refreshed_head.fetch_max(head, Ordering::Relaxed);
        }
        Ok(self.known_head())
    }

    /// Whether a reader that has read up to `after` has seen the head: no query unless
    /// the safety read of the head is due.
    async fn at_head(&self, after: i64) -> Result<bool, StoreError> {
        Ok(after >= self.known_head() && after >= self.refresh_head().await?)
    }

    /// Reads the page after the newest held event into memory, unless another reader
    /// did while this one waited.
    async fn read_forward(&self, from: i64) -> Result<(), StoreError> {
        let _forward = self.forward.lock().await;
        if self.recent().end() != from {
            return Ok(());
        }
        self.queries.fetch_add(1, Ordering::Relaxed);
        let page = self
            .inner
            .read_all(from, self.options.page, &EventFilter::default())
            .await?;
        self.recent().extend(page, self.options.capacity);
        Ok(())
    }

    /// The events after `after` from memory, reading forward while the held run ends
    /// before the known head; `None` when the caller must read the store.
    async fn read_held(
        &self,
        after: i64,
        limit: i64,
        filter: &EventFilter,
    ) -> Result<Option<Vec<RecordedEvent>>, StoreError> {
        let limit = usize::try_from(limit.max(0)).unwrap_or(usize::MAX);
        loop {
            let head = self.known_head();
            let (found, end) = {
                let recent = self.recent();
                (recent.after(after, limit, filter), recent.end())
            };
            let Some(found) = found else {
                return Ok(None);
            };
            // Everything up to the head known when asked is in the answer (a reader that
            // saw a commit must find it), unless the answer is full.
            if found.len() == limit || end >= head {
                return Ok(Some(found));
            }
            // Far ahead of what is held (another process appended more than the tail
            // holds): the store's indexes answer better, and the held run starts again at
            // the head, so that readers that catch up are answered from memory again.
            if head - end > self.options.capacity as i64 {
                self.recent().restart_at(end, head);
                return Ok(None);
            }
            self.read_forward(end).await?;
            if self.recent().end() == end {
                // Nothing more is visible yet (the head told of a commit that this
                // connection cannot see yet): answer what there is.
                return Ok(Some(found));
            }
        }
    }
}

#[async_trait]
impl EventLog for TailedStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        self.inner.migrate().await
    }

    async fn append(&self, request: AppendRequest) -> Result<AppendOutcome, StoreError> {
        self.inner.append(request).await
    }

    async fn read_all(
        &self,
        after: i64,
        limit: i64,
        filter: &EventFilter,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        if self.at_head(after).await? {
            return Ok(Vec::new());
        }
        if filter.aggregate_id.is_none() {
            if let Some(events) = self.read_held(after, limit, filter).await? {
                return Ok(events);
            }
        }
        self.queries.fetch_add(1, Ordering::Relaxed);
        self.inner.read_all(after, limit, filter).await
    }

    /// Reading back is for looking at history (the Audit page), not for following the
    /// log: it goes to the store's indexes.
    async fn read_before(
        &self,
        before: i64,
        limit: i64,
        filter: &EventFilter,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.queries.fetch_add(1, Ordering::Relaxed);
        self.inner.read_before(before, limit, filter).await
    }

    async fn read_for_publishing(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<PublishedEvent>, StoreError> {
        if self.at_head(after).await? {
            return Ok(Vec::new());
        }
        self.inner.read_for_publishing(after, limit).await
    }

    async fn read_for_folding(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<FoldingEvent>, StoreError> {
        self.inner.read_for_folding(after, limit).await
    }

    async fn read_stream_after(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        after_sequence: i64,
        up_to_position: Option<i64>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner
            .read_stream_after(aggregate_type, aggregate_id, after_sequence, up_to_position)
            .await
    }

    async fn read_stream_since(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        after_sequence: i64,
        after_position: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let filter = EventFilter {
            aggregate_type: Some(aggregate_type.to_owned()),
            aggregate_id: Some(aggregate_id.to_owned()),
            ..EventFilter::default()
        };
        // Every event of the stream after its `after_sequence`th is after `after_position`.
        if let Some(events) = self.read_held(after_position, i64::MAX, &filter).await? {
            return Ok(events);
        }
        self.inner
            .read_stream_after(aggregate_type, aggregate_id, after_sequence, None)
            .await
    }

    async fn head(&self) -> Result<i64, StoreError> {
        self.inner.head().await
    }

    fn watch_head(&self) -> watch::Receiver<i64> {
        self.inner.watch_head()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }

    async fn position_at(&self, at: chrono::DateTime<chrono::Utc>) -> Result<i64, StoreError> {
        self.inner.position_at(at).await
    }
}

#[async_trait]
impl SnapshotStore for TailedStore {
    async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        self.inner.save_snapshot(snapshot).await
    }

    async fn load_snapshot(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Option<Snapshot>, StoreError> {
        self.inner.load_snapshot(aggregate_type, aggregate_id).await
    }
}

#[async_trait]
impl IdempotencyStore for TailedStore {
    async fn idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.inner.idempotency(key).await
    }
}

#[async_trait]
impl RelayStore for TailedStore {
    async fn relay_position(&self, relay: &str) -> Result<i64, StoreError> {
        self.inner.relay_position(relay).await
    }

    async fn acknowledge(&self, relay: &str, position: i64) -> Result<(), StoreError> {
        self.inner.acknowledge(relay, position).await
    }

    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.inner.acquire_lease(name, holder, ttl).await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.inner.release_lease(name, holder).await
    }
}
