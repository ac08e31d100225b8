//! [`MetricsStore`] on PostgreSQL: a batch and its rollups in one statement (the samples
//! as arrays through `UNNEST`, the rollup upsert in the same statement), reads as
//! [`super::sql`] builds them, expiry in batches of `ctid`s.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::model::{
    MetricSample, MetricsError, MetricsStore, SeriesPoint, SeriesQuery, WindowSummary,
};
use super::reads::{
    Expired, KeyedBatch, SampleFilter, SamplePage, SamplePageRequest, SampleStart, SampleStore,
};
use super::rollup::{group, micros, MINUTE_MICROS};
use super::sql::{self, bind_args, SampleRow, SeriesRow, SummaryRow};
use crate::domain::ClusterId;

/// The samples and their rollups in one statement: one round trip per batch, atomic.
const INSERT: &str = "WITH raw AS (\
    INSERT INTO cg_metric_samples (cluster_id, droplet_id, metric_type, value, ts) \
    SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::float8[], $5::int8[])) \
    INSERT INTO cg_metric_rollups AS r \
    (cluster_id, droplet_id, metric_type, minute, count, sum, min, max) \
    SELECT * FROM UNNEST($6::text[], $7::text[], $8::text[], $9::int8[], $10::int8[], \
    $11::float8[], $12::float8[], $13::float8[]) \
    ON CONFLICT (cluster_id, metric_type, minute, droplet_id) DO UPDATE SET \
    count = r.count + EXCLUDED.count, sum = r.sum + EXCLUDED.sum, \
    min = LEAST(r.min, EXCLUDED.min), max = GREATEST(r.max, EXCLUDED.max)";

/// Metric samples in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgMetricsStore {
    pool: PgPool,
}

/// The one statement storing a batch and its rollups, on `conn`.
async fn insert_with(
    conn: &mut sqlx::PgConnection,
    samples: &[MetricSample],
) -> Result<(), sqlx::Error> {
    let raw = raw_columns(samples);
    let rollups = rollup_columns(samples);
    sqlx::query(INSERT)
        .bind(raw.clusters)
        .bind(raw.droplets)
        .bind(raw.types)
        .bind(raw.values)
        .bind(raw.ts)
        .bind(rollups.clusters)
        .bind(rollups.droplets)
        .bind(rollups.types)
        .bind(rollups.minutes)
        .bind(rollups.counts)
        .bind(rollups.sums)
        .bind(rollups.mins)
        .bind(rollups.maxs)
        .execute(conn)
        .await?;
    Ok(())
}

impl PgMetricsStore {
    /// Samples in the database of `pool` (migrated with the event store's migrations).
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The pool (the benchmark loads through it).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// The batch as the columns of [`INSERT`]'s first `UNNEST`.
#[derive(Default)]
struct RawColumns {
    clusters: Vec<String>,
    droplets: Vec<Option<String>>,
    types: Vec<String>,
    values: Vec<f64>,
    ts: Vec<i64>,
}

/// The batch's rollups as the columns of its second `UNNEST`.
#[derive(Default)]
struct RollupColumns {
    clusters: Vec<String>,
    droplets: Vec<String>,
    types: Vec<String>,
    minutes: Vec<i64>,
    counts: Vec<i64>,
    sums: Vec<f64>,
    mins: Vec<f64>,
    maxs: Vec<f64>,
}

fn raw_columns(samples: &[MetricSample]) -> RawColumns {
    let mut c = RawColumns::default();
    for s in samples {
        c.clusters.push(s.cluster_id.as_str().to_owned());
        c.droplets
            .push(s.droplet_id.as_ref().map(|d| d.as_str().to_owned()));
        c.types.push(s.metric_type.as_str().to_owned());
        c.values.push(s.value);
        c.ts.push(micros(s.timestamp));
    }
    c
}

fn rollup_columns(samples: &[MetricSample]) -> RollupColumns {
    let mut c = RollupColumns::default();
    for (key, cell) in group(samples) {
        c.clusters.push(key.cluster_id);
        c.droplets.push(key.droplet_id);
        c.types.push(key.metric_type.as_str().to_owned());
        c.minutes.push(key.minute);
        c.counts.push(cell.count);
        c.sums.push(cell.sum);
        c.mins.push(cell.min);
        c.maxs.push(cell.max);
    }
    c
}

#[async_trait]
impl MetricsStore for PgMetricsStore {
    async fn insert(&self, samples: &[MetricSample]) -> Result<u64, MetricsError> {
        if samples.is_empty() {
            return Ok(0);
        }
        let mut conn = self.pool.acquire().await?;
        insert_with(&mut conn, samples).await?;
        Ok(samples.len() as u64)
    }

    async fn window_summaries(
        &self,
        since: DateTime<Utc>,
        cluster: Option<&ClusterId>,
    ) -> Result<Vec<WindowSummary>, MetricsError> {
        let statement = sql::window_summaries(since, cluster);
        let rows: Vec<SummaryRow> = bind_args!(sqlx::query_as(&statement.sql), &statement.args)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(sql::summary)
            .collect::<Result<_, _>>()?)
    }

    async fn series(&self, query: &SeriesQuery) -> Result<Vec<SeriesPoint>, MetricsError> {
        let statement = sql::series(query);
        let rows: Vec<SeriesRow> = bind_args!(sqlx::query_as(&statement.sql), &statement.args)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(sql::point).collect())
    }
}

#[async_trait]
impl SampleStore for PgMetricsStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn list(
        &self,
        filter: &SampleFilter,
        page: &SamplePageRequest,
    ) -> Result<SamplePage, MetricsError> {
        let statement = sql::list(filter, page);
        let rows: Vec<SampleRow> = bind_args!(sqlx::query_as(&statement.sql), &statement.args)
            .fetch_all(&self.pool)
            .await?;
        let counted = match page.start {
            SampleStart::Page(_) => {
                let count = sql::count(filter, page.count_bound);
                let n: i64 = bind_args!(sqlx::query_scalar(&count.sql), &count.args)
                    .fetch_one(&self.pool)
                    .await?;
                Some(n)
            }
            SampleStart::After { .. } => None,
        };
        sql::page_of(rows, page, counted)
    }

    async fn insert_once(
        &self,
        samples: &[MetricSample],
        batch: &KeyedBatch,
    ) -> Result<Option<KeyedBatch>, MetricsError> {
        let mut tx = self.pool.begin().await?;
        // A concurrent claim of the same key waits here for the first one's commit.
        let claimed = sqlx::query(
            "INSERT INTO cg_metric_batches (key, fingerprint, reply, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING",
        )
        .bind(&batch.key)
        .bind(&batch.fingerprint)
        .bind(&batch.reply)
        .bind(micros(Utc::now()))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            let (fingerprint, reply): (String, String) =
                sqlx::query_as("SELECT fingerprint, reply FROM cg_metric_batches WHERE key = $1")
                    .bind(&batch.key)
                    .fetch_one(&mut *tx)
                    .await?;
            tx.rollback().await?;
            return Ok(Some(KeyedBatch {
                key: batch.key.clone(),
                fingerprint,
                reply,
            }));
        }
        if !samples.is_empty() {
            insert_with(&mut tx, samples).await?;
        }
        tx.commit().await?;
        Ok(None)
    }

    async fn expire(
        &self,
        samples_before: DateTime<Utc>,
        rollups_before: DateTime<Utc>,
        batch: u32,
    ) -> Result<Expired, MetricsError> {
        sqlx::query("DELETE FROM cg_metric_batches WHERE created_at < $1")
            .bind(micros(samples_before))
            .execute(&self.pool)
            .await?;
        let samples = self
            .delete_batches("cg_metric_samples", "ts", micros(samples_before), batch)
            .await?;
        let minute = super::rollup::bucket_start(micros(rollups_before), MINUTE_MICROS);
        let rollups = self
            .delete_batches("cg_metric_rollups", "minute", minute, batch)
            .await?;
        Ok(Expired { samples, rollups })
    }
}

impl PgMetricsStore {
    /// Deletes the rows of `table` with `column < before`, `batch` at a time (each
    /// batch found through the index on `column`, removed by `ctid`).
    async fn delete_batches(
        &self,
        table: &'static str,
        column: &'static str,
        before: i64,
        batch: u32,
    ) -> Result<u64, MetricsError> {
        let statement = format!(
            "DELETE FROM {table} WHERE ctid = ANY(ARRAY(\
             SELECT ctid FROM {table} WHERE {column} < $1 LIMIT $2))"
        );
        let mut total = 0;
        loop {
            let done = sqlx::query(&statement)
                .bind(before)
                .bind(i64::from(batch.max(1)))
                .execute(&self.pool)
                .await?
                .rows_affected();
            total += done;
            if done < u64::from(batch.max(1)) {
                return Ok(total);
            }
        }
    }
}
