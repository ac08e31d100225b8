//! The `cluster` aggregate: a named group of droplets in a region, with a health status.
//!
//! The cluster keeps the set of its live (not destroyed) droplets so that it can refuse to
//! be deleted while it still has any. Droplets are attached and detached by the command
//! service when a droplet is requested and destroyed; attaching twice or detaching a
//! droplet that is not attached changes nothing.

use std::fmt;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::aggregate::{handle_with_decide, Classify, Decide, DomainErrorKind};
use super::provider_config::ProviderOffer;
use super::values::{ClusterId, ClusterName, DropletId, ProviderName, Region, ValidationError};

mod autoscaling;
mod deployments;
mod droplet_set;
mod events;
mod issues;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use autoscaling::{AutoscalingPolicy, Day, PolicyInput, PolicyType, ScaleWindow, WindowInput};
pub use deployments::*;
pub use droplet_set::DropletSet;
pub use events::*;
pub use issues::{status_reason, worst_status, HealthIssue, IssueKind, Severity};

/// A cluster's health status, derived from health checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClusterStatus {
    /// All checks pass.
    #[default]
    Healthy,
    /// A warning threshold is crossed.
    Warning,
    /// A critical threshold is crossed.
    Critical,
}

impl ClusterStatus {
    /// All statuses.
    pub const ALL: [Self; 3] = [Self::Healthy, Self::Warning, Self::Critical];

    /// The wire name (`healthy`, `warning`, `critical`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }

    /// Parses a wire name.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| {
                ValidationError::new("status", "must be one of: healthy, warning, critical")
            })
    }
}

impl fmt::Display for ClusterStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of one cluster, folded from its events.
/// Stored (rows, snapshots) without its unset fields: a field missing reads as unset.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// Set once created.
    pub id: Option<ClusterId>,
    /// Current name.
    pub name: Option<ClusterName>,
    /// Current region.
    pub region: Option<Region>,
    /// Preferred provider, if one was chosen.
    pub provider: Option<ProviderName>,
    /// Health status.
    pub status: ClusterStatus,
    /// Live droplets attached to the cluster (only their number in a fold kept for
    /// reading: [`DropletSet`]).
    pub droplets: DropletSet,
    /// Whether the cluster was deleted (its stream ends there).
    pub deleted: bool,
    /// Its running deployment, deployed version and deployments.
    #[serde(default, skip_serializing_if = "ClusterDeployments::is_empty")]
    pub deployments: ClusterDeployments,
    /// The auto-scaling policy, if one is set.
    pub autoscaling: Option<AutoscalingPolicy>,
}

impl crate::fold::ReadForm for Cluster {
    /// A read model needs how many droplets a cluster has, not which.
    fn to_read_form(&mut self) {
        self.droplets = self.droplets.counted();
    }
}

impl Cluster {
    /// Whether the cluster was ever created (deleted or not).
    pub fn exists(&self) -> bool {
        self.id.is_some()
    }

    /// Whether the cluster exists and is not deleted.
    pub fn is_live(&self) -> bool {
        self.exists() && !self.deleted
    }

    fn ensure_live(&self) -> Result<(), ClusterError> {
        if !self.exists() {
            Err(ClusterError::NotFound)
        } else if self.deleted {
            Err(ClusterError::Deleted)
        } else {
            Ok(())
        }
    }
}

/// Commands on a cluster.
#[derive(Debug, Clone, PartialEq)]
pub enum ClusterCommand {
    /// Create the cluster.
    CreateCluster {
        /// The new cluster's id.
        id: ClusterId,
        /// Its name.
        name: ClusterName,
        /// Its region.
        region: Region,
        /// Its preferred provider, as resolved from the registry; must offer `region`.
        provider: Option<ProviderOffer>,
    },
    /// Rename the cluster.
    RenameCluster {
        /// The new name.
        name: ClusterName,
    },
    /// Move the cluster to another region.
    MoveCluster {
        /// The new region; the cluster's provider (if any) must offer it.
        region: Region,
        /// The cluster's provider as the registry has it now (`None` when the cluster has
        /// none). An offer of another provider than the cluster's counts as offering no
        /// region.
        provider: Option<ProviderOffer>,
    },
    /// Record a new health status.
    ChangeClusterStatus {
        /// The new status.
        status: ClusterStatus,
        /// Why (e.g. which check crossed which threshold).
        reason: String,
        /// The issues the check found (empty when it turns healthy).
        issues: Vec<HealthIssue>,
    },
    /// Attach a live droplet.
    AttachDroplet {
        /// The droplet.
        droplet_id: DropletId,
    },
    /// Detach a droplet (it was destroyed).
    DetachDroplet {
        /// The droplet.
        droplet_id: DropletId,
    },
    /// Delete the cluster; refused while droplets are attached.
    DeleteCluster,
    /// Start or finish a deployment.
    Deployment(ClusterDeploymentCommand),
    /// Set (create or replace) the auto-scaling policy.
    SetAutoscalingPolicy(Box<AutoscalingPolicy>),
    /// Remove the auto-scaling policy; refused when there is none.
    RemoveAutoscalingPolicy,
}

/// Why a cluster command was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusterError {
    /// Create on an existing (possibly deleted) cluster.
    #[error("cluster already exists")]
    AlreadyExists,
    /// The cluster does not exist.
    #[error("cluster not found")]
    NotFound,
    /// The cluster was deleted.
    #[error("cluster has been deleted")]
    Deleted,
    /// Delete while droplets are attached.
    #[error("cluster still has {count} live droplet(s); destroy them first")]
    HasLiveDroplets {
        /// How many droplets are attached.
        count: usize,
    },
    /// The cluster's provider does not offer the region.
    #[error("provider {provider} does not offer region {region}")]
    ProviderLacksRegion {
        /// The provider.
        provider: ProviderName,
        /// The region.
        region: Region,
    },
    /// A deployment starts while another runs.
    #[error("deployment {deployment_id} of this cluster is still running")]
    DeploymentRunning {
        /// The running deployment.
        deployment_id: crate::domain::values::DeploymentId,
    },
    /// Remove while no auto-scaling policy is set.
    #[error("the cluster has no auto-scaling policy")]
    NoAutoscalingPolicy,
}

impl Classify for ClusterError {
    fn kind(&self) -> DomainErrorKind {
        match self {
            Self::NotFound | Self::NoAutoscalingPolicy => DomainErrorKind::NotFound,
            Self::AlreadyExists
            | Self::Deleted
            | Self::HasLiveDroplets { .. }
            | Self::DeploymentRunning { .. } => DomainErrorKind::Conflict,
            Self::ProviderLacksRegion { .. } => DomainErrorKind::Unprocessable,
        }
    }
}

/// Checks that `offer` (the resolved `provider`, if any) offers `region`.
fn check_provider(
    provider: Option<&ProviderName>,
    offer: Option<&ProviderOffer>,
    region: &Region,
) -> Result<(), ClusterError> {
    match (provider, offer) {
        (None, _) => Ok(()),
        (Some(provider), Some(offer)) if offer.name == *provider && offer.offers(region) => Ok(()),
        (Some(provider), _) => Err(ClusterError::ProviderLacksRegion {
            provider: provider.clone(),
            region: *region,
        }),
    }
}

impl Cluster {
    /// Decides a command other than create on a live cluster.
    fn decide_live(&self, command: ClusterCommand) -> Result<Vec<ClusterEvent>, ClusterError> {
        use ClusterCommand as C;
        use ClusterEvent as E;
        let events = match command {
            C::CreateCluster { .. } => return Err(ClusterError::AlreadyExists),
            C::RenameCluster { name } if self.name.as_ref() == Some(&name) => Vec::new(),
            C::RenameCluster { name } => vec![E::Renamed(ClusterRenamed { name })],
            C::MoveCluster { region, .. } if self.region == Some(region) => Vec::new(),
            C::MoveCluster { region, provider } => {
                check_provider(self.provider.as_ref(), provider.as_ref(), &region)?;
                vec![E::Moved(ClusterMoved { region })]
            }
            C::ChangeClusterStatus { status, .. } if status == self.status => Vec::new(),
            C::ChangeClusterStatus {
                status,
                reason,
                issues,
            } => {
                vec![E::StatusChanged(ClusterStatusChanged {
                    from: self.status,
                    to: status,
                    reason,
                    issues,
                })]
            }
            C::AttachDroplet { droplet_id } if self.droplets.contains(&droplet_id) => Vec::new(),
            C::AttachDroplet { droplet_id } => {
                vec![E::DropletAttached(ClusterDropletAttached { droplet_id })]
            }
            C::DetachDroplet { droplet_id } if !self.droplets.contains(&droplet_id) => Vec::new(),
            C::DetachDroplet { droplet_id } => {
                vec![E::DropletDetached(ClusterDropletDetached { droplet_id })]
            }
            C::DeleteCluster if !self.droplets.is_empty() => {
                return Err(ClusterError::HasLiveDroplets {
                    count: self.droplets.len(),
                });
            }
            C::DeleteCluster => vec![E::Deleted(ClusterDeleted {})],
            C::Deployment(command) => return self.decide_deployment(command),
            C::SetAutoscalingPolicy(policy) => return self.decide_autoscaling(Some(*policy)),
            C::RemoveAutoscalingPolicy => return self.decide_autoscaling(None),
        };
        Ok(events)
    }
}

impl Decide for Cluster {
    fn decide(&self, command: ClusterCommand) -> Result<Vec<ClusterEvent>, ClusterError> {
        match command {
            ClusterCommand::CreateCluster {
                id,
                name,
                region,
                provider,
            } => {
                if self.exists() {
                    return Err(ClusterError::AlreadyExists);
                }
                let name_of = provider.as_ref().map(|offer| offer.name.clone());
                check_provider(name_of.as_ref(), provider.as_ref(), &region)?;
                Ok(vec![ClusterEvent::Created(ClusterCreated {
                    id,
                    name,
                    region,
                    provider: name_of,
                })])
            }
            other => {
                self.ensure_live()?;
                self.decide_live(other)
            }
        }
    }
}

impl Aggregate for Cluster {
    const TYPE: &'static str = "cluster";
    type Command = ClusterCommand;
    type Event = ClusterEvent;
    type Error = ClusterError;
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
        match event {
            ClusterEvent::Created(e) => {
                self.id = Some(e.id);
                self.name = Some(e.name);
                self.region = Some(e.region);
                self.provider = e.provider;
                self.status = ClusterStatus::Healthy;
            }
            ClusterEvent::Renamed(e) => self.name = Some(e.name),
            ClusterEvent::Moved(e) => self.region = Some(e.region),
            ClusterEvent::StatusChanged(e) => self.status = e.to,
            ClusterEvent::DropletAttached(e) => {
                self.droplets.insert(e.droplet_id);
            }
            ClusterEvent::DropletDetached(e) => {
                self.droplets.remove(&e.droplet_id);
            }
            ClusterEvent::Deleted(_) => self.deleted = true,
            e @ (ClusterEvent::DeploymentStarted(_) | ClusterEvent::DeploymentFinished(_)) => {
                self.apply_deployment(e);
            }
            ClusterEvent::AutoscalingPolicySet(e) => self.autoscaling = Some(e.policy),
            ClusterEvent::AutoscalingPolicyRemoved(_) => self.autoscaling = None,
        }
    }
}
