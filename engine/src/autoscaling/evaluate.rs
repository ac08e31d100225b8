//! The evaluator: one cluster's policy and inputs at a moment give one [`Decision`].
//! Synchronous and pure: no I/O, no clock (the moment is an argument).
//!
//! The rules, in order (the first that applies decides):
//! 1. the policy is disabled: `none` (`disabled`);
//! 2. a deployment runs: `none` (`deployment_running`);
//! 3. a scale job runs: `none` (`scale_job_running`); droplets are being provisioned or
//!    destroyed: `none` (`droplets_pending`);
//! 4. fewer droplets than `min_droplets`: `scale_up` to the minimum (`below_min`, the cost
//!    cap still holds); more than `max_droplets`: `scale_down` to the maximum (`above_max`);
//! 5. inside the cooldown of the last acting decision: `none` (`cooldown`, with the
//!    seconds left);
//! 6. `metrics` and `cost`: no samples in the window: `none` (`no_samples`); average above
//!    the up threshold: `scale_up` 1 (`above_threshold`; `at_max` at the maximum); below
//!    the down threshold: `scale_down` 1 (`below_threshold`; `at_min` at the minimum);
//!    between them (the hysteresis band): `none` (`within_band`);
//!    `time_of_day`: the desired droplets of the first window open now (`window`), or
//!    `min_droplets` outside every window (`outside_windows`); move to it in one step
//!    (`at_desired` when there).
//!
//! The cost cap (`cost_limit_per_hour`) cuts a scale-up's count to what keeps the hourly
//! cost within it; when not even one droplet fits, the decision is `none` (`cost_cap`).

use chrono::{DateTime, Utc};

use crate::domain::autoscaler::{cooldown_remaining, DecisionCode, DecisionInputs, ScaleDecision};
use crate::domain::cluster::{AutoscalingPolicy, PolicyType};
use crate::domain::MetricType;

/// A metric's samples over the policy's window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricWindow {
    pub average: f64,
    pub samples: u64,
}

/// What one cluster's decision is made from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inputs {
    /// Live droplets (not being provisioned or destroyed).
    pub droplets: u32,
    /// Droplets being provisioned or destroyed.
    pub pending_droplets: u32,
    /// The policy metric over its window (`None`: no samples).
    pub metric: Option<MetricWindow>,
    /// USD per hour of the cluster's droplets.
    pub hourly_cost: f64,
    /// USD per hour of one more droplet.
    pub droplet_hourly_cost: f64,
    /// When the last acting decision was made.
    pub last_acting_at: Option<DateTime<Utc>>,
    /// A scale job of the cluster that has not ended.
    pub running_job: Option<String>,
    /// Whether a deployment of the cluster runs.
    pub deployment_running: bool,
}

/// One evaluation's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub decision: ScaleDecision,
    /// Droplets to add or remove (0 for `none`).
    pub count: u32,
    pub code: DecisionCode,
    /// A sentence saying why.
    pub reason: String,
    pub inputs: DecisionInputs,
}

/// Rounding slack of cost comparisons (USD per hour).
const COST_EPSILON: f64 = 1e-9;

/// Decides for one cluster at `now` (see the module docs for the rules).
pub fn evaluate(policy: &AutoscalingPolicy, inputs: &Inputs, now: DateTime<Utc>) -> Decision {
    let mut shown = shown_inputs(policy, inputs);
    let (decision, count, code, reason) = decide(policy, inputs, now, &mut shown);
    Decision {
        decision,
        count: if decision.acts() { count } else { 0 },
        code,
        reason,
        inputs: shown,
    }
}

type Outcome = (ScaleDecision, u32, DecisionCode, String);

fn none(code: DecisionCode, reason: String) -> Outcome {
    (ScaleDecision::None, 0, code, reason)
}

fn decide(
    policy: &AutoscalingPolicy,
    inputs: &Inputs,
    now: DateTime<Utc>,
    shown: &mut DecisionInputs,
) -> Outcome {
    use DecisionCode as C;
    let (live, min, max) = (inputs.droplets, policy.min_droplets, policy.max_droplets);
    if !policy.enabled {
        return none(C::Disabled, "the policy is disabled".into());
    }
    if inputs.deployment_running {
        return none(
            C::DeploymentRunning,
            "a deployment is running; scaling waits for it to end".into(),
        );
    }
    if let Some(job) = &inputs.running_job {
        shown.running_job_id = Some(job.clone());
        return none(
            C::ScaleJobRunning,
            format!("scale job {job} is still running"),
        );
    }
    if inputs.pending_droplets > 0 {
        return none(
            C::DropletsPending,
            format!(
                "{} droplet(s) are being provisioned or destroyed",
                inputs.pending_droplets
            ),
        );
    }
    if live < min {
        let reason = format!("{live} droplet(s), below the minimum {min}");
        return scale_up(policy, inputs, min - live, C::BelowMin, reason);
    }
    if live > max {
        let reason = format!("{live} droplet(s), above the maximum {max}");
        return (ScaleDecision::ScaleDown, live - max, C::AboveMax, reason);
    }
    let left = cooldown_remaining(inputs.last_acting_at, now, policy.cooldown_seconds);
    if left > 0 {
        shown.cooldown_remaining_seconds = Some(left);
        return none(
            C::Cooldown,
            format!(
                "in cooldown: {left} s left of {} s since the last scaling decision",
                policy.cooldown_seconds
            ),
        );
    }
    match policy.policy_type {
        PolicyType::Metrics | PolicyType::Cost => by_metric(policy, inputs),
        PolicyType::TimeOfDay => by_time(policy, inputs, now, shown),
    }
}

fn by_metric(policy: &AutoscalingPolicy, inputs: &Inputs) -> Outcome {
    use DecisionCode as C;
    let metric = policy.metric_type.unwrap_or(MetricType::Cpu);
    let window = policy.evaluation_window_seconds.unwrap_or(300);
    let (up, down) = (
        policy.scale_up_threshold.unwrap_or(f64::MAX),
        policy.scale_down_threshold.unwrap_or(f64::MIN),
    );
    let Some(m) = inputs.metric.filter(|m| m.samples > 0) else {
        return none(
            C::NoSamples,
            format!("no {} samples in the last {window} s", metric.as_str()),
        );
    };
    let unit = unit(metric);
    let averaged = format!(
        "{} averaged {:.1}{unit} over {window} s",
        metric.as_str(),
        m.average
    );
    let live = inputs.droplets;
    if m.average > up {
        if live >= policy.max_droplets {
            let reason = format!(
                "{averaged}, above the scale-up threshold {up}{unit}, but the cluster is at its maximum {}",
                policy.max_droplets
            );
            return none(C::AtMax, reason);
        }
        let reason = format!("{averaged}, above the scale-up threshold {up}{unit}");
        return scale_up(policy, inputs, 1, C::AboveThreshold, reason);
    }
    if m.average < down {
        if live <= policy.min_droplets {
            let reason = format!(
                "{averaged}, below the scale-down threshold {down}{unit}, but the cluster is at its minimum {}",
                policy.min_droplets
            );
            return none(C::AtMin, reason);
        }
        let reason = format!("{averaged}, below the scale-down threshold {down}{unit}");
        return (ScaleDecision::ScaleDown, 1, C::BelowThreshold, reason);
    }
    none(
        C::WithinBand,
        format!("{averaged}, within the band {down}{unit} to {up}{unit}"),
    )
}

fn by_time(
    policy: &AutoscalingPolicy,
    inputs: &Inputs,
    now: DateTime<Utc>,
    shown: &mut DecisionInputs,
) -> Outcome {
    use DecisionCode as C;
    let (desired, code, why) = match policy.open_window(now) {
        Some(w) => {
            shown.window = Some(w.to_string());
            (
                w.desired_droplets,
                C::Window,
                format!("window {w} wants {}", w.desired_droplets),
            )
        }
        None => (
            policy.min_droplets,
            C::OutsideWindows,
            format!("outside every window: the minimum {}", policy.min_droplets),
        ),
    };
    let desired = desired.clamp(policy.min_droplets, policy.max_droplets);
    shown.desired_droplets = Some(desired);
    let live = inputs.droplets;
    if desired > live {
        let reason = format!("{why}; the cluster has {live}");
        scale_up(policy, inputs, desired - live, code, reason)
    } else if desired < live {
        let reason = format!("{why}; the cluster has {live}");
        (ScaleDecision::ScaleDown, live - desired, code, reason)
    } else {
        none(C::AtDesired, format!("{why}; the cluster has that many"))
    }
}

/// A scale-up of `wanted` droplets, cut to the maximum and to the cost cap.
fn scale_up(
    policy: &AutoscalingPolicy,
    inputs: &Inputs,
    wanted: u32,
    code: DecisionCode,
    reason: String,
) -> Outcome {
    let room = policy.max_droplets.saturating_sub(inputs.droplets);
    let wanted = wanted.min(room);
    let affordable = affordable(policy, inputs);
    let count = wanted.min(affordable);
    if count == 0 {
        let limit = policy.cost_limit_per_hour.unwrap_or_default();
        return none(
            DecisionCode::CostCap,
            format!(
                "{reason}, but one more droplet (${:.4}/h) would take the cost ${:.4}/h above the cap ${limit:.4}/h",
                inputs.droplet_hourly_cost, inputs.hourly_cost
            ),
        );
    }
    let reason = if count < wanted {
        format!("{reason}; {count} of {wanted} droplet(s) fit under the cost cap")
    } else {
        reason
    };
    (ScaleDecision::ScaleUp, count, code, reason)
}

/// How many more droplets the cost cap allows (`u32::MAX` without a cap or a price).
pub fn affordable(policy: &AutoscalingPolicy, inputs: &Inputs) -> u32 {
    let Some(limit) = policy.cost_limit_per_hour else {
        return u32::MAX;
    };
    if inputs.droplet_hourly_cost <= 0.0 {
        return u32::MAX;
    }
    let room = (limit - inputs.hourly_cost + COST_EPSILON) / inputs.droplet_hourly_cost;
    if room <= 0.0 {
        0
    } else {
        room.floor().min(f64::from(u32::MAX)) as u32
    }
}

fn unit(metric: MetricType) -> &'static str {
    match metric {
        MetricType::Network => " Mbps",
        _ => " %",
    }
}

/// The inputs as a decision shows them.
fn shown_inputs(policy: &AutoscalingPolicy, inputs: &Inputs) -> DecisionInputs {
    let metric = policy.policy_type.uses_metric();
    DecisionInputs {
        droplets: inputs.droplets,
        pending_droplets: inputs.pending_droplets,
        metric_type: policy
            .metric_type
            .filter(|_| metric)
            .map(|m| m.as_str().to_owned()),
        metric_average: inputs.metric.filter(|_| metric).map(|m| round(m.average)),
        samples: metric.then(|| inputs.metric.map_or(0, |m| m.samples)),
        window_seconds: policy.evaluation_window_seconds.filter(|_| metric),
        scale_up_threshold: policy.scale_up_threshold.filter(|_| metric),
        scale_down_threshold: policy.scale_down_threshold.filter(|_| metric),
        desired_droplets: None,
        window: None,
        hourly_cost: round_cost(inputs.hourly_cost),
        droplet_hourly_cost: round_cost(inputs.droplet_hourly_cost),
        cost_limit_per_hour: policy.cost_limit_per_hour,
        cooldown_remaining_seconds: None,
        running_job_id: None,
    }
}

fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn round_cost(value: f64) -> f64 {
    (value * 1_000_000.0).round() / 1_000_000.0
}

#[cfg(test)]
#[path = "evaluate_tests.rs"]
mod tests;
