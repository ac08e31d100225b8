//! Job commands from callers: create a cluster-level job, cancel a job.

use serde_json::Value;

use super::droplets::JobAccepted;
use super::error::Fields;
use super::job_ends::droplet_writes;
use super::service::{stream_write, Command, CommandService, Decision};
use super::CommandError;
use crate::domain::{Cluster, ClusterId, Decide, Job, JobCommand, JobId, JobStatus, JobType};
use crate::fold::Loaded;
use crate::store::{now, ReplyKind};
use crate::views::JobView;

/// Job types a caller may start through `POST /v1/jobs` (droplet jobs are started through
/// the droplet endpoints, which record the job on the droplet).
pub const CLUSTER_JOB_TYPES: [JobType; 4] = [
    JobType::ScaleUp,
    JobType::ScaleDown,
    JobType::Diagnose,
    JobType::Monitor,
];

/// Start a cluster-level job.
#[derive(Debug, Clone)]
pub struct CreateJob {
    pub id: JobId,
    pub job_type: JobType,
    pub cluster_id: ClusterId,
    pub parameters: Value,
    pub trace_id: String,
}

impl CreateJob {
    /// Validates raw input.
    pub fn parse(
        job_type: &str,
        cluster_id: &str,
        parameters: Option<Value>,
        trace_id: String,
    ) -> Result<Self, CommandError> {
        let mut f = Fields::default();
        let job_type = f.check(JobType::parse(job_type));
        if let Some(t) = job_type.filter(|t| !CLUSTER_JOB_TYPES.contains(t)) {
            let endpoints = if super::deployment_jobs::is_deployment_job(Some(t)) {
                "deployment"
            } else {
                "droplet"
            };
            f.fail(
                "type",
                format!(
                    "{} jobs are started through the {endpoints} endpoints; here use one of \
                     scale_up, scale_down, diagnose, monitor",
                    t.as_str()
                ),
            );
        }
        let cluster_id = f.check(ClusterId::parse(cluster_id));
        let parameters = parameters.unwrap_or(Value::Object(Default::default()));
        if !parameters.is_object() {
            f.fail("parameters", "must be a JSON object");
        }
        f.finish()?;
        match (job_type, cluster_id) {
            (Some(job_type), Some(cluster_id)) => Ok(Self {
                id: JobId::new(),
                job_type,
                cluster_id,
                parameters,
                trace_id,
            }),
            _ => Err(CommandError::Invalid(Vec::new())),
        }
    }
}

impl Command for CreateJob {
    type Output = JobAccepted;

    async fn decide(
        &self,
        service: &CommandService,
    ) -> Result<Decision<JobAccepted>, CommandError> {
        let cluster = service.load::<Cluster>(self.cluster_id.as_str()).await?;
        if !cluster.state.exists() {
            return Err(CommandError::Validation(
                crate::domain::ValidationError::new(
                    "cluster_id",
                    format!("cluster {} does not exist", self.cluster_id),
                ),
            ));
        }
        if cluster.state.deleted {
            return Err(crate::domain::ClusterError::Deleted.into());
        }
        let mut job = Loaded::<Job>::default();
        let events = job.state.decide(JobCommand::CreateJob {
            id: self.id.clone(),
            job_type: self.job_type,
            cluster_id: self.cluster_id.clone(),
            droplet_id: None,
            parameters: self.parameters.clone(),
            trace_id: self.trace_id.clone(),
            max_attempts: service.max_attempts(self.job_type),
        })?;
        let at = now();
        let write = stream_write::<Job>(self.id.as_str(), 0, &events, at)?;
        job.apply_new(&events, at);
        Ok(Decision {
            writes: vec![write],
            value: JobAccepted {
                job: JobView::from_loaded(&job),
            },
            kind: ReplyKind::Accepted,
            unchanged_position: 0,
        })
    }
}

/// Cancel a job: at once if it has not started, else by asking its running attempt.
#[derive(Debug, Clone)]
pub struct CancelJob {
    pub id: String,
    pub reason: Option<String>,
}

impl Command for CancelJob {
    type Output = JobView;

    async fn decide(&self, service: &CommandService) -> Result<Decision<JobView>, CommandError> {
        let mut job = service.load::<Job>(&self.id).await?;
        if !job.exists() {
            return Err(CommandError::NotFound {
                what: "job",
                id: self.id.clone(),
            });
        }
        let expected = job.version;
        let events = job.state.decide(JobCommand::RequestCancel {
            reason: self.reason.clone(),
        })?;
        let at = now();
        job.apply_new(&events, at);
        let mut writes = Vec::new();
        // A job cancelled before it ran ends here, not in a worker: record the end of the
        // droplet request it carried (as a worker would), so that the droplet is not left
        // waiting on a finished job forever.
        if job.state.status == JobStatus::Cancelled {
            writes.extend(droplet_writes(service, &job.state, at).await?);
        }
        writes.push(stream_write::<Job>(&self.id, expected, &events, at)?);
        Ok(Decision {
            writes,
            value: JobView::from_loaded(&job),
            kind: ReplyKind::Done,
            unchanged_position: job.last_position,
        })
    }
}
