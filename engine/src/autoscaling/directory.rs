//! What a round reads of the read models: the policies, the droplets and the running
//! scale jobs of the clusters it evaluates, each in one statement whatever the number of
//! clusters (the projections crate implements it over its tables).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::cluster::AutoscalingPolicy;
use crate::domain::ClusterId;
pub use crate::health::DirectoryError;
use crate::provider::BilledAs;

/// A cluster's policy as the read model has it.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyRow {
    pub cluster_id: ClusterId,
    pub policy: AutoscalingPolicy,
    /// The cluster's region.
    pub region: String,
    /// The cluster's preferred provider, if any.
    pub provider: Option<String>,
    /// When the last acting decision was made (`autoscaling.decided`).
    pub last_acting_at: Option<DateTime<Utc>>,
    /// Whether a deployment of the cluster is running (the round then decides `none`,
    /// `deployment_running`: a rollout and a scaling never work on the cluster at once).
    pub deployment_running: bool,
}

/// What a droplet counts as in a round.
#[derive(Debug, Clone, PartialEq)]
pub struct DropletRow {
    pub cluster_id: ClusterId,
    /// Being provisioned or destroyed (else live).
    pub pending: bool,
    /// What it is billed as (`None`: not billed).
    pub billed: Option<BilledAs>,
}

/// A cluster's droplets, counted and priced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterDroplets {
    pub live: u32,
    pub pending: u32,
    pub hourly_cost: f64,
}

/// The read models a round reads. `cluster`: `None` for every cluster with an enabled
/// policy, `Some` for that one cluster whatever its policy says (a manual evaluation).
#[async_trait]
pub trait AutoscalingDirectory: Send + Sync {
    /// The policies of live clusters, in one statement.
    async fn policies(&self, cluster: Option<&ClusterId>)
        -> Result<Vec<PolicyRow>, DirectoryError>;

    /// Whether any live cluster has a policy: a scheduled round runs (and takes its lease,
    /// a write) only then, so an autoscaler with nothing to evaluate writes nothing. By
    /// default from [`policies`](Self::policies); a directory over a database answers it
    /// with a read that stops at the first row.
    async fn any_policy(&self) -> Result<bool, DirectoryError> {
        Ok(!self.policies(None).await?.is_empty())
    }

    /// The droplets (neither destroyed nor failed) of the same clusters, in one statement.
    async fn droplets(
        &self,
        cluster: Option<&ClusterId>,
    ) -> Result<Vec<DropletRow>, DirectoryError>;

    /// The scale jobs that have not ended of the same clusters, `(cluster, job id)`, in
    /// one statement.
    async fn scale_jobs(
        &self,
        cluster: Option<&ClusterId>,
    ) -> Result<Vec<(ClusterId, String)>, DirectoryError>;
}
