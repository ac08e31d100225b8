//! [`MetricsStore`] on SQLite: a batch and its rollups in one `IMMEDIATE` transaction of
//! multi-row statements, reads as [`super::sql`] builds them, expiry in batches of rowids;
//! every write first enters the file's [`WriteGate`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;

use super::model::{
    MetricSample, MetricsError, MetricsStore, SeriesPoint, SeriesQuery, WindowSummary,
};
use super::reads::{
    Expired, KeyedBatch, SampleFilter, SamplePage, SamplePageRequest, SampleStart, SampleStore,
};
use super::rollup::{group, micros, MINUTE_MICROS};
use super::sql::{self, bind_args, SampleRow, SeriesRow, SummaryRow};
use crate::domain::ClusterId;
use crate::store::WriteGate;

/// Rows per multi-row statement (8 arguments a rollup row: well under SQLite's 32,766).
const ROWS_PER_STATEMENT: usize = 500;

/// Metric samples in SQLite.
#[derive(Debug, Clone)]
pub struct SqliteMetricsStore {
    pool: SqlitePool,
    gate: WriteGate,
}

impl SqliteMetricsStore {
    /// Samples in the database of `pool` (migrated with the event store's migrations).
    pub fn new(pool: SqlitePool) -> Self {
        let gate = WriteGate::for_pool(&pool);
        Self { pool, gate }
    }
}

/// `(…), (…)` of `rows` rows of `columns` placeholders each.
fn placeholders(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let row: Vec<String> = (1..=columns)
                .map(|c| format!("?{}", r * columns + c))
                .collect();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

async fn insert_raw(
    tx: &mut sqlx::SqliteConnection,
    samples: &[MetricSample],
) -> Result<(), sqlx::Error> {
    for chunk in samples.chunks(ROWS_PER_STATEMENT) {
        let statement = format!(
            "INSERT INTO cg_metric_samples (cluster_id, droplet_id, metric_type, value, ts) VALUES {}",
            placeholders(chunk.len(), 5)
        );
        let mut query = sqlx::query(&statement);
        for s in chunk {
            query = query
                .bind(s.cluster_id.as_str())
                .bind(s.droplet_id.as_ref().map(|d| d.as_str()))
                .bind(s.metric_type.as_str())
                .bind(s.value)
                .bind(micros(s.timestamp));
        }
        query.execute(&mut *tx).await?;
    }
    Ok(())
}

async fn upsert_rollups(
    tx: &mut sqlx::SqliteConnection,
    samples: &[MetricSample],
) -> Result<(), sqlx::Error> {
    let rows: Vec<_> = group(samples).into_iter().collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let statement = format!(
            "INSERT INTO cg_metric_rollups \
             (cluster_id, droplet_id, metric_type, minute, count, sum, min, max) VALUES {} \
             ON CONFLICT (cluster_id, metric_type, minute, droplet_id) DO UPDATE SET \
             count = count + excluded.count, sum = sum + excluded.sum, \
             min = MIN(min, excluded.min), max = MAX(max, excluded.max)",
            placeholders(chunk.len(), 8)
        );
        let mut query = sqlx::query(&statement);
        for (key, cell) in chunk {
            query = query
                .bind(key.cluster_id.as_str())
                .bind(key.droplet_id.as_str())
                .bind(key.metric_type.as_str())
                .bind(key.minute)
                .bind(cell.count)
                .bind(cell.sum)
                .bind(cell.min)
                .bind(cell.max);
        }
        query.execute(&mut *tx).await?;
    }
    Ok(())
}

#[async_trait]
impl MetricsStore for SqliteMetricsStore {
    async fn insert(&self, samples: &[MetricSample]) -> Result<u64, MetricsError> {
        if samples.is_empty() {
            return Ok(0);
        }
        let mut tx = self.gate.begin(&self.pool, "BEGIN IMMEDIATE").await?;
        insert_raw(&mut tx, samples).await?;
        upsert_rollups(&mut tx, samples).await?;
        tx.commit().await?;
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
impl SampleStore for SqliteMetricsStore {
    fn backend(&self) -> &'static str {
        "sqlite"
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
        let mut tx = self.gate.begin(&self.pool, "BEGIN IMMEDIATE").await?;
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
            insert_raw(&mut tx, samples).await?;
            upsert_rollups(&mut tx, samples).await?;
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
        {
            let _turn = self.gate.enter().await;
            sqlx::query("DELETE FROM cg_metric_batches WHERE created_at < $1")
                .bind(micros(samples_before))
                .execute(&self.pool)
                .await?;
        }
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

impl SqliteMetricsStore {
    /// Deletes the rows of `table` with `column < before`, `batch` at a time, each batch
    /// its own short write transaction.
    async fn delete_batches(
        &self,
        table: &'static str,
        column: &'static str,
        before: i64,
        batch: u32,
    ) -> Result<u64, MetricsError> {
        let statement = format!(
            "DELETE FROM {table} WHERE rowid IN \
             (SELECT rowid FROM {table} WHERE {column} < $1 LIMIT $2)"
        );
        let mut total = 0;
        loop {
            let _turn = self.gate.enter().await;
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
