//! The executor's commands: each moves a job (and the droplet or cluster it acts on) one
//! step, as events.

use serde_json::{json, Value};

use crate::commands::providers::resolve_provider;
use crate::commands::service::{now, stream_write, Command, CommandService, Decision};
use crate::commands::{CommandError, Loaded};
use crate::domain::{
    Cluster, ClusterCommand, Decide, Droplet, DropletCommand, Job, JobCommand, JobStatus, JobType,
    ProviderName, ProviderOffer,
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

/// Starts the next attempt of a waiting job in one append: `job.queued` (if it was still
/// pending), `job.started` and a first `job.progressed` saying what it does. Answers the
/// job as started.
#[derive(Debug, Clone)]
pub struct BeginAttempt {
    pub job_id: String,
    pub worker: String,
    pub doing: String,
}

impl Command for BeginAttempt {
    type Output = Job;

    async fn decide(&self, service: &CommandService) -> Result<Decision<Job>, CommandError> {
        let mut job = service.load::<Job>(&self.job_id).await?;
        let expected = job.version;
        let at = now();
        let mut events = Vec::new();
        let mut step = |job: &mut crate::commands::Loaded<Job>, command| {
            let new = job.state.decide(command)?;
            job.apply_new(&new, at);
            events.extend(new);
            Ok::<_, CommandError>(())
        };
        if job.state.status == JobStatus::Pending {
            step(&mut job, JobCommand::QueueJob)?;
        }
        let attempt = job.state.attempts + 1;
        step(
            &mut job,
            JobCommand::StartJob {
                attempt,
                worker: self.worker.clone(),
            },
        )?;
        step(
            &mut job,
            JobCommand::ReportProgress {
                progress: 10,
                message: Some(self.doing.clone()),
            },
        )?;
        Ok(Decision {
            writes: vec![stream_write::<Job>(&self.job_id, expected, &events, at)?],
            value: job.state,
            status: 200,
            unchanged_position: 0,
        })
    }
}

/// Records how far attempt `attempt` of a running job got: `job.progressed` with
/// `progress` (never below what the attempt showed already) and `message`. Records nothing
/// when the attempt is no longer the job's current one (timed out, or the job ended).
#[derive(Debug, Clone)]
pub struct ReportStep {
    pub job_id: String,
    pub attempt: u32,
    pub progress: u8,
    pub message: String,
}

impl Command for ReportStep {
    type Output = u8;

    async fn decide(&self, service: &CommandService) -> Result<Decision<u8>, CommandError> {
        let mut job = service.load::<Job>(&self.job_id).await?;
        let expected = job.version;
        let current = job.state.status == JobStatus::Running && job.state.attempts == self.attempt;
        let events = if current {
            job.state.decide(JobCommand::ReportProgress {
                progress: self.progress.max(job.state.progress),
                message: Some(self.message.clone()),
            })?
        } else {
            Vec::new()
        };
        let at = now();
        job.apply_new(&events, at);
        Ok(Decision {
            writes: vec![stream_write::<Job>(&self.job_id, expected, &events, at)?],
            value: job.state.progress,
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
    /// Failure for good (not retryable, or no attempt left).
    Failed(String),
    /// Failure worth another attempt after `delay_ms`.
    Retry {
        /// What went wrong.
        error: String,
        /// The backoff.
        delay_ms: u64,
    },
    /// The attempt overran its time or its worker went silent; retried after
    /// `retry_delay_ms` while attempts are left (None: never).
    TimedOut {
        /// The backoff, if the policy retries time-outs.
        retry_delay_ms: Option<u64>,
    },
    /// The running attempt honoured a cancel request.
    Cancelled,
}

/// Ends attempt `attempt` of a running job (or schedules its retry) and, when the job
/// ends, records what its work did to the droplet and cluster, all in one append. A
/// cancel request wins over a failure or retry. Refused (attempt mismatch, illegal
/// transition) when the attempt is no longer the job's current one.
#[derive(Debug, Clone)]
pub struct FinishJob {
    pub job_id: String,
    pub attempt: u32,
    pub outcome: Outcome,
}

impl FinishJob {
    fn job_command(&self, job: &Job) -> JobCommand {
        let attempt = self.attempt;
        match &self.outcome {
            Outcome::Succeeded(result) => JobCommand::SucceedJob {
                attempt,
                result: result.clone(),
            },
            Outcome::Failed(_) | Outcome::Retry { .. } | Outcome::Cancelled
                if job.cancel_requested =>
            {
                JobCommand::ConfirmCancel { attempt }
            }
            Outcome::Failed(error) => JobCommand::FailJob {
                attempt: Some(attempt),
                error: error.clone(),
            },
            Outcome::Retry { error, delay_ms } => JobCommand::ScheduleRetry {
                attempt,
                error: error.clone(),
                delay_ms: *delay_ms,
            },
            Outcome::TimedOut { retry_delay_ms } => JobCommand::TimeOutJob {
                attempt,
                retry_delay_ms: *retry_delay_ms,
            },
            Outcome::Cancelled => JobCommand::FailJob {
                attempt: Some(attempt),
                error: "stopped without a cancel request".into(),
            },
        }
    }
}

impl Command for FinishJob {
    type Output = JobStatus;

    async fn decide(&self, service: &CommandService) -> Result<Decision<JobStatus>, CommandError> {
        let mut job = service.load::<Job>(&self.job_id).await?;
        let expected = job.version;
        let at = now();
        let events = job.state.decide(self.job_command(&job.state))?;
        let mut writes = vec![stream_write::<Job>(&self.job_id, expected, &events, at)?];
        job.apply_new(&events, at);
        if job.state.status.is_terminal() {
            writes.extend(droplet_writes(service, &job.state, at).await?);
        }
        Ok(Decision {
            writes,
            value: job.state.status,
            status: 200,
            unchanged_position: 0,
        })
    }
}

/// What a job that just ended did to its droplet (and, for a destroy, to the cluster):
/// nothing when it carries no droplet request or the droplet no longer waits on it. Also
/// used for a job cancelled before a worker ran it.
pub(crate) async fn droplet_writes(
    service: &CommandService,
    job: &Job,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<crate::store::StreamWrite>, CommandError> {
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

pub(crate) fn is_droplet_job(job_type: Option<JobType>) -> bool {
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
