//! What a job's end does to the droplet it acted on (and, for a destroy, to the
//! cluster), or to the deployment it is a step of: recorded in the same append as the
//! job's end, whether a worker finished it or it was cancelled before one ran it.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::providers::resolve_provider;
use super::{stream_write, CommandError, CommandService};
use crate::domain::{
    Cluster, ClusterCommand, Decide, Droplet, DropletCommand, Job, JobStatus, JobType,
    ProviderName, ProviderOffer,
};
use crate::fold::Loaded;
use crate::store::StreamWrite;

/// What a job that just ended did to its droplet (and, for a destroy, to the cluster):
/// nothing when it carries no droplet request or the droplet no longer waits on it. Also
/// used for a job cancelled before a worker ran it.
pub async fn droplet_writes(
    service: &CommandService,
    job: &Job,
    at: DateTime<Utc>,
) -> Result<Vec<StreamWrite>, CommandError> {
    if super::deployment_jobs::is_deployment_job(job.job_type) {
        // A deployment's step, gate or rollback: its end moves the deployment on (or
        // rolls it back when it failed for good).
        return super::deployment_jobs::deployment_writes(service, job, at).await;
    }
    let Some(droplet_id) = job
        .droplet_id
        .clone()
        .filter(|_| is_droplet_job(job.job_type))
    else {
        return Ok(Vec::new());
    };
    let mut droplet = service.load::<Droplet>(droplet_id.as_str()).await?;
    if droplet.state.pending_job.is_none() || droplet.state.pending_job != job.id {
        // The droplet no longer waits on this job.
        return Ok(Vec::new());
    }
    let ending = match job.status {
        JobStatus::Succeeded => Ending::Succeeded(job.result.as_ref().unwrap_or(&Value::Null)),
        JobStatus::Cancelled => Ending::Failed("cancelled".into()),
        _ => Ending::Failed(job.error.clone().unwrap_or_else(|| job.status.to_string())),
    };
    // A provision records the provider that took the droplet, checked against the registry.
    let provisioned_by = match (&ending, job.job_type) {
        (Ending::Succeeded(result), Some(JobType::Provision)) => {
            match provider_of(&droplet.state, result) {
                Some(name) => Some(resolve_provider(service, &name, "provider").await?),
                None => None,
            }
        }
        _ => None,
    };
    let Some(command) = droplet_command(&droplet, job.job_type, ending, provisioned_by) else {
        return Ok(Vec::new());
    };
    let events = droplet.state.decide(command)?;
    let mut writes = vec![stream_write::<Droplet>(
        droplet_id.as_str(),
        droplet.version,
        &events,
        at,
    )?];
    droplet.apply_new(&events, at);
    if job.job_type == Some(JobType::Destroy) && droplet.state.status.as_str() == "destroyed" {
        writes.push(detach(service, &droplet, at).await?);
    }
    Ok(writes)
}

fn is_droplet_job(job_type: Option<JobType>) -> bool {
    matches!(
        job_type,
        Some(
            JobType::Provision
                | JobType::Resize
                | JobType::Destroy
                | JobType::PowerOn
                | JobType::PowerOff
                | JobType::Restart
                | JobType::Migrate
        )
    )
}

/// How a droplet job ended, for the droplet.
enum Ending<'a> {
    /// With the job's result.
    Succeeded(&'a Value),
    /// With a reason.
    Failed(String),
}

/// The provider a provision job placed the droplet on (its result), else the one the
/// droplet asked for, else its region's default.
fn provider_of(state: &Droplet, result: &Value) -> Option<ProviderName> {
    result
        .get("provider")
        .and_then(Value::as_str)
        .and_then(|name| ProviderName::parse(name).ok())
        .or_else(|| state.provider.clone())
        .or_else(|| state.region.as_ref().map(ProviderName::default_for))
}

/// The droplet command that records a job's end (None: nothing to record);
/// `provisioned_by` is a successful provision's provider ([`provider_of`], resolved).
fn droplet_command(
    droplet: &Loaded<Droplet>,
    job_type: Option<JobType>,
    ending: Ending<'_>,
    provisioned_by: Option<ProviderOffer>,
) -> Option<DropletCommand> {
    let state = &droplet.state;
    state.pending_job.as_ref()?;
    let (result, reason) = match ending {
        Ending::Succeeded(result) => (Some(result), None),
        Ending::Failed(reason) => (None, Some(reason)),
    };
    Some(match (job_type?, reason) {
        (JobType::Provision, None) => {
            // The provider and address the provision job got (its result).
            let result = result?;
            let provider = provisioned_by?;
            let ip_address = result
                .get("ip_address")
                .and_then(Value::as_str)
                .map_or_else(
                    || simulated_ip(state.id.as_ref().map_or("", |id| id.as_str())),
                    str::to_owned,
                );
            DropletCommand::MarkProvisioned {
                ip_address,
                provider,
            }
        }
        (JobType::Provision, Some(reason)) => DropletCommand::MarkProvisioningFailed { reason },
        (JobType::Resize, None) => DropletCommand::CompleteResize,
        (JobType::Resize, Some(reason)) => DropletCommand::FailResize { reason },
        (JobType::PowerOn | JobType::PowerOff | JobType::Restart, None) => {
            DropletCommand::CompletePower
        }
        (JobType::PowerOn | JobType::PowerOff | JobType::Restart, Some(reason)) => {
            DropletCommand::FailPower { reason }
        }
        (JobType::Migrate, None) => DropletCommand::CompleteMigration {
            ip_address: result?.get("ip_address")?.as_str()?.to_owned(),
        },
        (JobType::Migrate, Some(reason)) => DropletCommand::FailMigration { reason },
        (JobType::Destroy, None) => DropletCommand::CompleteDestroy,
        (JobType::Destroy, Some(reason)) => DropletCommand::FailDestroy { reason },
        _ => return None,
    })
}

async fn detach(
    service: &CommandService,
    droplet: &Loaded<Droplet>,
    at: DateTime<Utc>,
) -> Result<StreamWrite, CommandError> {
    let (Some(cluster_id), Some(droplet_id)) = (&droplet.state.cluster_id, &droplet.state.id)
    else {
        return Err(CommandError::NotFound {
            what: "cluster",
            id: String::new(),
        });
    };
    let cluster = service.load::<Cluster>(cluster_id.as_str()).await?;
    let events = cluster.state.decide(ClusterCommand::DetachDroplet {
        droplet_id: droplet_id.clone(),
    })?;
    stream_write::<Cluster>(cluster_id.as_str(), cluster.version, &events, at)
}

/// A stable private address derived from the droplet id.
pub fn simulated_ip(droplet_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(droplet_id.as_bytes());
    format!("10.{}.{}.{}", digest[0], digest[1], digest[2].max(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_ips_are_stable_private_addresses() {
        let ip = simulated_ip("dr_0123");
        assert_eq!(ip, simulated_ip("dr_0123"));
        assert!(ip.starts_with("10."));
        assert_ne!(ip, simulated_ip("dr_0124"));
    }
}
