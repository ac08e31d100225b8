//! [`DeploymentView`]: a deployment as the API shows it, from its fold and the current
//! state of the droplets it touches.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::deployment::{Deployment, GateVerdict, HealthGate, LogEntry, LogLevel, Step};
use crate::domain::Droplet;
use crate::fold::Loaded;

/// A deployment's health gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GateView {
    /// `cpu`, `memory`, `disk` or `network`.
    pub metric: String,
    /// The highest average that passes.
    pub max: f64,
    /// How long the gate waits after its step, and the window it averages, in seconds.
    pub window_seconds: u32,
}

impl From<&HealthGate> for GateView {
    fn from(gate: &HealthGate) -> Self {
        Self {
            metric: gate.metric.as_str().to_owned(),
            max: gate.max,
            window_seconds: gate.window_seconds,
        }
    }
}

/// One step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StepView {
    pub index: u32,
    /// `batch`, `canary`, `rest`, `green`, `switch`, `retire` or `rollback`.
    pub kind: String,
    pub droplet_ids: Vec<String>,
    /// `pending`, `running`, `completed` or `failed`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<DateTime<Utc>>,
}

impl From<&Step> for StepView {
    fn from(step: &Step) -> Self {
        Self {
            index: step.index,
            kind: step.kind.as_str().to_owned(),
            droplet_ids: step.droplet_ids.iter().map(ToString::to_string).collect(),
            status: step.status.as_str().to_owned(),
            job_id: step.job_id.as_ref().map(ToString::to_string),
            started_at: step.started_at,
            completed_at: step.completed_at,
        }
    }
}

/// What a gate saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GateResultView {
    pub after_step: u32,
    pub passed: bool,
    pub reason: String,
    pub metric: String,
    pub max: f64,
    /// The metric's average over the window (absent: no samples).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed: Option<f64>,
    pub unhealthy_droplets: Vec<String>,
    pub window_seconds: u32,
    pub at: DateTime<Utc>,
}

impl From<&GateVerdict> for GateResultView {
    fn from(v: &GateVerdict) -> Self {
        Self {
            after_step: v.after_step,
            passed: v.passed,
            reason: v.reason.clone(),
            metric: v.metric.as_str().to_owned(),
            max: v.max,
            observed: v.observed,
            unhealthy_droplets: v
                .unhealthy_droplets
                .iter()
                .map(ToString::to_string)
                .collect(),
            window_seconds: v.window_seconds,
            at: v.at,
        }
    }
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogView {
    pub at: DateTime<Utc>,
    /// `info`, `warn` or `error`.
    pub level: String,
    pub message: String,
}

impl From<&LogEntry> for LogView {
    fn from(entry: &LogEntry) -> Self {
        let level = match entry.level {
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        };
        Self {
            at: entry.at,
            level: level.to_owned(),
            message: entry.message.clone(),
        }
    }
}

/// A droplet the deployment touches, as it is now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeploymentDropletView {
    pub droplet_id: String,
    pub name: String,
    /// The application version it runs (`null`: none).
    pub app_version: Option<String>,
    /// The droplet's status (`destroyed` once gone).
    pub status: String,
}

impl DeploymentDropletView {
    /// The view of a folded droplet.
    pub fn of(droplet: &Droplet) -> Self {
        Self {
            droplet_id: droplet
                .id
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            name: droplet
                .name
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            app_version: droplet.app_version.as_ref().map(ToString::to_string),
            status: droplet.status.as_str().to_owned(),
        }
    }
}

/// A deployment as the API shows it.
///
/// `version` is the application version deployed; the deployment stream's version (what
/// `If-Match` and `min_position` reasoning need) is `stream_version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeploymentView {
    /// `dep_...`.
    pub id: String,
    pub cluster_id: String,
    /// `rolling`, `canary` or `blue_green`.
    pub strategy: String,
    /// The application version deployed.
    pub version: String,
    /// The version a rollback returns to (`null`: none).
    pub previous_version: Option<String>,
    /// `running`, `succeeded`, `rolled_back` or `failed`.
    pub status: String,
    /// What happens now, in words (e.g. `gate after batch 2 of 3`).
    pub phase: String,
    pub waiting_for_promotion: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_percent: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u32>,
    pub auto_promote: bool,
    pub health_gate: GateView,
    pub steps: Vec<StepView>,
    pub gates: Vec<GateResultView>,
    pub logs: Vec<LogView>,
    /// The droplets the deployment touches, with their current application version.
    pub droplets: Vec<DeploymentDropletView>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Events on the deployment's stream.
    pub stream_version: u64,
}

impl DeploymentView {
    /// The view of a folded deployment and the droplets it touches (see
    /// [`DeploymentView::droplet_ids`]).
    pub fn new(d: &Loaded<Deployment>, droplets: &[Droplet]) -> Self {
        let s = &d.state;
        let gate = s
            .health_gate
            .unwrap_or_else(|| HealthGate::default_with(80.0));
        Self {
            id: s.id.as_ref().map(ToString::to_string).unwrap_or_default(),
            cluster_id: s
                .cluster_id
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            strategy: s
                .strategy
                .map(|x| x.as_str().to_owned())
                .unwrap_or_default(),
            version: s
                .version
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            previous_version: s.previous_version.as_ref().map(ToString::to_string),
            status: s.status.as_str().to_owned(),
            phase: s.phase(),
            waiting_for_promotion: s.waiting_for_promotion,
            target_percent: s.target_percent,
            batch_size: s.batch_size,
            auto_promote: s.auto_promote,
            health_gate: GateView::from(&gate),
            steps: s.steps.iter().map(StepView::from).collect(),
            gates: s.gates.iter().map(GateResultView::from).collect(),
            logs: s.logs.iter().map(LogView::from).collect(),
            droplets: droplets.iter().map(DeploymentDropletView::of).collect(),
            created_at: s.created_at.or(d.created_at),
            updated_at: s.updated_at.or(d.updated_at),
            finished_at: s.finished_at,
            stream_version: d.version,
        }
    }

    /// The droplets a view of `deployment` shows: those of its steps, in step order,
    /// without repeats.
    pub fn droplet_ids(deployment: &Deployment) -> Vec<crate::domain::DropletId> {
        let mut ids = Vec::new();
        for step in &deployment.steps {
            for id in &step.droplet_ids {
                if !ids.contains(id) {
                    ids.push(id.clone());
                }
            }
        }
        ids
    }
}
