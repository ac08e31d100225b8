//! The `deployment` aggregate: one rollout of an application version over a cluster's
//! droplets (rolling, canary or blue-green), with health gates and rollback.
//!
//! ```text
//! started -> step 0 -> [gate] -> step 1 -> [gate] -> ... -> succeeded
//!               |          |  (canary, no auto promote: waiting -> promoted -> rest)
//!               +----------+--> rollback_started -> rolled_back | failed
//! ```
//!
//! Each step and gate is a job; the job's end decides the next event (see
//! `commands::deployments`). The state says which job is current, so a late end of an
//! older job changes nothing. No step starts after a failed gate, and a rollback reverts
//! every droplet a step touched (blue-green: destroys the new set).

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::aggregate::{handle_with_decide, Classify, DomainErrorKind};
use super::values::{AppVersion, ClusterId, DeploymentId, DropletId, JobId};

mod decide;
mod events;
mod plan;
#[cfg(test)]
mod proptests;
mod state;
#[cfg(test)]
mod tests;

pub use events::*;
pub use plan::*;
pub use state::*;

/// One rollout, folded from its events.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// Set once started.
    pub id: Option<DeploymentId>,
    /// Its cluster.
    pub cluster_id: Option<ClusterId>,
    /// How.
    pub strategy: Option<Strategy>,
    /// The version deployed.
    pub version: Option<AppVersion>,
    /// The version a rollback returns to.
    pub previous_version: Option<AppVersion>,
    /// Canary share.
    pub target_percent: Option<u8>,
    /// Rolling batch size.
    pub batch_size: Option<u32>,
    /// Canary: whether the rest follows a passed gate by itself.
    #[serde(default)]
    pub auto_promote: bool,
    /// The gate after gated steps.
    pub health_gate: Option<HealthGate>,
    /// The steps (planned, then the rollback step if one started).
    #[serde(default)]
    pub steps: Vec<Step>,
    /// The gates judged.
    #[serde(default)]
    pub gates: Vec<GateVerdict>,
    /// The gate job running now: (step judged, job).
    pub gate_job: Option<(u32, JobId)>,
    /// What happened, in words.
    #[serde(default)]
    pub logs: Vec<LogEntry>,
    /// Where it stands.
    #[serde(default)]
    pub status: DeploymentStatus,
    /// A canary waits at its target for a promote.
    #[serde(default)]
    pub waiting_for_promotion: bool,
    /// Blue-green: traffic moved to the new set.
    #[serde(default)]
    pub switched: bool,
    /// Whether a rollback started (its step is the last one).
    #[serde(default)]
    pub rolling_back: bool,
    /// Why the rollback started.
    pub rollback_reason: Option<String>,
    /// When it started.
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed.
    pub updated_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Commands on a deployment.
#[derive(Debug, Clone, PartialEq)]
pub enum DeploymentCommand {
    /// Start: plan the steps over `droplets` and start the first with `job_id`.
    Start(Box<StartDeployment>),
    /// The job of the current step succeeded; `next_job` does what comes next.
    CompleteStep {
        /// The step's job.
        job_id: JobId,
        /// The job of the gate or next step, if one follows.
        next_job: JobId,
        /// When.
        at: DateTime<Utc>,
    },
    /// The gate job judged its step; `next_job` does what comes next (the next step, or
    /// the rollback after a failed gate).
    JudgeGate {
        /// The gate job.
        job_id: JobId,
        /// What it saw.
        verdict: GateVerdict,
        /// The job of what follows.
        next_job: JobId,
    },
    /// The current step or gate job failed for good (or was cancelled without a
    /// rollback): roll back with `rollback_job`.
    FailJob {
        /// The job.
        job_id: JobId,
        /// Why.
        reason: String,
        /// The rollback job.
        rollback_job: JobId,
        /// When.
        at: DateTime<Utc>,
    },
    /// A canary waiting at its target goes on with `job_id`.
    Promote {
        /// The job of the rest.
        job_id: JobId,
        /// When.
        at: DateTime<Utc>,
    },
    /// A caller asks for a rollback now.
    Rollback {
        /// The rollback job.
        job_id: JobId,
        /// When.
        at: DateTime<Utc>,
    },
    /// The rollback job ended: `Ok` when every droplet is back, else why not.
    EndRollback {
        /// The rollback job.
        job_id: JobId,
        /// How it ended.
        outcome: Result<(), String>,
        /// When.
        at: DateTime<Utc>,
    },
}

/// What starting a deployment needs (decided by the caller from the cluster).
#[derive(Debug, Clone, PartialEq)]
pub struct StartDeployment {
    /// The new deployment's id.
    pub deployment_id: DeploymentId,
    /// Its cluster.
    pub cluster_id: ClusterId,
    /// How.
    pub strategy: Strategy,
    /// The version.
    pub version: AppVersion,
    /// What the cluster runs now.
    pub previous_version: Option<AppVersion>,
    /// Canary share (1..=100).
    pub target_percent: u8,
    /// Rolling batch size (>= 1).
    pub batch_size: u32,
    /// Canary: go on after a passed gate by itself.
    pub auto_promote: bool,
    /// The gate.
    pub health_gate: HealthGate,
    /// The cluster's active droplets, sorted.
    pub droplets: Vec<DropletId>,
    /// Blue-green: the ids of the new droplets (one per droplet).
    pub green: Vec<DropletId>,
    /// The first step's job.
    pub job_id: JobId,
    /// When.
    pub at: DateTime<Utc>,
}

/// Why a deployment command was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeploymentError {
    /// Start on an existing deployment.
    #[error("deployment already exists")]
    AlreadyExists,
    /// The deployment does not exist.
    #[error("deployment not found")]
    NotFound,
    /// No droplet to deploy to.
    #[error("the cluster has no active droplets to deploy to")]
    NoDroplets,
    /// The deployment ended.
    #[error("the deployment already ended ({status})")]
    Finished {
        /// How it ended.
        status: DeploymentStatus,
    },
    /// A rollback runs already.
    #[error("the deployment is already rolling back")]
    RollingBack,
    /// Blue-green after the switch: the old set is going.
    #[error("traffic already moved to the new droplets; deploy the previous version instead")]
    Switched,
    /// Promote of a deployment that does not wait for one.
    #[error("only a canary waiting at its target can be promoted")]
    NotWaiting,
}

impl Classify for DeploymentError {
    fn kind(&self) -> DomainErrorKind {
        match self {
            Self::NotFound => DomainErrorKind::NotFound,
            Self::NoDroplets => DomainErrorKind::Unprocessable,
            Self::AlreadyExists
            | Self::Finished { .. }
            | Self::RollingBack
            | Self::Switched
            | Self::NotWaiting => DomainErrorKind::Conflict,
        }
    }
}

impl Aggregate for Deployment {
    const TYPE: &'static str = "deployment";
    type Command = DeploymentCommand;
    type Event = DeploymentEvent;
    type Error = DeploymentError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        handle_with_decide(self, command, sink).await
    }

    fn apply(&mut self, event: Self::Event) {
        self.apply_event(event);
    }
}
