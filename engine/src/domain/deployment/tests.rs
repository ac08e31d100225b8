//! Given / when / then tests of the deployment's decisions.

use chrono::{DateTime, Utc};

use super::*;
use crate::domain::aggregate::{execute, Classify, Decide, DomainErrorKind};
use crate::domain::values::MetricType;

pub(super) fn at() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

pub(super) fn droplets(n: usize) -> Vec<DropletId> {
    (1..=n)
        .map(|i| DropletId::parse(&format!("dr_{i:032x}")).unwrap())
        .collect()
}

pub(super) fn job(n: u32) -> JobId {
    JobId::parse(&format!("job_{n:032x}")).unwrap()
}

pub(super) fn start(strategy: Strategy, n: usize, auto_promote: bool) -> DeploymentCommand {
    let green: Vec<DropletId> = (100..100 + n)
        .map(|i| DropletId::parse(&format!("dr_{i:032x}")).unwrap())
        .collect();
    DeploymentCommand::Start(Box::new(StartDeployment {
        deployment_id: DeploymentId::parse(&format!("dep_{:032x}", 1)).unwrap(),
        cluster_id: ClusterId::parse(&format!("cl_{:032x}", 1)).unwrap(),
        strategy,
        version: AppVersion::parse("v2").unwrap(),
        previous_version: AppVersion::parse("v1").ok(),
        target_percent: 25,
        batch_size: 2,
        auto_promote,
        health_gate: HealthGate::default_with(80.0),
        droplets: droplets(n),
        green,
        job_id: job(1),
        at: at(),
    }))
}

pub(super) fn verdict(after_step: u32, passed: bool) -> GateVerdict {
    GateVerdict {
        after_step,
        passed,
        reason: "cpu".into(),
        metric: MetricType::Cpu,
        max: 80.0,
        observed: Some(if passed { 10.0 } else { 95.0 }),
        unhealthy_droplets: Vec::new(),
        window_seconds: 30,
        at: at(),
    }
}

fn given(strategy: Strategy, n: usize, auto_promote: bool) -> Deployment {
    let mut deployment = Deployment::default();
    execute(&mut deployment, start(strategy, n, auto_promote)).unwrap();
    deployment
}

fn complete(d: &mut Deployment, job_id: u32, next: u32) -> Vec<DeploymentEvent> {
    let command = DeploymentCommand::CompleteStep {
        job_id: job(job_id),
        next_job: job(next),
        at: at(),
    };
    execute(d, command).unwrap()
}

fn judge(
    d: &mut Deployment,
    job_id: u32,
    passed: bool,
    after: u32,
    next: u32,
) -> Vec<DeploymentEvent> {
    let command = DeploymentCommand::JudgeGate {
        job_id: job(job_id),
        verdict: verdict(after, passed),
        next_job: job(next),
    };
    execute(d, command).unwrap()
}

#[test]
fn given_nothing_when_started_then_the_first_step_runs() {
    let d = given(Strategy::Rolling, 5, true);
    assert_eq!(d.steps.len(), 3);
    assert_eq!(d.steps[0].status, StepStatus::Running);
    assert_eq!(d.current_job(), Some(&job(1)));
    assert_eq!(d.phase(), "batch 1 of 3");
    assert_eq!(d.batch_size, Some(2));
    assert_eq!(d.target_percent, None);
}

#[test]
fn given_no_droplets_when_started_then_it_is_refused() {
    let mut command = start(Strategy::Canary, 1, true);
    if let DeploymentCommand::Start(s) = &mut command {
        s.droplets.clear();
    }
    let error = Deployment::default().decide(command).unwrap_err();
    assert_eq!(error, DeploymentError::NoDroplets);
    assert_eq!(error.kind(), DomainErrorKind::Unprocessable);
}

#[test]
fn given_a_rolling_deployment_when_every_step_and_gate_passes_then_it_succeeds() {
    let mut d = given(Strategy::Rolling, 3, true);
    let events = complete(&mut d, 1, 2);
    assert!(matches!(events[1], DeploymentEvent::GateStarted(_)));
    assert_eq!(d.phase(), "gate after batch 1 of 2");
    judge(&mut d, 2, true, 0, 3);
    assert_eq!(d.current_job(), Some(&job(3)));
    complete(&mut d, 3, 4);
    let events = judge(&mut d, 4, true, 1, 5);
    assert!(matches!(events.last(), Some(DeploymentEvent::Succeeded(_))));
    assert_eq!(d.status, DeploymentStatus::Succeeded);
    assert_eq!(d.gates.len(), 2);
    assert!(d.finished_at.is_some());
}

#[test]
fn given_a_stale_job_when_it_ends_then_nothing_changes() {
    let mut d = given(Strategy::Rolling, 3, true);
    assert!(complete(&mut d, 9, 2).is_empty());
    complete(&mut d, 1, 2);
    assert!(
        complete(&mut d, 1, 2).is_empty(),
        "a repeated end changes nothing"
    );
}

#[test]
fn given_a_canary_when_its_gate_fails_then_it_rolls_back_the_canary_only() {
    let mut d = given(Strategy::Canary, 4, true);
    complete(&mut d, 1, 2);
    let events = judge(&mut d, 2, false, 0, 3);
    let DeploymentEvent::RollbackStarted(rollback) = &events[1] else {
        panic!("{events:?}");
    };
    assert_eq!(rollback.droplet_ids, droplets(1));
    assert!(!rollback.manual);
    assert_eq!(d.phase(), "rolling back");
    let end = DeploymentCommand::EndRollback {
        job_id: job(3),
        outcome: Ok(()),
        at: at(),
    };
    execute(&mut d, end).unwrap();
    assert_eq!(d.status, DeploymentStatus::RolledBack);
    assert_eq!(
        d.steps[1].status,
        StepStatus::Pending,
        "the rest never started"
    );
}

#[test]
fn given_a_canary_without_auto_promote_when_its_gate_passes_then_it_waits_for_promote() {
    let mut d = given(Strategy::Canary, 4, false);
    let promote = |n| DeploymentCommand::Promote {
        job_id: job(n),
        at: at(),
    };
    assert_eq!(
        d.decide(promote(9)).unwrap_err(),
        DeploymentError::NotWaiting
    );
    complete(&mut d, 1, 2);
    let events = judge(&mut d, 2, true, 0, 3);
    assert_eq!(events.len(), 1);
    assert!(d.waiting_for_promotion);
    assert_eq!(d.phase(), "waiting for promotion");
    execute(&mut d, promote(4)).unwrap();
    assert_eq!(d.current_job(), Some(&job(4)));
    let events = complete(&mut d, 4, 5);
    assert!(matches!(events.last(), Some(DeploymentEvent::Succeeded(_))));
}

#[test]
fn given_blue_green_when_the_green_gate_passes_then_the_switch_is_recorded_and_retire_runs() {
    let mut d = given(Strategy::BlueGreen, 2, true);
    complete(&mut d, 1, 2);
    let events = judge(&mut d, 2, true, 0, 3);
    let types: Vec<&str> = events.iter().map(DeploymentEvent::type_str).collect();
    assert_eq!(
        types,
        [
            "deployment.gate_passed",
            "deployment.step_started",
            "deployment.step_completed",
            "deployment.step_started"
        ]
    );
    assert!(d.switched);
    let rollback = DeploymentCommand::Rollback {
        job_id: job(8),
        at: at(),
    };
    assert_eq!(d.decide(rollback).unwrap_err(), DeploymentError::Switched);
    let fail = DeploymentCommand::FailJob {
        job_id: job(3),
        reason: "destroy failed".into(),
        rollback_job: job(9),
        at: at(),
    };
    execute(&mut d, fail).unwrap();
    assert_eq!(
        d.status,
        DeploymentStatus::Failed,
        "no rollback after the switch"
    );
}

#[test]
fn given_a_running_step_when_a_rollback_is_asked_then_it_cancels_the_step_job() {
    let mut d = given(Strategy::Rolling, 4, true);
    let rollback = |n| DeploymentCommand::Rollback {
        job_id: job(n),
        at: at(),
    };
    let events = execute(&mut d, rollback(7)).unwrap();
    let DeploymentEvent::RollbackStarted(started) = &events[0] else {
        panic!("{events:?}");
    };
    assert_eq!(started.cancels, Some(job(1)));
    assert_eq!(started.droplet_ids, droplets(2));
    assert_eq!(d.steps[0].status, StepStatus::Failed);
    assert_eq!(
        d.decide(rollback(8)).unwrap_err(),
        DeploymentError::RollingBack
    );
    assert!(
        complete(&mut d, 1, 2).is_empty(),
        "the cancelled step cannot go on"
    );
    let end = DeploymentCommand::EndRollback {
        job_id: job(7),
        outcome: Err("provider down".into()),
        at: at(),
    };
    execute(&mut d, end).unwrap();
    assert_eq!(d.status, DeploymentStatus::Failed);
    let error = d.decide(rollback(9)).unwrap_err();
    assert_eq!(error.kind(), DomainErrorKind::Conflict);
}

#[test]
fn given_a_step_job_that_fails_for_good_then_it_rolls_back() {
    let mut d = given(Strategy::Rolling, 4, true);
    let fail = DeploymentCommand::FailJob {
        job_id: job(1),
        reason: "provider outage".into(),
        rollback_job: job(2),
        at: at(),
    };
    let events = execute(&mut d, fail).unwrap();
    let types: Vec<&str> = events.iter().map(DeploymentEvent::type_str).collect();
    assert_eq!(
        types,
        ["deployment.step_failed", "deployment.rollback_started"]
    );
    assert!(d.logs.iter().any(|l| l.message.contains("provider outage")));
}

#[test]
fn events_round_trip_through_their_parts() {
    let mut d = Deployment::default();
    let events = execute(&mut d, start(Strategy::Canary, 3, true)).unwrap();
    for event in events {
        let (event_type, data) = crate::domain::event_parts(&event).unwrap();
        let back: DeploymentEvent = crate::domain::event_from_parts(&event_type, data).unwrap();
        assert_eq!(back, event);
    }
}
