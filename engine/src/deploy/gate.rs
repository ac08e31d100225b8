//! The health gate's judgement: a step's droplets pass when every one is active (not
//! failed, not being destroyed) and the gate's metric, averaged over the window on those
//! droplets, is at most the gate's `max`. A droplet whose own average is above `max` is
//! named unhealthy. Without samples the step is judged on droplet health alone, and the
//! reason says so.

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::deployment::{GateVerdict, HealthGate};
use crate::domain::{DropletId, DropletStatus};
use crate::metrics::{MetricsError, MetricsStore, SeriesQuery};

/// One droplet of the step as the gate sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct GateSample {
    pub droplet_id: DropletId,
    pub status: DropletStatus,
    /// The metric's average over the window and how many samples made it.
    pub average: Option<(f64, u64)>,
}

/// What the gate judges.
#[derive(Debug, Clone, PartialEq)]
pub struct GateInput {
    pub after_step: u32,
    pub gate: HealthGate,
    pub droplets: Vec<GateSample>,
    pub at: DateTime<Utc>,
}

/// The verdict on `input` (pure).
pub fn judge(input: &GateInput) -> GateVerdict {
    let gate = &input.gate;
    let metric = gate.metric.as_str();
    let mut unhealthy: Vec<DropletId> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    for droplet in &input.droplets {
        if droplet.status != DropletStatus::Active {
            problems.push(format!("{} is {}", droplet.droplet_id, droplet.status));
            unhealthy.push(droplet.droplet_id.clone());
        } else if let Some((avg, _)) = droplet.average.filter(|(avg, _)| *avg > gate.max) {
            problems.push(format!("{} averaged {avg:.1} {metric}", droplet.droplet_id));
            unhealthy.push(droplet.droplet_id.clone());
        }
    }
    let (sum, count) = input
        .droplets
        .iter()
        .filter_map(|d| d.average)
        .fold((0.0, 0u64), |(sum, n), (avg, c)| {
            (sum + avg * c as f64, n + c)
        });
    let observed = (count > 0).then(|| round(sum / count as f64));
    let over = observed.is_some_and(|avg| avg > gate.max);
    let passed = unhealthy.is_empty() && !over;
    let window = gate.window_seconds;
    let n = input.droplets.len();
    let metric_part = match observed {
        Some(avg) => format!(
            "{metric} averaged {avg:.1} over {window} s on {n} droplet(s) ({count} samples), \
             {} the gate's max {}",
            if over { "above" } else { "within" },
            gate.max
        ),
        None => {
            format!("no {metric} samples in the last {window} s: judged on droplet health alone")
        }
    };
    let reason = if problems.is_empty() {
        format!("{metric_part}; every droplet is active")
    } else {
        format!("{metric_part}; unhealthy: {}", problems.join(", "))
    };
    GateVerdict {
        after_step: input.after_step,
        passed,
        reason,
        metric: gate.metric,
        max: gate.max,
        observed,
        unhealthy_droplets: unhealthy,
        window_seconds: window,
        at: input.at,
    }
}

fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// The gate metric's average and sample count on `droplet_id` over the `window_seconds`
/// before `now` (None: no samples).
pub async fn average(
    store: &dyn MetricsStore,
    cluster_id: &crate::domain::ClusterId,
    droplet_id: &DropletId,
    gate: &HealthGate,
    now: DateTime<Utc>,
) -> Result<Option<(f64, u64)>, MetricsError> {
    let since = now - TimeDelta::seconds(i64::from(gate.window_seconds));
    let points = store
        .series(&SeriesQuery {
            cluster_id: Some(cluster_id.clone()),
            droplet_id: Some(droplet_id.clone()),
            metric_type: gate.metric,
            since,
            until: now + TimeDelta::seconds(1),
            step_seconds: gate.window_seconds.max(1),
        })
        .await?;
    let (sum, count) = points.iter().fold((0.0, 0u64), |(sum, n), p| {
        (sum + p.avg * p.count as f64, n + p.count)
    });
    Ok((count > 0).then(|| (sum / count as f64, count)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::MetricType;

    fn droplet(n: u32, status: DropletStatus, average: Option<(f64, u64)>) -> GateSample {
        GateSample {
            droplet_id: DropletId::parse(&format!("dr_{n:032x}")).unwrap(),
            status,
            average,
        }
    }

    fn input(droplets: Vec<GateSample>) -> GateInput {
        GateInput {
            after_step: 0,
            gate: HealthGate {
                metric: MetricType::Cpu,
                max: 80.0,
                window_seconds: 30,
            },
            droplets,
            at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    #[test]
    fn given_healthy_droplets_below_max_then_the_gate_passes() {
        let verdict = judge(&input(vec![
            droplet(1, DropletStatus::Active, Some((20.0, 3))),
            droplet(2, DropletStatus::Active, Some((40.0, 1))),
        ]));
        assert!(verdict.passed, "{verdict:?}");
        assert_eq!(verdict.observed, Some(25.0));
        assert!(verdict.reason.contains("within"), "{}", verdict.reason);
    }

    #[test]
    fn given_a_droplet_above_max_then_it_fails_and_is_named() {
        let verdict = judge(&input(vec![
            droplet(1, DropletStatus::Active, Some((95.0, 3))),
            droplet(2, DropletStatus::Active, None),
        ]));
        assert!(!verdict.passed);
        assert_eq!(verdict.unhealthy_droplets.len(), 1);
        assert_eq!(verdict.observed, Some(95.0));
    }

    #[test]
    fn given_no_samples_then_droplet_health_alone_decides_and_the_reason_says_so() {
        let healthy = judge(&input(vec![droplet(1, DropletStatus::Active, None)]));
        assert!(healthy.passed);
        assert!(
            healthy.reason.contains("droplet health alone"),
            "{}",
            healthy.reason
        );
        assert_eq!(healthy.observed, None);
        let failed = judge(&input(vec![droplet(1, DropletStatus::Failed, None)]));
        assert!(!failed.passed);
        assert!(failed.reason.contains("is failed"), "{}", failed.reason);
    }
}
