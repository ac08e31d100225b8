//! The rules engine against the seed's table (every status x droplet count), and what it
//! adds after the seed's advice.

use super::*;
use crate::diagnosis::inputs::{
    ClusterInput, FailedJobInput, HealthIssueInput, MetricTrend, ProviderFaultInput,
};
use crate::domain::DiagnosisId;

fn droplet_id(i: u32) -> String {
    format!("dr_{i:032x}")
}

/// A cluster in `status` with `n` active `s-1vcpu-1gb` droplets on simcloud.
fn inputs(status: &str, n: u32) -> DiagnosisInputs {
    DiagnosisInputs {
        cluster: ClusterInput {
            id: format!("cl_{:032x}", 1),
            name: "web".to_owned(),
            status: status.to_owned(),
            droplet_count: n,
        },
        droplets: (1..=n)
            .map(|i| DropletInput {
                id: droplet_id(i),
                name: format!("web-{i}"),
                status: "active".to_owned(),
                size: "s-1vcpu-1gb".to_owned(),
                provider: Some("simcloud".to_owned()),
            })
            .collect(),
        ..DiagnosisInputs::default()
    }
}

/// Each recommendation as `"title: action type"`.
fn summary(advice: &Advice) -> Vec<String> {
    advice
        .drafts
        .iter()
        .map(|d| format!("{}: {}", d.title, d.action.type_str()))
        .collect()
}

const REDUNDANCY: &str = "Add droplets for redundancy: scale_up";
const INITIAL: &str = "Create an initial droplet: create_droplet";
const NOW: &str = "Scale up immediately: scale_up";
const CHECK: &str = "Check and restart failed droplets: monitor";
const LARGER: &str = "Consider larger droplet sizes: resize";
const LARGER_NONE: &str = "Consider larger droplet sizes: none";
const MONITORING: &str = "Add monitoring: monitor";
const SCALE: &str = "Consider scaling up: scale_up";
const GOOD: &str = "Configuration looks good: none";

#[test]
fn the_seed_table() {
    #[rustfmt::skip]
    let table: [(&str, u32, u8, &str, &[&str]); 15] = [
        ("healthy", 0, 50, "Needs Attention", &[REDUNDANCY, INITIAL]),
        ("healthy", 1, 80, "Excellent", &[REDUNDANCY, SCALE]),
        ("healthy", 2, 80, "Excellent", &[SCALE]),
        ("healthy", 3, 100, "Excellent", &[SCALE]),
        ("healthy", 5, 100, "Excellent", &[GOOD]),
        ("warning", 0, 35, "Needs Attention", &[REDUNDANCY, INITIAL, LARGER_NONE, MONITORING]),
        ("warning", 1, 65, "Good", &[REDUNDANCY, LARGER, MONITORING, SCALE]),
        ("warning", 2, 65, "Good", &[LARGER, MONITORING, SCALE]),
        ("warning", 3, 85, "Excellent", &[LARGER, MONITORING, SCALE]),
        ("warning", 5, 85, "Excellent", &[LARGER, MONITORING]),
        ("critical", 0, 0, "Needs Attention", &[REDUNDANCY, INITIAL, NOW, CHECK]),
        ("critical", 1, 30, "Needs Attention", &[REDUNDANCY, NOW, CHECK, SCALE]),
        ("critical", 2, 30, "Needs Attention", &[NOW, CHECK, SCALE]),
        ("critical", 3, 50, "Needs Attention", &[NOW, CHECK, SCALE]),
        ("critical", 5, 50, "Needs Attention", &[NOW, CHECK]),
    ];
    for (status, n, score, label, expected) in table {
        let advice = advise(&inputs(status, n));
        let row = format!("{status} x {n}");
        assert_eq!(advice.health_score, score, "{row}");
        assert_eq!(advice.health_label, label, "{row}");
        assert_eq!(summary(&advice), expected, "{row}");
    }
}

#[test]
fn redundancy_asks_for_the_missing_droplets_and_resize_for_the_next_size() {
    let advice = advise(&inputs("warning", 0));
    assert_eq!(
        advice.drafts[0].action,
        RecommendedAction::ScaleUp { count: 2 }
    );
    let advice = advise(&inputs("warning", 1));
    assert_eq!(
        advice.drafts[0].action,
        RecommendedAction::ScaleUp { count: 1 }
    );
    assert_eq!(
        advice.drafts[1].action,
        RecommendedAction::Resize {
            droplet_id: DropletId::parse(&droplet_id(1)).unwrap(),
            size: Size::parse("s-1vcpu-2gb").unwrap(),
        }
    );
    let advice = advise(&inputs("healthy", 0));
    assert_eq!(
        advice.drafts[1].action,
        RecommendedAction::CreateDroplet {
            size: Size::parse(DEFAULT_SIZE).unwrap(),
            image: Image::parse(DEFAULT_IMAGE).unwrap(),
        }
    );
}

#[test]
fn next_sizes_stay_in_their_class() {
    let next = |slug: &str| next_size(slug).map(|s| s.as_str());
    assert_eq!(next("s-1vcpu-1gb"), Some("s-1vcpu-2gb"));
    assert_eq!(next("s-2vcpu-4gb"), Some("s-4vcpu-8gb"));
    assert_eq!(next("s-4vcpu-8gb"), None);
    assert_eq!(next("c-2"), None);
    assert_eq!(next("m-1vcpu-8gb"), None);
    assert_eq!(next("nope"), None);
}

fn issue(severity: &str, droplet: Option<String>) -> HealthIssueInput {
    HealthIssueInput {
        kind: "droplet".to_owned(),
        severity: severity.to_owned(),
        droplet_id: droplet,
        message: "memory 91 above 85".to_owned(),
        ..HealthIssueInput::default()
    }
}

#[test]
fn a_critical_cluster_restarts_the_droplet_a_health_check_names() {
    let mut inputs = inputs("critical", 3);
    inputs.droplets[0].status = "failed".to_owned();
    inputs.health_issues = vec![issue("critical", Some(droplet_id(2)))];
    let advice = advise(&inputs);
    let check = &advice.drafts[1];
    assert_eq!(
        check.action,
        RecommendedAction::Restart {
            droplet_id: DropletId::parse(&droplet_id(2)).unwrap()
        }
    );
    assert!(check.detail.contains("web-2"), "{}", check.detail);
    assert!(
        check.detail.contains("web-1"),
        "names the failed: {}",
        check.detail
    );
    assert!(advice
        .insights
        .iter()
        .any(|i| i == "critical: memory 91 above 85"));
    assert!(advice
        .insights
        .iter()
        .any(|i| i == "1 droplet(s) failed: web-1."));
    // A failed droplet named by a check cannot be restarted: inspect instead.
    inputs.health_issues = vec![issue("critical", Some(droplet_id(1)))];
    assert_eq!(
        advise(&inputs).drafts[1].action,
        RecommendedAction::Monitor {}
    );
}

#[test]
fn a_warning_cluster_resizes_the_flagged_droplet_first() {
    let mut inputs = inputs("warning", 3);
    inputs.droplets[2].size = "s-2vcpu-2gb".to_owned();
    inputs.health_issues = vec![issue("warning", Some(droplet_id(3)))];
    assert_eq!(
        advise(&inputs).drafts[0].action,
        RecommendedAction::Resize {
            droplet_id: DropletId::parse(&droplet_id(3)).unwrap(),
            size: Size::parse("s-2vcpu-4gb").unwrap(),
        }
    );
}

#[test]
fn what_the_seed_could_not_see_comes_after_its_advice() {
    let seed = summary(&advise(&inputs("healthy", 2)));
    let mut enriched = inputs("healthy", 2);
    enriched.metric_trends = vec![
        MetricTrend {
            metric_type: "cpu".to_owned(),
            avg: 60.0,
            max: 70.0,
            last: 70.0,
            slope_per_hour: 5.0,
        },
        // Rising, but it would take 10 h: not worth a word.
        MetricTrend {
            metric_type: "disk".to_owned(),
            avg: 40.0,
            max: 40.0,
            last: 40.0,
            slope_per_hour: 5.0,
        },
    ];
    enriched.failed_jobs = vec![FailedJobInput {
        id: "job_1".to_owned(),
        job_type: "resize".to_owned(),
        error: Some("provider said no".to_owned()),
    }];
    enriched.provider_faults = vec![
        ProviderFaultInput {
            provider: "simcloud".to_owned(),
            outage: true,
            failure_rate: 0.0,
        },
        // Hosts none of the cluster's droplets.
        ProviderFaultInput {
            provider: "othercloud".to_owned(),
            outage: true,
            failure_rate: 0.0,
        },
    ];
    let advice = advise(&enriched);
    let all = summary(&advice);
    assert_eq!(
        all[..seed.len()],
        seed[..],
        "the seed's advice first, unchanged"
    );
    assert_eq!(
        all[seed.len()..],
        [
            "Plan capacity: cpu is rising: scale_up",
            "Review failed jobs: monitor",
            "Watch provider simcloud: monitor",
        ]
    );
    assert_eq!(advice.health_score, 80, "the score is the seed's");
    let text = advice.insights.join("\n");
    assert!(text.contains("cpu is rising 5.0 per hour"), "{text}");
    assert!(!text.contains("disk is rising"), "{text}");
    assert!(text.contains("resize (provider said no)"), "{text}");
    assert!(text.contains("Provider simcloud is in an outage"), "{text}");
    assert!(!text.contains("othercloud"), "{text}");
}

#[test]
fn recommendation_ids_name_the_diagnosis_and_count_from_one() {
    let id = DiagnosisId::new();
    let recs = advise(&inputs("warning", 1)).recommendations(&id);
    let hex = &id.as_str()[3..];
    let ids: Vec<String> = recs.iter().map(|r| r.id.to_string()).collect();
    assert_eq!(
        ids,
        (1..=4)
            .map(|n| format!("rec_{hex}_{n}"))
            .collect::<Vec<_>>()
    );
    assert!(recs.iter().all(|r| r.id.diagnosis_id() == id));
}

#[test]
fn the_same_inputs_give_the_same_advice() {
    let mut inputs = inputs("critical", 2);
    inputs.health_issues = vec![issue("critical", Some(droplet_id(1)))];
    assert_eq!(advise(&inputs), advise(&inputs.clone()));
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn status() -> impl Strategy<Value = &'static str> {
        prop_oneof![Just("healthy"), Just("warning"), Just("critical")]
    }

    proptest! {
        /// Whatever the seed could not see, the seed's advice comes first, unchanged, and
        /// the score is the seed's, within 0-100.
        #[test]
        fn enrichment_only_appends(
            status in status(),
            n in 0u32..8,
            slope in -20.0f64..20.0,
            last in 0.0f64..100.0,
            failed in 0usize..4,
            outage in any::<bool>(),
            failure_rate in 0.0f64..1.0,
        ) {
            let plain = inputs(status, n);
            let mut enriched = plain.clone();
            enriched.metric_trends = vec![MetricTrend {
                metric_type: "memory".to_owned(),
                avg: last,
                max: last,
                last,
                slope_per_hour: slope,
            }];
            enriched.failed_jobs = (0..failed)
                .map(|i| FailedJobInput {
                    id: format!("job_{i}"),
                    job_type: "provision".to_owned(),
                    error: None,
                })
                .collect();
            enriched.provider_faults = vec![ProviderFaultInput {
                provider: "simcloud".to_owned(),
                outage,
                failure_rate,
            }];
            let seed = advise(&plain);
            let all = advise(&enriched);
            prop_assert!(seed.health_score <= 100);
            prop_assert_eq!(all.health_score, seed.health_score);
            prop_assert_eq!(&all.drafts[..seed.drafts.len()], &seed.drafts[..]);
            prop_assert_eq!(&all.insights[..seed.insights.len()], &seed.insights[..]);
        }
    }
}
