//! The contract covers every event variant, and every event validates against its schema.

use std::collections::BTreeSet;

use cqrs_es::DomainEvent;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{json, Value};

use super::*;
use crate::domain::cluster::*;
use crate::domain::droplet::*;
use crate::domain::job::*;
use crate::domain::ratelimit_rule::*;
use crate::domain::values::ProviderId;
use crate::domain::values::{ClusterName, DropletName, Image, ProviderName, Region, Size};
use crate::domain::{
    event_parts, ClusterStatus, DiagnosisEvent, JobType, Latency, PowerAction, ProviderEvent,
};

fn cluster_id() -> ClusterId {
    ClusterId::parse("cl_0190f3a1b2c37d4e8f9a0b1c2d3e4f50").unwrap()
}

fn droplet_id() -> DropletId {
    DropletId::parse("dr_0190f3a1b2c37d4e8f9a0b1c2d3e4f51").unwrap()
}

fn job_id() -> JobId {
    JobId::parse("job_0190f3a1b2c37d4e8f9a0b1c2d3e4f52").unwrap()
}

fn region() -> Region {
    Region::parse("nyc1").unwrap()
}

fn size(slug: &str) -> Size {
    Size::parse(slug).unwrap()
}

fn provider() -> ProviderName {
    ProviderName::parse("simcloud").unwrap()
}

/// One sample of every cluster event variant.
fn cluster_samples() -> Vec<ClusterEvent> {
    let name = ClusterName::parse("web-prod").unwrap();
    vec![
        ClusterEvent::Created(ClusterCreated {
            id: cluster_id(),
            name: name.clone(),
            region: region(),
            provider: None,
        }),
        ClusterEvent::Renamed(ClusterRenamed { name }),
        ClusterEvent::Moved(ClusterMoved { region: region() }),
        ClusterEvent::StatusChanged(ClusterStatusChanged {
            from: ClusterStatus::Healthy,
            to: ClusterStatus::Critical,
            reason: "cpu above 95%".to_owned(),
            issues: vec![crate::domain::HealthIssue {
                kind: crate::domain::IssueKind::Metric,
                severity: crate::domain::Severity::Warning,
                metric_type: Some(crate::domain::MetricType::Cpu),
                value: Some(95.5),
                threshold: Some(80.0),
                droplet_id: None,
                message: "cpu 95.5% > 80% over 60 s".to_owned(),
            }],
        }),
        ClusterEvent::DropletAttached(ClusterDropletAttached {
            droplet_id: droplet_id(),
        }),
        ClusterEvent::DropletDetached(ClusterDropletDetached {
            droplet_id: droplet_id(),
        }),
        ClusterEvent::Deleted(ClusterDeleted {}),
        ClusterEvent::DeploymentStarted(crate::domain::cluster::ClusterDeploymentStarted {
            deployment_id: crate::domain::values::DeploymentId::new(),
        }),
        ClusterEvent::DeploymentFinished(crate::domain::cluster::ClusterDeploymentFinished {
            deployment_id: crate::domain::values::DeploymentId::new(),
            app_version: None,
        }),
        ClusterEvent::AutoscalingPolicySet(ClusterAutoscalingPolicySet {
            policy: autoscaling_policy_sample(),
        }),
        ClusterEvent::AutoscalingPolicyRemoved(ClusterAutoscalingPolicyRemoved {}),
    ]
}

/// A policy with every optional field set.
fn autoscaling_policy_sample() -> AutoscalingPolicy {
    AutoscalingPolicy {
        policy_type: PolicyType::Cost,
        enabled: true,
        min_droplets: 1,
        max_droplets: 5,
        cooldown_seconds: 300,
        metric_type: Some(crate::domain::MetricType::Cpu),
        scale_up_threshold: Some(80.0),
        scale_down_threshold: Some(30.0),
        evaluation_window_seconds: Some(300),
        windows: vec![ScaleWindow {
            days: vec![Day::Mon, Day::Sun],
            start: "22:00".into(),
            end: "02:00".into(),
            time_zone: "Europe/Paris".into(),
            desired_droplets: 3,
        }],
        cost_limit_per_hour: Some(0.5),
    }
}

/// One sample of every autoscaler event variant (every optional input set).
fn autoscaler_samples() -> Vec<crate::domain::AutoscalerEvent> {
    use crate::domain::autoscaler::*;
    let inputs = DecisionInputs {
        droplets: 2,
        pending_droplets: 0,
        metric_type: Some("cpu".into()),
        metric_average: Some(86.2),
        samples: Some(30),
        window_seconds: Some(300),
        scale_up_threshold: Some(80.0),
        scale_down_threshold: Some(30.0),
        desired_droplets: Some(3),
        window: Some("mon 09:00-18:00 UTC".into()),
        hourly_cost: 0.0167,
        droplet_hourly_cost: 0.0083,
        cost_limit_per_hour: Some(0.5),
        cooldown_remaining_seconds: Some(0),
        running_job_id: Some(job_id().to_string()),
    };
    vec![AutoscalerEvent::Decided(Box::new(AutoscalingDecided {
        decision: ScaleDecision::ScaleUp,
        count: 1,
        code: DecisionCode::AboveThreshold,
        reason: "cpu averaged 86.2 % over 300 s, above the scale-up threshold 80 %".into(),
        inputs,
        job_id: job_id(),
        trigger: Trigger::Schedule,
        decided_at: chrono::Utc::now(),
    }))]
}

#[test]
fn every_autoscaler_event_is_published_and_valid() {
    check_aggregate(
        "autoscaler",
        &crate::domain::AutoscalerEvent::TYPES,
        &autoscaler_samples(),
    );
    let bad = json!({"decision": "sideways"});
    assert!(!is_valid("autoscaling.decided", &bad));
}

/// One sample of every droplet event variant.
fn droplet_samples() -> Vec<DropletEvent> {
    let reason = || "provider said no".to_owned();
    vec![
        DropletEvent::Requested(DropletRequested {
            id: droplet_id(),
            cluster_id: cluster_id(),
            name: DropletName::parse("web-1").unwrap(),
            region: region(),
            size: size("s-1vcpu-1gb"),
            image: Image::parse("ubuntu-22-04-x64").unwrap(),
            provider: Some(provider()),
            job_id: job_id(),
            app_version: Some(crate::domain::values::AppVersion::parse("v1.2.0").unwrap()),
        }),
        DropletEvent::Provisioned(DropletProvisioned {
            ip_address: "10.0.0.7".to_owned(),
            provider: provider(),
        }),
        DropletEvent::ProvisioningFailed(DropletProvisioningFailed { reason: reason() }),
        DropletEvent::ResizeRequested(DropletResizeRequested {
            from_size: size("s-1vcpu-1gb"),
            to_size: size("s-2vcpu-4gb"),
            job_id: job_id(),
        }),
        DropletEvent::Resized(DropletResized {
            size: size("s-2vcpu-4gb"),
        }),
        DropletEvent::ResizeFailed(DropletResizeFailed { reason: reason() }),
        DropletEvent::PowerRequested(DropletPowerRequested {
            action: PowerAction::Restart,
            job_id: job_id(),
        }),
        DropletEvent::PoweredOff(DropletPoweredOff {}),
        DropletEvent::PoweredOn(DropletPoweredOn {}),
        DropletEvent::Restarted(DropletRestarted {}),
        DropletEvent::PowerFailed(DropletPowerFailed {
            action: PowerAction::Off,
            reason: reason(),
        }),
        DropletEvent::DestroyRequested(DropletDestroyRequested { job_id: job_id() }),
        DropletEvent::Destroyed(DropletDestroyed {}),
        DropletEvent::DestroyFailed(DropletDestroyFailed { reason: reason() }),
        DropletEvent::MigrationRequested(DropletMigrationRequested {
            from_provider: ProviderName::parse("simcloud").expect("provider"),
            to_provider: ProviderName::parse("nimbus").expect("provider"),
            job_id: job_id(),
        }),
        DropletEvent::Migrated(DropletMigrated {
            from_provider: ProviderName::parse("simcloud").expect("provider"),
            provider: ProviderName::parse("nimbus").expect("provider"),
            ip_address: "10.0.0.9".into(),
        }),
        DropletEvent::MigrationFailed(DropletMigrationFailed { reason: reason() }),
        DropletEvent::AppVersionSet(crate::domain::droplet::DropletAppVersionSet {
            app_version: Some(crate::domain::values::AppVersion::parse("v2").unwrap()),
            deployment_id: crate::domain::values::DeploymentId::new(),
        }),
    ]
}

/// One sample of every job event variant.
fn job_samples() -> Vec<JobEvent> {
    vec![
        JobEvent::Created(JobCreated {
            id: job_id(),
            job_type: JobType::ScaleUp,
            cluster_id: cluster_id(),
            droplet_id: Some(droplet_id()),
            parameters: json!({ "count": 2, "size": "s-1vcpu-1gb" }),
            trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".to_owned(),
            max_attempts: 3,
        }),
        JobEvent::Queued(JobQueued {}),
        JobEvent::Started(JobStarted {
            attempt: 1,
            worker: "worker-1".to_owned(),
        }),
        JobEvent::Progressed(JobProgressed {
            progress: 40,
            message: None,
        }),
        JobEvent::Heartbeat(JobHeartbeat { attempt: 1 }),
        JobEvent::RetryScheduled(JobRetryScheduled {
            attempt: 1,
            error: "timeout".to_owned(),
            delay_ms: 1_500,
        }),
        JobEvent::Succeeded(JobSucceeded {
            result: json!({ "ip_address": "10.0.0.7" }),
        }),
        JobEvent::Failed(JobFailed {
            error: "gave up".to_owned(),
        }),
        JobEvent::TimedOut(JobTimedOut { attempt: 3 }),
        JobEvent::CancelRequested(JobCancelRequested {
            reason: Some("no longer needed".to_owned()),
        }),
        JobEvent::Cancelled(JobCancelled {}),
    ]
}

/// The `type` of every variant of an adjacently tagged event enum, read from its derived
/// schema (so it follows the serde renames, independently of the `TYPES` lists).
fn variant_types<E: JsonSchema>() -> BTreeSet<String> {
    let schema = schemars::schema_for!(E).to_value();
    let variants = schema["oneOf"]
        .as_array()
        .expect("an enum schema has oneOf");
    variants
        .iter()
        .map(|v| {
            let tag = &v["properties"]["type"];
            let name = tag["const"].as_str().or_else(|| tag["enum"][0].as_str());
            name.expect("a variant names its type").to_owned()
        })
        .collect()
}

fn contract_of(aggregate_type: &str) -> AggregateContract {
    aggregates()
        .into_iter()
        .find(|a| a.aggregate_type == aggregate_type)
        .expect("the aggregate is published")
}

/// The coverage and validation checks for one aggregate's event enum.
fn check_aggregate<E: JsonSchema + Serialize + DomainEvent>(
    aggregate_type: &str,
    declared_types: &[&str],
    samples: &[E],
) {
    let contract = contract_of(aggregate_type);
    let published: BTreeSet<String> = contract
        .events
        .iter()
        .map(|e| e.event_type.to_owned())
        .collect();
    let declared: BTreeSet<String> = declared_types.iter().map(|t| (*t).to_owned()).collect();
    let sampled: BTreeSet<String> = samples.iter().map(DomainEvent::event_type).collect();
    assert_eq!(
        variant_types::<E>(),
        published,
        "{aggregate_type}: every variant has a contract"
    );
    assert_eq!(
        declared, published,
        "{aggregate_type}: TYPES and the contract agree"
    );
    assert_eq!(
        sampled, published,
        "{aggregate_type}: one sample per variant"
    );
    for sample in samples {
        let (event_type, data) = event_parts(sample).expect("parts");
        let event = contract
            .events
            .iter()
            .find(|e| e.event_type == event_type)
            .unwrap();
        assert_eq!(
            sample.event_version(),
            event.version.to_string(),
            "{event_type}"
        );
        assert_valid(&event.document(), &data, &event_type);
    }
}

fn assert_valid(document: &Value, data: &Value, what: &str) {
    let validator = jsonschema::validator_for(document).expect("a valid schema");
    let errors: Vec<String> = validator.iter_errors(data).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{what}: {data} is invalid: {errors:?}");
}

fn is_valid(event_type: &str, data: &Value) -> bool {
    let event = events()
        .into_iter()
        .find(|e| e.event_type == event_type)
        .unwrap();
    jsonschema::validator_for(&event.document())
        .unwrap()
        .is_valid(data)
}

#[test]
fn every_cluster_event_is_published_and_valid() {
    check_aggregate("cluster", &ClusterEvent::TYPES, &cluster_samples());
}

#[test]
fn every_droplet_event_is_published_and_valid() {
    check_aggregate("droplet", &DropletEvent::TYPES, &droplet_samples());
}

#[test]
fn every_job_event_is_published_and_valid() {
    check_aggregate("job", &JobEvent::TYPES, &job_samples());
}

/// One sample of every rate-limit rule event variant.
fn ratelimit_rule_samples() -> Vec<RateLimitRuleEvent> {
    let name = RuleName::parse("jobs_create").unwrap();
    vec![
        RateLimitRuleEvent::Set(RateLimitRuleSet {
            name: name.clone(),
            scope: RuleScope::User,
            rate_per_sec: RatePerSec::parse(0.1).unwrap(),
            capacity: Capacity::parse(3).unwrap(),
            endpoints: vec![Endpoint::JobsCreate],
        }),
        RateLimitRuleEvent::Deleted(RateLimitRuleDeleted { name }),
    ]
}

fn provider_samples() -> Vec<ProviderEvent> {
    let spec = ProviderSpec {
        name: ProviderId::parse("edge").unwrap(),
        display_name: "Edge".into(),
        regions: vec![region()],
        sizes: vec![size("s-1vcpu-1gb"), size("c-2")],
        price_multiplier: 1.25,
        capacity_per_region: 5,
        latency: Latency::default(),
    };
    vec![
        ProviderEvent::Registered(spec.clone()),
        ProviderEvent::Updated(spec),
    ]
}

#[test]
fn every_ratelimit_rule_event_is_published_and_valid() {
    check_aggregate(
        "ratelimit_rule",
        &RateLimitRuleEvent::TYPES,
        &ratelimit_rule_samples(),
    );
    let bad = json!({"name": "x", "scope": "user", "rate_per_sec": 0, "capacity": 1,
                     "endpoints": ["jobs.create"]});
    assert!(!is_valid("ratelimit_rule.set", &bad));
}

#[test]
fn every_provider_event_is_published_and_valid() {
    check_aggregate("provider", &ProviderEvent::TYPES, &provider_samples());
}

/// One sample of every diagnosis event variant (with every optional field set).
fn diagnosis_samples() -> Vec<DiagnosisEvent> {
    use crate::domain::diagnosis::*;
    let diagnosis_id =
        crate::domain::DiagnosisId::parse("dg_0190f3a1b2c37d4e8f9a0b1c2d3e4f53").unwrap();
    let inputs = DiagnosisInputs {
        cluster: ClusterInput {
            id: cluster_id().to_string(),
            name: "web".to_owned(),
            status: "warning".to_owned(),
            droplet_count: 1,
        },
        droplets: vec![DropletInput {
            id: droplet_id().to_string(),
            name: "web-1".to_owned(),
            status: "active".to_owned(),
            size: "s-1vcpu-1gb".to_owned(),
            provider: Some("simcloud".to_owned()),
        }],
        health_issues: vec![HealthIssueInput {
            kind: "metric".to_owned(),
            severity: "warning".to_owned(),
            metric_type: Some("cpu".to_owned()),
            value: Some(85.0),
            threshold: Some(80.0),
            droplet_id: Some(droplet_id().to_string()),
            message: "cpu 85 above 80".to_owned(),
        }],
        metric_trends: vec![MetricTrend {
            metric_type: "cpu".to_owned(),
            avg: 70.0,
            max: 85.0,
            last: 85.0,
            slope_per_hour: 4.5,
        }],
        failed_jobs: vec![FailedJobInput {
            id: job_id().to_string(),
            job_type: "resize".to_owned(),
            error: Some("provider said no".to_owned()),
        }],
        provider_faults: vec![ProviderFaultInput {
            provider: "simcloud".to_owned(),
            outage: false,
            failure_rate: 0.5,
        }],
    };
    let actions = vec![
        RecommendedAction::ScaleUp { count: 1 },
        RecommendedAction::ScaleDown { count: 1 },
        RecommendedAction::Resize {
            droplet_id: droplet_id(),
            size: size("s-1vcpu-2gb"),
        },
        RecommendedAction::Restart {
            droplet_id: droplet_id(),
        },
        RecommendedAction::CreateDroplet {
            size: size("s-1vcpu-1gb"),
            image: Image::parse("ubuntu-22-04-x64").unwrap(),
        },
        RecommendedAction::Monitor {},
        RecommendedAction::None {},
    ];
    let recommendations = actions
        .into_iter()
        .enumerate()
        .map(|(i, action)| Recommendation {
            id: RecommendationId::new(&diagnosis_id, i + 1),
            title: "t".to_owned(),
            detail: "d".to_owned(),
            priority: Priority::Medium,
            action,
        })
        .collect();
    vec![
        DiagnosisEvent::Completed(Box::new(DiagnosisCompleted {
            diagnosis_id: diagnosis_id.clone(),
            cluster_id: cluster_id(),
            engine: DiagnosisEngine::Llm,
            requested_engine: DiagnosisEngine::Llm,
            model: Some("m".to_owned()),
            prompt_version: Some("diagnosis-v1".to_owned()),
            inputs_digest: "0".repeat(64),
            inputs,
            health_score: 65,
            health_label: "Good".to_owned(),
            insights: vec!["i".to_owned()],
            recommendations,
            fallback_reason: Some("timeout".to_owned()),
        })),
        DiagnosisEvent::RecommendationImplemented(DiagnosisRecommendationImplemented {
            recommendation_id: RecommendationId::new(&diagnosis_id, 1),
            diagnosis_id,
            job_id: job_id(),
        }),
    ]
}

#[test]
fn every_diagnosis_event_is_published_and_valid() {
    check_aggregate("diagnosis", &DiagnosisEvent::TYPES, &diagnosis_samples());
}

/// One sample of every deployment event variant (with every optional field set).
fn deployment_samples() -> Vec<crate::domain::DeploymentEvent> {
    use crate::domain::deployment::*;
    use crate::domain::values::{AppVersion, DeploymentId, MetricType};
    let at = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
    let verdict = |passed| GateVerdict {
        after_step: 0,
        passed,
        reason: "cpu averaged 12.0 % over 30 s".to_owned(),
        metric: MetricType::Cpu,
        max: 80.0,
        observed: Some(12.0),
        unhealthy_droplets: vec![droplet_id()],
        window_seconds: 30,
        at,
    };
    vec![
        DeploymentEvent::Started(Box::new(DeploymentStarted {
            deployment_id: DeploymentId::new(),
            cluster_id: cluster_id(),
            strategy: Strategy::Canary,
            version: AppVersion::parse("v2").unwrap(),
            previous_version: AppVersion::parse("v1").ok(),
            target_percent: Some(25),
            batch_size: Some(1),
            auto_promote: true,
            health_gate: HealthGate::default_with(80.0),
            steps: vec![PlannedStep {
                kind: StepKind::Canary,
                droplet_ids: vec![droplet_id()],
                gated: true,
            }],
            at,
        })),
        DeploymentEvent::StepStarted(DeploymentStepStarted {
            index: 0,
            job_id: Some(job_id()),
            at,
        }),
        DeploymentEvent::StepCompleted(DeploymentStepCompleted { index: 0, at }),
        DeploymentEvent::StepFailed(DeploymentStepFailed {
            index: 0,
            reason: "outage".to_owned(),
            at,
        }),
        DeploymentEvent::GateStarted(DeploymentGateStarted {
            after_step: 0,
            job_id: job_id(),
            at,
        }),
        DeploymentEvent::GatePassed(verdict(true)),
        DeploymentEvent::GateFailed(verdict(false)),
        DeploymentEvent::Promoted(DeploymentPromoted { at }),
        DeploymentEvent::RollbackStarted(DeploymentRollbackStarted {
            reason: "gate failed".to_owned(),
            manual: false,
            job_id: job_id(),
            droplet_ids: vec![droplet_id()],
            cancels: Some(job_id()),
            at,
        }),
        DeploymentEvent::RolledBack(DeploymentRolledBack {
            reason: "gate failed".to_owned(),
            at,
        }),
        DeploymentEvent::Succeeded(DeploymentSucceeded { at }),
        DeploymentEvent::Failed(DeploymentFailed {
            reason: "rollback failed".to_owned(),
            at,
        }),
    ]
}

#[test]
fn every_deployment_event_is_published_and_valid() {
    check_aggregate(
        "deployment",
        &crate::domain::DeploymentEvent::TYPES,
        &deployment_samples(),
    );
}

#[test]
fn only_the_known_aggregates_are_published_each_once() {
    let types: Vec<&str> = aggregates().iter().map(|a| a.aggregate_type).collect();
    assert_eq!(
        types,
        [
            "cluster",
            "droplet",
            "job",
            "diagnosis",
            "deployment",
            "provider",
            "ratelimit_rule",
            "autoscaler"
        ]
    );
    let all = events();
    let unique: BTreeSet<&str> = all.iter().map(|e| e.event_type).collect();
    assert_eq!(unique.len(), all.len(), "an event type is listed twice");
    for event in &all {
        assert_eq!(
            event.version,
            Upcasters::standard().current(event.event_type)
        );
    }
}

#[test]
fn documents_carry_id_title_and_draft_07() {
    let event = events()
        .into_iter()
        .find(|e| e.event_type == "cluster.created")
        .unwrap();
    let document = event.document();
    assert_eq!(
        document["$id"],
        "https://clustergenie.dev/schemas/events/cluster.created.v1.json"
    );
    assert_eq!(
        document["$schema"],
        "http://json-schema.org/draft-07/schema#"
    );
    assert_eq!(document["title"], "cluster.created v1");
    assert_eq!(document["description"], "Payload of `cluster.created`.");
    assert_eq!(event.file_name(), "cluster.created.v1.json");
    assert_eq!(
        event.cloudevents_type(),
        "io.clustergenie.cluster.created.v1"
    );
    assert_eq!(contract_of("job").topic(), "clustergenie.events.job.v1");
}

#[test]
fn file_names_parse_back() {
    assert_eq!(
        parse_file_name("cluster.created.v1.json"),
        Some(("cluster.created", 1))
    );
    assert_eq!(
        parse_file_name("job.retry_scheduled.v12.json"),
        Some(("job.retry_scheduled", 12))
    );
    for bad in [
        "cluster.created.json",
        "cluster.created.v0.json",
        ".v1.json",
        "x.vone.json",
        "README.md",
    ] {
        assert_eq!(parse_file_name(bad), None, "{bad}");
    }
}

#[test]
fn value_schemas_reject_what_parsing_rejects() {
    let created = |id: &str, name: &str, region: &str| json!({ "id": id, "name": name, "region": region, "provider": null });
    let id = "cl_0190f3a1b2c37d4e8f9a0b1c2d3e4f50";
    assert!(is_valid("cluster.created", &created(id, "web", "nyc1")));
    assert!(!is_valid(
        "cluster.created",
        &created("dr_0190f3a1b2c37d4e8f9a0b1c2d3e4f50", "web", "nyc1")
    ));
    assert!(!is_valid(
        "cluster.created",
        &created("cl_0190F3A1B2C37D4E8F9A0B1C2D3E4F50", "web", "nyc1")
    ));
    assert!(!is_valid("cluster.created", &created(id, "web", "mars1")));
    assert!(!is_valid(
        "cluster.created",
        &json!({ "id": id, "name": "web" })
    ));
    assert!(is_valid(
        "cluster.created",
        &json!({ "id": id, "name": "web", "region": "nyc1" })
    ));
    assert!(!is_valid(
        "job.started",
        &json!({ "attempt": -1, "worker": "w" })
    ));
    assert!(!is_valid(
        "droplet.power_requested",
        &json!({ "action": "reboot", "job_id": job_id() })
    ));
}

#[test]
fn the_name_pattern_accepts_exactly_what_parsing_accepts() {
    let long = "a".repeat(63);
    let too_long = "a".repeat(64);
    let names = [
        "a", "web", "web-1", "a1-b2", "x0", &long, &too_long, "", "1web", "-web", "Web", "web-",
        "web_1", "web 1", " web", "wébb", "web\n", "a--b",
    ];
    for name in names {
        let data = json!({ "name": name });
        let parses = ClusterName::parse(name).is_ok();
        assert_eq!(is_valid("cluster.renamed", &data), parses, "{name:?}");
    }
}
