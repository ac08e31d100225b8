//! [`AutoscalingStore`] on PostgreSQL (statements from [`super::sql`]).

use async_trait::async_trait;
use sqlx::PgPool;

use super::sql::{self, Dialect, ListRow, NewestRow, WindowRow};
use super::{
    AutoscalingDecisionView, AutoscalingStore, AutoscalingStoreError, DecisionRecord,
    MetricAverage, Plan, Recorded, WindowRequest,
};
use crate::domain::ClusterId;

const DIALECT: Dialect = Dialect::Postgres;

/// The decision history in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgAutoscalingStore {
    pool: PgPool,
}

impl PgAutoscalingStore {
    /// The history in the database of `pool` (migrated with the event store's migrations).
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl AutoscalingStore for PgAutoscalingStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn metric_windows(
        &self,
        requests: &[WindowRequest],
    ) -> Result<Vec<MetricAverage>, AutoscalingStoreError> {
        if requests.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<WindowRow> = sqlx::query_as(&DIALECT.metric_windows())
            .bind(sql::windows(requests))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().filter_map(sql::average).collect())
    }

    async fn record(&self, records: &[DecisionRecord]) -> Result<Recorded, AutoscalingStoreError> {
        if records.is_empty() {
            return Ok(Recorded::default());
        }
        let mut tx = self.pool.begin().await?;
        let newest: Vec<NewestRow> = sqlx::query_as(&DIALECT.newest())
            .bind(sql::cluster_ids(sql::clusters_of(records)))
            .fetch_all(&mut *tx)
            .await?;
        let newest: Vec<_> = newest.into_iter().map(sql::newest).collect();
        let plan = Plan::of(records, &newest);
        let mut statements = 1;
        if !plan.bumps.is_empty() {
            sqlx::query(&DIALECT.bump())
                .bind(sql::bumps(&plan)?)
                .execute(&mut *tx)
                .await?;
            statements += 1;
        }
        if !plan.inserts.is_empty() {
            sqlx::query(&DIALECT.insert())
                .bind(sql::inserts(&plan)?)
                .execute(&mut *tx)
                .await?;
            sqlx::query(&DIALECT.prune())
                .bind(sql::cluster_ids(sql::inserted_clusters(&plan)))
                .bind(sql::keep())
                .execute(&mut *tx)
                .await?;
            statements += 2;
        }
        tx.commit().await?;
        Ok(Recorded {
            rows: plan.rows(records),
            statements,
        })
    }

    async fn list(
        &self,
        cluster: &ClusterId,
        limit: u32,
    ) -> Result<Vec<AutoscalingDecisionView>, AutoscalingStoreError> {
        let rows: Vec<ListRow> = sqlx::query_as(sql::LIST)
            .bind(cluster.as_str())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(sql::listed).collect()
    }
}
