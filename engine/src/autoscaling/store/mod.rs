//! The decision history and the metric windows of a round, on the event store's database
//! (PostgreSQL or SQLite, like [`crate::metrics`]).
//!
//! A round's decisions are written in a few statements whatever the number of clusters
//! (the rows go as one JSON parameter): the newest row of each cluster is read, those
//! whose outcome repeats (same decision and code, not acting) are bumped (`last_at`,
//! `evaluations`, `inputs`, `reason`), the others inserted, and the clusters that got a
//! new row are pruned to their newest [`KEEP`] rows. An acting decision always gets its
//! own row: each started its own job.
//!
//! - [`sql`]: the statements, in each backend's dialect.
//! - [`backends`]: the store on PostgreSQL and on SQLite, one implementation written once;
//!   [`connect_autoscaling`] opens one by URL.

pub mod backends;
pub mod sql;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

pub use backends::{PgAutoscalingStore, SqliteAutoscalingStore};

use crate::domain::autoscaler::{DecisionCode, DecisionInputs, ScaleDecision, Trigger};
use crate::domain::{ClusterId, MetricType};

/// Rows kept per cluster.
pub const KEEP: i64 = 100;

/// What can go wrong reading or writing the history.
#[derive(Debug, thiserror::Error)]
pub enum AutoscalingStoreError {
    /// The database refused or failed.
    #[error("autoscaling database error")]
    Database(#[from] sqlx::Error),
    /// A row or parameter could not be (de)serialised.
    #[error("autoscaling row could not be (de)serialised")]
    Serde(#[from] serde_json::Error),
}

/// One evaluation to record.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRecord {
    pub cluster_id: ClusterId,
    pub at: DateTime<Utc>,
    pub trigger: Trigger,
    pub decision: ScaleDecision,
    pub count: u32,
    pub code: DecisionCode,
    pub reason: String,
    pub inputs: DecisionInputs,
    /// The scale job an acting decision started.
    pub job_id: Option<String>,
    /// The position of its `autoscaling.decided` event.
    pub event_position: Option<i64>,
}

/// A row of the decision history (`GET /v1/clusters/{id}/autoscaling/decisions`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AutoscalingDecisionView {
    pub id: String,
    pub cluster_id: String,
    /// The first evaluation with this outcome.
    pub at: DateTime<Utc>,
    /// The latest one.
    pub last_at: DateTime<Utc>,
    /// Consecutive evaluations with this outcome (1 or more).
    pub evaluations: u64,
    pub trigger: Trigger,
    pub decision: ScaleDecision,
    /// Droplets to add or remove (0 for `none`).
    pub count: u32,
    pub code: DecisionCode,
    pub reason: String,
    pub inputs: DecisionInputs,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_position: Option<i64>,
}

/// One cluster's metric over the window its policy names.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowRequest {
    pub cluster_id: ClusterId,
    pub metric_type: MetricType,
    pub since: DateTime<Utc>,
}

/// The samples a [`WindowRequest`] found (clusters without any are left out).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricAverage {
    pub cluster_id: ClusterId,
    pub average: f64,
    pub samples: u64,
}

/// What recording a round wrote.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Recorded {
    /// The rows as they now are, in the order of the records.
    pub rows: Vec<AutoscalingDecisionView>,
    /// Statements run.
    pub statements: u64,
}

/// The decision history and metric windows.
#[async_trait]
pub trait AutoscalingStore: Send + Sync {
    /// Which backend this is (`postgres` or `sqlite`).
    fn backend(&self) -> &'static str;

    /// Each request's average and sample count, in one statement.
    async fn metric_windows(
        &self,
        requests: &[WindowRequest],
    ) -> Result<Vec<MetricAverage>, AutoscalingStoreError>;

    /// Records a round's evaluations (at most one per cluster) in a few statements.
    async fn record(&self, records: &[DecisionRecord]) -> Result<Recorded, AutoscalingStoreError>;

    /// A cluster's newest `limit` rows, newest first.
    async fn list(
        &self,
        cluster: &ClusterId,
        limit: u32,
    ) -> Result<Vec<AutoscalingDecisionView>, AutoscalingStoreError>;
}

/// The newest row of a cluster, as [`AutoscalingStore::record`] reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Newest {
    pub id: String,
    pub cluster_id: String,
    pub decision: String,
    pub code: String,
    pub at: DateTime<Utc>,
    pub evaluations: u64,
}

/// What a round writes: bumps of newest rows and new rows.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// `(row id, its first time, evaluations before, record)`.
    pub bumps: Vec<(String, DateTime<Utc>, u64, DecisionRecord)>,
    /// `(new row id, record)`.
    pub inserts: Vec<(String, DecisionRecord)>,
}

impl Plan {
    /// Bumps the newest row of a cluster whose outcome repeats (a decision to do
    /// nothing with the same code); inserts the others.
    pub fn of(records: &[DecisionRecord], newest: &[Newest]) -> Self {
        let mut plan = Self::default();
        for record in records {
            let repeat = newest.iter().find(|n| {
                n.cluster_id == record.cluster_id.as_str()
                    && !record.decision.acts()
                    && n.decision == record.decision.as_str()
                    && n.code == record.code.as_str()
            });
            match repeat {
                Some(n) => plan
                    .bumps
                    .push((n.id.clone(), n.at, n.evaluations, record.clone())),
                None => plan.inserts.push((new_id(), record.clone())),
            }
        }
        plan
    }

    /// The rows as they are once written, in the order of `records`.
    pub fn rows(&self, records: &[DecisionRecord]) -> Vec<AutoscalingDecisionView> {
        let mut rows = Vec::with_capacity(records.len());
        for record in records {
            let bumped = self.bumps.iter().find(|b| b.3 == *record);
            let row = match bumped {
                Some((id, at, evaluations, r)) => view(id, *at, evaluations + 1, r),
                None => match self.inserts.iter().find(|(_, r)| r == record) {
                    Some((id, r)) => view(id, r.at, 1, r),
                    None => continue,
                },
            };
            rows.push(row);
        }
        rows
    }
}

fn view(
    id: &str,
    at: DateTime<Utc>,
    evaluations: u64,
    r: &DecisionRecord,
) -> AutoscalingDecisionView {
    AutoscalingDecisionView {
        id: id.to_owned(),
        cluster_id: r.cluster_id.to_string(),
        at,
        last_at: r.at,
        evaluations,
        trigger: r.trigger,
        decision: r.decision,
        count: r.count,
        code: r.code,
        reason: r.reason.clone(),
        inputs: r.inputs.clone(),
        job_id: r.job_id.clone(),
        event_position: r.event_position,
    }
}

/// A new row id: `asd_` and a UUIDv7 (ordered by creation).
pub fn new_id() -> String {
    format!("asd_{}", uuid::Uuid::now_v7().simple())
}

/// The history in the database named by `url` (`postgres://…`, `postgresql://…` or
/// `sqlite:…`), the event store's: its table comes with the event store's migrations
/// ([`crate::store::EventLog::migrate`]), which must have run.
pub async fn connect_autoscaling(
    url: &str,
    max_connections: u32,
) -> Result<Arc<dyn AutoscalingStore>, AutoscalingStoreError> {
    use crate::store::side_pool::{open_side_pool, SidePool};
    use sqlx::sqlite::SqliteSynchronous;

    let what = "the autoscaling history";
    let pool = open_side_pool(url, max_connections, SqliteSynchronous::Full, what);
    Ok(match pool.await? {
        SidePool::Postgres(pool) => Arc::new(PgAutoscalingStore::new(pool)),
        SidePool::Sqlite(pool) => Arc::new(SqliteAutoscalingStore::new(pool)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn record(cluster: &ClusterId, code: DecisionCode, decision: ScaleDecision) -> DecisionRecord {
        DecisionRecord {
            cluster_id: cluster.clone(),
            at: Utc.timestamp_opt(1_800_000_000, 0).unwrap(),
            trigger: Trigger::Schedule,
            decision,
            count: u32::from(decision.acts()),
            code,
            reason: "why".into(),
            inputs: DecisionInputs::default(),
            job_id: None,
            event_position: None,
        }
    }

    #[test]
    fn a_repeated_outcome_bumps_and_anything_else_inserts() {
        // Given two clusters whose newest rows are none/within_band
        let (a, b, c) = (ClusterId::new(), ClusterId::new(), ClusterId::new());
        let newest = [&a, &b].map(|cluster| Newest {
            id: format!("asd_{cluster}"),
            cluster_id: cluster.to_string(),
            decision: "none".into(),
            code: "within_band".into(),
            at: Utc.timestamp_opt(1_799_999_000, 0).unwrap(),
            evaluations: 4,
        });
        // When a round finds a still within the band, b hot, and c (no row yet) quiet
        let records = vec![
            record(&a, DecisionCode::WithinBand, ScaleDecision::None),
            record(&b, DecisionCode::AboveThreshold, ScaleDecision::ScaleUp),
            record(&c, DecisionCode::WithinBand, ScaleDecision::None),
        ];
        let plan = Plan::of(&records, &newest);
        // Then a's row is bumped, b and c get new rows
        assert_eq!(plan.bumps.len(), 1);
        assert_eq!(plan.bumps[0].0, format!("asd_{a}"));
        assert_eq!(plan.inserts.len(), 2);
        let rows = plan.rows(&records);
        assert_eq!(rows[0].evaluations, 5);
        assert_eq!(rows[0].at, newest[0].at);
        assert_eq!(rows[0].last_at, records[0].at);
        assert_eq!(rows[1].evaluations, 1);
        assert!(rows[2].id.starts_with("asd_"));
    }

    #[test]
    fn acting_decisions_never_share_a_row() {
        let a = ClusterId::new();
        let newest = [Newest {
            id: "asd_x".into(),
            cluster_id: a.to_string(),
            decision: "scale_up".into(),
            code: "above_threshold".into(),
            at: Utc::now(),
            evaluations: 1,
        }];
        let records = [record(
            &a,
            DecisionCode::AboveThreshold,
            ScaleDecision::ScaleUp,
        )];
        assert_eq!(Plan::of(&records, &newest).inserts.len(), 1);
    }
}
