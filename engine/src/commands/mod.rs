//! The command side: contexts, the command service with its retry loop, one file of
//! commands per resource (clusters, droplets, jobs, diagnoses, deployments, providers,
//! rate-limit rules), what a job's end records on its droplet or deployment ([`job_ends`]), and the [`Folds`] of aggregates the
//! commands per resource (clusters, droplets, jobs, diagnoses, auto-scaling, providers,
//! rate-limit rules), what a
//! job's end records on its droplet ([`job_ends`]), and the [`Folds`] of aggregates the
//! service loaded lately. Commands fold through [`crate::fold`] and take job policies from
//! [`crate::policies`]; the job runtime ([`crate::executor`]) builds on this module, never
//! the other way round.

pub mod autoscaling;
pub mod clusters;
pub mod context;
pub mod deployment_jobs;
pub mod deployments;
pub mod diagnoses;
pub mod droplets;
pub mod error;
pub mod folds;
pub mod job_ends;
pub mod jobs;
pub mod providers;
pub mod ratelimits;
pub mod service;

pub use crate::store::ReplyKind;
pub use autoscaling::{
    DecisionRecorded, PolicyChanged, RecordAutoscalingDecision, RemoveAutoscalingPolicy,
    SetAutoscalingPolicy,
};
pub use clusters::{CreateCluster, DeleteCluster, RecordClusterHealth, UpdateCluster};
pub use context::{CommandContext, Idempotency};
pub use deployment_jobs::SetDropletVersion;
pub use deployments::{
    CreateDeployment, DeploymentAccepted, DeploymentInput, HealthGateInput, PromoteDeployment,
    RollbackDeployment,
};
pub use diagnoses::{completed_event_id, Diagnose, ImplementRecommendation};
pub use droplets::{
    ActOnDroplet, CreateDroplet, DropletAction, DropletCreated, DropletInput, JobAccepted,
};
pub use error::{CommandError, CommandErrorKind, Fields};
pub use folds::Folds;
pub use jobs::{CancelJob, CreateJob};
pub use providers::{ProviderInput, RegisterProvider};
pub use ratelimits::{DeleteRateLimitRule, RuleInput, SetRateLimitRule};
pub use service::{stream_write, Command, CommandService, Decision, Reply};
