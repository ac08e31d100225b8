//! The executor's commands: each moves a job (and the droplet or cluster it acts on) one
//! step, as events.

use serde_json::{json, Value};

use crate::commands::job_ends::droplet_writes;
use crate::commands::{stream_write, Command, CommandError, CommandService, Decision};
use crate::domain::{Cluster, Decide, Job, JobCommand, JobStatus};
use crate::fold::Loaded;
use crate::store::{now, ReplyKind};

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
            kind: ReplyKind::Done,
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
        let mut step = |job: &mut Loaded<Job>, command| {
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
            kind: ReplyKind::Done,
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
            kind: ReplyKind::Done,
            unchanged_position: job.last_position,
        })
    }
}

/// How a job attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptEnd {
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
    pub outcome: AttemptEnd,
}

impl FinishJob {
    fn job_command(&self, job: &Job) -> JobCommand {
        let attempt = self.attempt;
        match &self.outcome {
            AttemptEnd::Succeeded(result) => JobCommand::SucceedJob {
                attempt,
                result: result.clone(),
            },
            AttemptEnd::Failed(_) | AttemptEnd::Retry { .. } | AttemptEnd::Cancelled
                if job.cancel_requested =>
            {
                JobCommand::ConfirmCancel { attempt }
            }
            AttemptEnd::Failed(error) => JobCommand::FailJob {
                attempt: Some(attempt),
                error: error.clone(),
            },
            AttemptEnd::Retry { error, delay_ms } => JobCommand::ScheduleRetry {
                attempt,
                error: error.clone(),
                delay_ms: *delay_ms,
            },
            AttemptEnd::TimedOut { retry_delay_ms } => JobCommand::TimeOutJob {
                attempt,
                retry_delay_ms: *retry_delay_ms,
            },
            AttemptEnd::Cancelled => JobCommand::FailJob {
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
            kind: ReplyKind::Done,
            unchanged_position: 0,
        })
    }
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
}
