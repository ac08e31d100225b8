//! What both backends implement, as four focused traits: the log itself ([`EventLog`]),
//! snapshots ([`SnapshotStore`]), idempotency records ([`IdempotencyStore`]) and the
//! relay's positions and leases ([`RelayStore`]); [`EventStore`] is all four, for callers
//! that need the whole store under one bound. [`connect`] picks a backend by URL.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::watch;

use super::model::{
    AppendOutcome, AppendRequest, EventFilter, FoldingEvent, PublishedEvent, RecordedEvent,
    Snapshot,
};
use super::writer::CommitSink;
use super::{PgEventStore, SqliteEventStore, StoreError};
use crate::store::IdempotencyRecord;

/// The log: an append-only, gap-free global log of per-aggregate streams.
///
/// Positions start at 1 and grow by exactly one per event in commit order, so a reader
/// that has seen position N never later finds an event below N (see docs/architecture.md).
#[async_trait]
#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    /// Which backend this is (`postgres` or `sqlite`).
    fn backend(&self) -> &'static str;

    /// Applies the store's migrations.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Appends the events of one command and its idempotency record atomically.
    async fn append(&self, request: AppendRequest) -> Result<AppendOutcome, StoreError>;

    /// Events with `position > after`, in position order, at most `limit`.
    async fn read_all(
        &self,
        after: i64,
        limit: i64,
        filter: &EventFilter,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Events with `position < before` matching `filter`, newest first, at most `limit`:
    /// the log read back from a position (from its newest end with `before` above the
    /// head), through the same indexes as [`read_all`](Self::read_all).
    async fn read_before(
        &self,
        before: i64,
        limit: i64,
        filter: &EventFilter,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Events with `position > after`, in position order, at most `limit`, shaped for the
    /// Kafka relay. The default reads them whole and writes `data` back to text; a backend
    /// may hand over the stored text directly.
    async fn read_for_publishing(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<PublishedEvent>, StoreError> {
        let events = self.read_all(after, limit, &EventFilter::default()).await?;
        Ok(events.iter().map(PublishedEvent::from).collect())
    }

    /// Events with `position > after`, in position order, at most `limit`, with only what
    /// a fold reads: position, stream, sequence, type, schema version, time and data (as
    /// JSON text). Not reading the event id, metadata and hash, nor decoding the data, spares
    /// that work in bulk (rebuilds, replays). The default reads the events whole.
    async fn read_for_folding(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<FoldingEvent>, StoreError> {
        let events = self.read_all(after, limit, &EventFilter::default()).await?;
        Ok(events.iter().map(FoldingEvent::from).collect())
    }

    /// One stream's events in sequence order, optionally only those at or before a position.
    async fn read_stream(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        up_to_position: Option<i64>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.read_stream_after(aggregate_type, aggregate_id, 0, up_to_position)
            .await
    }

    /// One stream's events with `sequence > after_sequence`, optionally only those at or
    /// before a position.
    async fn read_stream_after(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        after_sequence: i64,
        up_to_position: Option<i64>,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// One stream's events after its `after_sequence`th, when the caller knows that none
    /// of them is at or before `after_position` (the position of that event, or a later
    /// one up to which the caller has seen nothing newer): a tail of the log answers from
    /// memory when it holds every event after that position. The default reads the
    /// stream.
    async fn read_stream_since(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        after_sequence: i64,
        after_position: i64,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let _ = after_position;
        self.read_stream_after(aggregate_type, aggregate_id, after_sequence, None)
            .await
    }

    /// The position of the last committed event (0 for an empty log).
    async fn head(&self) -> Result<i64, StoreError>;

    /// The last committed position as this process knows it; changes after every commit
    /// (of this process, and of others where the backend can tell).
    fn watch_head(&self) -> watch::Receiver<i64>;

    /// Has `sink` told the events of every batch this process commits from now on, in
    /// log order, before [`watch_head`](Self::watch_head) moves past them: a tail of the
    /// log can then hold this process's own events without reading them back. A store
    /// that does not write through a writer of its own tells nothing (the default).
    fn on_commit(&self, sink: CommitSink) {
        let _ = sink;
    }

    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// The last position whose time is at or before `at`, for time travel by time.
    async fn position_at(&self, at: chrono::DateTime<chrono::Utc>) -> Result<i64, StoreError>;
}

/// Snapshots of streams: a stream's fold stored at a version, so that loading it folds only
/// the events after that version.
#[async_trait]
pub trait SnapshotStore: Send + Sync + 'static {
    /// Stores (replaces) a stream's snapshot.
    async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError>;

    /// A stream's snapshot, if any.
    async fn load_snapshot(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Option<Snapshot>, StoreError>;
}

/// Idempotency records: the first answer to a command, stored by [`EventLog::append`] with
/// its events and read back when the key comes again.
#[async_trait]
pub trait IdempotencyStore: Send + Sync + 'static {
    /// The idempotency record stored under `key`, if any.
    async fn idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError>;
}

/// What a relay publishing the log keeps in the store: how far its broker acknowledged the
/// log, and the lease that lets one relay at a time run.
#[async_trait]
pub trait RelayStore: Send + Sync + 'static {
    /// The last position `relay` marked as acknowledged by its broker (0: nothing yet).
    /// The log is the outbox: what the relay has yet to publish is every event after it.
    async fn relay_position(&self, relay: &str) -> Result<i64, StoreError>;

    /// Marks every event up to `position` as acknowledged for `relay`; never moves back.
    async fn acknowledge(&self, relay: &str, position: i64) -> Result<(), StoreError>;

    /// Takes the lease `name` for `holder` until `ttl` from now, or renews it if `holder`
    /// already holds it; `false` while another holder's lease has not expired. Expiry is
    /// measured by the database's clock.
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<bool, StoreError>;

    /// Gives the lease `name` up if `holder` holds it, so another may take it at once.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;
}

/// The whole event store: the log, snapshots, idempotency records and relay positions.
/// Implemented for everything that implements the four.
pub trait EventStore: EventLog + SnapshotStore + IdempotencyStore + RelayStore {}

impl<T: EventLog + SnapshotStore + IdempotencyStore + RelayStore + ?Sized> EventStore for T {}

/// Opens the store named by `url` (`postgres://…`, `postgresql://…` or `sqlite:…`).
pub async fn connect(url: &str, max_connections: u32) -> Result<Arc<dyn EventStore>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgEventStore::connect(url, max_connections).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(
            SqliteEventStore::connect(url, max_connections).await?,
        ))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}
