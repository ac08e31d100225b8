//! The PostgreSQL event store.
//!
//! Appends go through the batching [`Writer`]; each batch runs in one transaction that
//! first takes the row lock of `cg_log_head` and keeps it until commit. Positions are
//! therefore assigned and made visible strictly one batch after another: a reader never
//! sees position N while an event below N is still uncommitted. Other processes learn
//! of new events through `LISTEN clustergenie_events`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgListener, PgPoolOptions, PgRow};
use sqlx::{PgPool, Row};
use tokio::sync::watch;
use uuid::Uuid;

use super::model::{AppendOutcome, AppendRequest, EventFilter, IdempotencyRecord, RecordedEvent};
use super::plan::{self, BatchPlan, BatchState, StreamHead};
use super::writer::{advance, BatchBackend, Writer};
use super::{EventStore, StoreError};

const CHANNEL: &str = "clustergenie_events";
const COLUMNS: &str = "position, id, aggregate_type, aggregate_id, sequence, event_type, \
                       schema_version, recorded_at, data, metadata, hash";

/// PostgreSQL-backed [`EventStore`].
pub struct PgEventStore {
    pool: PgPool,
    writer: Writer,
    head: Arc<watch::Sender<i64>>,
}

impl PgEventStore {
    /// Connects (without migrating) and starts the writer and the LISTEN task.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(Self::from_pool(pool))
    }

    /// Wraps an existing pool (tests use the pools `#[sqlx::test]` hands them).
    pub fn from_pool(pool: PgPool) -> Self {
        let head = Arc::new(watch::channel(0).0);
        let backend = Arc::new(PgBackend { pool: pool.clone() });
        let writer = Writer::spawn(backend, Arc::clone(&head), 512);
        tokio::spawn(listen(pool.clone(), Arc::clone(&head)));
        Self { pool, writer, head }
    }

    /// The underlying pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

struct PgBackend {
    pool: PgPool,
}

#[async_trait]
impl BatchBackend for PgBackend {
    async fn write_batch(&self, requests: &[AppendRequest]) -> Result<BatchPlan, StoreError> {
        let mut tx = self.pool.begin().await?;
        let head: i64 =
            sqlx::query_scalar("SELECT position FROM cg_log_head WHERE id = 1 FOR UPDATE")
                .fetch_one(&mut *tx)
                .await?;
        let (streams, keys) = plan::touched(requests);
        let state = BatchState {
            head,
            streams: read_streams(&mut tx, &streams).await?,
            idempotency: read_idempotency(&mut tx, &keys).await?,
        };
        let plan = plan::plan(requests, state);
        if plan.new_head > head || !plan.idempotency.is_empty() {
            write_plan(&mut tx, &plan).await?;
        }
        tx.commit().await?;
        Ok(plan)
    }
}

async fn read_streams(
    tx: &mut sqlx::PgConnection,
    streams: &[plan::StreamKey],
) -> Result<HashMap<plan::StreamKey, StreamHead>, StoreError> {
    let (types, ids): (Vec<&str>, Vec<&str>) = streams
        .iter()
        .map(|(t, i)| (t.as_str(), i.as_str()))
        .unzip();
    let rows = sqlx::query(
        "SELECT s.aggregate_type, s.aggregate_id, s.version, s.last_hash FROM cg_streams s \
         JOIN UNNEST($1::text[], $2::text[]) AS k(t, i) \
           ON s.aggregate_type = k.t AND s.aggregate_id = k.i",
    )
    .bind(&types)
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?;
    rows.into_iter()
        .map(|r| {
            let key = (r.try_get(0)?, r.try_get(1)?);
            let version: i64 = r.try_get(2)?;
            Ok((
                key,
                StreamHead {
                    version: version as u64,
                    last_hash: r.try_get(3)?,
                },
            ))
        })
        .collect()
}

async fn read_idempotency(
    tx: &mut sqlx::PgConnection,
    keys: &[String],
) -> Result<HashMap<String, IdempotencyRecord>, StoreError> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query(
        "SELECT key, fingerprint, status, body, position FROM cg_idempotency WHERE key = ANY($1)",
    )
    .bind(keys)
    .fetch_all(&mut *tx)
    .await?;
    rows.iter()
        .map(|r| idempotency_row(r).map(|rec| (rec.key.clone(), rec)))
        .collect()
}

fn idempotency_row(r: &PgRow) -> Result<IdempotencyRecord, StoreError> {
    let status: i32 = r.try_get(2)?;
    Ok(IdempotencyRecord {
        key: r.try_get(0)?,
        fingerprint: r.try_get(1)?,
        status: u16::try_from(status).unwrap_or(200),
        body: r.try_get(3)?,
        position: r.try_get(4)?,
    })
}

/// Writes events, outbox rows, stream heads, idempotency records and the new log head in
/// one statement (data-modifying CTEs), then notifies listeners on commit.
async fn write_plan(tx: &mut sqlx::PgConnection, plan: &BatchPlan) -> Result<(), StoreError> {
    let ev = &plan.events;
    let metadata: Vec<serde_json::Value> = ev
        .iter()
        .map(|e| serde_json::to_value(&e.metadata))
        .collect::<Result<_, _>>()?;
    let (stream_types, stream_ids): (Vec<&str>, Vec<&str>) = plan
        .streams
        .iter()
        .map(|((t, i), _)| (t.as_str(), i.as_str()))
        .unzip();
    let idem = &plan.idempotency;
    sqlx::query(
        "WITH e AS (
            INSERT INTO cg_events (position, id, aggregate_type, aggregate_id, sequence, event_type,
                                   schema_version, recorded_at, data, metadata, hash)
            SELECT * FROM UNNEST($1::int8[], $2::uuid[], $3::text[], $4::text[], $5::int8[],
                                 $6::text[], $7::int4[], $8::timestamptz[], $9::jsonb[],
                                 $10::jsonb[], $11::text[])
         ), o AS (
            INSERT INTO cg_outbox (position) SELECT * FROM UNNEST($1::int8[])
         ), s AS (
            INSERT INTO cg_streams (aggregate_type, aggregate_id, version, last_hash)
            SELECT * FROM UNNEST($12::text[], $13::text[], $14::int8[], $15::text[])
            ON CONFLICT (aggregate_type, aggregate_id)
            DO UPDATE SET version = EXCLUDED.version, last_hash = EXCLUDED.last_hash
         ), i AS (
            INSERT INTO cg_idempotency (key, fingerprint, status, body, position)
            SELECT * FROM UNNEST($16::text[], $17::text[], $18::int4[], $19::jsonb[], $20::int8[])
         )
         UPDATE cg_log_head SET position = $21 WHERE id = 1
         RETURNING pg_notify('clustergenie_events', $21::text)",
    )
    .bind(ev.iter().map(|e| e.position).collect::<Vec<_>>())
    .bind(ev.iter().map(|e| e.id).collect::<Vec<Uuid>>())
    .bind(
        ev.iter()
            .map(|e| e.aggregate_type.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        ev.iter()
            .map(|e| e.aggregate_id.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(ev.iter().map(|e| e.sequence).collect::<Vec<_>>())
    .bind(ev.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>())
    .bind(ev.iter().map(|e| e.schema_version).collect::<Vec<_>>())
    .bind(
        ev.iter()
            .map(|e| e.recorded_at)
            .collect::<Vec<DateTime<Utc>>>(),
    )
    .bind(ev.iter().map(|e| e.data.clone()).collect::<Vec<_>>())
    .bind(metadata)
    .bind(ev.iter().map(|e| e.hash.as_str()).collect::<Vec<_>>())
    .bind(stream_types)
    .bind(stream_ids)
    .bind(
        plan.streams
            .iter()
            .map(|(_, h)| h.version as i64)
            .collect::<Vec<_>>(),
    )
    .bind(
        plan.streams
            .iter()
            .map(|(_, h)| h.last_hash.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(idem.iter().map(|r| r.key.as_str()).collect::<Vec<_>>())
    .bind(
        idem.iter()
            .map(|r| r.fingerprint.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(idem.iter().map(|r| i32::from(r.status)).collect::<Vec<_>>())
    .bind(idem.iter().map(|r| r.body.clone()).collect::<Vec<_>>())
    .bind(idem.iter().map(|r| r.position).collect::<Vec<_>>())
    .bind(plan.new_head)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

fn event_row(r: &PgRow) -> Result<RecordedEvent, StoreError> {
    let metadata: serde_json::Value = r.try_get(9)?;
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
        metadata: serde_json::from_value(metadata)?,
        hash: r.try_get(10)?,
    })
}

/// Follows commits of other processes; reconnects with a pause when the connection drops.
async fn listen(pool: PgPool, head: Arc<watch::Sender<i64>>) {
    loop {
        let result = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
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
impl EventStore for PgEventStore {
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
        let sql = format!(
            "SELECT {COLUMNS} FROM cg_events WHERE position > $1 \
             AND ($2::text IS NULL OR aggregate_type = $2) \
             AND ($3::text IS NULL OR aggregate_id = $3) \
             AND ($4::text IS NULL OR event_type = $4) \
             ORDER BY position LIMIT $5"
        );
        let rows = sqlx::query(&sql)
            .bind(after)
            .bind(filter.aggregate_type.as_deref())
            .bind(filter.aggregate_id.as_deref())
            .bind(filter.event_type.as_deref())
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(event_row).collect()
    }

    async fn read_stream(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        up_to_position: Option<i64>,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM cg_events WHERE aggregate_type = $1 AND aggregate_id = $2 \
             AND position <= $3 ORDER BY sequence"
        );
        let rows = sqlx::query(&sql)
            .bind(aggregate_type)
            .bind(aggregate_id)
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

    async fn idempotency(&self, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT key, fingerprint, status, body, position FROM cg_idempotency WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(idempotency_row).transpose()
    }

    fn watch_head(&self) -> watch::Receiver<i64> {
        self.head.subscribe()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn position_at(&self, at: DateTime<Utc>) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COALESCE(MAX(position), 0) FROM cg_events WHERE recorded_at <= $1",
        )
        .bind(at)
        .fetch_one(&self.pool)
        .await?)
    }
}
