//! The PostgreSQL event store: reads, and appends through the batching [`Writer`] and
//! [`PgAppender`] (see there for how positions stay gap-free and safe to tail). Other
//! processes learn of new events through `LISTEN clustergenie_events`: after its commits,
//! a process's notifier sends the new head on that channel, off the commit path and
//! coalesced (one notification for all the commits made while the previous one was sent).
//! A notification is only a wake-up: a failed one is sent again, the head is read again
//! whenever the listening connection is (re)established, and readers of the log read the
//! head themselves now and then (see [`crate::store::TailedStore`]), so a lost one delays,
//! never loses.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgListener, PgRow};
use sqlx::types::Json;
use sqlx::{PgPool, Row};
use tokio::sync::watch;

use super::append::{idempotency_row, PgAppender};
use crate::store::model::{
    AppendOutcome, AppendRequest, EventFilter, EventMetadata, FoldingEvent, PublishedEvent,
    RecordedEvent, Snapshot,
};
use crate::store::side_pool::pool_options;
use crate::store::writer::{advance, CommitSink, Writer};
use crate::store::IdempotencyRecord;
use crate::store::{sql, EventLog, IdempotencyStore, RelayStore, SnapshotStore, StoreError};

const CHANNEL: &str = "clustergenie_events";

/// The shortest time between two notifications of this process's commits: the most a
/// reader in another process waits for a commit beyond the notification's own delivery.
pub const NOTIFY_INTERVAL: Duration = Duration::from_millis(5);

/// Events after `$1` as the Kafka relay publishes them, at most `$2`: `data` as text and one
/// metadata field (no JSON decoded here, none re-encoded by the relay).
pub const READ_FOR_PUBLISHING: &str = "SELECT position, id, aggregate_type, aggregate_id, \
     sequence, event_type, schema_version, recorded_at, data::text, \
     COALESCE(metadata->>'traceparent', '') \
     FROM cg_events WHERE position > $1 ORDER BY position LIMIT $2";

/// PostgreSQL-backed [`EventStore`](crate::store::EventStore).
pub struct PgEventStore {
    pool: PgPool,
    writer: Writer,
    head: Arc<watch::Sender<i64>>,
}

impl PgEventStore {
    /// Connects (without migrating) and starts the writer and the LISTEN task.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let pool = pool_options::<sqlx::Postgres>(max_connections)
            .connect(url)
            .await?;
        Ok(Self::from_pool(pool))
    }

    /// Wraps an existing pool (tests share one between several stores, as several
    /// processes' writers).
    pub fn from_pool(pool: PgPool) -> Self {
        let head = Arc::new(watch::channel(0).0);
        let (committed, commits) = watch::channel(0);
        let backend = Arc::new(PgAppender::new(pool.clone(), committed));
        let writer = Writer::spawn(backend, Arc::clone(&head), 512);
        tokio::spawn(listen(pool.clone(), Arc::clone(&head)));
        tokio::spawn(notify(pool.clone(), commits));
        Self { pool, writer, head }
    }

    /// The underlying pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// The events of a filtered read (`sql::read_all` or `sql::read_before`): `from` is `$1`,
/// the filter's values follow, the limit last.
async fn read_filtered(
    pool: &PgPool,
    sql: &str,
    from: i64,
    limit: i64,
    filter: &EventFilter,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut query = sqlx::query(sql).bind(from);
    for value in sql::filter_values(filter) {
        query = query.bind(value);
    }
    let rows = query.bind(limit).fetch_all(pool).await?;
    rows.iter().map(event_row).collect()
}

fn event_row(r: &PgRow) -> Result<RecordedEvent, StoreError> {
    let metadata: Json<EventMetadata> = r.try_get(9)?;
    Ok(RecordedEvent {
        position: r.try_get(0)?,
        id: r.try_get(1)?,
        aggregate_type: r.try_get(2)?,
        aggregate_id: r.try_get(3)?,
        sequence: r.try_get(4)?,
        event_type: r.try_get(5)?,
        schema_version: r.try_get(6)?,
        recorded_at: r.try_get(7)?,
        data: r.try_get(8)?,
        metadata: metadata.0,
        hash: r.try_get(10)?,
    })
}

/// An event as [`EventStore::read_for_folding`] reads it (no id, metadata or hash).
fn folding_row(r: &PgRow) -> Result<FoldingEvent, StoreError> {
    Ok(FoldingEvent {
        position: r.try_get(0)?,
        aggregate_type: r.try_get(1)?,
        aggregate_id: r.try_get(2)?,
        sequence: r.try_get(3)?,
        event_type: r.try_get(4)?,
        schema_version: r.try_get(5)?,
        recorded_at: r.try_get(6)?,
        data: r.try_get(7)?,
    })
}

/// Tells other processes of this one's commits: the last committed head, at once after a
/// quiet spell, then at most once per [`NOTIFY_INTERVAL`] (the commits of that interval are
/// coalesced into the next notification). Each notification wakes every listening
/// session, this process's own included, so one per commit would cost more than the
/// commit itself when commands come one at a time.
pub(super) async fn notify(pool: PgPool, mut commits: watch::Receiver<i64>) {
    while commits.changed().await.is_ok() {
        let head = *commits.borrow_and_update();
        // Readers in other processes rely on the notification (they read the head
        // themselves only rarely): try again until it is sent.
        let mut pause = NOTIFY_INTERVAL;
        while let Err(error) = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(head.to_string())
            .execute(&pool)
            .await
        {
            if pool.is_closed() {
                return;
            }
            tracing::debug!(%error, head, "could not notify other processes; trying again");
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(1));
        }
        tokio::time::sleep(NOTIFY_INTERVAL).await;
    }
}

/// Follows commits of other processes; reconnects with a pause when the connection drops.
async fn listen(pool: PgPool, head: Arc<watch::Sender<i64>>) {
    loop {
        let result = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            // Commits notified while no connection listened are not delivered: read the
            // head once listening.
            let current: i64 =
                sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM cg_events")
                    .fetch_one(&pool)
                    .await?;
            advance(&head, current);
            loop {
                let note = listener.recv().await?;
                if let Ok(position) = note.payload().parse::<i64>() {
                    advance(&head, position);
                }
            }
            #[allow(unreachable_code)]
            Ok::<(), sqlx::Error>(())
        }
        .await;
        if let Err(error) = result {
            if pool.is_closed() {
                return;
            }
            tracing::debug!(%error, "event listener reconnecting");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

#[async_trait]
impl EventLog for PgEventStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut migrator = sqlx::migrate!("./migrations/postgres");
        migrator.set_ignore_missing(true);
        migrator.run(&self.pool).await?;
        // Seed the watch so that waiters start from the real head.
        advance(&self.head, self.head().await?);
        Ok(())
    }

    async fn append(&self, request: AppendRequest) -> Result<AppendOutcome, StoreError> {
        self.writer.append(request).await
    }

    async fn read_all(
        &self,
        after: i64,
        limit: i64,
        filter: &EventFilter,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = sql::read_all(filter, sql::Dialect::Postgres);
        read_filtered(&self.pool, &sql, after, limit, filter).await
    }

    async fn read_before(
        &self,
        before: i64,
        limit: i64,
        filter: &EventFilter,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = sql::read_before(filter, sql::Dialect::Postgres);
        read_filtered(&self.pool, &sql, before, limit, filter).await
    }

    async fn read_for_folding(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<FoldingEvent>, StoreError> {
        let rows = sqlx::query(sql::READ_FOR_FOLDING)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(folding_row).collect()
    }

    async fn read_for_publishing(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<PublishedEvent>, StoreError> {
        let rows = sqlx::query(READ_FOR_PUBLISHING)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(PublishedEvent {
                    position: r.try_get(0)?,
                    id: r.try_get(1)?,
                    aggregate_type: r.try_get(2)?,
                    aggregate_id: r.try_get(3)?,
                    sequence: r.try_get(4)?,
                    event_type: r.try_get(5)?,
                    schema_version: r.try_get(6)?,
                    recorded_at: r.try_get(7)?,
                    data: r.try_get(8)?,
                    traceparent: r.try_get(9)?,
                })
            })
            .collect()
    }

    async fn read_stream_after(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        after_sequence: i64,
        up_to_position: Option<i64>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(sql::READ_STREAM_AFTER)
            .bind(aggregate_type)
            .bind(aggregate_id)
            .bind(after_sequence)
            .bind(up_to_position.unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(event_row).collect()
    }

    async fn head(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM cg_events")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    fn watch_head(&self) -> watch::Receiver<i64> {
        self.head.subscribe()
    }

    fn on_commit(&self, sink: CommitSink) {
        self.writer.on_commit(sink);
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn position_at(&self, at: DateTime<Utc>) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(sql::POSITION_AT)
            .bind(at)
            .fetch_one(&self.pool)
            .await?)
    }
}

#[async_trait]
impl SnapshotStore for PgEventStore {
    async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        sqlx::query(sql::SAVE_SNAPSHOT)
            .bind(&snapshot.aggregate_type)
            .bind(&snapshot.aggregate_id)
            .bind(snapshot.version)
            .bind(snapshot.position)
            .bind(&snapshot.state)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn load_snapshot(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Option<Snapshot>, StoreError> {
        let row = sqlx::query(sql::LOAD_SNAPSHOT)
            .bind(aggregate_type)
            .bind(aggregate_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(Snapshot {
                aggregate_type: aggregate_type.to_owned(),
                aggregate_id: aggregate_id.to_owned(),
                version: r.try_get(0)?,
                position: r.try_get(1)?,
                state: r.try_get(2)?,
            })
        })
        .transpose()
    }
}

#[async_trait]
impl IdempotencyStore for PgEventStore {
    async fn idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let row = sqlx::query(sql::READ_IDEMPOTENCY)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(idempotency_row).transpose()
    }
}

#[async_trait]
impl RelayStore for PgEventStore {
    async fn relay_position(&self, relay: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(sql::RELAY_POSITION)
            .bind(relay)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn acknowledge(&self, relay: &str, position: i64) -> Result<(), StoreError> {
        sqlx::query(sql::ACKNOWLEDGE)
            .bind(relay)
            .bind(position)
            .bind(Utc::now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<bool, StoreError> {
        let held: Option<String> = sqlx::query_scalar(ACQUIRE_LEASE)
            .bind(name)
            .bind(holder)
            .bind(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX))
            .fetch_optional(&self.pool)
            .await?;
        Ok(held.is_some())
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query(sql::RELEASE_LEASE)
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Takes or renews a lease by the database's clock; returns a row only when `$2` holds it.
const ACQUIRE_LEASE: &str = "INSERT INTO cg_leases (name, holder, expires_at, acquired_at) \
     VALUES ($1, $2, now() + $3::bigint * interval '1 millisecond', now()) \
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
     expires_at = excluded.expires_at, acquired_at = CASE \
     WHEN cg_leases.holder = excluded.holder THEN cg_leases.acquired_at \
     ELSE excluded.acquired_at END \
     WHERE cg_leases.holder = excluded.holder OR cg_leases.expires_at < now() \
     RETURNING holder";
