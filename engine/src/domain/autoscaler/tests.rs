use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::domain::execute;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

fn decided(decision: ScaleDecision, count: u32, when: DateTime<Utc>) -> Box<AutoscalingDecided> {
    Box::new(AutoscalingDecided {
        decision,
        count,
        code: DecisionCode::AboveThreshold,
        reason: "cpu averaged 90 %".into(),
        inputs: DecisionInputs::default(),
        job_id: JobId::new(),
        trigger: Trigger::Schedule,
        decided_at: when,
    })
}

fn record(decided: Box<AutoscalingDecided>, cooldown_seconds: u32) -> AutoscalerCommand {
    AutoscalerCommand::Record {
        decided,
        cooldown_seconds,
    }
}

#[test]
fn an_acting_decision_is_recorded_with_its_time_and_job() {
    // Given a cluster's autoscaler that never acted
    let mut scaler = Autoscaler::default();
    let decision = decided(ScaleDecision::ScaleUp, 2, at(0));
    let job = decision.job_id.clone();
    // When a scale-up is recorded
    let events = execute(&mut scaler, record(decision, 300)).unwrap();
    // Then one event, and the state knows when and which job
    assert_eq!(events.len(), 1);
    assert_eq!(scaler.last_acting_at, Some(at(0)));
    assert_eq!(scaler.last_job_id, Some(job));
    assert_eq!(scaler.decisions, 1);
}

#[test]
fn a_decision_inside_the_cooldown_is_refused_and_one_after_it_accepted() {
    let mut scaler = Autoscaler::default();
    execute(
        &mut scaler,
        record(decided(ScaleDecision::ScaleUp, 1, at(0)), 300),
    )
    .unwrap();
    let early = scaler.decide(record(decided(ScaleDecision::ScaleDown, 1, at(299)), 300));
    assert_eq!(
        early,
        Err(AutoscalerError::Cooldown {
            elapsed: 299,
            cooldown: 300
        })
    );
    assert_eq!(scaler.cooldown_remaining(at(299), 300), 1);
    let on_time = scaler.decide(record(decided(ScaleDecision::ScaleDown, 1, at(300)), 300));
    assert_eq!(on_time.map(|e| e.len()), Ok(1));
}

#[test]
fn decisions_to_do_nothing_or_of_no_droplet_are_not_events() {
    let scaler = Autoscaler::default();
    let none = scaler.decide(record(decided(ScaleDecision::None, 1, at(0)), 0));
    assert_eq!(none, Err(AutoscalerError::NotActing));
    let zero = scaler.decide(record(decided(ScaleDecision::ScaleUp, 0, at(0)), 0));
    assert_eq!(zero, Err(AutoscalerError::NoCount));
}

#[test]
fn the_remaining_cooldown_rounds_up_to_whole_seconds() {
    let last = Some(at(0));
    let half = at(0) + chrono::Duration::milliseconds(500);
    assert_eq!(cooldown_remaining(last, half, 10), 10);
    assert_eq!(cooldown_remaining(last, at(10), 10), 0);
    assert_eq!(cooldown_remaining(None, at(10), 10), 0);
}

#[test]
fn codes_and_decisions_parse_their_wire_names() {
    for code in DecisionCode::ALL {
        assert_eq!(DecisionCode::parse(code.as_str()), Some(code));
        let json = serde_json::to_value(code).unwrap();
        assert_eq!(json, code.as_str());
    }
    for d in ScaleDecision::ALL {
        assert_eq!(ScaleDecision::parse(d.as_str()), Some(d));
    }
    assert_eq!(Trigger::parse("manual"), Some(Trigger::Manual));
    assert_eq!(DecisionCode::parse("bogus"), None);
}
