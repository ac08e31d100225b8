//! Auto-scaling commands: set and remove a cluster's policy, and record an acting decision
//! of the evaluator ([`crate::autoscaling`]).
//!
//! Recording a decision appends, in one append, `autoscaling.decided` on the cluster's
//! `autoscaler` stream and the scale job's creation (decided as `POST /v1/jobs` decides
//! it: `scale_up` or `scale_down` with parameter `count`). The decision's event id is
//! chosen here, and the caller runs the command under a context caused by it
//! ([`RecordAutoscalingDecision::context`]), so the job's events name the decision as
//! their cause (the decision, the first event of the chain, names itself).

use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::clusters::load_live;
use super::droplets::JobAccepted;
use super::jobs::CreateJob;
use super::service::{stream_write, Command, CommandService, Decision};
use super::{CommandContext, CommandError};
use crate::domain::autoscaler::{AutoscalerCommand, AutoscalingDecided, ScaleDecision};
use crate::domain::cluster::{AutoscalingPolicy, PolicyInput};
use crate::domain::{
    Autoscaler, Cluster, ClusterCommand, ClusterError, ClusterId, Decide, Job, JobId, JobType,
};
use crate::store::{now, ReplyKind};
use crate::views::JobView;

/// What setting or removing a policy did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyChanged {
    /// Whether an event was appended (setting an identical policy appends none).
    pub changed: bool,
    /// The cluster stream's version after the command.
    pub version: u64,
}

/// A cluster id from the path: a malformed one is an unknown cluster.
fn cluster_id(raw: &str) -> Result<ClusterId, CommandError> {
    ClusterId::parse(raw).map_err(|_| CommandError::NotFound {
        what: "cluster",
        id: raw.to_owned(),
    })
}

/// Set (create or replace) a cluster's auto-scaling policy.
#[derive(Debug, Clone)]
pub struct SetAutoscalingPolicy {
    pub cluster_id: ClusterId,
    pub policy: AutoscalingPolicy,
}

impl SetAutoscalingPolicy {
    /// Validates raw input, reporting every bad field.
    pub fn parse(cluster: &str, input: &PolicyInput) -> Result<Self, CommandError> {
        let cluster_id = cluster_id(cluster)?;
        let policy = AutoscalingPolicy::parse(input).map_err(CommandError::Invalid)?;
        Ok(Self { cluster_id, policy })
    }
}

/// Remove a cluster's auto-scaling policy (404 when it has none).
#[derive(Debug, Clone)]
pub struct RemoveAutoscalingPolicy {
    pub cluster_id: ClusterId,
}

impl RemoveAutoscalingPolicy {
    /// Validates the raw id.
    pub fn parse(cluster: &str) -> Result<Self, CommandError> {
        Ok(Self {
            cluster_id: cluster_id(cluster)?,
        })
    }
}

/// Decides `command` on the live cluster `id`.
async fn on_cluster(
    service: &CommandService,
    id: &ClusterId,
    command: ClusterCommand,
) -> Result<Decision<PolicyChanged>, CommandError> {
    let cluster = load_live(service, id.as_str(), None).await?;
    let events = cluster.state.decide(command)?;
    let write = stream_write::<Cluster>(id.as_str(), cluster.version, &events, now())?;
    Ok(Decision {
        writes: vec![write],
        value: PolicyChanged {
            changed: !events.is_empty(),
            version: cluster.version + events.len() as u64,
        },
        kind: ReplyKind::Done,
        unchanged_position: cluster.last_position,
    })
}

impl Command for SetAutoscalingPolicy {
    type Output = PolicyChanged;

    async fn decide(
        &self,
        service: &CommandService,
    ) -> Result<Decision<PolicyChanged>, CommandError> {
        let command = ClusterCommand::SetAutoscalingPolicy(Box::new(self.policy.clone()));
        on_cluster(service, &self.cluster_id, command).await
    }
}

impl Command for RemoveAutoscalingPolicy {
    type Output = PolicyChanged;

    async fn decide(
        &self,
        service: &CommandService,
    ) -> Result<Decision<PolicyChanged>, CommandError> {
        on_cluster(
            service,
            &self.cluster_id,
            ClusterCommand::RemoveAutoscalingPolicy,
        )
        .await
    }
}

/// Record an acting decision and start its scale job, in one append.
#[derive(Debug, Clone)]
pub struct RecordAutoscalingDecision {
    pub cluster_id: ClusterId,
    /// The decision (its `job_id` is the job to create).
    pub decided: AutoscalingDecided,
    /// The policy's cooldown (the aggregate refuses a decision inside it).
    pub cooldown_seconds: u32,
    /// The id of the `autoscaling.decided` event.
    pub event_id: Uuid,
    pub trace_id: String,
}

/// What recording a decision started.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionRecorded {
    /// The scale job.
    pub job: JobView,
}

impl RecordAutoscalingDecision {
    /// A decision to record, with a fresh event id.
    pub fn new(
        cluster_id: ClusterId,
        decided: AutoscalingDecided,
        cooldown_seconds: u32,
        trace_id: String,
    ) -> Self {
        Self {
            cluster_id,
            decided,
            cooldown_seconds,
            event_id: Uuid::now_v7(),
            trace_id,
        }
    }

    /// `ctx` caused by the decision's event: what the command runs under.
    pub fn context(&self, ctx: &CommandContext) -> CommandContext {
        ctx.caused_by(self.event_id.to_string())
    }

    /// The scale job's creation, decided as `POST /v1/jobs` decides it.
    async fn job_decision(
        &self,
        service: &CommandService,
    ) -> Result<Decision<JobAccepted>, CommandError> {
        let job_type = match self.decided.decision {
            ScaleDecision::ScaleUp => JobType::ScaleUp,
            ScaleDecision::ScaleDown => JobType::ScaleDown,
            ScaleDecision::None => {
                return Err(crate::domain::AutoscalerError::NotActing.into());
            }
        };
        CreateJob {
            id: self.decided.job_id.clone(),
            job_type,
            cluster_id: self.cluster_id.clone(),
            parameters: json!({
                "count": self.decided.count,
                "autoscaling": self.decided.code.as_str(),
            }),
            trace_id: self.trace_id.clone(),
        }
        .decide(service)
        .await
    }
}

impl Command for RecordAutoscalingDecision {
    type Output = DecisionRecorded;

    async fn decide(
        &self,
        service: &CommandService,
    ) -> Result<Decision<DecisionRecorded>, CommandError> {
        let id = self.cluster_id.as_str();
        let cluster = load_live(service, id, None).await?;
        // The read models a round decided from may not show a deployment started since.
        if let Some(deployment_id) = cluster.state.deployments.running.clone() {
            return Err(ClusterError::DeploymentRunning { deployment_id }.into());
        }
        let scaler = service.load::<Autoscaler>(id).await?;
        if let Some(running) = running_job(service, &scaler.state).await? {
            return Err(CommandError::ScaleJobRunning(running));
        }
        let events = scaler.state.decide(AutoscalerCommand::Record {
            decided: Box::new(self.decided.clone()),
            cooldown_seconds: self.cooldown_seconds,
        })?;
        let job = self.job_decision(service).await?;
        let mut write = stream_write::<Autoscaler>(id, scaler.version, &events, now())?;
        if let Some(first) = write.events.first_mut() {
            first.id = self.event_id;
        }
        let mut writes = job.writes;
        // Last, so that the append's last position is the decision's.
        writes.push(write);
        Ok(Decision {
            writes,
            value: DecisionRecorded { job: job.value.job },
            kind: ReplyKind::Accepted,
            unchanged_position: scaler.last_position,
        })
    }
}

/// The job of the last acting decision while it has not ended.
async fn running_job(
    service: &CommandService,
    scaler: &Autoscaler,
) -> Result<Option<JobId>, CommandError> {
    let Some(job_id) = scaler.last_job_id.as_ref() else {
        return Ok(None);
    };
    let job = service.load::<Job>(job_id.as_str()).await?;
    let running = job.state.exists() && !job.state.status.is_terminal();
    Ok(running.then(|| job_id.clone()))
}
