use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::domain::{execute, ClusterCommand};

fn metrics_input() -> PolicyInput {
    PolicyInput {
        policy_type: Some("metrics".into()),
        min_droplets: Some(1),
        max_droplets: Some(5),
        metric_type: Some("cpu".into()),
        scale_up_threshold: Some(80.0),
        scale_down_threshold: Some(30.0),
        ..PolicyInput::default()
    }
}

fn window_input(days: &[&str], start: &str, end: &str, zone: &str, desired: i64) -> WindowInput {
    WindowInput {
        days: Some(days.iter().map(|d| (*d).to_owned()).collect()),
        start: Some(start.into()),
        end: Some(end.into()),
        time_zone: Some(zone.into()),
        desired_droplets: Some(desired),
    }
}

fn fields(errors: &[ValidationError]) -> Vec<&'static str> {
    errors.iter().map(|e| e.field).collect()
}

#[test]
fn a_metrics_policy_gets_its_defaults() {
    let policy = AutoscalingPolicy::parse(&metrics_input()).unwrap();
    assert!(policy.enabled);
    assert_eq!(policy.cooldown_seconds, DEFAULT_COOLDOWN_SECONDS);
    assert_eq!(policy.evaluation_window_seconds, Some(300));
    assert_eq!(policy.metric_type, Some(MetricType::Cpu));
    assert!(policy.windows.is_empty());
}

#[test]
fn every_bad_field_is_reported_at_once() {
    // Given an input wrong in many fields
    let input = PolicyInput {
        policy_type: Some("metrics".into()),
        min_droplets: Some(-1),
        max_droplets: Some(101),
        cooldown_seconds: Some(90_000),
        metric_type: Some("gpu".into()),
        scale_up_threshold: Some(120.0),
        scale_down_threshold: None,
        evaluation_window_seconds: Some(10),
        cost_limit_per_hour: Some(0.0),
        ..PolicyInput::default()
    };
    // When it is parsed
    let errors = AutoscalingPolicy::parse(&input).unwrap_err();
    // Then each bad field is named
    let names = fields(&errors);
    for field in [
        "min_droplets",
        "max_droplets",
        "cooldown_seconds",
        "metric_type",
        "scale_down_threshold",
        "evaluation_window_seconds",
        "cost_limit_per_hour",
    ] {
        assert!(names.contains(&field), "{field} missing from {names:?}");
    }
}

#[test]
fn thresholds_must_leave_a_band_and_percentages_stay_within_100() {
    let mut input = metrics_input();
    input.scale_down_threshold = Some(80.0);
    let errors = AutoscalingPolicy::parse(&input).unwrap_err();
    assert_eq!(fields(&errors), ["scale_down_threshold"]);
    input.scale_up_threshold = Some(101.0);
    input.scale_down_threshold = Some(10.0);
    assert_eq!(
        fields(&AutoscalingPolicy::parse(&input).unwrap_err()),
        ["scale_up_threshold"]
    );
    // Network is in Mbps: no ceiling of 100.
    input.metric_type = Some("network".into());
    assert!(AutoscalingPolicy::parse(&input).is_ok());
}

#[test]
fn type_min_and_max_are_required_and_max_is_at_least_min() {
    let errors = AutoscalingPolicy::parse(&PolicyInput::default()).unwrap_err();
    assert_eq!(fields(&errors), ["type", "min_droplets", "max_droplets"]);
    let mut input = metrics_input();
    input.min_droplets = Some(4);
    input.max_droplets = Some(3);
    assert_eq!(
        fields(&AutoscalingPolicy::parse(&input).unwrap_err()),
        ["max_droplets"]
    );
}

#[test]
fn a_cost_policy_requires_its_cap() {
    let mut input = metrics_input();
    input.policy_type = Some("cost".into());
    let errors = AutoscalingPolicy::parse(&input).unwrap_err();
    assert_eq!(fields(&errors), ["cost_limit_per_hour"]);
    input.cost_limit_per_hour = Some(0.05);
    assert_eq!(
        AutoscalingPolicy::parse(&input)
            .unwrap()
            .cost_limit_per_hour,
        Some(0.05)
    );
}

#[test]
fn a_time_of_day_policy_checks_each_window_and_drops_metric_fields() {
    let input = PolicyInput {
        policy_type: Some("time_of_day".into()),
        min_droplets: Some(1),
        max_droplets: Some(4),
        metric_type: Some("cpu".into()),
        windows: Some(vec![
            window_input(&["mon", "fri"], "09:00", "18:00", "Europe/Paris", 3),
            window_input(&["sun"], "22:00", "02:00", "UTC", 2),
        ]),
        ..PolicyInput::default()
    };
    let policy = AutoscalingPolicy::parse(&input).unwrap();
    assert_eq!(policy.windows.len(), 2);
    assert_eq!(policy.metric_type, None, "not used by time_of_day");
    assert_eq!(policy.evaluation_window_seconds, None);

    let bad = PolicyInput {
        windows: Some(vec![
            window_input(&[], "9:00", "09:00", "Mars/Olympus", 9),
            window_input(&["mon", "mon"], "10:00", "10:00", "UTC", 2),
        ]),
        ..input.clone()
    };
    let errors = AutoscalingPolicy::parse(&bad).unwrap_err();
    assert_eq!(fields(&errors), ["windows"], "one message for the field");
    let message = &errors[0].message;
    for part in [
        "windows[0].days",
        "windows[0].start",
        "windows[0].time_zone",
        "windows[0].desired_droplets",
        "windows[1].days: mon is named twice",
        "windows[1].end: must differ",
    ] {
        assert!(message.contains(part), "{part} missing from {message}");
    }
    let empty = PolicyInput {
        windows: Some(Vec::new()),
        ..input
    };
    assert_eq!(
        fields(&AutoscalingPolicy::parse(&empty).unwrap_err()),
        ["windows"]
    );
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn window(days: &[Day], start: &str, end: &str, zone: &str) -> ScaleWindow {
    ScaleWindow {
        days: days.to_vec(),
        start: start.into(),
        end: end.into(),
        time_zone: zone.into(),
        desired_droplets: 1,
    }
}

#[test]
fn a_window_opens_at_its_start_and_closes_at_its_end() {
    // 2026-12-07 is a Monday.
    let w = window(&[Day::Mon], "09:00", "18:00", "UTC");
    assert!(!w.contains(utc(2026, 12, 7, 8, 59)));
    assert!(w.contains(utc(2026, 12, 7, 9, 0)), "start is inclusive");
    assert!(w.contains(utc(2026, 12, 7, 17, 59)));
    assert!(!w.contains(utc(2026, 12, 7, 18, 0)), "end is exclusive");
    assert!(!w.contains(utc(2026, 12, 8, 10, 0)), "not on Tuesday");
}

#[test]
fn a_window_crossing_midnight_belongs_to_the_day_it_starts() {
    // Sunday 22:00 to Monday 02:00.
    let w = window(&[Day::Sun], "22:00", "02:00", "UTC");
    assert!(!w.contains(utc(2026, 12, 6, 21, 59)));
    assert!(w.contains(utc(2026, 12, 6, 22, 0)));
    assert!(w.contains(utc(2026, 12, 7, 0, 0)), "midnight is inside");
    assert!(w.contains(utc(2026, 12, 7, 1, 59)));
    assert!(!w.contains(utc(2026, 12, 7, 2, 0)));
    assert!(
        !w.contains(utc(2026, 12, 7, 23, 0)),
        "Monday evening is not"
    );
}

#[test]
fn windows_follow_their_zone_across_a_daylight_saving_change() {
    // Europe/Paris leaves summer time on Sunday 2026-10-25 at 03:00 local (01:00 UTC).
    let w = window(&[Day::Sat, Day::Sun], "09:00", "10:00", "Europe/Paris");
    // Saturday: UTC+2, so 09:00 local is 07:00 UTC.
    assert!(w.contains(utc(2026, 10, 24, 7, 0)));
    assert!(!w.contains(utc(2026, 10, 24, 8, 0)));
    // Sunday: UTC+1, so 09:00 local is 08:00 UTC.
    assert!(!w.contains(utc(2026, 10, 25, 7, 59)));
    assert!(w.contains(utc(2026, 10, 25, 8, 0)));
    assert!(!w.contains(utc(2026, 10, 25, 9, 0)));
}

#[test]
fn setting_the_same_policy_twice_appends_nothing_and_removing_none_is_not_found() {
    let mut cluster = Cluster {
        id: Some(crate::domain::ClusterId::new()),
        ..Cluster::default()
    };
    let policy = AutoscalingPolicy::parse(&metrics_input()).unwrap();
    let set = || ClusterCommand::SetAutoscalingPolicy(Box::new(policy.clone()));
    assert_eq!(execute(&mut cluster, set()).unwrap().len(), 1);
    assert_eq!(cluster.autoscaling.as_ref(), Some(&policy));
    assert!(execute(&mut cluster, set()).unwrap().is_empty());
    let removed = execute(&mut cluster, ClusterCommand::RemoveAutoscalingPolicy).unwrap();
    assert_eq!(removed.len(), 1);
    assert_eq!(cluster.autoscaling, None);
    assert_eq!(
        execute(&mut cluster, ClusterCommand::RemoveAutoscalingPolicy),
        Err(ClusterError::NoAutoscalingPolicy)
    );
}
