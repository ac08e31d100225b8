use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::domain::cluster::{Day, ScaleWindow};

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

fn metrics_policy() -> AutoscalingPolicy {
    AutoscalingPolicy {
        policy_type: PolicyType::Metrics,
        enabled: true,
        min_droplets: 1,
        max_droplets: 4,
        cooldown_seconds: 300,
        metric_type: Some(MetricType::Cpu),
        scale_up_threshold: Some(80.0),
        scale_down_threshold: Some(30.0),
        evaluation_window_seconds: Some(300),
        windows: Vec::new(),
        cost_limit_per_hour: None,
    }
}

fn with_average(droplets: u32, average: f64) -> Inputs {
    Inputs {
        droplets,
        metric: Some(MetricWindow {
            average,
            samples: 10,
        }),
        hourly_cost: f64::from(droplets) * 0.01,
        droplet_hourly_cost: 0.01,
        ..Inputs::default()
    }
}

fn outcome(d: &Decision) -> (ScaleDecision, u32, DecisionCode) {
    (d.decision, d.count, d.code)
}

#[test]
fn a_hot_cluster_scales_up_by_one_with_a_reason_naming_the_average() {
    // Given 2 droplets averaging 86.2 % cpu
    // When evaluated
    let d = evaluate(&metrics_policy(), &with_average(2, 86.2), at(0));
    // Then one more droplet, because of the threshold
    assert_eq!(
        outcome(&d),
        (ScaleDecision::ScaleUp, 1, DecisionCode::AboveThreshold)
    );
    assert_eq!(
        d.reason,
        "cpu averaged 86.2 % over 300 s, above the scale-up threshold 80 %"
    );
    assert_eq!(d.inputs.metric_average, Some(86.2));
    assert_eq!(d.inputs.samples, Some(10));
    assert_eq!(d.inputs.droplets, 2);
}

#[test]
fn a_cold_cluster_scales_down_by_one_but_never_below_its_minimum() {
    let d = evaluate(&metrics_policy(), &with_average(3, 12.0), at(0));
    assert_eq!(
        outcome(&d),
        (ScaleDecision::ScaleDown, 1, DecisionCode::BelowThreshold)
    );
    let d = evaluate(&metrics_policy(), &with_average(1, 12.0), at(0));
    assert_eq!(outcome(&d), (ScaleDecision::None, 0, DecisionCode::AtMin));
}

#[test]
fn a_hot_cluster_at_its_maximum_stays() {
    let d = evaluate(&metrics_policy(), &with_average(4, 99.0), at(0));
    assert_eq!(outcome(&d), (ScaleDecision::None, 0, DecisionCode::AtMax));
}

#[test]
fn within_the_band_or_without_samples_nothing_happens() {
    let d = evaluate(&metrics_policy(), &with_average(2, 55.0), at(0));
    assert_eq!(
        outcome(&d),
        (ScaleDecision::None, 0, DecisionCode::WithinBand)
    );
    let quiet = Inputs {
        metric: None,
        ..with_average(2, 0.0)
    };
    let d = evaluate(&metrics_policy(), &quiet, at(0));
    assert_eq!(
        outcome(&d),
        (ScaleDecision::None, 0, DecisionCode::NoSamples)
    );
    assert_eq!(d.inputs.samples, Some(0));
}

#[test]
fn the_rules_apply_in_order() {
    let policy = metrics_policy();
    let hot = with_average(2, 95.0);
    // Disabled wins over everything.
    let disabled = AutoscalingPolicy {
        enabled: false,
        ..policy.clone()
    };
    let d = evaluate(&disabled, &hot, at(0));
    assert_eq!(d.code, DecisionCode::Disabled);
    // A deployment, then a running job, then pending droplets.
    let deploying = Inputs {
        deployment_running: true,
        running_job: Some("job_x".into()),
        ..hot.clone()
    };
    assert_eq!(
        evaluate(&policy, &deploying, at(0)).code,
        DecisionCode::DeploymentRunning
    );
    let running = Inputs {
        running_job: Some("job_x".into()),
        pending_droplets: 1,
        ..hot.clone()
    };
    let d = evaluate(&policy, &running, at(0));
    assert_eq!(d.code, DecisionCode::ScaleJobRunning);
    assert_eq!(d.inputs.running_job_id.as_deref(), Some("job_x"));
    let pending = Inputs {
        pending_droplets: 1,
        droplets: 0,
        ..hot.clone()
    };
    assert_eq!(
        evaluate(&policy, &pending, at(0)).code,
        DecisionCode::DropletsPending
    );
    // Below the minimum acts even inside the cooldown.
    let empty = Inputs {
        droplets: 0,
        last_acting_at: Some(at(0)),
        ..hot.clone()
    };
    let d = evaluate(&policy, &empty, at(10));
    assert_eq!(
        outcome(&d),
        (ScaleDecision::ScaleUp, 1, DecisionCode::BelowMin)
    );
    let crowded = Inputs {
        droplets: 7,
        last_acting_at: Some(at(0)),
        ..hot.clone()
    };
    let d = evaluate(&policy, &crowded, at(10));
    assert_eq!(
        outcome(&d),
        (ScaleDecision::ScaleDown, 3, DecisionCode::AboveMax)
    );
    // The cooldown holds back a threshold decision, and says how long.
    let cooling = Inputs {
        last_acting_at: Some(at(0)),
        ..hot
    };
    let d = evaluate(&policy, &cooling, at(100));
    assert_eq!(
        outcome(&d),
        (ScaleDecision::None, 0, DecisionCode::Cooldown)
    );
    assert_eq!(d.inputs.cooldown_remaining_seconds, Some(200));
    let d = evaluate(&policy, &cooling, at(300));
    assert_eq!(d.code, DecisionCode::AboveThreshold, "the cooldown is over");
}

#[test]
fn the_cost_cap_cuts_a_scale_up_or_refuses_it() {
    let policy = AutoscalingPolicy {
        policy_type: PolicyType::Cost,
        cost_limit_per_hour: Some(0.035),
        min_droplets: 5,
        max_droplets: 10,
        ..metrics_policy()
    };
    // 1 droplet at 0.01/h, minimum 5: only 2 more fit under 0.035/h.
    let d = evaluate(&policy, &with_average(1, 50.0), at(0));
    assert_eq!(
        outcome(&d),
        (ScaleDecision::ScaleUp, 2, DecisionCode::BelowMin)
    );
    assert!(d.reason.contains("2 of 4"), "{}", d.reason);
    // 3 droplets: 0.03/h, one more would be 0.04/h.
    let d = evaluate(&policy, &with_average(3, 50.0), at(0));
    assert_eq!(outcome(&d), (ScaleDecision::None, 0, DecisionCode::CostCap));
    assert_eq!(d.inputs.cost_limit_per_hour, Some(0.035));
}

fn window(days: &[Day], start: &str, end: &str, desired: u32) -> ScaleWindow {
    ScaleWindow {
        days: days.to_vec(),
        start: start.into(),
        end: end.into(),
        time_zone: "UTC".into(),
        desired_droplets: desired,
    }
}

fn time_policy() -> AutoscalingPolicy {
    AutoscalingPolicy {
        policy_type: PolicyType::TimeOfDay,
        metric_type: None,
        scale_up_threshold: None,
        scale_down_threshold: None,
        evaluation_window_seconds: None,
        min_droplets: 1,
        max_droplets: 6,
        cooldown_seconds: 0,
        windows: vec![
            window(&Day::ALL, "09:00", "17:00", 4),
            window(&Day::ALL, "08:00", "20:00", 2),
        ],
        ..metrics_policy()
    }
}

fn utc(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, h, m, 0).unwrap()
}

#[test]
fn time_of_day_moves_to_the_first_open_window_and_to_the_minimum_outside() {
    let policy = time_policy();
    let two = Inputs {
        droplets: 2,
        ..Inputs::default()
    };
    // 09:00 opens the first window: 4 wanted.
    let d = evaluate(&policy, &two, utc(9, 0));
    assert_eq!(
        outcome(&d),
        (ScaleDecision::ScaleUp, 2, DecisionCode::Window)
    );
    assert_eq!(d.inputs.desired_droplets, Some(4));
    assert_eq!(
        d.inputs.window.as_deref(),
        Some("mon,tue,wed,thu,fri,sat,sun 09:00-17:00 UTC")
    );
    // 08:59: only the second window is open, which wants what the cluster has.
    let d = evaluate(&policy, &two, utc(8, 59));
    assert_eq!(
        outcome(&d),
        (ScaleDecision::None, 0, DecisionCode::AtDesired)
    );
    // 20:00: outside every window, down to the minimum.
    let d = evaluate(&policy, &two, utc(20, 0));
    assert_eq!(
        outcome(&d),
        (ScaleDecision::ScaleDown, 1, DecisionCode::OutsideWindows)
    );
}

fn arbitrary_policy() -> impl Strategy<Value = AutoscalingPolicy> {
    (
        0u32..10,
        0u32..10,
        prop::option::of(0.005f64..0.2),
        0u32..600,
        prop::bool::ANY,
    )
        .prop_map(|(min, extra, cap, cooldown, time)| {
            let base = if time {
                let mut p = time_policy();
                for w in &mut p.windows {
                    w.desired_droplets = (min + extra).min(min + w.desired_droplets);
                }
                p
            } else {
                metrics_policy()
            };
            AutoscalingPolicy {
                min_droplets: min,
                max_droplets: min + extra,
                cost_limit_per_hour: cap,
                cooldown_seconds: cooldown,
                ..base
            }
        })
}

fn arbitrary_inputs() -> impl Strategy<Value = Inputs> {
    (
        0u32..25,
        prop::option::of((0.0f64..100.0, 0u64..50)),
        0.001f64..0.05,
        prop::option::of(0i64..900),
    )
        .prop_map(|(droplets, metric, price, last)| Inputs {
            droplets,
            metric: metric.map(|(average, samples)| MetricWindow { average, samples }),
            hourly_cost: f64::from(droplets) * price,
            droplet_hourly_cost: price,
            last_acting_at: last.map(|s| at(0) - Duration::seconds(s)),
            ..Inputs::default()
        })
}

proptest! {
    #[test]
    fn decisions_never_cross_the_bounds_nor_the_cost_cap(
        policy in arbitrary_policy(),
        inputs in arbitrary_inputs(),
        minutes in 0i64..(7 * 24 * 60),
    ) {
        let now = at(0) + Duration::minutes(minutes);
        let d = evaluate(&policy, &inputs, now);
        match d.decision {
            ScaleDecision::ScaleUp => {
                prop_assert!(d.count >= 1);
                prop_assert!(inputs.droplets + d.count <= policy.max_droplets);
                if let Some(cap) = policy.cost_limit_per_hour {
                    let after = inputs.hourly_cost + f64::from(d.count) * inputs.droplet_hourly_cost;
                    prop_assert!(after <= cap + 1e-6, "{after} > {cap}");
                }
            }
            ScaleDecision::ScaleDown => {
                prop_assert!(d.count >= 1);
                prop_assert!(d.count <= inputs.droplets);
                prop_assert!(inputs.droplets - d.count >= policy.min_droplets);
            }
            ScaleDecision::None => prop_assert_eq!(d.count, 0),
        }
        prop_assert!(!d.reason.is_empty());
    }

    #[test]
    fn an_average_oscillating_inside_the_band_never_scales(
        averages in prop::collection::vec(30.0f64..=80.0, 1..50),
        droplets in 1u32..=4,
    ) {
        let policy = metrics_policy();
        for (i, average) in averages.into_iter().enumerate() {
            let d = evaluate(&policy, &with_average(droplets, average), at(i as i64 * 30));
            prop_assert_eq!(d.decision, ScaleDecision::None);
            prop_assert_eq!(d.code, DecisionCode::WithinBand);
        }
    }

    #[test]
    fn a_window_is_open_exactly_from_its_start_to_before_its_end(
        start in 0u32..1440,
        length in 1u32..1439,
        day in 0usize..7,
    ) {
        let end = (start + length) % 1440;
        let hhmm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        let w = window(&[Day::ALL[day]], &hhmm(start), &hhmm(end), 1);
        // 2026-12-07 is a Monday (Day::ALL[0]).
        let monday = Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap();
        let opens = monday + Duration::days(day as i64) + Duration::minutes(i64::from(start));
        prop_assert!(w.contains(opens));
        prop_assert!(!w.contains(opens - Duration::minutes(1)) || length == 1439);
        prop_assert!(w.contains(opens + Duration::minutes(i64::from(length) - 1)));
        prop_assert!(!w.contains(opens + Duration::minutes(i64::from(length))));
    }
}
