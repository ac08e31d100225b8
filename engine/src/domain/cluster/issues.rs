//! What a health check found wrong with a cluster: the issues a `cluster.status_changed`
//! carries and `GET /v1/clusters/{id}/health` answers.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ClusterStatus;
use crate::domain::values::{DropletId, MetricType};

/// How bad an issue is; the worst issue sets the cluster's status.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The cluster is `warning` at worst.
    Warning,
    /// The cluster is `critical`.
    Critical,
}

impl Severity {
    /// The cluster status an issue of this severity sets.
    pub fn status(self) -> ClusterStatus {
        match self {
            Self::Warning => ClusterStatus::Warning,
            Self::Critical => ClusterStatus::Critical,
        }
    }
}

/// What kind of check found an issue.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    /// A metric crossed its threshold over the check's window.
    Metric,
    /// A droplet is in a bad state (provisioning failed).
    Droplet,
}

/// One issue a health check found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, utoipa::ToSchema)]
pub struct HealthIssue {
    /// What kind of check found it.
    pub kind: IssueKind,
    /// How bad it is.
    pub severity: Severity,
    /// The metric (metric issues).
    pub metric_type: Option<MetricType>,
    /// The value judged: the metric's average over the window (metric issues).
    pub value: Option<f64>,
    /// The threshold it crossed (metric issues).
    pub threshold: Option<f64>,
    /// The droplet (droplet issues).
    #[schema(value_type = Option<String>)]
    pub droplet_id: Option<DropletId>,
    /// A sentence for people, e.g. `memory 91.2% > 85% over 60 s`.
    pub message: String,
}

/// The status the worst of `issues` sets (`healthy` without issues).
pub fn worst_status(issues: &[HealthIssue]) -> ClusterStatus {
    issues
        .iter()
        .map(|issue| issue.severity)
        .max()
        .map_or(ClusterStatus::Healthy, Severity::status)
}

/// The `reason` of a status change: the issues' messages, or that every check passes.
pub fn status_reason(issues: &[HealthIssue]) -> String {
    if issues.is_empty() {
        return "all health checks pass".to_owned();
    }
    issues
        .iter()
        .map(|i| i.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}
