//! The command side: contexts, the command service with its retry loop, and one file of
//! commands per resource (clusters, droplets, jobs, providers), and the [`Folds`] of
//! aggregates the service loaded lately.

pub mod clusters;
pub mod context;
pub mod droplets;
pub mod error;
pub mod folds;
pub mod jobs;
pub mod loaded;
pub mod providers;
pub mod ratelimits;
pub mod service;

pub use clusters::{CreateCluster, DeleteCluster, UpdateCluster};
pub use context::{CommandContext, Idempotency};
pub use droplets::{
    ActOnDroplet, CreateDroplet, DropletAction, DropletCreated, DropletInput, JobStarted,
};
pub use error::{CommandError, CommandErrorKind, Fields};
pub use folds::Folds;
pub use jobs::{CancelJob, CreateJob};
pub use loaded::{load, load_with, FirstSeen, Loaded};
pub use providers::{ProviderInput, RegisterProvider};
pub use ratelimits::{DeleteRateLimitRule, RuleInput, SetRateLimitRule};
pub use service::{now, stream_write, Command, CommandService, Decision, Reply};
