//! What a deployment's jobs record: the deployment's next step when one ends
//! ([`deployment_writes`], appended with the job's end), and a droplet's new application
//! version ([`SetDropletVersion`], once its provider runs it).

use chrono::{DateTime, Utc};

use super::deployments::job_writes;
use super::service::{stream_write, Command, CommandService, Decision};
use super::CommandError;
use crate::domain::cluster::ClusterDeploymentCommand;
use crate::domain::{
    AppVersion, Cluster, ClusterCommand, Decide, Deployment, DeploymentCommand, DeploymentId,
    DeploymentStatus, Droplet, DropletCommand, Job, JobId, JobStatus, JobType,
};
use crate::store::{now, ReplyKind, StreamWrite};

/// What the end of deployment job `job` appends with it: the deployment's next event,
/// the next job's creation, and the cluster's `cluster.deployment_finished` when the
/// deployment ends. Nothing when the job no longer moves its deployment (a rollback
/// started meanwhile, or a repeated end).
pub async fn deployment_writes(
    service: &CommandService,
    job: &Job,
    at: DateTime<Utc>,
) -> Result<Vec<StreamWrite>, CommandError> {
    let (Some(job_id), Some(job_type)) = (job.id.clone(), job.job_type) else {
        return Ok(Vec::new());
    };
    let Some(id) = job.parameters.get("deployment_id").and_then(|v| v.as_str()) else {
        return Ok(Vec::new());
    };
    let mut deployment = service.load::<Deployment>(id).await?;
    if !deployment.state.is_running() {
        return Ok(Vec::new());
    }
    let reason = || job.error.clone().unwrap_or_else(|| job.status.to_string());
    let command = match (job_type, job.status) {
        (JobType::DeployStep, JobStatus::Succeeded) => DeploymentCommand::CompleteStep {
            job_id,
            next_job: JobId::new(),
            at,
        },
        (JobType::DeployGate, JobStatus::Succeeded) => {
            let verdict = job
                .result
                .as_ref()
                .and_then(|r| r.get("verdict"))
                .cloned()
                .map(serde_json::from_value)
                .transpose()?;
            match verdict {
                Some(verdict) => DeploymentCommand::JudgeGate {
                    job_id,
                    verdict,
                    next_job: JobId::new(),
                },
                None => DeploymentCommand::FailJob {
                    job_id,
                    reason: "the gate job answered no verdict".into(),
                    rollback_job: JobId::new(),
                    at,
                },
            }
        }
        (JobType::DeployRollback, JobStatus::Succeeded) => DeploymentCommand::EndRollback {
            job_id,
            outcome: Ok(()),
            at,
        },
        (JobType::DeployRollback, _) => DeploymentCommand::EndRollback {
            job_id,
            outcome: Err(reason()),
            at,
        },
        (JobType::DeployStep | JobType::DeployGate, _) => DeploymentCommand::FailJob {
            job_id,
            reason: reason(),
            rollback_job: JobId::new(),
            at,
        },
        _ => return Ok(Vec::new()),
    };
    let events = deployment.state.decide(command)?;
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let expected = deployment.version;
    deployment.apply_new(&events, at);
    let state = &deployment.state;
    let (Some(cluster_id), Some(deployment_id)) = (state.cluster_id.clone(), state.id.clone())
    else {
        return Ok(Vec::new());
    };
    let mut writes = vec![stream_write::<Deployment>(id, expected, &events, at)?];
    writes.extend(job_writes(
        service,
        &cluster_id,
        &deployment_id,
        &events,
        &job.trace_id,
        at,
    )?);
    if !state.is_running() {
        writes.extend(finish_on_cluster(service, state, at).await?);
    }
    Ok(writes)
}

/// `cluster.deployment_finished` with the version the cluster runs now: the new one
/// after a success (or a failed retire after the switch), else the previous one.
async fn finish_on_cluster(
    service: &CommandService,
    deployment: &Deployment,
    at: DateTime<Utc>,
) -> Result<Option<StreamWrite>, CommandError> {
    let (Some(cluster_id), Some(deployment_id)) = (&deployment.cluster_id, &deployment.id) else {
        return Ok(None);
    };
    let cluster = service.load::<Cluster>(cluster_id.as_str()).await?;
    if !cluster.state.is_live() {
        return Ok(None);
    }
    let runs_new = deployment.status == DeploymentStatus::Succeeded || deployment.switched;
    let app_version = if runs_new {
        deployment.version.clone()
    } else {
        deployment.previous_version.clone()
    };
    let events = cluster.state.decide(ClusterCommand::Deployment(
        ClusterDeploymentCommand::Finish {
            deployment_id: deployment_id.clone(),
            app_version,
        },
    ))?;
    Ok(Some(stream_write::<Cluster>(
        cluster_id.as_str(),
        cluster.version,
        &events,
        at,
    )?))
}

/// Whether a job of `job_type` belongs to a deployment.
pub fn is_deployment_job(job_type: Option<JobType>) -> bool {
    matches!(
        job_type,
        Some(JobType::DeployStep | JobType::DeployGate | JobType::DeployRollback)
    )
}

/// Record that a droplet runs `app_version` now (its provider was asked first).
#[derive(Debug, Clone)]
pub struct SetDropletVersion {
    pub droplet_id: String,
    pub app_version: Option<AppVersion>,
    pub deployment_id: DeploymentId,
}

impl Command for SetDropletVersion {
    type Output = Option<AppVersion>;

    async fn decide(
        &self,
        service: &CommandService,
    ) -> Result<Decision<Option<AppVersion>>, CommandError> {
        let mut droplet = service.load::<Droplet>(&self.droplet_id).await?;
        let events = droplet.state.decide(DropletCommand::SetAppVersion {
            app_version: self.app_version.clone(),
            deployment_id: self.deployment_id.clone(),
        })?;
        let at = now();
        let write = stream_write::<Droplet>(&self.droplet_id, droplet.version, &events, at)?;
        droplet.apply_new(&events, at);
        Ok(Decision {
            writes: vec![write],
            value: droplet.state.app_version,
            kind: ReplyKind::Done,
            unchanged_position: droplet.last_position,
        })
    }
}
