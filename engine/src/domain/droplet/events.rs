//! The events of the `droplet` aggregate and their payloads.
//!
//! Serialised as `{"type": "droplet.<name>", "data": {...}}`; see
//! [`crate::domain::aggregate::event_parts`].

use cqrs_es::DomainEvent;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::PowerAction;
use crate::domain::values::{
    AppVersion, ClusterId, DeploymentId, DropletId, DropletName, Image, JobId, ProviderName,
    Region, Size,
};

/// Payload of `droplet.requested`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropletRequested {
    /// The droplet id.
    pub id: DropletId,
    /// Its cluster.
    pub cluster_id: ClusterId,
    /// Its name.
    pub name: DropletName,
    /// Its region.
    pub region: Region,
    /// Its size.
    pub size: Size,
    /// Its image.
    pub image: Image,
    /// The preferred provider (`null` when none).
    pub provider: Option<ProviderName>,
    /// The provision job.
    pub job_id: JobId,
    /// The application version it starts with (its cluster's deployed version; absent
    /// from events recorded before deployments existed, which read as none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<AppVersion>,
}

/// Payload of `droplet.app_version_set`: a deployment set the droplet's application
/// version (a rollback back to none sets `null`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropletAppVersionSet {
    /// The version it runs now.
    pub app_version: Option<AppVersion>,
    /// The deployment that set it.
    pub deployment_id: DeploymentId,
}

/// Payload of `droplet.provisioned`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropletProvisioned {
    /// The assigned IP address.
    pub ip_address: String,
    /// The provider that runs the droplet.
    pub provider: ProviderName,
}

/// Payload of `droplet.provisioning_failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropletProvisioningFailed {
    /// Why.
    pub reason: String,
}

/// Payload of `droplet.resize_requested`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropletResizeRequested {
    /// The current size.
    pub from_size: Size,
    /// The target size.
    pub to_size: Size,
    /// The resize job.
    pub job_id: JobId,
}

/// Payload of `droplet.resized`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropletResized {
    /// The new size.
    pub size: Size,
}

/// Payload of `droplet.resize_failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropletResizeFailed {
    /// Why.
    pub reason: String,
}

/// Payload of `droplet.power_requested`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropletPowerRequested {
    /// The action.
    pub action: PowerAction,
    /// The power job.
    pub job_id: JobId,
}

/// Payload of `droplet.powered_off` (empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropletPoweredOff {}

/// Payload of `droplet.powered_on` (empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropletPoweredOn {}

/// Payload of `droplet.restarted` (empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropletRestarted {}

/// Payload of `droplet.power_failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropletPowerFailed {
    /// The action that failed.
    pub action: PowerAction,
    /// Why.
    pub reason: String,
}

/// Payload of `droplet.destroy_requested`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropletDestroyRequested {
    /// The destroy job.
    pub job_id: JobId,
}

/// Payload of `droplet.destroy_failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropletDestroyFailed {
    /// Why (e.g. `cancelled`).
    pub reason: String,
}

/// Payload of `droplet.migration_requested`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropletMigrationRequested {
    /// The provider it runs at now.
    pub from_provider: ProviderName,
    /// The provider it moves to.
    pub to_provider: ProviderName,
    /// The migrate job.
    pub job_id: JobId,
}

/// Payload of `droplet.migrated`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropletMigrated {
    /// The provider it ran at.
    pub from_provider: ProviderName,
    /// The provider it runs at now.
    pub provider: ProviderName,
    /// Its address at the new provider.
    pub ip_address: String,
}

/// Payload of `droplet.migration_failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropletMigrationFailed {
    /// Why (the droplet stays at its provider).
    pub reason: String,
}

/// Payload of `droplet.destroyed` (empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DropletDestroyed {}

/// Events of a droplet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", content = "data")]
pub enum DropletEvent {
    /// `droplet.requested`
    #[serde(rename = "droplet.requested")]
    Requested(DropletRequested),
    /// `droplet.provisioned`
    #[serde(rename = "droplet.provisioned")]
    Provisioned(DropletProvisioned),
    /// `droplet.provisioning_failed`
    #[serde(rename = "droplet.provisioning_failed")]
    ProvisioningFailed(DropletProvisioningFailed),
    /// `droplet.resize_requested`
    #[serde(rename = "droplet.resize_requested")]
    ResizeRequested(DropletResizeRequested),
    /// `droplet.resized`
    #[serde(rename = "droplet.resized")]
    Resized(DropletResized),
    /// `droplet.resize_failed`
    #[serde(rename = "droplet.resize_failed")]
    ResizeFailed(DropletResizeFailed),
    /// `droplet.power_requested`
    #[serde(rename = "droplet.power_requested")]
    PowerRequested(DropletPowerRequested),
    /// `droplet.powered_off`
    #[serde(rename = "droplet.powered_off")]
    PoweredOff(DropletPoweredOff),
    /// `droplet.powered_on`
    #[serde(rename = "droplet.powered_on")]
    PoweredOn(DropletPoweredOn),
    /// `droplet.restarted`
    #[serde(rename = "droplet.restarted")]
    Restarted(DropletRestarted),
    /// `droplet.power_failed`
    #[serde(rename = "droplet.power_failed")]
    PowerFailed(DropletPowerFailed),
    /// `droplet.destroy_requested`
    #[serde(rename = "droplet.destroy_requested")]
    DestroyRequested(DropletDestroyRequested),
    /// `droplet.destroyed`
    #[serde(rename = "droplet.destroyed")]
    Destroyed(DropletDestroyed),
    /// `droplet.destroy_failed`
    #[serde(rename = "droplet.destroy_failed")]
    DestroyFailed(DropletDestroyFailed),
    /// `droplet.migration_requested`
    #[serde(rename = "droplet.migration_requested")]
    MigrationRequested(DropletMigrationRequested),
    /// `droplet.migrated`
    #[serde(rename = "droplet.migrated")]
    Migrated(DropletMigrated),
    /// `droplet.migration_failed`
    #[serde(rename = "droplet.migration_failed")]
    MigrationFailed(DropletMigrationFailed),
    /// `droplet.app_version_set`
    #[serde(rename = "droplet.app_version_set")]
    AppVersionSet(DropletAppVersionSet),
}

impl DropletEvent {
    /// Every event type string of this aggregate.
    pub const TYPES: [&'static str; 18] = [
        "droplet.requested",
        "droplet.provisioned",
        "droplet.provisioning_failed",
        "droplet.resize_requested",
        "droplet.resized",
        "droplet.resize_failed",
        "droplet.power_requested",
        "droplet.powered_off",
        "droplet.powered_on",
        "droplet.restarted",
        "droplet.power_failed",
        "droplet.destroy_requested",
        "droplet.destroyed",
        "droplet.destroy_failed",
        "droplet.migration_requested",
        "droplet.migrated",
        "droplet.migration_failed",
        "droplet.app_version_set",
    ];

    /// The event type string, e.g. `droplet.requested`.
    pub fn type_str(&self) -> &'static str {
        let index = match self {
            Self::Requested(_) => 0,
            Self::Provisioned(_) => 1,
            Self::ProvisioningFailed(_) => 2,
            Self::ResizeRequested(_) => 3,
            Self::Resized(_) => 4,
            Self::ResizeFailed(_) => 5,
            Self::PowerRequested(_) => 6,
            Self::PoweredOff(_) => 7,
            Self::PoweredOn(_) => 8,
            Self::Restarted(_) => 9,
            Self::PowerFailed(_) => 10,
            Self::DestroyRequested(_) => 11,
            Self::Destroyed(_) => 12,
            Self::DestroyFailed(_) => 13,
            Self::MigrationRequested(_) => 14,
            Self::Migrated(_) => 15,
            Self::MigrationFailed(_) => 16,
            Self::AppVersionSet(_) => 17,
        };
        Self::TYPES[index]
    }
}

impl DomainEvent for DropletEvent {
    fn event_type(&self) -> String {
        self.type_str().to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
