//! The `droplet` aggregate: one virtual machine and its lifecycle.
//!
//! Every change that takes (simulated) time is a request carried out by a job: provision,
//! resize, power and destroy. A request records the job in `pending_job` and the action in
//! `pending_action`; the matching completion (or failure) clears both. At most one request
//! is in flight per droplet, and nothing happens to a destroyed droplet.
//!
//! Lifecycle: `provisioning -> active | failed`; `active <-> off`; `active | off ->
//! resizing -> back`; `active | off | failed -> destroyed`.

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::aggregate::{handle_with_decide, Classify, DomainErrorKind};
use super::provider_config::ProviderOffer;
use super::values::{
    AppVersion, ClusterId, DeploymentId, DropletId, DropletName, Image, JobId, ProviderName,
    Region, Size,
};

mod decide;
mod events;
mod kinds;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use events::*;
pub use kinds::{DropletStatus, PendingAction, PowerAction};

/// The state of one droplet, folded from its events.
/// Stored (rows, snapshots) without its unset fields: a field missing reads as unset.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Droplet {
    /// Set once requested.
    pub id: Option<DropletId>,
    /// The cluster it belongs to.
    pub cluster_id: Option<ClusterId>,
    /// Its name.
    pub name: Option<DropletName>,
    /// Its region.
    pub region: Option<Region>,
    /// Its current size.
    pub size: Option<Size>,
    /// Its image.
    pub image: Option<Image>,
    /// The requested provider until provisioned, then the provider that runs it.
    pub provider: Option<ProviderName>,
    /// Its IP address once provisioned.
    pub ip_address: Option<String>,
    /// Lifecycle status.
    pub status: DropletStatus,
    /// The job of the request in flight, if any.
    pub pending_job: Option<JobId>,
    /// The request in flight, if any (set exactly when `pending_job` is).
    pub pending_action: Option<PendingAction>,
    /// The status to return to when a resize ends.
    pub status_before_resize: Option<DropletStatus>,
    /// The reason of the last failed request, cleared by the next success.
    pub last_error: Option<String>,
    /// The application version it runs (set by deployments), if any.
    pub app_version: Option<AppVersion>,
}

impl Droplet {
    /// Whether the droplet was ever requested.
    pub fn exists(&self) -> bool {
        self.id.is_some()
    }

    /// Whether the droplet exists and is not destroyed.
    pub fn is_live(&self) -> bool {
        self.exists() && self.status != DropletStatus::Destroyed
    }

    fn clear_pending(&mut self) {
        self.pending_job = None;
        self.pending_action = None;
    }

    fn finish_power(&mut self, status: DropletStatus) {
        self.status = status;
        self.last_error = None;
        self.clear_pending();
    }

    fn end_resize(&mut self) {
        self.status = self
            .status_before_resize
            .take()
            .unwrap_or(DropletStatus::Active);
        self.clear_pending();
    }
}

/// Commands on a droplet.
#[derive(Debug, Clone, PartialEq)]
pub enum DropletCommand {
    /// Request a new droplet; `job_id` is its provision job.
    RequestDroplet {
        /// The new droplet's id.
        id: DropletId,
        /// Its cluster.
        cluster_id: ClusterId,
        /// Its name.
        name: DropletName,
        /// Its region.
        region: Region,
        /// Its size.
        size: Size,
        /// Its image.
        image: Image,
        /// The preferred provider, as resolved from the registry; must offer `region`.
        provider: Option<ProviderOffer>,
        /// The provision job.
        job_id: JobId,
        /// The application version it starts with (its cluster's deployed version).
        app_version: Option<AppVersion>,
    },
    /// A deployment set the application version the droplet runs (done at its provider
    /// already); refused on a destroyed droplet, nothing when it runs that version.
    SetAppVersion {
        /// The version (None: back to no version).
        app_version: Option<AppVersion>,
        /// The deployment.
        deployment_id: DeploymentId,
    },
    /// The provision job succeeded.
    MarkProvisioned {
        /// The assigned IP address.
        ip_address: String,
        /// The provider that runs the droplet, as resolved from the registry; must offer
        /// its region.
        provider: ProviderOffer,
    },
    /// The provision job failed.
    MarkProvisioningFailed {
        /// Why.
        reason: String,
    },
    /// Request a resize; `job_id` carries it out.
    RequestResize {
        /// The target size.
        size: Size,
        /// The resize job.
        job_id: JobId,
    },
    /// The resize job succeeded.
    CompleteResize,
    /// The resize job failed.
    FailResize {
        /// Why.
        reason: String,
    },
    /// Request a power action; `job_id` carries it out.
    RequestPower {
        /// Which action.
        action: PowerAction,
        /// The power job.
        job_id: JobId,
    },
    /// The power job succeeded.
    CompletePower,
    /// The power job failed.
    FailPower {
        /// Why.
        reason: String,
    },
    /// Request destruction; `job_id` carries it out.
    RequestDestroy {
        /// The destroy job.
        job_id: JobId,
    },
    /// The destroy job succeeded.
    CompleteDestroy,
    /// The destroy job failed or was cancelled: the droplet stays as it was.
    FailDestroy {
        /// Why.
        reason: String,
    },
    /// Request a move to another provider; `job_id` carries it out.
    RequestMigration {
        /// The target provider, as resolved from the registry; must offer the droplet's
        /// region.
        to_provider: ProviderOffer,
        /// The migrate job.
        job_id: JobId,
    },
    /// The migrate job succeeded: the droplet runs at the target with a new address.
    CompleteMigration {
        /// Its address at the target.
        ip_address: String,
    },
    /// The migrate job failed or was cancelled: the droplet stays at its provider.
    FailMigration {
        /// Why.
        reason: String,
    },
}

/// Why a droplet command was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DropletError {
    /// Request on an existing droplet.
    #[error("droplet already exists")]
    AlreadyExists,
    /// The droplet does not exist.
    #[error("droplet not found")]
    NotFound,
    /// The droplet was destroyed.
    #[error("droplet has been destroyed")]
    AlreadyDestroyed,
    /// The provider does not offer the droplet's region.
    #[error("provider {provider} does not offer region {region}")]
    ProviderLacksRegion {
        /// The provider.
        provider: ProviderName,
        /// The region.
        region: Region,
    },
    /// Another request is in flight.
    #[error("droplet is busy with job {job_id}")]
    Busy {
        /// The job in flight.
        job_id: JobId,
    },
    /// A completion without the matching request in flight.
    #[error("{command}: no matching request is in flight")]
    NoPendingAction {
        /// The completion command.
        command: &'static str,
    },
    /// Resize to the current size.
    #[error("droplet is already of size {size}")]
    SameSize {
        /// The size.
        size: Size,
    },
    /// Migration to the provider it runs at.
    #[error("droplet already runs at provider {provider}")]
    SameProvider {
        /// The provider.
        provider: ProviderName,
    },
    /// The action is not allowed in the current status.
    #[error("cannot {action} a droplet that is {status}")]
    InvalidTransition {
        /// The current status.
        status: DropletStatus,
        /// The refused action.
        action: &'static str,
    },
    /// The IP address does not parse.
    #[error("ip_address: {value:?} is not an IP address")]
    InvalidIpAddress {
        /// The offending value.
        value: String,
    },
}

impl Classify for DropletError {
    fn kind(&self) -> DomainErrorKind {
        match self {
            Self::NotFound => DomainErrorKind::NotFound,
            Self::AlreadyExists
            | Self::AlreadyDestroyed
            | Self::Busy { .. }
            | Self::NoPendingAction { .. }
            | Self::InvalidTransition { .. } => DomainErrorKind::Conflict,
            Self::ProviderLacksRegion { .. }
            | Self::SameSize { .. }
            | Self::SameProvider { .. } => DomainErrorKind::Unprocessable,
            Self::InvalidIpAddress { .. } => DomainErrorKind::Invalid,
        }
    }
}

impl Aggregate for Droplet {
    const TYPE: &'static str = "droplet";
    type Command = DropletCommand;
    type Event = DropletEvent;
    type Error = DropletError;
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
            DropletEvent::Requested(e) => {
                self.id = Some(e.id);
                self.cluster_id = Some(e.cluster_id);
                self.name = Some(e.name);
                self.region = Some(e.region);
                self.size = Some(e.size);
                self.image = Some(e.image);
                self.provider = e.provider;
                self.status = DropletStatus::Provisioning;
                self.pending_job = Some(e.job_id);
                self.pending_action = Some(PendingAction::Provision);
                self.app_version = e.app_version;
            }
            DropletEvent::AppVersionSet(e) => self.app_version = e.app_version,
            DropletEvent::Provisioned(e) => {
                self.ip_address = Some(e.ip_address);
                self.provider = Some(e.provider);
                self.status = DropletStatus::Active;
                self.last_error = None;
                self.clear_pending();
            }
            DropletEvent::ProvisioningFailed(e) => {
                self.status = DropletStatus::Failed;
                self.last_error = Some(e.reason);
                self.clear_pending();
            }
            DropletEvent::ResizeRequested(e) => {
                self.status_before_resize = Some(self.status);
                self.status = DropletStatus::Resizing;
                self.pending_job = Some(e.job_id);
                self.pending_action = Some(PendingAction::Resize { to_size: e.to_size });
            }
            DropletEvent::Resized(e) => {
                self.size = Some(e.size);
                self.last_error = None;
                self.end_resize();
            }
            DropletEvent::ResizeFailed(e) => {
                self.last_error = Some(e.reason);
                self.end_resize();
            }
            DropletEvent::PowerRequested(e) => {
                self.pending_job = Some(e.job_id);
                self.pending_action = Some(PendingAction::Power { action: e.action });
            }
            DropletEvent::PoweredOff(_) => self.finish_power(DropletStatus::Off),
            DropletEvent::PoweredOn(_) | DropletEvent::Restarted(_) => {
                self.finish_power(DropletStatus::Active);
            }
            DropletEvent::PowerFailed(e) => {
                self.last_error = Some(e.reason);
                self.clear_pending();
            }
            DropletEvent::DestroyRequested(e) => {
                self.pending_job = Some(e.job_id);
                self.pending_action = Some(PendingAction::Destroy);
            }
            DropletEvent::DestroyFailed(e) => {
                self.last_error = Some(e.reason);
                self.clear_pending();
            }
            DropletEvent::MigrationRequested(e) => {
                self.pending_job = Some(e.job_id);
                self.pending_action = Some(PendingAction::Migrate {
                    to_provider: e.to_provider,
                });
            }
            DropletEvent::Migrated(e) => {
                self.provider = Some(e.provider);
                self.ip_address = Some(e.ip_address);
                self.last_error = None;
                self.clear_pending();
            }
            DropletEvent::MigrationFailed(e) => {
                self.last_error = Some(e.reason);
                self.clear_pending();
            }
            DropletEvent::Destroyed(_) => {
                self.status = DropletStatus::Destroyed;
                self.ip_address = None;
                self.last_error = None;
                self.clear_pending();
            }
        }
    }
}
