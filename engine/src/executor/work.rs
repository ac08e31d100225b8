//! Carrying one job from wherever it stands to a terminal state.

use std::time::Duration;

use serde_json::{json, Value};

use super::steps::{inspect, FinishJob, JobStep, Outcome};
use crate::commands::{
    ActOnDroplet, CommandContext, CommandError, CommandService, CreateDroplet, DropletAction, Reply,
};
use crate::domain::{
    Cluster, ClusterId, DropletId, DropletName, Image, Job, JobCommand, JobId, JobStatus, JobType,
    Region, Size,
};

/// What a worker needs to run jobs.
#[derive(Debug, Clone)]
pub struct WorkContext {
    pub worker: String,
    /// Simulated provider time for one job.
    pub sim_delay: Duration,
}

/// Runs job `job_id` to a terminal state (or until it is no longer ours to run).
pub async fn run_job(
    service: &CommandService,
    job_id: &str,
    work: &WorkContext,
) -> Result<(), CommandError> {
    let Some((ctx, attempt)) = start(service, job_id, work).await? else {
        return Ok(());
    };
    let outcome = match perform(service, &ctx, job_id, work).await {
        Ok(outcome) => outcome,
        Err(error) => Outcome::Failed(error.to_string()),
    };
    tracing::debug!(job_id, attempt, ?outcome, "job attempt finished");
    let finish = FinishJob {
        job_id: job_id.to_owned(),
        outcome: outcome.clone(),
    };
    match service.execute(&ctx, &finish).await {
        Ok(_) => Ok(()),
        // Recording the side effects failed (e.g. the droplet moved on): fail the job
        // alone, so it never stays running.
        Err(error) if !matches!(outcome, Outcome::Failed(_)) => {
            let fail = FinishJob {
                job_id: job_id.to_owned(),
                outcome: Outcome::Failed(error.to_string()),
            };
            service.execute(&ctx, &fail).await.map(|_| ())
        }
        Err(error) => Err(error),
    }
}

/// Moves the job to `running` under this worker; None when there is nothing to run.
async fn start(
    service: &CommandService,
    job_id: &str,
    work: &WorkContext,
) -> Result<Option<(CommandContext, u32)>, CommandError> {
    loop {
        let job = service.load::<Job>(job_id).await?;
        if !job.exists() || job.state.status.is_terminal() {
            return Ok(None);
        }
        let ctx = job_context(&job.state);
        let step = |command| JobStep {
            job_id: job_id.to_owned(),
            command,
        };
        match job.state.status {
            JobStatus::Pending => {
                service.execute(&ctx, &step(JobCommand::QueueJob)).await?;
            }
            JobStatus::Queued => {
                let attempt = job.state.attempts + 1;
                let command = JobCommand::StartJob {
                    attempt,
                    worker: work.worker.clone(),
                };
                service.execute(&ctx, &step(command)).await?;
                return Ok(Some((ctx, attempt)));
            }
            JobStatus::Running => recover_lost_attempt(service, &ctx, &job.state).await?,
            _ => return Ok(None),
        }
    }
}

/// A job found running when a worker picks it up lost its worker (a crash or restart).
async fn recover_lost_attempt(
    service: &CommandService,
    ctx: &CommandContext,
    job: &Job,
) -> Result<(), CommandError> {
    let job_id = job.id.as_ref().map(ToString::to_string).unwrap_or_default();
    let outcome = if job.cancel_requested {
        Some(Outcome::Cancelled)
    } else if job.attempts >= job.max_attempts {
        Some(Outcome::Failed(
            "the worker running the last attempt was lost".into(),
        ))
    } else {
        None
    };
    if let Some(outcome) = outcome {
        return service
            .execute(ctx, &FinishJob { job_id, outcome })
            .await
            .map(|_| ());
    }
    let command = JobCommand::ScheduleRetry {
        attempt: job.attempts,
        error: "the worker running this attempt was lost".into(),
        delay_ms: 0,
    };
    service
        .execute(ctx, &JobStep { job_id, command })
        .await
        .map(|_| ())
}

/// Does the job's work, reporting progress and honouring cancellation between steps.
async fn perform(
    service: &CommandService,
    ctx: &CommandContext,
    job_id: &str,
    work: &WorkContext,
) -> Result<Outcome, CommandError> {
    for (progress, message) in [(10u8, "contacting provider"), (60, "waiting for provider")] {
        let report = JobCommand::ReportProgress {
            progress,
            message: Some(message.into()),
        };
        service
            .execute(
                ctx,
                &JobStep {
                    job_id: job_id.to_owned(),
                    command: report,
                },
            )
            .await?;
        tokio::time::sleep(work.sim_delay / 2).await;
        if service.load::<Job>(job_id).await?.state.cancel_requested {
            return Ok(Outcome::Cancelled);
        }
    }
    let job = service.load::<Job>(job_id).await?.state;
    let result = match job.job_type {
        Some(JobType::ScaleUp) => scale_up(service, ctx, &job).await?,
        Some(JobType::ScaleDown) => scale_down(service, ctx, &job).await?,
        Some(JobType::Diagnose | JobType::Monitor) => {
            let cluster_id = job
                .cluster_id
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            inspect(&service.load::<Cluster>(&cluster_id).await?)
        }
        Some(JobType::Migrate) => {
            return Ok(Outcome::Failed(
                "migration needs the provider runtime".into(),
            ))
        }
        _ => json!({ "droplet_id": job.droplet_id }),
    };
    Ok(Outcome::Succeeded(result))
}

/// Adds `parameters.count` (default 1) droplets to the job's own cluster. Child ids are
/// derived from the job id, so a retried attempt does not add them twice.
async fn scale_up(
    service: &CommandService,
    ctx: &CommandContext,
    job: &Job,
) -> Result<Value, CommandError> {
    let cluster_id = job.cluster_id.clone().ok_or(CommandError::NotFound {
        what: "cluster",
        id: String::new(),
    })?;
    let cluster = service.load::<Cluster>(cluster_id.as_str()).await?;
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
            trace_id: job.trace_id.clone(),
        };
        match service.execute(ctx, &command).await {
            Ok(reply) => {
                if let Reply::Fresh { value, .. } = reply {
                    created.push(json!({ "droplet_id": value.droplet.id, "job_id": value.job.id }));
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
async fn scale_down(
    service: &CommandService,
    ctx: &CommandContext,
    job: &Job,
) -> Result<Value, CommandError> {
    let cluster_id = job
        .cluster_id
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let cluster = service.load::<Cluster>(&cluster_id).await?;
    // Droplet ids are UUIDv7-based, so the greatest id is the newest droplet.
    let Some(newest) = cluster.state.droplets.iter().next_back() else {
        return Ok(json!({ "removed": null, "reason": "the cluster has no droplets" }));
    };
    let act = ActOnDroplet::new(
        newest.as_str(),
        DropletAction::Destroy,
        job.trace_id.clone(),
        None,
    );
    let reply = service.execute(ctx, &act).await?;
    let child = reply.fresh().map(|started| started.job.id);
    Ok(json!({ "removed": newest, "job_id": child }))
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
