//! The SQLite event store, the embedded default.
//!
//! SQLite admits one writer at a time; every batch of the [`Writer`] runs in a
//! `BEGIN IMMEDIATE` transaction on a dedicated one-connection pool, so positions are
//! assigned and committed strictly in order. Readers use a separate pool (WAL mode).
//! Every write (the batches, snapshots, relay positions, leases) first enters the file's
//! [`WriteGate`], which the process's other writers of the file share.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqlitePoolOptions, SqliteRow};
use sqlx::{Row, SqliteConnection, SqlitePool};
use tokio::sync::watch;

use super::model::{
    format_time, AppendOutcome, AppendRequest, EventFilter, FoldingEvent, RecordedEvent, Snapshot,
};
use super::plan::{self, BatchPlan, BatchState, StreamHead};
use super::side_pool::sqlite_options;
use super::write_gate::WriteGate;
use super::writer::{advance, BatchBackend, BatchSource, CommitSink, Writer};
use super::{sql, EventLog, IdempotencyStore, RelayStore, SnapshotStore, StoreError};
use super::{IdempotencyRecord, ReplyKind};

/// SQLite-backed [`EventStore`](super::EventStore).
pub struct SqliteEventStore {
    pool: SqlitePool,
    gate: WriteGate,
    writer: Writer,
    head: Arc<watch::Sender<i64>>,
}

impl SqliteEventStore {
    /// Opens (creating if missing) the database file named by `url`.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = sqlite_options(url, sqlx::sqlite::SqliteSynchronous::Normal)?;
        let writes = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(2))
            .connect_with(options)
            .await?;
        let gate = WriteGate::for_pool(&pool);
        let head = Arc::new(watch::channel(0).0);
        let backend = SqliteBackend {
            pool: writes,
            gate: gate.clone(),
        };
        let writer = Writer::spawn(Arc::new(backend), Arc::clone(&head), 512);
        Ok(Self {
            pool,
            gate,
            writer,
            head,
        })
    }

    /// The read pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The gate every writer of this file in the process enters.
    pub fn write_gate(&self) -> &WriteGate {
        &self.gate
    }
}

struct SqliteBackend {
    pool: SqlitePool,
    gate: WriteGate,
}

#[async_trait]
impl BatchBackend for SqliteBackend {
    async fn write_batch(&self, source: &mut dyn BatchSource) -> Result<BatchPlan, StoreError> {
        let mut tx = self.gate.begin(&self.pool, "BEGIN IMMEDIATE").await?;
        let head: i64 = sqlx::query_scalar("SELECT position FROM cg_log_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        // Holding the write lock, take in every request that queued meanwhile.
        let requests = source.fill();
        let (streams, keys) = plan::touched(requests);
        let mut state = BatchState {
            head,
            ..BatchState::default()
        };
        for key in streams {
            if let Some(head) = read_stream_head(&mut tx, &key).await? {
                state.streams.insert(key, head);
            }
        }
        for key in keys {
            if let Some(record) = read_idempotency(&mut tx, &key).await? {
                state.idempotency.insert(key, record);
            }
        }
        let plan = plan::plan(requests, state);
        write_plan(&mut tx, &plan).await?;
        tx.commit().await?;
        Ok(plan)
    }
}

async fn read_stream_head(
    conn: &mut SqliteConnection,
    (aggregate_type, aggregate_id): &plan::StreamKey,
) -> Result<Option<StreamHead>, StoreError> {
    let row = sqlx::query(
        "SELECT sequence, hash FROM cg_events WHERE aggregate_type = $1 AND aggregate_id = $2 \
         ORDER BY sequence DESC LIMIT 1",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        let version: i64 = r.try_get(0)?;
        Ok(StreamHead {
            version: version as u64,
            last_hash: r.try_get(1)?,
        })
    })
    .transpose()
}

async fn read_idempotency(
    conn: &mut SqliteConnection,
    key: &str,
) -> Result<Option<IdempotencyRecord>, StoreError> {
    let row = sqlx::query(sql::READ_IDEMPOTENCY)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(idempotency_row).transpose()
}

fn idempotency_row(r: &SqliteRow) -> Result<IdempotencyRecord, StoreError> {
    let code: i64 = r.try_get(2)?;
    let body: String = r.try_get(3)?;
    Ok(IdempotencyRecord {
        key: r.try_get(0)?,
        fingerprint: r.try_get(1)?,
        kind: ReplyKind::from_stored_code(code)?,
        body: serde_json::from_str(&body)?,
        position: r.try_get(4)?,
    })
}

async fn write_plan(conn: &mut SqliteConnection, plan: &BatchPlan) -> Result<(), StoreError> {
    for e in &plan.events {
        sqlx::query(
            "INSERT INTO cg_events (position, id, aggregate_type, aggregate_id, sequence, \
             event_type, schema_version, recorded_at, data, metadata, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(e.position)
        .bind(e.id.to_string())
        .bind(&e.aggregate_type)
        .bind(&e.aggregate_id)
        .bind(e.sequence)
        .bind(&e.event_type)
        .bind(e.schema_version)
        .bind(format_time(e.recorded_at))
        .bind(e.data.to_string())
        .bind(serde_json::to_string(&e.metadata)?)
        .bind(&e.hash)
        .execute(&mut *conn)
        .await?;
    }
    for r in &plan.idempotency {
        sqlx::query(
            "INSERT INTO cg_idempotency (key, fingerprint, status, body, position) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&r.key)
        .bind(&r.fingerprint)
        .bind(r.kind.stored_code())
        .bind(r.body.to_string())
        .bind(r.position)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("UPDATE cg_log_head SET position = $1 WHERE id = 1")
        .bind(plan.new_head)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The events of a filtered read (`sql::read_all` or `sql::read_before`): `from` is `$1`,
/// the filter's values follow, the limit last.
async fn read_filtered(
    pool: &SqlitePool,
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

fn event_row(r: &SqliteRow) -> Result<RecordedEvent, StoreError> {
    let id: String = r.try_get(1)?;
    let recorded_at: String = r.try_get(7)?;
    let data: String = r.try_get(8)?;
    let metadata: String = r.try_get(9)?;
    Ok(RecordedEvent {
        position: r.try_get(0)?,
        id: id.parse().map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        aggregate_type: r.try_get(2)?,
        aggregate_id: r.try_get(3)?,
        sequence: r.try_get(4)?,
        event_type: r.try_get(5)?,
        schema_version: r.try_get(6)?,
        recorded_at: stored_time(&recorded_at)?,
        data: serde_json::from_str(&data)?,
        metadata: serde_json::from_str(&metadata)?,
        hash: r.try_get(10)?,
    })
}

/// A `recorded_at` as stored (RFC 3339 text).
fn stored_time(text: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// An event as [`EventStore::read_for_folding`] reads it (no id, metadata or hash).
fn folding_row(r: &SqliteRow) -> Result<FoldingEvent, StoreError> {
    let recorded_at: String = r.try_get(6)?;
    Ok(FoldingEvent {
        position: r.try_get(0)?,
        aggregate_type: r.try_get(1)?,
        aggregate_id: r.try_get(2)?,
        sequence: r.try_get(3)?,
        event_type: r.try_get(4)?,
        schema_version: r.try_get(5)?,
        recorded_at: stored_time(&recorded_at)?,
        data: r.try_get(7)?,
    })
}

#[async_trait]
impl EventLog for SqliteEventStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut migrator = sqlx::migrate!("./migrations/sqlite");
        migrator.set_ignore_missing(true);
        migrator.run(&self.pool).await?;
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
        let sql = sql::read_all(filter, sql::Dialect::Sqlite);
        read_filtered(&self.pool, &sql, after, limit, filter).await
    }

    async fn read_before(
        &self,
        before: i64,
        limit: i64,
        filter: &EventFilter,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = sql::read_before(filter, sql::Dialect::Sqlite);
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
            sqlx::query_scalar("SELECT position FROM cg_log_head WHERE id = 1")
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
            .bind(format_time(at))
            .fetch_one(&self.pool)
            .await?)
    }
}

#[async_trait]
impl SnapshotStore for SqliteEventStore {
    async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        let _turn = self.gate.enter().await;
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
impl IdempotencyStore for SqliteEventStore {
    async fn idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        read_idempotency(&mut conn, key).await
    }
}

#[async_trait]
impl RelayStore for SqliteEventStore {
    async fn relay_position(&self, relay: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(sql::RELAY_POSITION)
            .bind(relay)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn acknowledge(&self, relay: &str, position: i64) -> Result<(), StoreError> {
        let _turn = self.gate.enter().await;
        sqlx::query(sql::ACKNOWLEDGE)
            .bind(relay)
            .bind(position)
            .bind(format_time(Utc::now()))
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
        let now = Utc::now().timestamp_millis();
        let ttl = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let _turn = self.gate.enter().await;
        let held: Option<String> = sqlx::query_scalar(ACQUIRE_LEASE)
            .bind(name)
            .bind(holder)
            .bind(now.saturating_add(ttl))
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        Ok(held.is_some())
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        let _turn = self.gate.enter().await;
        sqlx::query(sql::RELEASE_LEASE)
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Takes or renews a lease (times in Unix milliseconds: `$3` expiry, `$4` now); returns a
/// row only when `$2` holds it.
const ACQUIRE_LEASE: &str = "INSERT INTO cg_leases (name, holder, expires_at, acquired_at) \
     VALUES ($1, $2, $3, $4) \
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
     expires_at = excluded.expires_at, acquired_at = CASE \
     WHEN cg_leases.holder = excluded.holder THEN cg_leases.acquired_at \
     ELSE excluded.acquired_at END \
     WHERE cg_leases.holder = excluded.holder OR cg_leases.expires_at < $4 \
     RETURNING holder";
