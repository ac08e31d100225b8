//! The events of the `job` aggregate and their payloads.
//!
//! Serialised as `{"type": "job.<name>", "data": {...}}`; see
//! [`crate::domain::aggregate::event_parts`].

use cqrs_es::DomainEvent;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::JobType;
use crate::domain::values::{ClusterId, DropletId, JobId};

/// Payload of `job.created`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JobCreated {
    /// The job id.
    pub id: JobId,
    /// What it does.
    pub job_type: JobType,
    /// The cluster it works on.
    pub cluster_id: ClusterId,
    /// The droplet it works on (`null` when none).
    pub droplet_id: Option<DropletId>,
    /// Type-specific parameters.
    pub parameters: Value,
    /// The trace it belongs to.
    pub trace_id: String,
    /// Most attempts allowed.
    pub max_attempts: u32,
}

/// Payload of `job.queued` (empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JobQueued {}

/// Payload of `job.started`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JobStarted {
    /// The attempt, from 1.
    pub attempt: u32,
    /// The worker running it.
    pub worker: String,
}

/// Payload of `job.progressed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JobProgressed {
    /// Percent, 0..=100.
    pub progress: u8,
    /// What it is doing.
    pub message: Option<String>,
}

/// Payload of `job.heartbeat`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JobHeartbeat {
    /// The attempt that is alive.
    pub attempt: u32,
}

/// Payload of `job.retry_scheduled`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JobRetryScheduled {
    /// The attempt that failed.
    pub attempt: u32,
    /// Its error.
    pub error: String,
    /// Backoff before the next attempt.
    pub delay_ms: u64,
}

/// Payload of `job.succeeded`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JobSucceeded {
    /// The result.
    pub result: Value,
}

/// Payload of `job.failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JobFailed {
    /// Why.
    pub error: String,
}

/// Payload of `job.timed_out`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JobTimedOut {
    /// The attempt that timed out.
    pub attempt: u32,
}

/// Payload of `job.cancel_requested`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JobCancelRequested {
    /// Why.
    pub reason: Option<String>,
}

/// Payload of `job.cancelled` (empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JobCancelled {}

/// Events of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", content = "data")]
pub enum JobEvent {
    /// `job.created`
    #[serde(rename = "job.created")]
    Created(JobCreated),
    /// `job.queued`
    #[serde(rename = "job.queued")]
    Queued(JobQueued),
    /// `job.started`
    #[serde(rename = "job.started")]
    Started(JobStarted),
    /// `job.progressed`
    #[serde(rename = "job.progressed")]
    Progressed(JobProgressed),
    /// `job.heartbeat`
    #[serde(rename = "job.heartbeat")]
    Heartbeat(JobHeartbeat),
    /// `job.retry_scheduled`
    #[serde(rename = "job.retry_scheduled")]
    RetryScheduled(JobRetryScheduled),
    /// `job.succeeded`
    #[serde(rename = "job.succeeded")]
    Succeeded(JobSucceeded),
    /// `job.failed`
    #[serde(rename = "job.failed")]
    Failed(JobFailed),
    /// `job.timed_out`
    #[serde(rename = "job.timed_out")]
    TimedOut(JobTimedOut),
    /// `job.cancel_requested`
    #[serde(rename = "job.cancel_requested")]
    CancelRequested(JobCancelRequested),
    /// `job.cancelled`
    #[serde(rename = "job.cancelled")]
    Cancelled(JobCancelled),
}

impl JobEvent {
    /// Every event type string of this aggregate.
    pub const TYPES: [&'static str; 11] = [
        "job.created",
        "job.queued",
        "job.started",
        "job.progressed",
        "job.heartbeat",
        "job.retry_scheduled",
        "job.succeeded",
        "job.failed",
        "job.timed_out",
        "job.cancel_requested",
        "job.cancelled",
    ];

    /// The event type string, e.g. `job.created`.
    pub fn type_str(&self) -> &'static str {
        let index = match self {
            Self::Created(_) => 0,
            Self::Queued(_) => 1,
            Self::Started(_) => 2,
            Self::Progressed(_) => 3,
            Self::Heartbeat(_) => 4,
            Self::RetryScheduled(_) => 5,
            Self::Succeeded(_) => 6,
            Self::Failed(_) => 7,
            Self::TimedOut(_) => 8,
            Self::CancelRequested(_) => 9,
            Self::Cancelled(_) => 10,
        };
        Self::TYPES[index]
    }
}

impl DomainEvent for JobEvent {
    fn event_type(&self) -> String {
        self.type_str().to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
