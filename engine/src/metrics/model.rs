//! The metric types, samples, summaries and the [`MetricsStore`] trait.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::domain::MetricType;
use crate::domain::{ClusterId, DropletId};

/// One stored sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSample {
    pub cluster_id: ClusterId,
    /// `None` for a cluster-wide sample.
    pub droplet_id: Option<DropletId>,
    pub metric_type: MetricType,
    pub value: f64,
    pub timestamp: DateTime<Utc>,
}

/// One metric type's samples of one cluster (all its droplets and cluster-wide samples)
/// over a window: what health checks and diagnosis judge.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowSummary {
    pub cluster_id: ClusterId,
    pub metric_type: MetricType,
    pub count: u64,
    pub avg: f64,
    pub min: f64,
    pub max: f64,
    /// The value of the newest sample.
    pub last: f64,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
}

/// One point of a series: the samples in `[t, t + step)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesPoint {
    pub t: DateTime<Utc>,
    pub avg: f64,
    pub min: f64,
    pub max: f64,
    pub count: u64,
}

/// What a series covers.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesQuery {
    pub cluster_id: Option<ClusterId>,
    pub droplet_id: Option<DropletId>,
    pub metric_type: MetricType,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Seconds per point (at least 1).
    pub step_seconds: u32,
}

/// What can go wrong storing or reading samples.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The database refused or failed.
    #[error("metrics database error")]
    Database(#[from] sqlx::Error),
}

/// The metrics table (PostgreSQL or SQLite).
#[async_trait]
pub trait MetricsStore: Send + Sync {
    /// Stores samples (already validated); returns how many were stored.
    async fn insert(&self, samples: &[MetricSample]) -> Result<u64, MetricsError>;

    /// Per cluster and metric type, the samples with `timestamp >= since` (only clusters
    /// that have some; one cluster when `cluster` is given). Costs what the window holds,
    /// never what the table holds.
    async fn window_summaries(
        &self,
        since: DateTime<Utc>,
        cluster: Option<&ClusterId>,
    ) -> Result<Vec<WindowSummary>, MetricsError>;

    /// A series for charts and trends, oldest point first (empty buckets left out).
    async fn series(&self, query: &SeriesQuery) -> Result<Vec<SeriesPoint>, MetricsError>;
}
