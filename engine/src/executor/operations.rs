//! What one attempt of each job type does: droplet jobs call the job's provider through
//! the [`Provider`] trait, scale jobs start droplet jobs of their own cluster (see
//! [`super::scale`]), diagnose and monitor inspect the cluster. Every operation is safe to repeat in a later attempt.

use std::time::Duration;

use serde_json::{json, Value};

use super::policy::AttemptError;
use super::steps::{inspect, ReportStep};
use crate::commands::{CommandContext, CommandService};
use crate::domain::values::ProviderId;
use crate::domain::{
    Cluster, Droplet, DropletStatus, Job, JobType, PendingAction, PowerAction, ProviderName,
};
use crate::provider::{
    Instance, PlacementRequest, Provider, ProviderError, Providers, ProvisionRequest,
};

/// What an operation needs besides the job.
pub struct Operations<'a> {
    pub service: &'a CommandService,
    pub providers: &'a Providers,
    pub ctx: &'a CommandContext,
    /// How long cluster-wide jobs (diagnose, monitor) take, simulated.
    pub sim_delay: Duration,
}

impl Operations<'_> {
    /// Carries out `job`'s work once; the result becomes `job.succeeded`'s.
    pub async fn perform(&self, job: &Job) -> Result<Value, AttemptError> {
        match job.job_type {
            Some(
                JobType::Provision
                | JobType::Resize
                | JobType::Destroy
                | JobType::Restart
                | JobType::PowerOn
                | JobType::PowerOff
                | JobType::Migrate,
            ) => self.on_droplet(job).await,
            Some(JobType::ScaleUp) => Ok(self.scale_up(job).await?),
            Some(JobType::ScaleDown) => self.scale_down(job).await,
            Some(JobType::DeployStep) => self.deploy_step(job).await,
            Some(JobType::DeployGate) => self.deploy_gate(job).await,
            Some(JobType::DeployRollback) => self.deploy_rollback(job).await,
            Some(JobType::Diagnose | JobType::Monitor) => {
                tokio::time::sleep(self.sim_delay).await;
                let cluster_id = job.cluster_id.as_ref().map_or("", |id| id.as_str());
                Ok(inspect(&self.service.load::<Cluster>(cluster_id).await?))
            }
            None => Err(AttemptError::permanent(
                "unsupported_job",
                "the job's type could not be read",
            )),
        }
    }

    /// A provision, resize, power action or destroy of the job's droplet at its provider.
    async fn on_droplet(&self, job: &Job) -> Result<Value, AttemptError> {
        let droplet_id = job.droplet_id.as_ref().map_or("", |id| id.as_str());
        let droplet = self.service.load::<Droplet>(droplet_id).await?.state;
        if droplet.pending_job.is_none() || droplet.pending_job != job.id {
            return Err(AttemptError::permanent(
                "conflict",
                format!("droplet {droplet_id} no longer waits on this job"),
            ));
        }
        let Some(action) = droplet.pending_action.clone() else {
            return Err(AttemptError::permanent(
                "conflict",
                "the droplet has no pending action",
            ));
        };
        match action {
            PendingAction::Provision => return self.provision(job, &droplet).await,
            PendingAction::Migrate { to_provider } => {
                return self.migrate(job, &droplet, to_provider).await
            }
            _ => {}
        }
        let (provider, resource_id) = self.instance(&droplet)?;
        self.report(job, 30, calling(action.clone(), provider.name().as_str()))
            .await;
        let done = match action {
            PendingAction::Resize { to_size } => provider.resize(&resource_id, &to_size).await,
            PendingAction::Power { action } => provider.power(&resource_id, action).await,
            // Gone already (an earlier attempt destroyed it): done.
            PendingAction::Destroy => match provider.destroy(&resource_id).await {
                Err(ProviderError::UnknownResource { .. }) => Ok(()),
                other => other,
            },
            PendingAction::Provision | PendingAction::Migrate { .. } => Ok(()),
        };
        done?;
        Ok(json!({
            "droplet_id": droplet_id,
            "provider": provider.name(),
            "resource_id": resource_id,
        }))
    }

    /// Places the droplet (its preferred provider when it can take it, else the cheapest
    /// that can; never an avoided one) and creates it there. Repeating it for the same
    /// droplet finds the droplet made before instead of making another.
    async fn provision(&self, job: &Job, droplet: &Droplet) -> Result<Value, AttemptError> {
        let request = provision_request(droplet)?;
        let placement = self.providers.place(&PlacementRequest {
            region: request.region,
            size: request.size,
            preferred: droplet.provider.as_ref().map(ProviderId::from),
            avoided: self.avoided(job),
        })?;
        let name = placement.provider.name();
        self.report(
            job,
            30,
            format!(
                "placed on {name} (${:.4}/h); creating the droplet there",
                placement.quote.price_hourly
            ),
        )
        .await;
        let done = placement.provider.provision(&request).await?;
        Ok(json!({
            "droplet_id": request.droplet_id,
            "provider": done.provider,
            "resource_id": done.resource_id,
            "ip_address": done.ip_address,
            "price_hourly": done.price_hourly,
        }))
    }

    /// Creates the droplet at `to_provider` (powered as it is now), then destroys it at
    /// its provider. Both steps are safe to repeat: a retry finds the droplet made at the
    /// target, and a source already gone counts as destroyed.
    async fn migrate(
        &self,
        job: &Job,
        droplet: &Droplet,
        to: ProviderName,
    ) -> Result<Value, AttemptError> {
        let request = provision_request(droplet)?;
        let target = self.providers.provider(to.as_str())?;
        let created = target.provision(&request).await?;
        if droplet.status == DropletStatus::Off {
            target.power(&created.resource_id, PowerAction::Off).await?;
        }
        let (source, resource_id) = self.instance(droplet)?;
        let message = format!("created at {to}; destroying it at {}", source.name());
        self.report(job, 60, message).await;
        match source.destroy(&resource_id).await {
            Ok(()) | Err(ProviderError::UnknownResource { .. }) => {}
            Err(error) => return Err(error.into()),
        }
        Ok(json!({
            "droplet_id": request.droplet_id,
            "from_provider": source.name(),
            "provider": created.provider,
            "resource_id": created.resource_id,
            "ip_address": created.ip_address,
            "price_hourly": created.price_hourly,
        }))
    }

    /// Records how far the attempt got (`job.progressed`); a failure to record it is
    /// logged, never the attempt's.
    pub(super) async fn report(&self, job: &Job, progress: u8, message: String) {
        let job_id = job.id.as_ref().map(ToString::to_string).unwrap_or_default();
        let step = ReportStep {
            job_id,
            attempt: job.attempts,
            progress,
            message,
        };
        if let Err(error) = self.service.execute(self.ctx, &step).await {
            tracing::warn!(job_id = step.job_id, %error, "could not record the job's progress");
        }
    }

    /// Providers never to place on: those the job names in `avoid_providers`.
    fn avoided(&self, job: &Job) -> Vec<ProviderId> {
        job.parameters
            .get("avoid_providers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(|name| ProviderId::parse(name).ok())
            .collect()
    }

    /// The provider running `droplet` and its id there. The simulation's memory is the
    /// process's, so a droplet our log says is live is taken back after a restart.
    pub(super) fn instance(
        &self,
        droplet: &Droplet,
    ) -> Result<(std::sync::Arc<dyn Provider>, String), AttemptError> {
        let ProvisionRequest {
            droplet_id,
            region,
            size,
        } = provision_request(droplet)?;
        let name = droplet
            .provider
            .clone()
            .unwrap_or_else(|| ProviderName::default_for(&region));
        let provider = self.providers.provider(name.as_str())?;
        let resource_id = provider.resource_id_for(&droplet_id);
        // While resizing the log still holds the old size.
        provider.adopt(Instance {
            droplet_id,
            region,
            size,
            powered_on: droplet.status != DropletStatus::Off,
            ip_address: droplet.ip_address.clone().unwrap_or_default(),
        });
        Ok((provider, resource_id))
    }
}

/// The progress message of a provider call for `action`.
fn calling(action: PendingAction, provider: &str) -> String {
    match action {
        PendingAction::Resize { to_size } => format!("resizing to {to_size} at {provider}"),
        PendingAction::Power { action } => format!("{} at {provider}", powering(action)),
        PendingAction::Destroy => format!("destroying at {provider}"),
        PendingAction::Provision | PendingAction::Migrate { .. } => {
            format!("calling {provider}")
        }
    }
}

fn powering(action: PowerAction) -> &'static str {
    match action {
        PowerAction::On => "powering on",
        PowerAction::Off => "powering off",
        PowerAction::Restart => "restarting",
    }
}

/// What creating `droplet` asks of a provider: its id, region and size.
fn provision_request(droplet: &Droplet) -> Result<ProvisionRequest, AttemptError> {
    match (&droplet.id, droplet.region, droplet.size) {
        (Some(id), Some(region), Some(size)) => Ok(ProvisionRequest {
            droplet_id: id.to_string(),
            region,
            size,
        }),
        _ => Err(AttemptError::permanent(
            "invalid",
            "the droplet lacks a region or size",
        )),
    }
}
