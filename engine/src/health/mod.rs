//! Synthetic health checks: recent metric samples and droplet states become a cluster's
//! status. [`evaluate`] judges one cluster (pure); the [`HealthChecker`] runs it on a
//! schedule over the clusters that have samples or need another look, and records
//! `cluster.status_changed` only when the status changes.

pub mod checker;
pub mod evaluate;

pub use checker::{ClusterDirectory, ClusterHealth, DirectoryError, HealthChecker, HealthError};
pub use evaluate::{evaluate, DropletState, Thresholds};
