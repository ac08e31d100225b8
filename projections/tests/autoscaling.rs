//! `rm_autoscaling` and what the autoscaler's rounds read through it, on both backends: a
//! set policy is listed with its cluster's region and the view's version; a disabled one
//! only when its cluster is named; the droplets (a provisioning one is pending) and the
//! unended scale jobs of the clusters with a policy; an acting decision's time; removal.

mod common;

use chrono::{TimeZone, Utc};
use engine::autoscaling::AutoscalingDirectory;
use engine::commands::{
    CommandContext, CommandService, CreateCluster, CreateDroplet, CreateJob, DropletInput,
    RecordAutoscalingDecision, RemoveAutoscalingPolicy, SetAutoscalingPolicy,
};
use engine::domain::autoscaler::{
    AutoscalingDecided, DecisionCode, DecisionInputs, ScaleDecision, Trigger,
};
use engine::domain::cluster::PolicyInput;
use engine::domain::{ClusterId, JobId};
use projections::read_models::autoscaling::get;
use projections::AutoscalingReadDirectory;
use serde_json::json;
use test_support::on_both_backends;

use crate::common::Stores;

fn policy(enabled: bool) -> PolicyInput {
    PolicyInput {
        policy_type: Some("metrics".into()),
        enabled: Some(enabled),
        min_droplets: Some(1),
        max_droplets: Some(3),
        metric_type: Some("cpu".into()),
        scale_up_threshold: Some(80.0),
        scale_down_threshold: Some(30.0),
        ..PolicyInput::default()
    }
}

async fn cluster(service: &CommandService, ctx: &CommandContext, name: &str) -> ClusterId {
    let command = CreateCluster::parse(name, "nyc1", None).unwrap();
    let id = command.id.clone();
    service.execute(ctx, &command).await.unwrap();
    id
}

on_both_backends!(
    policies_droplets_and_jobs_are_read_per_round,
    super::rounds_read
);

async fn rounds_read(s: &Stores) {
    let running = s.runtime().await;
    let service = CommandService::new(s.store.clone());
    let ctx = CommandContext::new("tester");
    // Given an enabled and a disabled policy, and a cluster without one
    let (on, off, none) = (
        cluster(&service, &ctx, "on").await,
        cluster(&service, &ctx, "off").await,
        cluster(&service, &ctx, "none").await,
    );
    for (id, enabled) in [(&on, true), (&off, false)] {
        let set = SetAutoscalingPolicy::parse(id.as_str(), &policy(enabled)).unwrap();
        service.execute(&ctx, &set).await.unwrap();
    }
    // And a droplet being provisioned and a scale job on each
    for id in [&on, &off, &none] {
        let input = DropletInput {
            cluster_id: id.as_str(),
            name: "web",
            region: "nyc1",
            size: "s-1vcpu-1gb",
            image: "ubuntu-22-04-x64",
            provider: None,
        };
        let droplet = CreateDroplet::parse(input, ctx.trace_id()).unwrap();
        service.execute(&ctx, &droplet).await.unwrap();
        let job = CreateJob::parse(
            "scale_up",
            id.as_str(),
            Some(json!({"count": 1})),
            ctx.trace_id(),
        )
        .unwrap();
        service.execute(&ctx, &job).await.unwrap();
    }
    // And an acting decision of the enabled one (its scale job is pending too)
    let decided = AutoscalingDecided {
        decision: ScaleDecision::ScaleUp,
        count: 1,
        code: DecisionCode::AboveThreshold,
        reason: "hot".into(),
        inputs: DecisionInputs::default(),
        job_id: JobId::new(),
        trigger: Trigger::Schedule,
        decided_at: Utc.timestamp_opt(1_800_000_000, 0).unwrap(),
    };
    let record = RecordAutoscalingDecision::new(on.clone(), decided, 300, ctx.trace_id());
    service
        .execute(&record.context(&ctx), &record)
        .await
        .unwrap();
    running.catch_up(&*s.store).await;

    // When a round reads
    let directory = AutoscalingReadDirectory::new(s.db.clone());
    let policies = directory.policies(None).await.unwrap();
    // Then only the enabled policy, with its cluster's region and last decision
    assert_eq!(policies.len(), 1);
    assert_eq!(policies[0].cluster_id, on);
    assert_eq!(policies[0].region, "nyc1");
    assert_eq!(
        policies[0].last_acting_at,
        Some(Utc.timestamp_opt(1_800_000_000, 0).unwrap())
    );
    let droplets = directory.droplets(None).await.unwrap();
    assert_eq!(droplets.len(), 1);
    assert!(droplets[0].pending, "still provisioning");
    assert!(droplets[0].billed.is_some());
    let jobs = directory.scale_jobs(None).await.unwrap();
    let on_jobs: Vec<_> = jobs.iter().filter(|(c, _)| *c == on).collect();
    assert_eq!(jobs.len(), on_jobs.len(), "only the enabled cluster's");
    assert_eq!(on_jobs.len(), 2, "the job created and the decision's");
    // The disabled one is read when named; a cluster without a policy never
    let named = directory.policies(Some(&off)).await.unwrap();
    assert_eq!(named.len(), 1);
    assert!(!named[0].policy.enabled);
    assert_eq!(directory.droplets(Some(&off)).await.unwrap().len(), 1);
    assert!(directory.policies(Some(&none)).await.unwrap().is_empty());
    // The view: the version of the cluster stream that set it
    let view = get(&s.db, on.as_str()).await.unwrap().expect("a policy");
    assert_eq!(view.version, 2);
    assert_eq!(view.policy.max_droplets, 3);

    // When the policy is removed
    let remove = RemoveAutoscalingPolicy::parse(on.as_str()).unwrap();
    service.execute(&ctx, &remove).await.unwrap();
    running.catch_up(&*s.store).await;
    // Then it is read no more
    assert!(get(&s.db, on.as_str()).await.unwrap().is_none());
    assert!(directory.policies(Some(&on)).await.unwrap().is_empty());
    assert!(directory.policies(None).await.unwrap().is_empty());
    running.stop().await;
}
