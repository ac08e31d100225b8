//! What an auto-scaling decision says: scale up, down or not, by how many, why (a code
//! and a sentence) and from which inputs.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The outcome of one evaluation.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ScaleDecision {
    ScaleUp,
    ScaleDown,
    None,
}

impl ScaleDecision {
    /// Every outcome.
    pub const ALL: [Self; 3] = [Self::ScaleUp, Self::ScaleDown, Self::None];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ScaleUp => "scale_up",
            Self::ScaleDown => "scale_down",
            Self::None => "none",
        }
    }

    /// Parses a wire name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == raw)
    }

    /// Whether it starts a scale job.
    pub fn acts(self) -> bool {
        self != Self::None
    }
}

/// The short machine reason of a decision.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DecisionCode {
    AboveThreshold,
    BelowThreshold,
    WithinBand,
    NoSamples,
    Cooldown,
    ScaleJobRunning,
    DropletsPending,
    BelowMin,
    AboveMax,
    AtMax,
    AtMin,
    CostCap,
    Window,
    OutsideWindows,
    AtDesired,
    Disabled,
    DeploymentRunning,
}

impl DecisionCode {
    /// Every code.
    pub const ALL: [Self; 17] = [
        Self::AboveThreshold,
        Self::BelowThreshold,
        Self::WithinBand,
        Self::NoSamples,
        Self::Cooldown,
        Self::ScaleJobRunning,
        Self::DropletsPending,
        Self::BelowMin,
        Self::AboveMax,
        Self::AtMax,
        Self::AtMin,
        Self::CostCap,
        Self::Window,
        Self::OutsideWindows,
        Self::AtDesired,
        Self::Disabled,
        Self::DeploymentRunning,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AboveThreshold => "above_threshold",
            Self::BelowThreshold => "below_threshold",
            Self::WithinBand => "within_band",
            Self::NoSamples => "no_samples",
            Self::Cooldown => "cooldown",
            Self::ScaleJobRunning => "scale_job_running",
            Self::DropletsPending => "droplets_pending",
            Self::BelowMin => "below_min",
            Self::AboveMax => "above_max",
            Self::AtMax => "at_max",
            Self::AtMin => "at_min",
            Self::CostCap => "cost_cap",
            Self::Window => "window",
            Self::OutsideWindows => "outside_windows",
            Self::AtDesired => "at_desired",
            Self::Disabled => "disabled",
            Self::DeploymentRunning => "deployment_running",
        }
    }

    /// Parses a wire name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == raw)
    }
}

/// What started an evaluation.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The scheduled round.
    Schedule,
    /// `POST /v1/clusters/{id}/autoscaling/evaluate`.
    Manual,
}

impl Trigger {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Schedule => "schedule",
            Self::Manual => "manual",
        }
    }

    /// Parses a wire name.
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Schedule, Self::Manual]
            .into_iter()
            .find(|t| t.as_str() == raw)
    }
}

/// What a decision was made from (the fields that do not apply are left out).
#[serde_with::skip_serializing_none]
#[derive(
    Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, utoipa::ToSchema,
)]
pub struct DecisionInputs {
    /// Live droplets (not being provisioned or destroyed).
    pub droplets: u32,
    /// Droplets being provisioned or destroyed.
    pub pending_droplets: u32,
    pub metric_type: Option<String>,
    pub metric_average: Option<f64>,
    pub samples: Option<u64>,
    pub window_seconds: Option<u32>,
    pub scale_up_threshold: Option<f64>,
    pub scale_down_threshold: Option<f64>,
    pub desired_droplets: Option<u32>,
    /// The open window, e.g. `mon,tue 09:00-18:00 Europe/Paris`.
    pub window: Option<String>,
    /// USD per hour of the cluster's droplets.
    pub hourly_cost: f64,
    /// USD per hour of one more droplet.
    pub droplet_hourly_cost: f64,
    pub cost_limit_per_hour: Option<f64>,
    pub cooldown_remaining_seconds: Option<u64>,
    pub running_job_id: Option<String>,
}
