//! What a diagnosis was made from: a compact, bounded summary of the cluster, its droplets,
//! its health, its metric trends, its failed jobs and its providers' faults. Recorded in
//! `diagnosis.completed` (with its digest) so that every diagnosis can be explained and
//! the rules engine's answer reproduced.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Droplets kept in the inputs at most (the rest are counted in `cluster.droplet_count`).
pub const MAX_DROPLETS: usize = 50;
/// Health issues kept at most.
pub const MAX_HEALTH_ISSUES: usize = 20;
/// Metric trends kept at most.
pub const MAX_TRENDS: usize = 8;
/// Failed jobs kept at most.
pub const MAX_FAILED_JOBS: usize = 10;
/// Provider faults kept at most.
pub const MAX_PROVIDER_FAULTS: usize = 10;
/// Characters kept of a free text (a message, an error).
pub const MAX_TEXT: usize = 200;

/// The inputs of one diagnosis.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DiagnosisInputs {
    /// The cluster.
    pub cluster: ClusterInput,
    /// Its live droplets (at most [`MAX_DROPLETS`]).
    pub droplets: Vec<DropletInput>,
    /// What the health check found.
    pub health_issues: Vec<HealthIssueInput>,
    /// Metric trends over the last hour, one per metric type with samples.
    pub metric_trends: Vec<MetricTrend>,
    /// The cluster's latest failed jobs.
    pub failed_jobs: Vec<FailedJobInput>,
    /// Providers with an injected outage or failure rate.
    pub provider_faults: Vec<ProviderFaultInput>,
}

/// The cluster in the inputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClusterInput {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its status (`healthy`, `warning`, `critical`).
    pub status: String,
    /// Its live droplets (all of them, even past [`MAX_DROPLETS`]).
    pub droplet_count: u32,
}

/// A droplet in the inputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropletInput {
    pub id: String,
    pub name: String,
    /// `provisioning`, `active`, `resizing`, `off`, `failed`.
    pub status: String,
    pub size: String,
    pub provider: Option<String>,
}

/// A health issue in the inputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HealthIssueInput {
    /// `metric` or `droplet`.
    pub kind: String,
    /// `warning` or `critical`.
    pub severity: String,
    pub metric_type: Option<String>,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    pub droplet_id: Option<String>,
    pub message: String,
}

/// One metric type's trend over the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MetricTrend {
    /// `cpu`, `memory`, `disk` or `network`.
    pub metric_type: String,
    pub avg: f64,
    pub max: f64,
    /// The latest value.
    pub last: f64,
    /// Least-squares slope, in the metric's unit per hour.
    pub slope_per_hour: f64,
}

/// A failed job in the inputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FailedJobInput {
    pub id: String,
    #[serde(rename = "type")]
    pub job_type: String,
    pub error: Option<String>,
}

/// A provider fault in the inputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProviderFaultInput {
    pub provider: String,
    /// The provider is down.
    pub outage: bool,
    /// Share of its operations that fail (0-1).
    pub failure_rate: f64,
}

impl DiagnosisInputs {
    /// The inputs cut to their bounds: at most so many of each list, texts shortened.
    pub fn bounded(mut self) -> Self {
        self.droplets.truncate(MAX_DROPLETS);
        self.health_issues.truncate(MAX_HEALTH_ISSUES);
        self.metric_trends.truncate(MAX_TRENDS);
        self.failed_jobs.truncate(MAX_FAILED_JOBS);
        self.provider_faults.truncate(MAX_PROVIDER_FAULTS);
        for issue in &mut self.health_issues {
            issue.message = shorten(&issue.message);
        }
        for job in &mut self.failed_jobs {
            job.error = job.error.as_deref().map(shorten);
        }
        self
    }
}

/// `text` cut to [`MAX_TEXT`] characters.
pub fn shorten(text: &str) -> String {
    text.chars().take(MAX_TEXT).collect()
}
