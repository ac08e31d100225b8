//! What a deployment is asked to do: its strategy, health gate and the steps planned
//! from the cluster's droplets when it starts.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::values::{DropletId, MetricType, ValidationError};

/// How a new version reaches the cluster's droplets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Batches of `batch_size` droplets, a health gate after each.
    Rolling,
    /// `target_percent` of the droplets first, a gate, then the rest.
    Canary,
    /// A new set of droplets at the new version, a gate, a switch, then the old set goes.
    BlueGreen,
}

impl Strategy {
    /// Every strategy.
    pub const ALL: [Self; 3] = [Self::Rolling, Self::Canary, Self::BlueGreen];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rolling => "rolling",
            Self::Canary => "canary",
            Self::BlueGreen => "blue_green",
        }
    }

    /// Parses a wire name (field `strategy`).
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| {
                ValidationError::new("strategy", "must be one of: rolling, canary, blue_green")
            })
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Shortest gate window, in seconds.
pub const MIN_GATE_WINDOW: u32 = 5;
/// Longest gate window, in seconds.
pub const MAX_GATE_WINDOW: u32 = 3600;

/// The health gate after a step: the step's droplets must be healthy and `metric`'s
/// average over the last `window_seconds` at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HealthGate {
    /// The metric judged.
    pub metric: MetricType,
    /// The highest average that passes.
    pub max: f64,
    /// How long the gate waits after its step, and the window averaged.
    pub window_seconds: u32,
}

impl HealthGate {
    /// The default gate: CPU below `cpu_warning` (the health checker's warning threshold)
    /// over 30 s.
    pub fn default_with(cpu_warning: f64) -> Self {
        Self {
            metric: MetricType::Cpu,
            max: cpu_warning,
            window_seconds: 30,
        }
    }

    /// Checks the ranges; errors name `health_gate.<field>`.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if !self.max.is_finite() || self.max < 0.0 {
            return Err(ValidationError::new(
                "health_gate.max",
                "must be a finite number >= 0",
            ));
        }
        if !(MIN_GATE_WINDOW..=MAX_GATE_WINDOW).contains(&self.window_seconds) {
            return Err(ValidationError::new(
                "health_gate.window_seconds",
                format!("must be between {MIN_GATE_WINDOW} and {MAX_GATE_WINDOW}"),
            ));
        }
        Ok(())
    }
}

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// A rolling batch: the new version on its droplets.
    Batch,
    /// The canary droplets.
    Canary,
    /// The droplets left after the canary.
    Rest,
    /// Blue-green: create the new set and put the new version on it.
    Green,
    /// Blue-green: traffic moves to the new set (recorded, no job).
    Switch,
    /// Blue-green: destroy the old set.
    Retire,
    /// Back to the previous version (or, blue-green, destroy the new set).
    Rollback,
}

impl StepKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Batch => "batch",
            Self::Canary => "canary",
            Self::Rest => "rest",
            Self::Green => "green",
            Self::Switch => "switch",
            Self::Retire => "retire",
            Self::Rollback => "rollback",
        }
    }

    /// Whether the step changes the version of its droplets (rollback reverts them).
    pub fn sets_version(self) -> bool {
        matches!(self, Self::Batch | Self::Canary | Self::Rest | Self::Green)
    }
}

/// One planned step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlannedStep {
    /// Its kind.
    pub kind: StepKind,
    /// The droplets it acts on (blue-green green: the droplets it creates).
    pub droplet_ids: Vec<DropletId>,
    /// Whether a health gate follows it.
    pub gated: bool,
}

/// The steps of a deployment over `droplets` (sorted, active ones): rolling batches,
/// canary and rest, or blue-green green / switch / retire (`green` are the ids of the
/// new droplets, one per old one).
pub fn plan(
    strategy: Strategy,
    droplets: &[DropletId],
    batch_size: u32,
    target_percent: u8,
    green: &[DropletId],
) -> Vec<PlannedStep> {
    let step = |kind, ids: &[DropletId], gated| PlannedStep {
        kind,
        droplet_ids: ids.to_vec(),
        gated,
    };
    match strategy {
        Strategy::Rolling => droplets
            .chunks(batch_size.max(1) as usize)
            .map(|batch| step(StepKind::Batch, batch, true))
            .collect(),
        Strategy::Canary => {
            let n = canary_count(droplets.len(), target_percent);
            let (canary, rest) = droplets.split_at(n);
            let mut steps = vec![step(StepKind::Canary, canary, true)];
            if !rest.is_empty() {
                steps.push(step(StepKind::Rest, rest, false));
            }
            steps
        }
        Strategy::BlueGreen => vec![
            step(StepKind::Green, green, true),
            step(StepKind::Switch, &[], false),
            step(StepKind::Retire, droplets, false),
        ],
    }
}

/// How many of `total` droplets a canary of `percent` takes: rounded up, at least 1.
pub fn canary_count(total: usize, percent: u8) -> usize {
    let wanted = (total * usize::from(percent.min(100))).div_ceil(100);
    wanted.clamp(1, total.max(1)).min(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<DropletId> {
        (1..=n)
            .map(|i| DropletId::parse(&format!("dr_{i:032x}")).unwrap())
            .collect()
    }

    #[test]
    fn rolling_batches_cover_every_droplet_once() {
        let steps = plan(Strategy::Rolling, &ids(5), 2, 25, &[]);
        let sizes: Vec<usize> = steps.iter().map(|s| s.droplet_ids.len()).collect();
        assert_eq!(sizes, [2, 2, 1]);
        assert!(steps.iter().all(|s| s.gated && s.kind == StepKind::Batch));
    }

    #[test]
    fn a_canary_takes_its_percent_rounded_up_and_at_least_one() {
        assert_eq!(canary_count(4, 25), 1);
        assert_eq!(canary_count(5, 25), 2);
        assert_eq!(canary_count(3, 1), 1);
        assert_eq!(canary_count(3, 100), 3);
        let steps = plan(Strategy::Canary, &ids(3), 1, 100, &[]);
        assert_eq!(steps.len(), 1, "no rest when the canary takes them all");
        let steps = plan(Strategy::Canary, &ids(4), 1, 25, &[]);
        assert_eq!(steps[0].droplet_ids.len(), 1);
        assert_eq!(steps[1].kind, StepKind::Rest);
        assert_eq!(steps[1].droplet_ids.len(), 3);
    }

    #[test]
    fn blue_green_creates_switches_and_retires() {
        let old = ids(2);
        let green: Vec<DropletId> = (10..12)
            .map(|i| DropletId::parse(&format!("dr_{i:032x}")).unwrap())
            .collect();
        let steps = plan(Strategy::BlueGreen, &old, 1, 25, &green);
        let kinds: Vec<StepKind> = steps.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, [StepKind::Green, StepKind::Switch, StepKind::Retire]);
        assert_eq!(steps[0].droplet_ids, green);
        assert_eq!(steps[2].droplet_ids, old);
    }

    #[test]
    fn gates_are_checked() {
        assert!(HealthGate::default_with(80.0).validate().is_ok());
        let bad = HealthGate {
            window_seconds: 4,
            ..HealthGate::default_with(80.0)
        };
        assert_eq!(
            bad.validate().unwrap_err().field,
            "health_gate.window_seconds"
        );
        let bad = HealthGate {
            max: f64::NAN,
            ..HealthGate::default_with(80.0)
        };
        assert_eq!(bad.validate().unwrap_err().field, "health_gate.max");
        assert_eq!(Strategy::parse("blue_green"), Ok(Strategy::BlueGreen));
        assert_eq!(Strategy::parse("big_bang").unwrap_err().field, "strategy");
    }
}
