//! What one attempt of each job type does: droplet jobs call the job's provider through
//! the [`Provider`] trait, scale jobs start droplet jobs of their own cluster, diagnose and
//! monitor inspect the cluster. Every operation is safe to repeat in a later attempt.

use std::time::Duration;

use serde_json::{json, Value};

use super::policy::AttemptError;
use super::steps::inspect;
use crate::commands::{
    ActOnDroplet, CommandContext, CommandError, CommandService, CreateDroplet, DropletAction, Reply,
};
use crate::domain::values::ProviderId;
use crate::domain::{
    Cluster, ClusterId, Droplet, DropletId, DropletName, DropletStatus, Image, Job, JobId, JobType,
    PendingAction, PowerAction, ProviderName, Region, Size,
};
use crate::provider::{
    Instance, PlacementRequest, Provider, ProviderError, Providers, ProvisionRequest,
    SimulatedProvider,
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
            Some(JobType::ScaleDown) => Ok(self.scale_down(job).await?),
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
        let Some(action) = droplet.pending_action else {
            return Err(AttemptError::permanent(
                "conflict",
                "the droplet has no pending action",
            ));
        };
        match action {
            PendingAction::Provision => return self.provision(job, &droplet).await,
            PendingAction::Migrate { to_provider } => {
                return self.migrate(&droplet, to_provider).await
            }
            _ => {}
        }
        let (provider, resource_id) = self.instance(&droplet)?;
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
            preferred: droplet
                .provider
                .and_then(|p| ProviderId::parse(p.as_str()).ok()),
            avoided: self.avoided(job),
        })?;
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
    async fn migrate(&self, droplet: &Droplet, to: ProviderName) -> Result<Value, AttemptError> {
        let request = provision_request(droplet)?;
        let target = self.providers.get(to.as_str())?;
        let created = target.provision(&request).await?;
        if droplet.status == DropletStatus::Off {
            target.power(&created.resource_id, PowerAction::Off).await?;
        }
        let (source, resource_id) = self.instance(droplet)?;
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

    /// Providers never to place on: those the job names in `avoid_providers`, and
    /// registered ones outside the catalog (a droplet records a catalog provider).
    fn avoided(&self, job: &Job) -> Vec<ProviderId> {
        let named = job
            .parameters
            .get("avoid_providers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(|name| ProviderId::parse(name).ok());
        let outside = self
            .providers
            .list()
            .into_iter()
            .map(|p| p.name().clone())
            .filter(|name| ProviderName::parse(name.as_str()).is_err());
        named.chain(outside).collect()
    }

    /// The provider running `droplet` and its id there. The simulation's memory is the
    /// process's, so a droplet our log says is live is taken back after a restart.
    fn instance(
        &self,
        droplet: &Droplet,
    ) -> Result<(std::sync::Arc<SimulatedProvider>, String), AttemptError> {
        let ProvisionRequest {
            droplet_id,
            region,
            size,
        } = provision_request(droplet)?;
        let name = droplet
            .provider
            .unwrap_or_else(|| ProviderName::default_for(&region));
        let provider = self.providers.get(name.as_str())?;
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

    /// Adds `parameters.count` (default 1) droplets to the job's own cluster. Child ids
    /// are derived from the job id, so a retried attempt does not add them twice.
    async fn scale_up(&self, job: &Job) -> Result<Value, CommandError> {
        let cluster_id = job.cluster_id.clone().ok_or(CommandError::NotFound {
            what: "cluster",
            id: String::new(),
        })?;
        let cluster = self.service.load::<Cluster>(cluster_id.as_str()).await?;
        let count = job
            .parameters
            .get("count")
            .and_then(Value::as_u64)
            .unwrap_or(1)
            .clamp(1, 20);
        let param = |key: &str, default: &str| {
            job.parameters
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or(default)
                .to_owned()
        };
        let region = cluster
            .state
            .region
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let job_id = job.id.as_ref().map(ToString::to_string).unwrap_or_default();
        let mut created = Vec::new();
        for index in 0..count {
            let seed = format!("{job_id}/{index}");
            let name = format!(
                "{}-{}",
                cluster.state.name.as_ref().map_or("node", |n| n.as_str()),
                &derived_hex(&seed, "n")[..6]
            );
            let command = CreateDroplet {
                id: DropletId::parse(&format!("dr_{}", derived_hex(&seed, "d")))?,
                job_id: JobId::parse(&format!("job_{}", derived_hex(&seed, "j")))?,
                cluster_id: ClusterId::parse(cluster_id.as_str())?,
                name: DropletName::parse(&name)?,
                region: Region::parse(&param("region", &region))?,
                size: Size::parse(&param("size", "s-1vcpu-1gb"))?,
                image: Image::parse(&param("image", "ubuntu-22-04-x64"))?,
                provider: None,
                avoid_providers: Vec::new(),
                trace_id: job.trace_id.clone(),
            };
            match self.service.execute(self.ctx, &command).await {
                Ok(reply) => {
                    if let Reply::Fresh { value, .. } = reply {
                        created.push(
                            json!({ "droplet_id": value.droplet.id, "job_id": value.job.id }),
                        );
                    }
                }
                Err(CommandError::Droplet(crate::domain::DropletError::AlreadyExists)) => {
                    created.push(json!({ "droplet_id": command.id, "job_id": command.job_id }));
                }
                Err(error) => return Err(error),
            }
        }
        Ok(json!({ "added": created }))
    }

    /// Destroys the newest live droplet of the job's own cluster (never another cluster's).
    /// The destroy job's id is derived from this job's, so a retried attempt finds the
    /// destroy an earlier attempt started instead of destroying another droplet.
    async fn scale_down(&self, job: &Job) -> Result<Value, CommandError> {
        let cluster_id = job
            .cluster_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let job_id = job.id.as_ref().map(ToString::to_string).unwrap_or_default();
        let child_id = JobId::parse(&format!("job_{}", derived_hex(&job_id, "destroy")))?;
        let earlier = self.service.load::<Job>(child_id.as_str()).await?;
        if earlier.state.exists() {
            return Ok(json!({ "removed": earlier.state.droplet_id, "job_id": child_id }));
        }
        let cluster = self.service.load::<Cluster>(&cluster_id).await?;
        // Droplet ids are UUIDv7-based, so the greatest id is the newest droplet.
        let Some(newest) = cluster.state.droplets.iter().next_back() else {
            return Ok(json!({ "removed": null, "reason": "the cluster has no droplets" }));
        };
        let mut act = ActOnDroplet::new(
            newest.as_str(),
            DropletAction::Destroy,
            job.trace_id.clone(),
            None,
        );
        act.job_id = child_id;
        let reply = self.service.execute(self.ctx, &act).await?;
        let child = reply.fresh().map(|started| started.job.id);
        Ok(json!({ "removed": newest, "job_id": child }))
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

/// 32 hex digits derived from `seed` and a salt, starting with the 12 timestamp digits of
/// the job's own (UUIDv7-based) id: stable across retries, and ordered like ids made by
/// `new()` (so "the greatest id is the newest droplet" holds for these too).
fn derived_hex(seed: &str, salt: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = hex::encode(&Sha256::digest(format!("{salt}:{seed}").as_bytes())[..16]);
    let job_hex = seed.strip_prefix("job_").unwrap_or(seed);
    match job_hex
        .get(..12)
        .filter(|t| t.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        Some(timestamp) => format!("{timestamp}{}", &digest[12..]),
        None => digest,
    }
}
