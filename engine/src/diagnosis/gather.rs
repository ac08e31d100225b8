//! The parts of a diagnosis' inputs that come from health checks and metric samples:
//! the health check's status and issues, and each metric type's trend over the last hour
//! (its average, peak, latest value and least-squares slope per hour).

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::inputs::{DiagnosisInputs, HealthIssueInput, MetricTrend};
use crate::domain::diagnosis::shorten;
use crate::domain::{ClusterId, ClusterStatus, HealthIssue, MetricType};
use crate::metrics::{MetricsError, MetricsStore, SeriesPoint, SeriesQuery};

/// How far back trends look.
pub const TREND_WINDOW_MINUTES: i64 = 60;
/// Seconds per point of a trend's series.
pub const TREND_STEP_SECONDS: u32 = 60;

/// Takes a health check's status (fresher than the recorded one) and its issues (the
/// `status` and `issues` of [`crate::health::ClusterHealth`]).
pub fn apply_health(inputs: &mut DiagnosisInputs, status: ClusterStatus, issues: &[HealthIssue]) {
    inputs.cluster.status = status.as_str().to_owned();
    inputs.health_issues = issues
        .iter()
        .map(|issue| HealthIssueInput {
            kind: wire(&issue.kind),
            severity: wire(&issue.severity),
            metric_type: issue.metric_type.map(|m| m.as_str().to_owned()),
            value: issue.value,
            threshold: issue.threshold,
            droplet_id: issue.droplet_id.as_ref().map(ToString::to_string),
            message: shorten(&issue.message),
        })
        .collect();
}

/// The wire name of a unit enum (`critical`, `metric`, ...).
fn wire<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// The trend of one metric type's series (oldest point first), if it has points.
pub fn trend(metric_type: MetricType, points: &[SeriesPoint]) -> Option<MetricTrend> {
    let last = points.last()?;
    let weight: f64 = points.iter().map(|p| p.count.max(1) as f64).sum();
    let avg = points
        .iter()
        .map(|p| p.avg * p.count.max(1) as f64)
        .sum::<f64>()
        / weight;
    let max = points.iter().map(|p| p.max).fold(f64::MIN, f64::max);
    Some(MetricTrend {
        metric_type: metric_type.as_str().to_owned(),
        avg: round(avg),
        max: round(max),
        last: round(last.avg),
        slope_per_hour: round(slope_per_hour(points)),
    })
}

/// Least-squares slope of the points' averages against time, per hour (0 with fewer than
/// two distinct times).
fn slope_per_hour(points: &[SeriesPoint]) -> f64 {
    let Some(first) = points.first() else {
        return 0.0;
    };
    let xs: Vec<f64> = points
        .iter()
        .map(|p| (p.t - first.t).num_milliseconds() as f64 / 3_600_000.0)
        .collect();
    let n = points.len() as f64;
    let mean_x = xs.iter().sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.avg).sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (x, p) in xs.iter().zip(points) {
        num += (x - mean_x) * (p.avg - mean_y);
        den += (x - mean_x) * (x - mean_x);
    }
    if den > 0.0 {
        num / den
    } else {
        0.0
    }
}

fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// Each metric type's trend of `cluster` over the hour before `now` (types without
/// samples left out).
pub async fn metric_trends(
    store: &dyn MetricsStore,
    cluster: &ClusterId,
    now: DateTime<Utc>,
) -> Result<Vec<MetricTrend>, MetricsError> {
    let mut trends = Vec::new();
    for metric_type in MetricType::ALL {
        let query = SeriesQuery {
            cluster_id: Some(cluster.clone()),
            droplet_id: None,
            metric_type,
            since: now - Duration::minutes(TREND_WINDOW_MINUTES),
            until: now,
            step_seconds: TREND_STEP_SECONDS,
        };
        let points = store.series(&query).await?;
        trends.extend(trend(metric_type, &points));
    }
    Ok(trends)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{DropletId, IssueKind, Severity};

    fn point(minutes: i64, avg: f64, max: f64) -> SeriesPoint {
        let start = DateTime::parse_from_rfc3339("2026-12-06T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        SeriesPoint {
            t: start + Duration::minutes(minutes),
            avg,
            min: avg,
            max,
            count: 1,
        }
    }

    #[test]
    fn a_steady_rise_has_its_slope_per_hour() {
        // +1 every 6 minutes: +10 per hour.
        let points: Vec<_> = (0..10)
            .map(|i| point(i * 6, 50.0 + i as f64, 60.0))
            .collect();
        let trend = trend(MetricType::Cpu, &points).unwrap();
        assert_eq!(trend.metric_type, "cpu");
        assert_eq!(trend.slope_per_hour, 10.0);
        assert_eq!((trend.avg, trend.max, trend.last), (54.5, 60.0, 59.0));
        assert_eq!(super::trend(MetricType::Cpu, &[]), None);
        let flat = super::trend(MetricType::Disk, &[point(0, 40.0, 40.0)]).unwrap();
        assert_eq!(flat.slope_per_hour, 0.0);
    }

    #[test]
    fn the_health_check_sets_the_status_and_issues() {
        let droplet = DropletId::new();
        let issues = vec![HealthIssue {
            kind: IssueKind::Metric,
            severity: Severity::Critical,
            metric_type: Some(MetricType::Memory),
            value: Some(91.2),
            threshold: Some(85.0),
            droplet_id: Some(droplet.clone()),
            message: "memory 91.2% > 85% over 60 s".to_owned(),
        }];
        let mut inputs = DiagnosisInputs::default();
        inputs.cluster.status = "healthy".to_owned();
        apply_health(&mut inputs, ClusterStatus::Critical, &issues);
        assert_eq!(inputs.cluster.status, "critical");
        let issue = &inputs.health_issues[0];
        assert_eq!(
            (issue.kind.as_str(), issue.severity.as_str()),
            ("metric", "critical")
        );
        assert_eq!(issue.metric_type.as_deref(), Some("memory"));
        assert_eq!(issue.droplet_id.as_deref(), Some(droplet.as_str()));
    }
}
