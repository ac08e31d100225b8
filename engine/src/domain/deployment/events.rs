//! The events of the `deployment` aggregate and their payloads. Each carries the moment it
//! was decided (`at`), so the folded state holds the timeline its view shows.
//!
//! Serialised as `{"type": "deployment.<name>", "data": {...}}`; see
//! [`crate::domain::aggregate::event_parts`].

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

use super::{HealthGate, PlannedStep, Strategy};
use crate::domain::values::{AppVersion, ClusterId, DeploymentId, DropletId, JobId, MetricType};

/// An RFC 3339 timestamp.
fn timestamp(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "format": "date-time" })
}

/// Payload of `deployment.started`: what is deployed, how, and the planned steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeploymentStarted {
    /// The deployment.
    pub deployment_id: DeploymentId,
    /// Its cluster.
    pub cluster_id: ClusterId,
    /// How.
    pub strategy: Strategy,
    /// The version deployed.
    pub version: AppVersion,
    /// The version a rollback returns to (`null`: none).
    pub previous_version: Option<AppVersion>,
    /// Canary: the share of droplets in the canary step.
    pub target_percent: Option<u8>,
    /// Rolling: droplets per batch.
    pub batch_size: Option<u32>,
    /// Canary: whether the rest follows a passed gate without a promote.
    pub auto_promote: bool,
    /// The gate after each gated step.
    pub health_gate: HealthGate,
    /// The planned steps, in order (their index is their position).
    pub steps: Vec<PlannedStep>,
    /// When.
    #[schemars(schema_with = "timestamp")]
    pub at: DateTime<Utc>,
}

/// Payload of `deployment.step_started`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeploymentStepStarted {
    /// The step.
    pub index: u32,
    /// The job doing it (`null` for a step recorded without one: the switch).
    pub job_id: Option<JobId>,
    /// When.
    #[schemars(schema_with = "timestamp")]
    pub at: DateTime<Utc>,
}

/// Payload of `deployment.step_completed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeploymentStepCompleted {
    /// The step.
    pub index: u32,
    /// When.
    #[schemars(schema_with = "timestamp")]
    pub at: DateTime<Utc>,
}

/// Payload of `deployment.step_failed`: the step's job failed for good.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeploymentStepFailed {
    /// The step.
    pub index: u32,
    /// Why.
    pub reason: String,
    /// When.
    #[schemars(schema_with = "timestamp")]
    pub at: DateTime<Utc>,
}

/// Payload of `deployment.gate_started`: the gate job after a step waits its window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeploymentGateStarted {
    /// The step it judges.
    pub after_step: u32,
    /// The gate job.
    pub job_id: JobId,
    /// When.
    #[schemars(schema_with = "timestamp")]
    pub at: DateTime<Utc>,
}

/// Payload of `deployment.gate_passed` and `deployment.gate_failed`: what the gate saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GateVerdict {
    /// The step it judged.
    pub after_step: u32,
    /// Whether it passed.
    pub passed: bool,
    /// Why, in words.
    pub reason: String,
    /// The metric judged.
    pub metric: MetricType,
    /// The highest average that passes.
    pub max: f64,
    /// The metric's average over the window on the step's droplets (`null`: no samples).
    pub observed: Option<f64>,
    /// The step's droplets found unhealthy (not active, or above `max`).
    pub unhealthy_droplets: Vec<DropletId>,
    /// The window averaged, in seconds.
    pub window_seconds: u32,
    /// When.
    #[schemars(schema_with = "timestamp")]
    pub at: DateTime<Utc>,
}

/// Payload of `deployment.promoted`: the canary waiting at its target goes on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeploymentPromoted {
    /// When.
    #[schemars(schema_with = "timestamp")]
    pub at: DateTime<Utc>,
}

/// Payload of `deployment.rollback_started`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeploymentRollbackStarted {
    /// Why.
    pub reason: String,
    /// Whether a caller asked for it (else a failed step or gate).
    pub manual: bool,
    /// The rollback job.
    pub job_id: JobId,
    /// The droplets it reverts (blue-green: the new set it destroys).
    pub droplet_ids: Vec<DropletId>,
    /// The step or gate job it stops, if one was running.
    pub cancels: Option<JobId>,
    /// When.
    #[schemars(schema_with = "timestamp")]
    pub at: DateTime<Utc>,
}

/// Payload of `deployment.rolled_back`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeploymentRolledBack {
    /// Why the rollback happened.
    pub reason: String,
    /// When.
    #[schemars(schema_with = "timestamp")]
    pub at: DateTime<Utc>,
}

/// Payload of `deployment.succeeded`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeploymentSucceeded {
    /// When.
    #[schemars(schema_with = "timestamp")]
    pub at: DateTime<Utc>,
}

/// Payload of `deployment.failed`: it could neither finish nor roll back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeploymentFailed {
    /// Why.
    pub reason: String,
    /// When.
    #[schemars(schema_with = "timestamp")]
    pub at: DateTime<Utc>,
}

/// Events of a deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", content = "data")]
pub enum DeploymentEvent {
    /// `deployment.started`
    #[serde(rename = "deployment.started")]
    Started(Box<DeploymentStarted>),
    /// `deployment.step_started`
    #[serde(rename = "deployment.step_started")]
    StepStarted(DeploymentStepStarted),
    /// `deployment.step_completed`
    #[serde(rename = "deployment.step_completed")]
    StepCompleted(DeploymentStepCompleted),
    /// `deployment.step_failed`
    #[serde(rename = "deployment.step_failed")]
    StepFailed(DeploymentStepFailed),
    /// `deployment.gate_started`
    #[serde(rename = "deployment.gate_started")]
    GateStarted(DeploymentGateStarted),
    /// `deployment.gate_passed`
    #[serde(rename = "deployment.gate_passed")]
    GatePassed(GateVerdict),
    /// `deployment.gate_failed`
    #[serde(rename = "deployment.gate_failed")]
    GateFailed(GateVerdict),
    /// `deployment.promoted`
    #[serde(rename = "deployment.promoted")]
    Promoted(DeploymentPromoted),
    /// `deployment.rollback_started`
    #[serde(rename = "deployment.rollback_started")]
    RollbackStarted(DeploymentRollbackStarted),
    /// `deployment.rolled_back`
    #[serde(rename = "deployment.rolled_back")]
    RolledBack(DeploymentRolledBack),
    /// `deployment.succeeded`
    #[serde(rename = "deployment.succeeded")]
    Succeeded(DeploymentSucceeded),
    /// `deployment.failed`
    #[serde(rename = "deployment.failed")]
    Failed(DeploymentFailed),
}

impl DeploymentEvent {
    /// Every event type string of this aggregate.
    pub const TYPES: [&'static str; 12] = [
        "deployment.started",
        "deployment.step_started",
        "deployment.step_completed",
        "deployment.step_failed",
        "deployment.gate_started",
        "deployment.gate_passed",
        "deployment.gate_failed",
        "deployment.promoted",
        "deployment.rollback_started",
        "deployment.rolled_back",
        "deployment.succeeded",
        "deployment.failed",
    ];

    /// The event type string, e.g. `deployment.started`.
    pub fn type_str(&self) -> &'static str {
        let index = match self {
            Self::Started(_) => 0,
            Self::StepStarted(_) => 1,
            Self::StepCompleted(_) => 2,
            Self::StepFailed(_) => 3,
            Self::GateStarted(_) => 4,
            Self::GatePassed(_) => 5,
            Self::GateFailed(_) => 6,
            Self::Promoted(_) => 7,
            Self::RollbackStarted(_) => 8,
            Self::RolledBack(_) => 9,
            Self::Succeeded(_) => 10,
            Self::Failed(_) => 11,
        };
        Self::TYPES[index]
    }
}

impl DomainEvent for DeploymentEvent {
    fn event_type(&self) -> String {
        self.type_str().to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
