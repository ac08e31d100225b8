//! Appending on PostgreSQL.
//!
//! Positions are gap-free and become visible strictly in order because a batch is only
//! ever written at `head + 1 ..` by a writer that has *seen* `head` committed, and the
//! primary key on `cg_events.position` turns every other attempt into a unique violation:
//! a writer whose idea of the head is stale collides with the event already at (or being
//! written at) that position, waits for it, and fails whole.
//!
//! Two paths:
//! - **fast**: one autocommitted `INSERT` (one round trip, like a plain insert). It is taken
//!   when this process's cache of stream heads is known exact: the log head still is what
//!   this process last committed, every stream the batch expects to exist is cached, and
//!   nothing conflicts. If another process appended meanwhile, the insert collides on a
//!   position (or on a stream's `(aggregate, sequence)` key), nothing is written, and the
//!   slow path runs.
//! - **slow**: `BEGIN`; take the log's advisory lock (so writers that must read the head
//!   queue instead of colliding); read the head (`MAX(position)`, committed events only);
//!   take in every request queued meanwhile; read the stream heads and idempotency keys of
//!   the batch; plan; write; commit.
//!
//! Every insert also *tries* the advisory lock, once, in the same statement, and writes
//! nothing when another transaction holds it. So a fast insert never lands between a slow
//! writer's read of the head and its write: it yields and queues on the slow path instead.
//! Without that, a process appending steadily on its fast path could keep taking the
//! position a slow writer had just read, and starve it until it gave up. (A collision
//! left, with a writer of an older version, rolls back and starts again, bounded.)

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use tokio::sync::watch;
use uuid::Uuid;

use crate::store::model::{AppendOutcome, AppendRequest, RecordedEvent};
use crate::store::plan::{self, BatchPlan, BatchState, StreamHead, StreamKey};
use crate::store::writer::{advance, BatchBackend, BatchSource};
use crate::store::StoreError;
use crate::store::{IdempotencyRecord, ReplyKind};

/// Streams cached at most; beyond, the cache starts afresh.
const CACHE_LIMIT: usize = 100_000;

/// The key of the advisory lock that queues writers reading the head ("cg-log").
pub const LOG_LOCK: i64 = 0x6367_2d6c_6f67;

/// Slow-path attempts before a batch gives up on colliding writers.
const SLOW_ATTEMPTS: usize = 16;

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
    /// The head after this process's last commit, for the notifier (see
    /// [`super::store::notify`]).
    committed: watch::Sender<i64>,
}

impl PgAppender {
    /// An appender over `pool`; `committed` hears the head after each of its commits.
    pub fn new(pool: PgPool, committed: watch::Sender<i64>) -> Self {
        Self {
            pool,
            cache: Mutex::default(),
            committed,
        }
    }

    /// The fast path's plan, when it may be tried.
    fn fast_plan(&self, requests: &[AppendRequest]) -> Option<BatchPlan> {
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
        all_committed.then_some(plan)
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
        advance(&self.committed, plan.new_head);
    }

    fn forget(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.head = None;
        }
    }

    async fn slow(&self, source: &mut dyn BatchSource) -> Result<BatchPlan, StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.slow_once(source).await {
                Err(error) if attempt < SLOW_ATTEMPTS && is_collision(&error) => {
                    tracing::debug!(attempt, "append collided with another writer; again");
                }
                result => return result,
            }
        }
    }

    async fn slow_once(&self, source: &mut dyn BatchSource) -> Result<BatchPlan, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LOG_LOCK)
            .execute(&mut *tx)
            .await?;
        // A new statement, so a new snapshot: every event committed before the lock was ours.
        let head: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM cg_events")
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
            // Holding the lock, the try in the insert takes it again (it is re-entrant).
            match write_plan(&mut tx, &plan).await {
                Ok(Written::Yes) => {}
                Ok(Written::Yielded) => {
                    self.forget();
                    return Err(StoreError::Database(sqlx::Error::Protocol(
                        "the log's advisory lock was lost inside its transaction".into(),
                    )));
                }
                Err(error) => {
                    self.forget();
                    return Err(error);
                }
            }
        }
        tx.commit().await?;
        self.remember(&plan, read);
        Ok(plan)
    }
}

/// Whether an append failed because another writer took a position or sequence first.
fn is_collision(error: &StoreError) -> bool {
    matches!(error, StoreError::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
}

#[async_trait]
impl BatchBackend for PgAppender {
    async fn write_batch(&self, source: &mut dyn BatchSource) -> Result<BatchPlan, StoreError> {
        if let Some(plan) = self.fast_plan(source.fill()) {
            let mut conn = self.pool.acquire().await?;
            match write_plan(&mut conn, &plan).await {
                Ok(Written::Yes) => {
                    self.remember(&plan, HashMap::new());
                    return Ok(plan);
                }
                // A slow writer holds the log: it is about to move the head on.
                Ok(Written::Yielded) => self.forget(),
                Err(error) if is_collision(&error) => self.forget(),
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
    let code: i32 = r.try_get(2)?;
    Ok(IdempotencyRecord {
        key: r.try_get(0)?,
        fingerprint: r.try_get(1)?,
        kind: ReplyKind::from_stored_code(code.into())?,
        body: r.try_get(3)?,
        position: r.try_get(4)?,
    })
}

/// Whether an insert wrote its batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Written {
    Yes,
    /// Nothing: another transaction holds the log's advisory lock.
    Yielded,
}

impl Written {
    fn from_lock(taken: bool) -> Self {
        if taken {
            Self::Yes
        } else {
            Self::Yielded
        }
    }
}

/// Writes a batch's events and idempotency records in one statement, which first tries
/// the log's advisory lock once and writes nothing if another transaction holds it. A
/// position or sequence another writer took first is a unique violation: nothing is
/// written.
async fn write_plan(
    conn: &mut sqlx::PgConnection,
    plan: &BatchPlan,
) -> Result<Written, StoreError> {
    if let ([event], []) = (plan.events.as_slice(), plan.idempotency.as_slice()) {
        return write_one(conn, event).await;
    }
    let ev = &plan.events;
    let metadata: Vec<serde_json::Value> = ev
        .iter()
        .map(|e| serde_json::to_value(&e.metadata))
        .collect::<Result<_, _>>()?;
    let idem = &plan.idempotency;
    let taken: bool = sqlx::query_scalar(
        "WITH l AS MATERIALIZED (SELECT pg_try_advisory_xact_lock($17) AS taken),
         e AS (
            INSERT INTO cg_events (position, id, aggregate_type, aggregate_id, sequence, event_type,
                                   schema_version, recorded_at, data, metadata, hash)
            SELECT u.* FROM UNNEST($1::int8[], $2::uuid[], $3::text[], $4::text[], $5::int8[],
                                   $6::text[], $7::int4[], $8::timestamptz[], $9::jsonb[],
                                   $10::jsonb[], $11::text[]) AS u, l
            WHERE l.taken
         ),
         i AS (
            INSERT INTO cg_idempotency (key, fingerprint, status, body, position)
            SELECT u.* FROM UNNEST($12::text[], $13::text[], $14::int4[], $15::jsonb[],
                                   $16::int8[]) AS u, l
            WHERE l.taken
         )
         SELECT taken FROM l",
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
    .bind(
        idem.iter()
            .map(|r| r.kind.stored_code())
            .collect::<Vec<_>>(),
    )
    .bind(idem.iter().map(|r| r.body.clone()).collect::<Vec<_>>())
    .bind(idem.iter().map(|r| r.position).collect::<Vec<_>>())
    .bind(LOG_LOCK)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Written::from_lock(taken))
}

/// [`write_plan`] for the most common batch, one event and no idempotency record: a
/// single-row insert, which PostgreSQL plans and runs faster than the array form.
async fn write_one(
    conn: &mut sqlx::PgConnection,
    e: &RecordedEvent,
) -> Result<Written, StoreError> {
    let done = sqlx::query(
        "WITH l AS MATERIALIZED (SELECT pg_try_advisory_xact_lock($12) AS taken)
         INSERT INTO cg_events (position, id, aggregate_type, aggregate_id, sequence, event_type,
                                schema_version, recorded_at, data, metadata, hash)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 FROM l WHERE l.taken",
    )
    .bind(e.position)
    .bind(e.id)
    .bind(&e.aggregate_type)
    .bind(&e.aggregate_id)
    .bind(e.sequence)
    .bind(&e.event_type)
    .bind(e.schema_version)
    .bind(e.recorded_at)
    .bind(&e.data)
    .bind(serde_json::to_value(&e.metadata)?)
    .bind(&e.hash)
    .bind(LOG_LOCK)
    .execute(&mut *conn)
    .await?;
    Ok(Written::from_lock(done.rows_affected() == 1))
}
