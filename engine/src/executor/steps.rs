//! The executor's commands: each moves a job (and the droplet or cluster it acts on) one
//! step, as events.

use serde_json::{json, Value};

use crate::commands::service::{now, stream_write, Command, CommandService, Decision};
use crate::commands::{CommandError, Loaded};
use crate::domain::{
    Cluster, ClusterCommand, Decide, Droplet, DropletCommand, Job, JobCommand, JobStatus, JobType,
    ProviderName,
};

/// A plain step on the job alone.
#[derive(Debug, Clone)]
pub struct JobStep {
    pub job_id: String,
    pub command: JobCommand,
}

impl Command for JobStep {
    type Output = JobStatus;

    async fn decide(&self, service: &CommandService) -> Result<Decision<JobStatus>, CommandError> {
        let mut job = service.load::<Job>(&self.job_id).await?;
        let expected = job.version;
        let events = job.state.decide(self.command.clone())?;
        let at = now();
        job.apply_new(&events, at);
        Ok(Decision {
            writes: vec![stream_write::<Job>(&self.job_id, expected, &events, at)?],
            value: job.state.status,
            status: 200,
            unchanged_position: job.last_position,
        })
    }
}

/// How a job attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Success with a result; the droplet/cluster side effects are recorded with it.
    Succeeded(Value),
    /// Failure (no retry left, or not retryable).
    Failed(String),
    /// The running attempt honoured a cancel request.
    Cancelled,
}

/// Ends a running job and records what its work did to the droplet and cluster, all in
/// one append.
#[derive(Debug, Clone)]
pub struct FinishJob {
    pub job_id: String,
    pub outcome: Outcome,
}

impl Command for FinishJob {
    type Output = JobStatus;

    async fn decide(&self, service: &CommandService) -> Result<Decision<JobStatus>, CommandError> {
        let mut job = service.load::<Job>(&self.job_id).await?;
        let expected = job.version;
        let job_type = job.state.job_type;
        let at = now();
        let mut writes = Vec::new();
        if let Some(droplet_id) = job
            .state
            .droplet_id
            .clone()
            .filter(|_| is_droplet_job(job_type))
        {
            let mut droplet = service.load::<Droplet>(droplet_id.as_str()).await?;
            let command = droplet_command(&droplet, job_type, &self.outcome);
            if let Some(command) = command {
                let events = droplet.state.decide(command)?;
                writes.push(stream_write::<Droplet>(
                    droplet_id.as_str(),
                    droplet.version,
                    &events,
                    at,
                )?);
                droplet.apply_new(&events, at);
                if job_type == Some(JobType::Destroy)
                    && droplet.state.status.as_str() == "destroyed"
                {
                    writes.push(detach(service, &droplet, at).await?);
                }
            }
        }
        let command = match &self.outcome {
            Outcome::Succeeded(result) => JobCommand::SucceedJob {
                result: result.clone(),
            },
            Outcome::Failed(error) => JobCommand::FailJob {
                error: error.clone(),
            },
            Outcome::Cancelled => JobCommand::ConfirmCancel,
        };
        let events = job.state.decide(command)?;
        writes.push(stream_write::<Job>(&self.job_id, expected, &events, at)?);
        job.apply_new(&events, at);
        Ok(Decision {
            writes,
            value: job.state.status,
            status: 200,
            unchanged_position: 0,
        })
    }
}

/// The droplet write that records the end of `job`'s request when the job is cancelled
/// before a worker ran it (None: the job carries no droplet request, the droplet no longer
/// waits on it, or there is nothing to record, as for a destroy).
pub(crate) async fn cancelled_before_start(
    service: &CommandService,
    job: &Job,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Option<crate::store::StreamWrite>, CommandError> {
    let Some(droplet_id) = job
        .droplet_id
        .clone()
        .filter(|_| is_droplet_job(job.job_type))
    else {
        return Ok(None);
    };
    let droplet = service.load::<Droplet>(droplet_id.as_str()).await?;
    if droplet.state.pending_job.is_none() || droplet.state.pending_job != job.id {
        return Ok(None);
    }
    let Some(command) = droplet_command(&droplet, job.job_type, &Outcome::Cancelled) else {
        return Ok(None);
    };
    let events = droplet.state.decide(command)?;
    Ok(Some(stream_write::<Droplet>(
        droplet_id.as_str(),
        droplet.version,
        &events,
        at,
    )?))
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
        )
    )
}

/// The droplet command that records a job's outcome (None: nothing to record).
fn droplet_command(
    droplet: &Loaded<Droplet>,
    job_type: Option<JobType>,
    outcome: &Outcome,
) -> Option<DropletCommand> {
    let reason = match outcome {
        Outcome::Succeeded(_) => None,
        Outcome::Failed(error) => Some(error.clone()),
        Outcome::Cancelled => Some("cancelled".to_owned()),
    };
    let state = &droplet.state;
    state.pending_job.as_ref()?;
    Some(match (job_type?, reason) {
        (JobType::Provision, None) => {
            let provider = state
                .provider
                .or_else(|| state.region.as_ref().map(ProviderName::default_for))?;
            let ip_address = simulated_ip(state.id.as_ref()?.as_str());
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
        (JobType::Destroy, None) => DropletCommand::CompleteDestroy,
        (JobType::Destroy, Some(reason)) => DropletCommand::FailDestroy { reason },
        _ => return None,
    })
}

async fn detach(
    service: &CommandService,
    droplet: &Loaded<Droplet>,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<crate::store::StreamWrite, CommandError> {
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

/// The seed's health score for a cluster (see PRODUCT.md).
pub fn health_score(status: &str, droplet_count: usize) -> (i64, &'static str) {
    let mut score: i64 = 50;
    score += match status {
        "healthy" => 30,
        "warning" => 15,
        "critical" => -20,
        _ => 0,
    };
    if droplet_count >= 3 {
        score += 20;
    }
    if droplet_count == 0 {
        score -= 30;
    }
    let label = match score {
        s if s >= 80 => "Excellent",
        s if s >= 60 => "Good",
        _ => "Needs Attention",
    };
    (score, label)
}

/// Result of a cluster-level job that only inspects the cluster.
pub fn inspect(cluster: &Loaded<Cluster>) -> Value {
    let count = cluster.state.droplets.len();
    let status = cluster.state.status.as_str();
    let (score, label) = health_score(status, count);
    json!({
        "cluster_status": status,
        "droplet_count": count,
        "health_score": score,
        "health_label": label,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_health_scores() {
        assert_eq!(health_score("healthy", 3), (100, "Excellent"));
        assert_eq!(health_score("healthy", 1), (80, "Excellent"));
        assert_eq!(health_score("warning", 1), (65, "Good"));
        assert_eq!(health_score("critical", 0), (0, "Needs Attention"));
    }

    #[test]
    fn simulated_ips_are_stable_private_addresses() {
        let ip = simulated_ip("dr_0123");
        assert_eq!(ip, simulated_ip("dr_0123"));
        assert!(ip.starts_with("10."));
        assert_ne!(ip, simulated_ip("dr_0124"));
    }
}
