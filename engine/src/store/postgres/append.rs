//! Appending on PostgreSQL.
//!
//! Every batch is ordered by the row lock of `cg_log_head`, held until commit, so
//! positions are assigned and become visible strictly in order.
//!
//! Two paths:
//! - **fast**: one autocommitted statement (one round trip, like a plain insert). It is
//!   taken when this process's cache of stream heads is known exact: the log head still is
//!   what this process last committed (nobody else appended since), every stream the batch
//!   expects to exist is cached, and nothing conflicts. The statement's first step takes
//!   the head row lock *conditionally* (`WHERE position = <cached head>`); if another
//!   process moved the head, nothing is written and the slow path runs. A stream that is
//!   new to the cache but exists in the database makes the event insert violate the
//!   `(aggregate, sequence)` key: the statement fails whole and the slow path runs.
//! - **slow**: `BEGIN`; lock the head row (`FOR UPDATE`); take in every request queued
//!   meanwhile; read the stream heads and idempotency keys of the batch; plan; write; commit.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::store::model::{AppendOutcome, AppendRequest, IdempotencyRecord};
use crate::store::plan::{self, BatchPlan, BatchState, StreamHead, StreamKey};
use crate::store::writer::{BatchBackend, BatchSource};
use crate::store::StoreError;

/// Streams cached at most; beyond, the cache starts afresh.
const CACHE_LIMIT: usize = 100_000;

/// What this process knows of the log's state after its own last commit.
#[derive(Default)]
struct Cache {
    /// The head after this process's last commit (None: unknown).
    head: Option<i64>,
    streams: HashMap<StreamKey, StreamHead>,
}

/// The PostgreSQL half of the batching writer.
pub struct PgAppender {
    pool: PgPool,
    cache: Mutex<Cache>,
}

impl PgAppender {
    /// An appender over `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            cache: Mutex::default(),
        }
    }

    /// The fast path's plan, when it may be tried.
    fn fast_plan(&self, requests: &[AppendRequest]) -> Option<(BatchPlan, i64)> {
        if requests.iter().any(|r| r.idempotency.is_some()) {
            return None;
        }
        let cache = self.cache.lock().ok()?;
        let head = cache.head?;
        let mut streams = HashMap::new();
        for write in requests.iter().flat_map(|r| &r.writes) {
            let key = (write.aggregate_type.clone(), write.aggregate_id.clone());
            match cache.streams.get(&key) {
                Some(known) => {
                    streams.insert(key, known.clone());
                }
                None if write.expected_version == 0 => {}
                None => return None,
            }
        }
        drop(cache);
        let plan = plan::plan(
            requests,
            BatchState {
                head,
                streams,
                idempotency: HashMap::new(),
            },
        );
        let all_committed = plan
            .outcomes
            .iter()
            .all(|o| matches!(o, Ok(AppendOutcome::Committed(_))));
        all_committed.then_some((plan, head))
    }

    fn remember(&self, plan: &BatchPlan, read: HashMap<StreamKey, StreamHead>) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.streams.len() > CACHE_LIMIT {
                cache.streams.clear();
            }
            cache.streams.extend(read);
            for (key, head) in &plan.streams {
                cache.streams.insert(key.clone(), head.clone());
            }
            cache.head = Some(plan.new_head);
        }
    }

    fn forget(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.head = None;
        }
    }

    async fn slow(&self, source: &mut dyn BatchSource) -> Result<BatchPlan, StoreError> {
        let mut tx = self.pool.begin().await?;
        let head: i64 =
            sqlx::query_scalar("SELECT position FROM cg_log_head WHERE id = 1 FOR UPDATE")
                .fetch_one(&mut *tx)
                .await?;
        // Holding the lock, take in every request that queued meanwhile.
        let requests = source.fill();
        let (streams, keys) = plan::touched(requests);
        let read = read_streams(&mut tx, &streams).await?;
        let state = BatchState {
            head,
            streams: read.clone(),
            idempotency: read_idempotency(&mut tx, &keys).await?,
        };
        let plan = plan::plan(requests, state);
        if plan.new_head > head || !plan.idempotency.is_empty() {
            write_plan(&mut tx, &plan, head).await?;
        }
        tx.commit().await?;
        self.remember(&plan, read);
        Ok(plan)
    }
}

#[async_trait]
impl BatchBackend for PgAppender {
    async fn write_batch(&self, source: &mut dyn BatchSource) -> Result<BatchPlan, StoreError> {
        if let Some((plan, head)) = self.fast_plan(source.fill()) {
            let mut conn = self.pool.acquire().await?;
            match write_plan(&mut conn, &plan, head).await {
                Ok(true) => {
                    self.remember(&plan, HashMap::new());
                    return Ok(plan);
                }
                Ok(false) => self.forget(),
                Err(StoreError::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                    self.forget();
                }
                Err(error) => {
                    self.forget();
                    return Err(error);
                }
            }
        }
        self.slow(source).await
    }
}

async fn read_streams(
    tx: &mut sqlx::PgConnection,
    streams: &[StreamKey],
) -> Result<HashMap<StreamKey, StreamHead>, StoreError> {
    let (types, ids): (Vec<&str>, Vec<&str>) = streams
        .iter()
        .map(|(t, i)| (t.as_str(), i.as_str()))
        .unzip();
    // Each stream's last event, through the (aggregate_type, aggregate_id, sequence) key.
    let rows = sqlx::query(
        "SELECT k.t, k.i, e.sequence, e.hash FROM UNNEST($1::text[], $2::text[]) AS k(t, i) \
         CROSS JOIN LATERAL (SELECT sequence, hash FROM cg_events \
           WHERE aggregate_type = k.t AND aggregate_id = k.i ORDER BY sequence DESC LIMIT 1) e",
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

/// Decodes an idempotency row (key, fingerprint, status, body, position).
pub fn idempotency_row(r: &PgRow) -> Result<IdempotencyRecord, StoreError> {
    let status: i32 = r.try_get(2)?;
    Ok(IdempotencyRecord {
        key: r.try_get(0)?,
        fingerprint: r.try_get(1)?,
        status: u16::try_from(status).unwrap_or(200),
        body: r.try_get(3)?,
        position: r.try_get(4)?,
    })
}

/// Writes events, outbox rows, idempotency records and the new log head in
/// one statement, provided the head still is `expected_head` (its row lock is the
/// statement's first step; every insert depends on it). Notifies listeners on commit.
/// Returns false when the head had moved (nothing written).
async fn write_plan(
    conn: &mut sqlx::PgConnection,
    plan: &BatchPlan,
    expected_head: i64,
) -> Result<bool, StoreError> {
    let ev = &plan.events;
    let metadata: Vec<serde_json::Value> = ev
        .iter()
        .map(|e| serde_json::to_value(&e.metadata))
        .collect::<Result<_, _>>()?;
    let idem = &plan.idempotency;
    let row = sqlx::query(
        "WITH lock AS (
            UPDATE cg_log_head SET position = $17 WHERE id = 1 AND position = $18 RETURNING position
         ), e AS (
            INSERT INTO cg_events (position, id, aggregate_type, aggregate_id, sequence, event_type,
                                   schema_version, recorded_at, data, metadata, hash)
            SELECT * FROM UNNEST($1::int8[], $2::uuid[], $3::text[], $4::text[], $5::int8[],
                                 $6::text[], $7::int4[], $8::timestamptz[], $9::jsonb[],
                                 $10::jsonb[], $11::text[])
            WHERE EXISTS (SELECT 1 FROM lock)
         ), o AS (
            INSERT INTO cg_outbox (position)
            SELECT * FROM UNNEST($1::int8[]) WHERE EXISTS (SELECT 1 FROM lock)
         ), i AS (
            INSERT INTO cg_idempotency (key, fingerprint, status, body, position)
            SELECT * FROM UNNEST($12::text[], $13::text[], $14::int4[], $15::jsonb[], $16::int8[])
            WHERE EXISTS (SELECT 1 FROM lock)
         )
         SELECT position, pg_notify('clustergenie_events', position::text) FROM lock",
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
    .bind(expected_head)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.is_some())
}
