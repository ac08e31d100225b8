//! What the rules engine adds to the seed's advice, after it and never reordering it:
//! metrics rising toward their threshold, failed jobs, faults of the cluster's providers.

use super::advice::Draft;
use super::inputs::DiagnosisInputs;
use super::rules::TREND_HORIZON_HOURS;
use crate::domain::diagnosis::{Priority, RecommendedAction};

/// The seed's health thresholds per metric type (the lowest level that raises an issue).
pub fn threshold(metric_type: &str) -> Option<f64> {
    match metric_type {
        "cpu" => Some(80.0),
        "memory" => Some(85.0),
        "disk" => Some(90.0),
        _ => None,
    }
}

/// Metrics below their threshold but rising toward it within the horizon.
pub fn trends(inputs: &DiagnosisInputs, insights: &mut Vec<String>, drafts: &mut Vec<Draft>) {
    for trend in &inputs.metric_trends {
        let Some(limit) = threshold(&trend.metric_type) else {
            continue;
        };
        if trend.last >= limit || trend.slope_per_hour <= 0.0 {
            continue;
        }
        let hours = (limit - trend.last) / trend.slope_per_hour;
        if hours > TREND_HORIZON_HOURS {
            continue;
        }
        insights.push(format!(
            "{} is rising {:.1} per hour ({:.1} now) and would cross {limit:.0} in about {hours:.1} h.",
            trend.metric_type, trend.slope_per_hour, trend.last
        ));
        drafts.push(Draft::new(
            format!("Plan capacity: {} is rising", trend.metric_type),
            format!(
                "At this rate {} crosses its threshold ({limit:.0}) within {TREND_HORIZON_HOURS:.0} h; \
                 add a droplet before it does.",
                trend.metric_type
            ),
            Priority::Medium,
            RecommendedAction::ScaleUp { count: 1 },
        ));
    }
}

/// The cluster's recent failed jobs.
pub fn failed_jobs(inputs: &DiagnosisInputs, insights: &mut Vec<String>, drafts: &mut Vec<Draft>) {
    if inputs.failed_jobs.is_empty() {
        return;
    }
    let shown: Vec<String> = inputs
        .failed_jobs
        .iter()
        .take(3)
        .map(|j| match &j.error {
            Some(error) => format!("{} ({error})", j.job_type),
            None => j.job_type.clone(),
        })
        .collect();
    insights.push(format!(
        "{} recent job(s) failed: {}.",
        inputs.failed_jobs.len(),
        shown.join("; ")
    ));
    drafts.push(Draft::new(
        "Review failed jobs",
        "Recent jobs of the cluster failed; inspect the cluster before retrying them.",
        Priority::Medium,
        RecommendedAction::Monitor {},
    ));
}

/// Faults of the providers the cluster's droplets run on.
pub fn provider_faults(
    inputs: &DiagnosisInputs,
    insights: &mut Vec<String>,
    drafts: &mut Vec<Draft>,
) {
    for fault in &inputs.provider_faults {
        let hosted = inputs
            .droplets
            .iter()
            .filter(|d| d.provider.as_deref() == Some(fault.provider.as_str()))
            .count();
        if hosted == 0 || (!fault.outage && fault.failure_rate <= 0.0) {
            continue;
        }
        let (what, priority) = if fault.outage {
            ("is in an outage".to_owned(), Priority::High)
        } else {
            let percent = fault.failure_rate * 100.0;
            (
                format!("fails {percent:.0}% of its operations"),
                Priority::Medium,
            )
        };
        insights.push(format!(
            "Provider {} {what}; {hosted} droplet(s) of the cluster run there.",
            fault.provider
        ));
        drafts.push(Draft::new(
            format!("Watch provider {}", fault.provider),
            format!(
                "Provider {} {what}: expect its jobs to fail and hold changes to its droplets \
                 until it recovers.",
                fault.provider
            ),
            priority,
            RecommendedAction::Monitor {},
        ));
    }
}
