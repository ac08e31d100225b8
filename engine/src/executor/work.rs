//! One attempt of a job: from `job.started`, through its work under the type's
//! [`RetryPolicy`] (time limit, heartbeats, cancellation), to
//! the event that ends it or schedules the next one.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::operations::Operations;
use super::policy::AttemptError;
use super::steps::{AttemptEnd, BeginAttempt, FinishJob, JobStep};
use crate::commands::{CommandContext, CommandError, CommandService};
use crate::domain::{Job, JobCommand, JobError, JobStatus, JobType};
use crate::policies::{Policies, RetryPolicy};
use crate::provider::Providers;

/// What a worker needs to run attempts.
#[derive(Clone)]
pub struct WorkContext {
    /// This worker's name (recorded in `job.started`).
    pub worker: String,
    /// Simulated time of cluster-wide jobs (diagnose, monitor).
    pub sim_delay: Duration,
    /// The providers droplet jobs call.
    pub providers: Arc<Providers>,
    /// Retry policies per job type.
    pub policies: Arc<Policies>,
}

/// How an attempt run here ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ran {
    /// Nothing to run: the job is finished, unknown, or another worker runs it.
    Nothing,
    /// The attempt ended; the job is now in this status.
    Ended {
        /// The job type.
        job_type: Option<JobType>,
        /// The job's status after the attempt.
        status: JobStatus,
        /// How long the attempt took.
        took: Duration,
    },
    /// The attempt stopped being the job's current one while it ran (it was timed out
    /// as lost): its outcome was dropped.
    Superseded,
}

/// Runs the next attempt of `job_id` if it waits for one (queueing a pending job
/// first): its work runs under the policy's time limit, sends heartbeats, and stops when
/// `cancel` turns true; the outcome is recorded against this attempt only.
pub async fn run_attempt(
    service: &CommandService,
    job_id: &str,
    work: &WorkContext,
    cancel: watch::Receiver<bool>,
) -> Result<Ran, CommandError> {
    let Some((ctx, job)) = start(service, job_id, work).await? else {
        return Ok(Ran::Nothing);
    };
    let started = tokio::time::Instant::now();
    let attempt = job.attempts;
    let policy = work.policies.of(job.job_type);
    let Some(outcome) = attempt_outcome(service, &ctx, &job, work, policy, cancel).await else {
        return Ok(Ran::Superseded);
    };
    tracing::debug!(job_id, attempt, ?outcome, "job attempt finished");
    let status = finish(service, &ctx, job_id, attempt, outcome).await?;
    Ok(status.map_or(Ran::Superseded, |status| Ran::Ended {
        job_type: job.job_type,
        status,
        took: started.elapsed(),
    }))
}

/// Carries a job to its end in the calling task, as the runtime would but without
/// waiting: attempt after attempt (backoffs skipped), an attempt left running by another
/// worker taken as lost at once. For tools and tests that need a job done now; never run
/// it beside a runtime that works on the same jobs.
pub async fn run_to_end(
    service: &CommandService,
    job_id: &str,
    work: &WorkContext,
) -> Result<(), CommandError> {
    loop {
        let job = service.load::<Job>(job_id).await?.state;
        if !job.exists() || job.status.is_terminal() {
            return Ok(());
        }
        if job.status == JobStatus::Running {
            let lost = FinishJob {
                job_id: job_id.to_owned(),
                attempt: job.attempts,
                outcome: AttemptEnd::TimedOut {
                    retry_delay_ms: Some(0),
                },
            };
            match service.execute(&job_context(&job), &lost).await {
                Err(error) if !superseded(&error) => return Err(error),
                _ => continue,
            }
        }
        let (_switch, cancel) = watch::channel(false);
        run_attempt(service, job_id, work, cancel).await?;
    }
}

/// Does the attempt's work and says how it went (None: the attempt was superseded).
async fn attempt_outcome(
    service: &CommandService,
    ctx: &CommandContext,
    job: &Job,
    work: &WorkContext,
    policy: &RetryPolicy,
    mut cancel: watch::Receiver<bool>,
) -> Option<AttemptEnd> {
    let job_id = job.id.as_ref().map(ToString::to_string).unwrap_or_default();
    let attempt = job.attempts;
    if job.cancel_requested {
        return Some(AttemptEnd::Cancelled);
    }
    let operations = Operations {
        service,
        providers: &work.providers,
        ctx,
        sim_delay: work.sim_delay,
    };
    let working = operations.perform(job);
    tokio::select! {
        result = tokio::time::timeout(policy.attempt_timeout(), working) => Some(match result {
            Ok(Ok(value)) => AttemptEnd::Succeeded(value),
            Ok(Err(error)) => after_error(policy, job, error),
            Err(_) => AttemptEnd::TimedOut {
                retry_delay_ms: policy.timeout_retry_delay_ms(attempt),
            },
        }),
        _ = cancel.wait_for(|c| *c) => Some(AttemptEnd::Cancelled),
        () = heartbeats(service, ctx, &job_id, attempt, policy.heartbeat_every()) => None,
    }
}

/// Another attempt after the policy's backoff, or a failure for good.
fn after_error(policy: &RetryPolicy, job: &Job, error: AttemptError) -> AttemptEnd {
    if error.retried_under(policy) && job.attempts < job.max_attempts {
        AttemptEnd::Retry {
            delay_ms: policy.delay_ms(job.attempts),
            error: error.message,
        }
    } else {
        AttemptEnd::Failed(error.message)
    }
}

/// Records a heartbeat every `every` until the attempt is no longer the current one
/// (then returns); store failures are logged and the beat tried again.
async fn heartbeats(
    service: &CommandService,
    ctx: &CommandContext,
    job_id: &str,
    attempt: u32,
    every: Duration,
) {
    loop {
        tokio::time::sleep(every).await;
        let beat = JobStep {
            job_id: job_id.to_owned(),
            command: JobCommand::RecordHeartbeat { attempt },
        };
        match service.execute(ctx, &beat).await {
            Ok(_) => {}
            Err(CommandError::Job(_)) => return,
            Err(error) => tracing::warn!(job_id, attempt, %error, "could not record a heartbeat"),
        }
    }
}

/// Records `outcome` for `attempt`; None when the attempt was no longer the current one.
async fn finish(
    service: &CommandService,
    ctx: &CommandContext,
    job_id: &str,
    attempt: u32,
    outcome: AttemptEnd,
) -> Result<Option<JobStatus>, CommandError> {
    let finish = FinishJob {
        job_id: job_id.to_owned(),
        attempt,
        outcome: outcome.clone(),
    };
    match service.execute(ctx, &finish).await {
        Ok(reply) => Ok(reply.fresh()),
        Err(error) if superseded(&error) => Ok(None),
        // Recording the side effects failed (e.g. the droplet moved on): fail the job
        // alone, so it never stays running.
        Err(error) if !matches!(outcome, AttemptEnd::Failed(_)) => {
            tracing::warn!(job_id, attempt, %error, "recording the outcome failed; failing the job");
            let fail = FinishJob {
                job_id: job_id.to_owned(),
                attempt,
                outcome: AttemptEnd::Failed(error.to_string()),
            };
            match service.execute(ctx, &fail).await {
                Ok(reply) => Ok(reply.fresh()),
                Err(error) if superseded(&error) => Ok(None),
                Err(error) => Err(error),
            }
        }
        Err(error) => Err(error),
    }
}

/// The attempt is no longer the job's current one (timed out, or the job ended).
fn superseded(error: &CommandError) -> bool {
    matches!(
        error,
        CommandError::Job(
            JobError::AttemptMismatch { .. }
                | JobError::IllegalTransition { .. }
                | JobError::AlreadyFinished { .. }
        )
    )
}

/// What an attempt of this type is doing (its progress message).
fn doing(job_type: Option<JobType>) -> &'static str {
    match job_type {
        Some(JobType::Provision) => "placing the droplet and creating it at the provider",
        Some(JobType::Resize) => "resizing the droplet at its provider",
        Some(JobType::Destroy) => "destroying the droplet at its provider",
        Some(JobType::Restart | JobType::PowerOn | JobType::PowerOff) => {
            "changing the droplet's power at its provider"
        }
        Some(JobType::ScaleUp) => "adding droplets to the cluster",
        Some(JobType::ScaleDown) => "removing a droplet from the cluster",
        Some(JobType::Diagnose | JobType::Monitor) => "inspecting the cluster",
        Some(JobType::Migrate) => "creating the droplet at the target provider",
        Some(JobType::DeployStep) => "deploying the version on the step's droplets",
        Some(JobType::DeployGate) => "waiting for the health gate's window",
        Some(JobType::DeployRollback) => "rolling the deployment back",
        None => "working",
    }
}

/// Moves the job to `running` under this worker: the loaded state of the started
/// attempt, or None when there is nothing to run here.
async fn start(
    service: &CommandService,
    job_id: &str,
    work: &WorkContext,
) -> Result<Option<(CommandContext, Job)>, CommandError> {
    let job = service.load::<Job>(job_id).await?.state;
    if !job.exists() {
        return Ok(None);
    }
    let ctx = job_context(&job);
    let command = match job.status {
        JobStatus::Queued if job.attempts >= job.max_attempts => {
            // Never left waiting for an attempt it may not make.
            let fail = JobCommand::FailJob {
                attempt: None,
                error: "no attempt left".into(),
            };
            let step = JobStep {
                job_id: job_id.to_owned(),
                command: fail,
            };
            service.execute(&ctx, &step).await?;
            return Ok(None);
        }
        JobStatus::Pending | JobStatus::Queued => BeginAttempt {
            job_id: job_id.to_owned(),
            worker: work.worker.clone(),
            doing: doing(job.job_type).to_owned(),
        },
        // Running elsewhere (a lost attempt is timed out by the runtime), or ended.
        _ => return Ok(None),
    };
    match service.execute(&ctx, &command).await {
        Ok(reply) => Ok(reply.fresh().map(|job| (ctx, job))),
        // Another worker started it first.
        Err(error) if superseded(&error) => Ok(None),
        Err(error) => Err(error),
    }
}

/// A context carrying the job's trace.
fn job_context(job: &Job) -> CommandContext {
    let mut ctx = CommandContext::system();
    if job.trace_id.len() == 32 {
        let span = &uuid::Uuid::new_v4().simple().to_string()[..16];
        ctx.traceparent = format!("00-{}-{span}-01", job.trace_id);
    }
    if let Some(id) = &job.id {
        ctx.causation_id = id.to_string();
    }
    ctx
}
