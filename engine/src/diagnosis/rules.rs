//! The rules engine: a pure function from [`DiagnosisInputs`] to [`Advice`], offline and
//! reproducible.
//!
//! It keeps the seed system's behaviour exactly (see docs/diagnosis.md for the table):
//! score 50, healthy +30, warning +15, critical -20, at least 3 droplets +20, no droplet
//! -30; and the seed's recommendations in the seed's order. What the seed could not see
//! (metric trends, failed jobs, provider faults) only adds insights and recommendations
//! after the seed's.
//!
//! Two of the seed's recommendations need a droplet to act on:
//! - "Check and restart failed droplets" restarts the first *active* droplet a health
//!   issue names (a failed droplet cannot be restarted: its provisioning failed). When
//!   none is named it is a `monitor` action, and its detail names the failed droplets.
//! - "Consider larger droplet sizes" resizes the first droplet (one a health issue names
//!   first) that is active or off and has a next size up in its size class; with none,
//!   it is advice only (`none`).

use super::advice::{Advice, Draft};
use super::inputs::{DiagnosisInputs, DropletInput};
use crate::domain::catalog;
use crate::domain::diagnosis::{health_label, Priority, RecommendedAction};
use crate::domain::{DropletId, Image, Size};

pub use crate::domain::catalog::{DEFAULT_IMAGE, DEFAULT_SIZE};
/// Hours ahead a rising metric is looked at.
pub const TREND_HORIZON_HOURS: f64 = 6.0;

/// The seed's health score of a cluster status and droplet count.
pub fn health_score(status: &str, droplets: u32) -> u8 {
    let mut score: i32 = 50;
    score += match status {
        "healthy" => 30,
        "warning" => 15,
        "critical" => -20,
        _ => 0,
    };
    if droplets >= 3 {
        score += 20;
    }
    if droplets == 0 {
        score -= 30;
    }
    score.clamp(0, 100) as u8
}

/// The rules engine's advice on `inputs` (recommendation ids are given by the caller).
pub fn advise(inputs: &DiagnosisInputs) -> Advice {
    let score = health_score(&inputs.cluster.status, inputs.cluster.droplet_count);
    let mut drafts = seed_recommendations(inputs);
    let mut insights = seed_insights(inputs);
    super::enrich::trends(inputs, &mut insights, &mut drafts);
    super::enrich::failed_jobs(inputs, &mut insights, &mut drafts);
    super::enrich::provider_faults(inputs, &mut insights, &mut drafts);
    Advice {
        health_score: score,
        health_label: health_label(score).to_owned(),
        insights,
        drafts,
    }
}

/// The seed's recommendations, in the seed's order.
fn seed_recommendations(inputs: &DiagnosisInputs) -> Vec<Draft> {
    let n = inputs.cluster.droplet_count;
    let status = inputs.cluster.status.as_str();
    let mut drafts = Vec::new();
    if n < 2 {
        drafts.push(Draft::new(
            "Add droplets for redundancy",
            format!(
                "The cluster has {n} droplet(s); with at least 2 it keeps serving when one fails."
            ),
            Priority::High,
            RecommendedAction::ScaleUp { count: 2 - n },
        ));
    }
    if n == 0 {
        drafts.push(Draft::new(
            "Create an initial droplet",
            format!("The cluster has no droplet: create one ({DEFAULT_SIZE}, {DEFAULT_IMAGE}) in its region."),
            Priority::High,
            create_droplet(),
        ));
    }
    if status == "critical" {
        drafts.push(Draft::new(
            "Scale up immediately",
            "The cluster is critical: add a droplet now to take load off the others.",
            Priority::High,
            RecommendedAction::ScaleUp { count: 1 },
        ));
        drafts.push(restart_draft(inputs));
    }
    if status == "warning" {
        drafts.push(resize_draft(inputs));
        drafts.push(Draft::new(
            "Add monitoring",
            "The cluster is in warning: watch its metrics closely before it turns critical.",
            Priority::Medium,
            RecommendedAction::Monitor {},
        ));
    }
    if (1..=4).contains(&n) {
        drafts.push(Draft::new(
            "Consider scaling up",
            format!("{n} droplet(s) leave little headroom; one more spreads the load."),
            Priority::Low,
            RecommendedAction::ScaleUp { count: 1 },
        ));
    }
    if drafts.is_empty() {
        drafts.push(Draft::new(
            "Configuration looks good",
            "Nothing to change: the cluster is healthy with enough droplets.",
            Priority::Low,
            RecommendedAction::None {},
        ));
    }
    drafts
}

fn create_droplet() -> RecommendedAction {
    match (Size::parse(DEFAULT_SIZE), Image::parse(DEFAULT_IMAGE)) {
        (Ok(size), Ok(image)) => RecommendedAction::CreateDroplet { size, image },
        _ => RecommendedAction::None {},
    }
}

/// "Check and restart failed droplets".
fn restart_draft(inputs: &DiagnosisInputs) -> Draft {
    let failed: Vec<&str> = inputs
        .droplets
        .iter()
        .filter(|d| d.status == "failed")
        .map(|d| d.name.as_str())
        .collect();
    let failed_text = if failed.is_empty() {
        "No droplet has failed.".to_owned()
    } else {
        format!(
            "Failed droplets (destroy and replace them): {}.",
            failed.join(", ")
        )
    };
    let named = flagged(inputs)
        .into_iter()
        .find(|d| d.status == "active")
        .and_then(|d| DropletId::parse(&d.id).ok().map(|id| (id, d)));
    let (action, detail) = match named {
        Some((droplet_id, d)) => (
            RecommendedAction::Restart { droplet_id },
            format!(
                "Restart {} (named by a health check). {failed_text}",
                d.name
            ),
        ),
        None => (
            RecommendedAction::Monitor {},
            format!("Inspect the droplets: no health check names one to restart. {failed_text}"),
        ),
    };
    Draft::new(
        "Check and restart failed droplets",
        detail,
        Priority::High,
        action,
    )
}

/// "Consider larger droplet sizes".
fn resize_draft(inputs: &DiagnosisInputs) -> Draft {
    let mut candidates = flagged(inputs);
    candidates.extend(inputs.droplets.iter());
    let target = candidates.into_iter().find_map(|d| {
        let resizable = d.status == "active" || d.status == "off";
        let id = DropletId::parse(&d.id).ok().filter(|_| resizable)?;
        Some((id, d, next_size(&d.size)?))
    });
    let (action, detail) = match target {
        Some((droplet_id, d, size)) => (
            RecommendedAction::Resize { droplet_id, size },
            format!(
                "Resize {} from {} to {}, the next size up.",
                d.name,
                d.size,
                size.as_str()
            ),
        ),
        None => (
            RecommendedAction::None {},
            "Larger sizes would help, but no droplet can be resized to a larger size now."
                .to_owned(),
        ),
    };
    Draft::new(
        "Consider larger droplet sizes",
        detail,
        Priority::Medium,
        action,
    )
}

/// The droplets a health issue names, in the issues' order (critical ones first).
fn flagged(inputs: &DiagnosisInputs) -> Vec<&DropletInput> {
    let mut issues: Vec<_> = inputs.health_issues.iter().collect();
    issues.sort_by_key(|i| i.severity != "critical");
    issues
        .into_iter()
        .filter_map(|i| i.droplet_id.as_deref())
        .filter_map(|id| inputs.droplets.iter().find(|d| d.id == id))
        .collect()
}

/// The next size up of `slug` in its size class, in catalog order.
pub fn next_size(slug: &str) -> Option<Size> {
    let current = catalog::size(slug)?;
    let sizes = catalog::sizes();
    let at = sizes.iter().position(|s| s.slug == slug)?;
    let next = sizes[at + 1..].iter().find(|s| s.class == current.class)?;
    Size::parse(next.slug).ok()
}

/// The seed's insights: status and droplets, health issues, droplets not running.
fn seed_insights(inputs: &DiagnosisInputs) -> Vec<String> {
    let c = &inputs.cluster;
    let mut insights = vec![format!(
        "Cluster {} is {} with {} droplet(s).",
        c.name, c.status, c.droplet_count
    )];
    match c.droplet_count {
        0 => insights.push("The cluster has no droplet: it serves nothing.".to_owned()),
        1 => insights.push("A single droplet is a single point of failure.".to_owned()),
        _ => {}
    }
    for issue in &inputs.health_issues {
        insights.push(format!("{}: {}", issue.severity, issue.message));
    }
    for status in ["failed", "off", "provisioning"] {
        let names: Vec<&str> = inputs
            .droplets
            .iter()
            .filter(|d| d.status == status)
            .map(|d| d.name.as_str())
            .collect();
        if !names.is_empty() {
            insights.push(format!(
                "{} droplet(s) {status}: {}.",
                names.len(),
                names.join(", ")
            ));
        }
    }
    insights
}

#[cfg(test)]
mod tests;
