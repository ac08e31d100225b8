//! Auto-scaling: the pure [`evaluate`](evaluate::evaluate) of one cluster's policy, the
//! decision history ([`store`]), what a round reads of the read models
//! ([`directory`]), and the [`Autoscaler`] that runs rounds on a schedule (only in the
//! process holding the store lease `autoscaler`) or for one cluster on demand.
//!
//! A round reads in a fixed number of statements whatever the number of clusters (the
//! enabled policies, droplets, running scale jobs, metric windows and last acting
//! decisions), decides each cluster purely, runs a command only for the acting ones
//! (`autoscaling.decided` and the scale job, in one append) and writes the round's
//! history in a few statements. See docs/autoscaling.md.

pub mod directory;
pub mod evaluate;
pub mod runner;
pub mod store;

pub use directory::{AutoscalingDirectory, ClusterDroplets, PolicyRow};
pub use evaluate::{evaluate, Decision, Inputs, MetricWindow};
pub use runner::{Autoscaler, AutoscalerError, RoundLease, RoundReport, StoreLease, LEASE};
pub use store::{
    connect_autoscaling, AutoscalingDecisionView, AutoscalingStore, AutoscalingStoreError,
    DecisionRecord,
};
