//! One cluster's health from its metric window and droplet states (pure).
//!
//! The seed's thresholds: CPU above 80 % is a warning, memory above 85 % and disk above
//! 90 % are critical; the worst issue wins. A metric is judged by its average over the
//! check's window, so one spike does not flip the status and a steady level does not
//! flip it back and forth. A droplet whose provisioning failed is a warning; when every
//! droplet of the cluster failed, each is critical.

#[cfg(test)]
use crate::domain::status_reason as reason;
use crate::domain::{DropletId, DropletStatus, HealthIssue, IssueKind, Severity};
use crate::metrics::{MetricType, WindowSummary};

/// The thresholds a metric's window average is judged by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// CPU above this (percent) is a warning.
    pub cpu_warning: f64,
    /// Memory above this (percent) is critical.
    pub memory_critical: f64,
    /// Disk above this (percent) is critical.
    pub disk_critical: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            cpu_warning: 80.0,
            memory_critical: 85.0,
            disk_critical: 90.0,
        }
    }
}

impl Thresholds {
    /// The threshold and severity of a metric type, if it has one (`network` has none).
    pub fn of(&self, metric: MetricType) -> Option<(f64, Severity)> {
        match metric {
            MetricType::Cpu => Some((self.cpu_warning, Severity::Warning)),
            MetricType::Memory => Some((self.memory_critical, Severity::Critical)),
            MetricType::Disk => Some((self.disk_critical, Severity::Critical)),
            MetricType::Network => None,
        }
    }
}

/// A droplet of the cluster as the check sees it (destroyed droplets left out).
#[derive(Debug, Clone, PartialEq)]
pub struct DropletState {
    pub id: DropletId,
    pub status: DropletStatus,
}

/// The issues of one cluster: metric issues in metric order, then droplet issues.
pub fn evaluate(
    summaries: &[WindowSummary],
    droplets: &[DropletState],
    thresholds: &Thresholds,
    window_seconds: u32,
) -> Vec<HealthIssue> {
    let mut issues: Vec<HealthIssue> = MetricType::ALL
        .into_iter()
        .filter_map(|metric| {
            let (threshold, severity) = thresholds.of(metric)?;
            let summary = summaries.iter().find(|s| s.metric_type == metric)?;
            (summary.count > 0 && summary.avg > threshold).then(|| HealthIssue {
                kind: IssueKind::Metric,
                severity,
                metric_type: Some(metric),
                value: Some(round1(summary.avg)),
                threshold: Some(threshold),
                droplet_id: None,
                message: format!(
                    "{} {:.1}{} > {}{} over {window_seconds} s",
                    metric.as_str(),
                    summary.avg,
                    unit_suffix(metric),
                    threshold,
                    unit_suffix(metric),
                ),
            })
        })
        .collect();
    issues.extend(droplet_issues(droplets));
    issues
}

fn droplet_issues(droplets: &[DropletState]) -> Vec<HealthIssue> {
    let live: Vec<&DropletState> = droplets
        .iter()
        .filter(|d| d.status != DropletStatus::Destroyed)
        .collect();
    let failed: Vec<&&DropletState> = live
        .iter()
        .filter(|d| d.status == DropletStatus::Failed)
        .collect();
    let severity = if !failed.is_empty() && failed.len() == live.len() {
        Severity::Critical
    } else {
        Severity::Warning
    };
    failed
        .into_iter()
        .map(|d| HealthIssue {
            kind: IssueKind::Droplet,
            severity,
            metric_type: None,
            value: None,
            threshold: None,
            droplet_id: Some(d.id.clone()),
            message: format!("droplet {} failed to provision", d.id),
        })
        .collect()
}

fn unit_suffix(metric: MetricType) -> &'static str {
    match metric {
        MetricType::Network => " Mbps",
        _ => "%",
    }
}

fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::{worst_status, ClusterId, ClusterStatus};

    fn window(metric: MetricType, avg: f64) -> WindowSummary {
        let at = Utc::now();
        WindowSummary {
            cluster_id: ClusterId::parse("cl_00000000000000000000000000000001").unwrap(),
            metric_type: metric,
            count: 6,
            avg,
            min: avg,
            max: avg,
            last: avg,
            first_at: at,
            last_at: at,
        }
    }

    fn droplet(n: u8, status: DropletStatus) -> DropletState {
        DropletState {
            id: DropletId::parse(&format!("dr_{n:032x}")).unwrap(),
            status,
        }
    }

    fn status_of(summaries: &[WindowSummary], droplets: &[DropletState]) -> ClusterStatus {
        worst_status(&evaluate(summaries, droplets, &Thresholds::default(), 60))
    }

    #[test]
    fn given_no_samples_and_no_droplets_then_the_cluster_is_healthy() {
        assert_eq!(status_of(&[], &[]), ClusterStatus::Healthy);
    }

    #[test]
    fn given_each_threshold_then_only_above_it_is_an_issue_of_its_severity() {
        let cases = [
            (MetricType::Cpu, 80.0, ClusterStatus::Healthy),
            (MetricType::Cpu, 80.1, ClusterStatus::Warning),
            (MetricType::Memory, 85.0, ClusterStatus::Healthy),
            (MetricType::Memory, 85.5, ClusterStatus::Critical),
            (MetricType::Disk, 90.0, ClusterStatus::Healthy),
            (MetricType::Disk, 99.0, ClusterStatus::Critical),
            (MetricType::Network, 10_000.0, ClusterStatus::Healthy),
        ];
        for (metric, avg, expected) in cases {
            assert_eq!(
                status_of(&[window(metric, avg)], &[]),
                expected,
                "{metric:?} {avg}"
            );
        }
    }

    #[test]
    fn given_a_warning_and_a_critical_metric_then_the_worst_wins_and_both_are_listed() {
        let issues = evaluate(
            &[
                window(MetricType::Memory, 91.24),
                window(MetricType::Cpu, 95.0),
            ],
            &[],
            &Thresholds::default(),
            60,
        );
        assert_eq!(worst_status(&issues), ClusterStatus::Critical);
        assert_eq!(issues.len(), 2);
        assert_eq!(issues[0].metric_type, Some(MetricType::Cpu));
        assert_eq!(issues[1].value, Some(91.2));
        assert_eq!(issues[1].threshold, Some(85.0));
        assert_eq!(issues[1].message, "memory 91.2% > 85% over 60 s");
    }

    #[test]
    fn given_one_failed_droplet_among_active_ones_then_it_is_a_warning() {
        let droplets = [
            droplet(1, DropletStatus::Active),
            droplet(2, DropletStatus::Failed),
        ];
        let issues = evaluate(&[], &droplets, &Thresholds::default(), 60);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].kind, IssueKind::Droplet);
        assert_eq!(issues[0].droplet_id, Some(droplets[1].id.clone()));
        assert_eq!(worst_status(&issues), ClusterStatus::Warning);
    }

    #[test]
    fn given_every_live_droplet_failed_then_the_cluster_is_critical() {
        let droplets = [
            droplet(1, DropletStatus::Failed),
            droplet(2, DropletStatus::Destroyed),
        ];
        assert_eq!(status_of(&[], &droplets), ClusterStatus::Critical);
    }

    #[test]
    fn the_reason_joins_the_issues_or_says_all_pass() {
        assert_eq!(reason(&[]), "all health checks pass");
        let issues = evaluate(
            &[
                window(MetricType::Cpu, 90.0),
                window(MetricType::Disk, 95.0),
            ],
            &[],
            &Thresholds::default(),
            30,
        );
        assert_eq!(
            reason(&issues),
            "cpu 90.0% > 80% over 30 s; disk 95.0% > 90% over 30 s"
        );
    }
}
