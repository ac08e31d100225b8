//! [`AutoscalingStore`] on PostgreSQL and on SQLite: one implementation, written once and
//! instantiated per backend by [`backend_store!`] (the statements come from [`super::sql`],
//! which knows each dialect; the backends differ only in their pool, their dialect and the
//! statement a writing transaction begins with; on SQLite it begins in the file's
//! [`WriteGate`]).

use async_trait::async_trait;
use sqlx::{PgPool, SqlitePool};

use super::sql::{self, Dialect, ListRow, NewestRow, WindowRow};
use super::{
    AutoscalingDecisionView, AutoscalingStore, AutoscalingStoreError, DecisionRecord,
    MetricAverage, Plan, Recorded, WindowRequest,
};
use crate::domain::ClusterId;
use crate::store::WriteGate;

macro_rules! backend_store {
    ($name:ident, $pool:ty, $gate:path, $dialect:expr, $backend:literal, $what:literal, $begin:literal) => {
        #[doc = concat!("The decision history in ", $what, ".")]
        #[derive(Debug, Clone)]
        pub struct $name {
            pool: $pool,
            gate: WriteGate,
        }

        impl $name {
            /// The history in the database of `pool` (migrated with the event store's migrations).
            pub fn new(pool: $pool) -> Self {
                let gate = $gate(&pool);
                Self { pool, gate }
            }
        }

        #[async_trait]
        impl AutoscalingStore for $name {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn metric_windows(
                &self,
                requests: &[WindowRequest],
            ) -> Result<Vec<MetricAverage>, AutoscalingStoreError> {
                if requests.is_empty() {
                    return Ok(Vec::new());
                }
                let rows: Vec<WindowRow> = sqlx::query_as(&$dialect.metric_windows())
                    .bind(sql::windows(requests))
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().filter_map(sql::average).collect())
            }

            async fn record(
                &self,
                records: &[DecisionRecord],
            ) -> Result<Recorded, AutoscalingStoreError> {
                if records.is_empty() {
                    return Ok(Recorded::default());
                }
                let mut tx = self.gate.begin(&self.pool, $begin).await?;
                let newest: Vec<NewestRow> = sqlx::query_as(&$dialect.newest())
                    .bind(sql::cluster_ids(sql::clusters_of(records)))
                    .fetch_all(&mut *tx)
                    .await?;
                let newest: Vec<_> = newest.into_iter().map(sql::newest).collect();
                let plan = Plan::of(records, &newest);
                let mut statements = 1;
                if !plan.bumps.is_empty() {
                    sqlx::query(&$dialect.bump())
                        .bind(sql::bumps(&plan)?)
                        .execute(&mut *tx)
                        .await?;
                    statements += 1;
                }
                if !plan.inserts.is_empty() {
                    sqlx::query(&$dialect.insert())
                        .bind(sql::inserts(&plan)?)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(&$dialect.prune())
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
    };
}

backend_store!(
    PgAutoscalingStore,
    PgPool,
    no_gate,
    Dialect::Postgres,
    "postgres",
    "PostgreSQL",
    "BEGIN"
);
// SQLite: the transaction takes the write lock at once (it reads, then writes).
backend_store!(
    SqliteAutoscalingStore,
    SqlitePool,
    WriteGate::for_pool,
    Dialect::Sqlite,
    "sqlite",
    "SQLite",
    "BEGIN IMMEDIATE"
);

/// PostgreSQL queues its writers itself.
fn no_gate(_: &PgPool) -> WriteGate {
    WriteGate::none()
}
