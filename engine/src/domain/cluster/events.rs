//! The events of the `cluster` aggregate and their payloads.
//!
//! Serialised as `{"type": "cluster.<name>", "data": {...}}`; see
//! [`crate::domain::aggregate::event_parts`].

use cqrs_es::DomainEvent;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    AutoscalingPolicy, ClusterDeploymentFinished, ClusterDeploymentStarted, ClusterStatus,
    HealthIssue,
};
use crate::domain::values::{ClusterId, ClusterName, DropletId, ProviderName, Region};

/// Payload of `cluster.created`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClusterCreated {
    /// The cluster id.
    pub id: ClusterId,
    /// Its name.
    pub name: ClusterName,
    /// Its region.
    pub region: Region,
    /// Its preferred provider (`null` when none).
    pub provider: Option<ProviderName>,
}

/// Payload of `cluster.renamed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClusterRenamed {
    /// The new name.
    pub name: ClusterName,
}

/// Payload of `cluster.moved`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClusterMoved {
    /// The new region.
    pub region: Region,
}

/// Payload of `cluster.status_changed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClusterStatusChanged {
    /// The previous status.
    pub from: ClusterStatus,
    /// The new status.
    pub to: ClusterStatus,
    /// Why it changed.
    pub reason: String,
    /// The issues the health check found (empty when the cluster turned healthy; absent
    /// in events recorded before checks carried them).
    #[serde(default)]
    pub issues: Vec<HealthIssue>,
}

/// Payload of `cluster.droplet_attached`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClusterDropletAttached {
    /// The droplet.
    pub droplet_id: DropletId,
}

/// Payload of `cluster.droplet_detached`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClusterDropletDetached {
    /// The droplet.
    pub droplet_id: DropletId,
}

/// Payload of `cluster.deleted` (empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClusterDeleted {}

/// Payload of `cluster.autoscaling_policy_set`: the whole policy now in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClusterAutoscalingPolicySet {
    /// The policy.
    pub policy: AutoscalingPolicy,
}

/// Payload of `cluster.autoscaling_policy_removed` (empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClusterAutoscalingPolicyRemoved {}

/// Events of a cluster; serialised as `{"type": "cluster.<name>", "data": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", content = "data")]
pub enum ClusterEvent {
    /// `cluster.created`
    #[serde(rename = "cluster.created")]
    Created(ClusterCreated),
    /// `cluster.renamed`
    #[serde(rename = "cluster.renamed")]
    Renamed(ClusterRenamed),
    /// `cluster.moved`
    #[serde(rename = "cluster.moved")]
    Moved(ClusterMoved),
    /// `cluster.status_changed`
    #[serde(rename = "cluster.status_changed")]
    StatusChanged(ClusterStatusChanged),
    /// `cluster.droplet_attached`
    #[serde(rename = "cluster.droplet_attached")]
    DropletAttached(ClusterDropletAttached),
    /// `cluster.droplet_detached`
    #[serde(rename = "cluster.droplet_detached")]
    DropletDetached(ClusterDropletDetached),
    /// `cluster.deleted`
    #[serde(rename = "cluster.deleted")]
    Deleted(ClusterDeleted),
    /// `cluster.deployment_started`
    #[serde(rename = "cluster.deployment_started")]
    DeploymentStarted(ClusterDeploymentStarted),
    /// `cluster.deployment_finished`
    #[serde(rename = "cluster.deployment_finished")]
    DeploymentFinished(ClusterDeploymentFinished),
    /// `cluster.autoscaling_policy_set`
    #[serde(rename = "cluster.autoscaling_policy_set")]
    AutoscalingPolicySet(ClusterAutoscalingPolicySet),
    /// `cluster.autoscaling_policy_removed`
    #[serde(rename = "cluster.autoscaling_policy_removed")]
    AutoscalingPolicyRemoved(ClusterAutoscalingPolicyRemoved),
}

impl ClusterEvent {
    /// Every event type string of this aggregate.
    pub const TYPES: [&'static str; 11] = [
        "cluster.created",
        "cluster.renamed",
        "cluster.moved",
        "cluster.status_changed",
        "cluster.droplet_attached",
        "cluster.droplet_detached",
        "cluster.deleted",
        "cluster.deployment_started",
        "cluster.deployment_finished",
        "cluster.autoscaling_policy_set",
        "cluster.autoscaling_policy_removed",
    ];

    /// The event type string, e.g. `cluster.created`.
    pub fn type_str(&self) -> &'static str {
        let index = match self {
            Self::Created(_) => 0,
            Self::Renamed(_) => 1,
            Self::Moved(_) => 2,
            Self::StatusChanged(_) => 3,
            Self::DropletAttached(_) => 4,
            Self::DropletDetached(_) => 5,
            Self::Deleted(_) => 6,
            Self::DeploymentStarted(_) => 7,
            Self::DeploymentFinished(_) => 8,
            Self::AutoscalingPolicySet(_) => 9,
            Self::AutoscalingPolicyRemoved(_) => 10,
        };
        Self::TYPES[index]
    }
}

impl DomainEvent for ClusterEvent {
    fn event_type(&self) -> String {
        self.type_str().to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
