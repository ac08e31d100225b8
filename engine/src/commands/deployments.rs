//! Deployment commands: start a rollout on a cluster, promote a canary waiting at its
//! target, roll back at any point; the views of a deployment and of a cluster's
//! deployments. What the end of a deployment's job appends is in
//! [`super::deployment_jobs`].
//!
//! Every step and gate is a job. A job's end appends, in the job's own append, the
//! deployment's next event and the creation of the next job (or the cluster's
//! `cluster.deployment_finished`), so a crash between two steps can never lose the chain.
//! One deployment per cluster runs at a time: the start appends
//! `cluster.deployment_started` on the cluster's stream, so of two concurrent starts one
//! conflicts, decides again and is refused (`409`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::clusters::load_live;
use super::error::Fields;
use super::service::{stream_write, Command, CommandService, Decision};
use super::CommandError;
use crate::deploy::DeploymentView;
use crate::domain::cluster::ClusterDeploymentCommand;
use crate::domain::deployment::{StartDeployment, MAX_GATE_WINDOW, MIN_GATE_WINDOW};
use crate::domain::{
    AppVersion, Cluster, ClusterCommand, ClusterId, Decide, Deployment, DeploymentCommand,
    DeploymentEvent, DeploymentId, Droplet, DropletId, DropletStatus, HealthGate, Job, JobCommand,
    JobId, JobType, MetricType, Strategy, ValidationError,
};
use crate::fold::Loaded;
use crate::store::{now, ReplyKind, StreamWrite};

/// Canary share when none is given.
pub const DEFAULT_TARGET_PERCENT: u8 = 25;

/// The body of a deployment's start, as callers send it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeploymentInput {
    /// `rolling`, `canary` or `blue_green`.
    #[schema(pattern = "^(rolling|canary|blue_green)$")]
    pub strategy: String,
    /// The application version: 1 to 64 letters, digits, `.`, `_` or `-`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub version: String,
    /// Canary: the share of droplets in the canary, 1 to 100 (default 25).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100)]
    pub target_percent: Option<i64>,
    /// Rolling: droplets per batch, at least 1 (default 1).
    #[serde(default)]
    #[schema(minimum = 1)]
    pub batch_size: Option<i64>,
    /// The gate after each gated step (default: droplets healthy and CPU below the health
    /// checker's warning threshold over 30 s).
    #[serde(default)]
    pub health_gate: Option<HealthGateInput>,
    /// Canary: whether the rest follows a passed gate by itself (default true).
    #[serde(default)]
    pub auto_promote: Option<bool>,
}

/// A health gate as callers send it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthGateInput {
    /// `cpu`, `memory`, `disk` or `network`.
    #[schema(pattern = "^(cpu|memory|disk|network)$")]
    pub metric: String,
    /// The highest average that passes.
    pub max: f64,
    /// The window, 5 to 3600 seconds.
    #[schema(minimum = 5, maximum = 3600)]
    pub window_seconds: i64,
}

/// A deployment answered by a command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeploymentAccepted {
    pub deployment: DeploymentView,
}

/// Start a deployment on a cluster.
#[derive(Debug, Clone)]
pub struct CreateDeployment {
    pub deployment_id: DeploymentId,
    pub cluster_id: ClusterId,
    pub strategy: Strategy,
    pub version: AppVersion,
    pub target_percent: u8,
    pub batch_size: u32,
    pub auto_promote: bool,
    pub health_gate: HealthGate,
    /// The first step's job.
    pub job_id: JobId,
    pub trace_id: String,
}

impl CreateDeployment {
    /// Validates `input` for cluster `cluster_id` (every bad field reported at once);
    /// `default_gate` is the gate when none is given.
    pub fn parse(
        cluster_id: &str,
        input: &DeploymentInput,
        default_gate: HealthGate,
        trace_id: String,
    ) -> Result<Self, CommandError> {
        let cluster_id = ClusterId::parse(cluster_id).map_err(|_| CommandError::NotFound {
            what: "cluster",
            id: cluster_id.to_owned(),
        })?;
        let mut f = Fields::default();
        let strategy = f.check(Strategy::parse(&input.strategy));
        let version = f.check(AppVersion::parse(&input.version));
        let target_percent = f.check(ranged(input.target_percent, "target_percent", 1, 100, 25));
        let batch_size = f.check(ranged(input.batch_size, "batch_size", 1, 10_000, 1));
        let health_gate = match &input.health_gate {
            None => Some(default_gate),
            Some(gate) => gate_of(gate, &mut f),
        };
        f.finish()?;
        match (strategy, version, target_percent, batch_size, health_gate) {
            (Some(strategy), Some(version), Some(percent), Some(batch), Some(health_gate)) => {
                Ok(Self {
                    deployment_id: DeploymentId::new(),
                    cluster_id,
                    strategy,
                    version,
                    target_percent: u8::try_from(percent).unwrap_or(DEFAULT_TARGET_PERCENT),
                    batch_size: u32::try_from(batch).unwrap_or(1),
                    auto_promote: input.auto_promote.unwrap_or(true),
                    health_gate,
                    job_id: JobId::new(),
                    trace_id,
                })
            }
            _ => Err(CommandError::Invalid(Vec::new())),
        }
    }
}

fn ranged(
    value: Option<i64>,
    field: &'static str,
    min: i64,
    max: i64,
    default: i64,
) -> Result<i64, ValidationError> {
    match value {
        None => Ok(default),
        Some(v) if (min..=max).contains(&v) => Ok(v),
        Some(_) => Err(ValidationError::new(
            field,
            format!("must be between {min} and {max}"),
        )),
    }
}

fn gate_of(input: &HealthGateInput, f: &mut Fields) -> Option<HealthGate> {
    let metric = f.check(
        MetricType::parse(&input.metric)
            .map_err(|e| ValidationError::new("health_gate.metric", e.message)),
    );
    let window = f.check(ranged(
        Some(input.window_seconds),
        "health_gate.window_seconds",
        i64::from(MIN_GATE_WINDOW),
        i64::from(MAX_GATE_WINDOW),
        30,
    ));
    let gate = HealthGate {
        metric: metric?,
        max: input.max,
        window_seconds: u32::try_from(window?).ok()?,
    };
    f.check(gate.validate())?;
    Some(gate)
}

impl Command for CreateDeployment {
    type Output = DeploymentAccepted;

    async fn decide(
        &self,
        service: &CommandService,
    ) -> Result<Decision<DeploymentAccepted>, CommandError> {
        let id = self.cluster_id.as_str();
        let mut cluster = load_live(service, id, None).await?;
        let mut active = Vec::new();
        for droplet_id in &cluster.state.droplets {
            let droplet = service.load::<Droplet>(droplet_id.as_str()).await?.state;
            if droplet.status == DropletStatus::Active {
                active.push(droplet);
            }
        }
        let at = now();
        let started = cluster.state.decide(ClusterCommand::Deployment(
            ClusterDeploymentCommand::Start {
                deployment_id: self.deployment_id.clone(),
            },
        ))?;
        let previous_version = cluster
            .state
            .deployments
            .app_version
            .clone()
            .or_else(|| most_common_version(&active));
        let droplets: Vec<DropletId> = active.iter().filter_map(|d| d.id.clone()).collect();
        let green = match self.strategy {
            Strategy::BlueGreen => green_ids(&self.deployment_id, droplets.len())?,
            _ => Vec::new(),
        };
        let mut deployment = Loaded::<Deployment>::default();
        let events =
            deployment
                .state
                .decide(DeploymentCommand::Start(Box::new(StartDeployment {
                    deployment_id: self.deployment_id.clone(),
                    cluster_id: self.cluster_id.clone(),
                    strategy: self.strategy,
                    version: self.version.clone(),
                    previous_version,
                    target_percent: self.target_percent,
                    batch_size: self.batch_size,
                    auto_promote: self.auto_promote,
                    health_gate: self.health_gate,
                    droplets,
                    green,
                    job_id: self.job_id.clone(),
                    at,
                })))?;
        let mut writes = vec![
            stream_write::<Cluster>(id, cluster.version, &started, at)?,
            stream_write::<Deployment>(self.deployment_id.as_str(), 0, &events, at)?,
        ];
        writes.extend(job_writes(
            service,
            &self.cluster_id,
            &self.deployment_id,
            &events,
            &self.trace_id,
            at,
        )?);
        cluster.apply_new(&started, at);
        deployment.apply_new(&events, at);
        Ok(Decision {
            writes,
            value: DeploymentAccepted {
                deployment: DeploymentView::new(&deployment, &active),
            },
            kind: ReplyKind::Accepted,
            unchanged_position: 0,
        })
    }
}

/// The version most of `droplets` run (the earliest in order on a tie), if any runs one.
fn most_common_version(droplets: &[Droplet]) -> Option<AppVersion> {
    let mut counts: BTreeMap<&AppVersion, usize> = BTreeMap::new();
    for version in droplets.iter().filter_map(|d| d.app_version.as_ref()) {
        *counts.entry(version).or_default() += 1;
    }
    let best = counts.values().copied().max()?;
    droplets
        .iter()
        .filter_map(|d| d.app_version.as_ref())
        .find(|v| counts.get(v) == Some(&best))
        .cloned()
}

/// The ids of a blue-green deployment's new droplets: derived from the deployment's id
/// (its time-ordered digits first, so they sort as new droplets), stable across retries.
fn green_ids(deployment: &DeploymentId, n: usize) -> Result<Vec<DropletId>, CommandError> {
    (0..n)
        .map(|i| {
            let hex = derived_hex(deployment.as_str(), &format!("green/{i}"));
            Ok(DropletId::parse(&format!("dr_{hex}"))?)
        })
        .collect()
}

/// 32 hex digits from `id` (a prefixed UUIDv7: its 12 timestamp digits come first) and
/// `salt`.
pub fn derived_hex(id: &str, salt: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = hex::encode(&Sha256::digest(format!("{salt}:{id}").as_bytes())[..16]);
    let hex = id.split_once('_').map_or(id, |(_, hex)| hex);
    match hex
        .get(..12)
        .filter(|t| t.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        Some(timestamp) => format!("{timestamp}{}", &digest[12..]),
        None => digest,
    }
}

/// The creation of every job `events` start (a step, a gate, a rollback).
pub(super) fn job_writes(
    service: &CommandService,
    cluster_id: &ClusterId,
    deployment_id: &DeploymentId,
    events: &[DeploymentEvent],
    trace_id: &str,
    at: DateTime<Utc>,
) -> Result<Vec<StreamWrite>, CommandError> {
    let mut writes = Vec::new();
    for event in events {
        let (job_id, job_type, detail) = match event {
            DeploymentEvent::StepStarted(e) => match &e.job_id {
                Some(job) => (job, JobType::DeployStep, json!({ "step": e.index })),
                None => continue,
            },
            DeploymentEvent::GateStarted(e) => (
                &e.job_id,
                JobType::DeployGate,
                json!({ "after_step": e.after_step }),
            ),
            DeploymentEvent::RollbackStarted(e) => (
                &e.job_id,
                JobType::DeployRollback,
                json!({ "reason": e.reason }),
            ),
            _ => continue,
        };
        let mut parameters = json!({ "deployment_id": deployment_id });
        if let (Some(map), Some(extra)) = (parameters.as_object_mut(), detail.as_object()) {
            map.extend(extra.clone());
        }
        let events = Job::default().decide(JobCommand::CreateJob {
            id: job_id.clone(),
            job_type,
            cluster_id: cluster_id.clone(),
            droplet_id: None,
            parameters,
            trace_id: trace_id.to_owned(),
            max_attempts: service.max_attempts(job_type),
        })?;
        writes.push(stream_write::<Job>(job_id.as_str(), 0, &events, at)?);
    }
    Ok(writes)
}

/// The deployment `id`, or `404`.
async fn existing(service: &CommandService, id: &str) -> Result<Loaded<Deployment>, CommandError> {
    let not_found = || CommandError::NotFound {
        what: "deployment",
        id: id.to_owned(),
    };
    DeploymentId::parse(id).map_err(|_| not_found())?;
    let deployment = service.load::<Deployment>(id).await?;
    if deployment.state.exists() {
        Ok(deployment)
    } else {
        Err(not_found())
    }
}

/// The view of a folded deployment, with the droplets it touches as they are now (those
/// not created yet left out).
pub async fn view(
    service: &CommandService,
    deployment: &Loaded<Deployment>,
) -> Result<DeploymentView, CommandError> {
    let mut droplets = Vec::new();
    for id in DeploymentView::droplet_ids(&deployment.state) {
        let droplet = service.load::<Droplet>(id.as_str()).await?.state;
        if droplet.exists() {
            droplets.push(droplet);
        }
    }
    Ok(DeploymentView::new(deployment, &droplets))
}

/// The deployment `id` as the API shows it, or `404`.
pub async fn deployment_view(
    service: &CommandService,
    id: &str,
) -> Result<DeploymentView, CommandError> {
    view(service, &existing(service, id).await?).await
}

/// Most deployments a cluster's list shows: as many as its state keeps.
pub const LIST_LIMIT: usize = crate::domain::cluster::DEPLOYMENTS_KEPT;

/// The cluster's deployments, newest first (at most [`LIST_LIMIT`]), or `404` for an
/// unknown cluster.
pub async fn cluster_deployments(
    service: &CommandService,
    cluster_id: &str,
) -> Result<Vec<DeploymentView>, CommandError> {
    ClusterId::parse(cluster_id).map_err(|_| CommandError::NotFound {
        what: "cluster",
        id: cluster_id.to_owned(),
    })?;
    let cluster = load_live(service, cluster_id, None).await?;
    let mut views = Vec::new();
    for id in cluster
        .state
        .deployments
        .history
        .iter()
        .rev()
        .take(LIST_LIMIT)
    {
        views.push(view(service, &service.load::<Deployment>(id.as_str()).await?).await?);
    }
    Ok(views)
}

/// Decides `command` on deployment `id` and answers it with the writes of the jobs it
/// starts (and the cancel of the job it stops).
async fn act(
    service: &CommandService,
    id: &str,
    command: DeploymentCommand,
    trace_id: &str,
) -> Result<Decision<DeploymentAccepted>, CommandError> {
    let mut deployment = existing(service, id).await?;
    let events = deployment.state.decide(command)?;
    let at = now();
    let (Some(cluster_id), Some(deployment_id)) = (
        deployment.state.cluster_id.clone(),
        deployment.state.id.clone(),
    ) else {
        return Err(CommandError::NotFound {
            what: "deployment",
            id: id.to_owned(),
        });
    };
    let mut writes = vec![stream_write::<Deployment>(
        id,
        deployment.version,
        &events,
        at,
    )?];
    writes.extend(job_writes(
        service,
        &cluster_id,
        &deployment_id,
        &events,
        trace_id,
        at,
    )?);
    for event in &events {
        if let DeploymentEvent::RollbackStarted(e) = event {
            if let Some(job) = &e.cancels {
                writes.extend(cancel(service, job, at).await?);
            }
        }
    }
    deployment.apply_new(&events, at);
    Ok(Decision {
        writes,
        value: DeploymentAccepted {
            deployment: view(service, &deployment).await?,
        },
        kind: ReplyKind::Accepted,
        unchanged_position: deployment.last_position,
    })
}

/// Asks `job` to stop (at once if it has not started); nothing when it has ended.
async fn cancel(
    service: &CommandService,
    job: &JobId,
    at: DateTime<Utc>,
) -> Result<Option<StreamWrite>, CommandError> {
    let loaded = service.load::<Job>(job.as_str()).await?;
    if !loaded.state.exists() || loaded.state.status.is_terminal() {
        return Ok(None);
    }
    let events = loaded.state.decide(JobCommand::RequestCancel {
        reason: Some("the deployment is rolling back".into()),
    })?;
    Ok(Some(stream_write::<Job>(
        job.as_str(),
        loaded.version,
        &events,
        at,
    )?))
}

/// Roll a deployment back now (`409` once it ended, while it already rolls back, or for a
/// blue-green deployment after its switch). Stops the running step or gate job.
#[derive(Debug, Clone)]
pub struct RollbackDeployment {
    pub deployment_id: String,
    /// The rollback job.
    pub job_id: JobId,
    pub trace_id: String,
}

impl Command for RollbackDeployment {
    type Output = DeploymentAccepted;

    async fn decide(
        &self,
        service: &CommandService,
    ) -> Result<Decision<DeploymentAccepted>, CommandError> {
        let command = DeploymentCommand::Rollback {
            job_id: self.job_id.clone(),
            at: now(),
        };
        act(service, &self.deployment_id, command, &self.trace_id).await
    }
}

/// Promote a canary waiting at its target: the rest follows (`409` otherwise).
#[derive(Debug, Clone)]
pub struct PromoteDeployment {
    pub deployment_id: String,
    /// The job of the rest.
    pub job_id: JobId,
    pub trace_id: String,
}

impl Command for PromoteDeployment {
    type Output = DeploymentAccepted;

    async fn decide(
        &self,
        service: &CommandService,
    ) -> Result<Decision<DeploymentAccepted>, CommandError> {
        let command = DeploymentCommand::Promote {
            job_id: self.job_id.clone(),
            at: now(),
        };
        act(service, &self.deployment_id, command, &self.trace_id).await
    }
}
