//! Given/when/then tests of the diagnosis aggregate, one per command outcome.

use cqrs_es::test::TestFramework;
use cqrs_es::DomainEvent;

use super::*;
use crate::domain::aggregate::{event_from_parts, event_parts, fold};
use crate::domain::values::{DropletId, Size};

type Framework = TestFramework<Diagnosis>;

fn cluster() -> ClusterId {
    ClusterId::parse("cl_0190f3a1b2c37d4e8f9a0b1c2d3e4f50").expect("valid id")
}

fn diagnosis_id(n: u8) -> DiagnosisId {
    DiagnosisId::parse(&format!("dg_{n:032x}")).expect("valid id")
}

fn job(n: u8) -> JobId {
    JobId::parse(&format!("job_{n:032x}")).expect("valid id")
}

fn rec(diagnosis: u8, n: usize) -> RecommendationId {
    RecommendationId::new(&diagnosis_id(diagnosis), n)
}

/// A diagnosis `n` with a scale-up, a resize and an advice-only recommendation.
fn completed(n: u8) -> DiagnosisCompleted {
    let id = diagnosis_id(n);
    let draft = |i: usize, action: RecommendedAction| Recommendation {
        id: RecommendationId::new(&id, i),
        title: format!("r{i}"),
        detail: String::new(),
        priority: Priority::High,
        action,
    };
    DiagnosisCompleted {
        diagnosis_id: id.clone(),
        cluster_id: cluster(),
        engine: DiagnosisEngine::Rules,
        requested_engine: DiagnosisEngine::Rules,
        model: None,
        prompt_version: None,
        inputs_digest: "0".repeat(64),
        inputs: DiagnosisInputs::default(),
        health_score: 80,
        health_label: "Excellent".to_owned(),
        insights: vec!["fine".to_owned()],
        recommendations: vec![
            draft(1, RecommendedAction::ScaleUp { count: 1 }),
            draft(
                2,
                RecommendedAction::Resize {
                    droplet_id: DropletId::parse(&format!("dr_{:032x}", 1)).unwrap(),
                    size: Size::parse("s-1vcpu-2gb").unwrap(),
                },
            ),
            draft(3, RecommendedAction::None {}),
        ],
        fallback_reason: None,
    }
}

fn completed_event(n: u8) -> DiagnosisEvent {
    DiagnosisEvent::Completed(Box::new(completed(n)))
}

fn implemented(diagnosis: u8, n: usize, job_n: u8) -> DiagnosisEvent {
    DiagnosisEvent::RecommendationImplemented(DiagnosisRecommendationImplemented {
        diagnosis_id: diagnosis_id(diagnosis),
        recommendation_id: rec(diagnosis, n),
        job_id: job(job_n),
    })
}

fn implement(diagnosis: u8, n: usize, job_n: u8) -> DiagnosisCommand {
    DiagnosisCommand::Implement {
        recommendation_id: rec(diagnosis, n),
        job_id: job(job_n),
    }
}

#[test]
fn a_first_diagnosis_is_recorded() {
    Framework::with(())
        .given_no_previous_events()
        .when(DiagnosisCommand::Record(Box::new(completed(1))))
        .then_expect_events(vec![completed_event(1)]);
}

#[test]
fn a_later_diagnosis_is_recorded_and_recording_the_same_one_again_changes_nothing() {
    Framework::with(())
        .given(vec![completed_event(1)])
        .when(DiagnosisCommand::Record(Box::new(completed(2))))
        .then_expect_events(vec![completed_event(2)]);
    Framework::with(())
        .given(vec![completed_event(1)])
        .when(DiagnosisCommand::Record(Box::new(completed(1))))
        .then_expect_events(vec![]);
}

#[test]
fn a_diagnosis_of_another_cluster_is_refused() {
    let mut other = completed(2);
    other.cluster_id = ClusterId::parse(&format!("cl_{:032x}", 9)).unwrap();
    Framework::with(())
        .given(vec![completed_event(1)])
        .when(DiagnosisCommand::Record(Box::new(other.clone())))
        .then_expect_error(DiagnosisError::WrongCluster {
            stream: cluster(),
            got: other.cluster_id,
        });
}

#[test]
fn implementing_a_recommendation_records_its_job() {
    Framework::with(())
        .given(vec![completed_event(1)])
        .when(implement(1, 2, 7))
        .then_expect_events(vec![implemented(1, 2, 7)]);
}

#[test]
fn implementing_it_again_changes_nothing_and_the_first_job_stays() {
    Framework::with(())
        .given(vec![completed_event(1), implemented(1, 1, 7)])
        .when(implement(1, 1, 8))
        .then_expect_events(vec![]);
    let state: Diagnosis = fold(vec![completed_event(1), implemented(1, 1, 7)]);
    assert_eq!(state.job_of(&rec(1, 1)), Some(&job(7)));
}

#[test]
fn a_recommendation_of_an_earlier_diagnosis_is_outdated() {
    Framework::with(())
        .given(vec![completed_event(1), completed_event(2)])
        .when(implement(1, 1, 7))
        .then_expect_error(DiagnosisError::Outdated {
            diagnosis_id: diagnosis_id(1),
            latest: diagnosis_id(2),
        });
    let message = DiagnosisError::Outdated {
        diagnosis_id: diagnosis_id(1),
        latest: diagnosis_id(2),
    }
    .to_string();
    assert!(message.starts_with("outdated diagnosis dg_"), "{message}");
}

#[test]
fn unknown_advice_only_and_undiagnosed_are_refused_with_their_kind() {
    Framework::with(())
        .given(vec![completed_event(1)])
        .when(implement(1, 9, 7))
        .then_expect_error(DiagnosisError::UnknownRecommendation(rec(1, 9)));
    Framework::with(())
        .given(vec![completed_event(1)])
        .when(implement(1, 3, 7))
        .then_expect_error(DiagnosisError::NothingToImplement(rec(1, 3)));
    Framework::with(())
        .given_no_previous_events()
        .when(implement(1, 1, 7))
        .then_expect_error(DiagnosisError::NoDiagnosis);
    assert_eq!(
        DiagnosisError::UnknownRecommendation(rec(1, 9)).kind(),
        DomainErrorKind::NotFound
    );
    assert_eq!(
        DiagnosisError::NothingToImplement(rec(1, 3)).kind(),
        DomainErrorKind::Unprocessable
    );
    assert_eq!(
        DiagnosisError::Outdated {
            diagnosis_id: diagnosis_id(1),
            latest: diagnosis_id(2)
        }
        .kind(),
        DomainErrorKind::Conflict
    );
}

#[test]
fn the_state_keeps_only_the_latest_diagnosis_and_where_its_event_is() {
    let state: Diagnosis = fold(vec![
        completed_event(1),
        implemented(1, 1, 7),
        completed_event(2),
    ]);
    let latest = state.latest.as_ref().unwrap();
    assert_eq!(latest.id, diagnosis_id(2));
    assert_eq!(latest.sequence, 3);
    assert!(latest.implemented.is_empty());
    assert_eq!(state.events, 3);
    // An implementation recorded for an earlier diagnosis does not leak into the latest.
    let state: Diagnosis = fold(vec![completed_event(2), implemented(1, 1, 7)]);
    assert!(state.latest.unwrap().implemented.is_empty());
}

#[test]
fn events_round_trip_through_their_parts() {
    for event in [completed_event(1), implemented(1, 2, 7)] {
        let (event_type, data) = event_parts(&event).expect("parts");
        assert_eq!(event_type, event.event_type());
        let back: DiagnosisEvent = event_from_parts(&event_type, data).expect("back");
        assert_eq!(back, event);
    }
    let (_, data) = event_parts(&completed_event(1)).unwrap();
    assert_eq!(data["recommendations"][1]["action"]["type"], "resize");
    assert_eq!(
        data["recommendations"][2]["action"],
        serde_json::json!({"type": "none"})
    );
}

#[test]
fn recommendation_ids_name_their_diagnosis_and_reject_bad_input() {
    let id = rec(5, 12);
    assert_eq!(id.as_str(), format!("rec_{:032x}_12", 5));
    assert_eq!(RecommendationId::parse(id.as_str()), Ok(id.clone()));
    assert_eq!(id.diagnosis_id(), diagnosis_id(5));
    let hex = format!("{:032x}", 5);
    for bad in [
        String::new(),
        format!("rec_{hex}"),
        format!("rec_{hex}_0"),
        format!("rec_{hex}_01"),
        format!("rec_{hex}_x"),
        format!("rec_{}_1", &hex[1..]),
        format!("rc_{hex}_1"),
        format!("rec_{hex}_12345"),
    ] {
        assert!(RecommendationId::parse(&bad).is_err(), "{bad}");
    }
}

#[test]
fn labels_follow_the_seed_thresholds() {
    assert_eq!(health_label(100), "Excellent");
    assert_eq!(health_label(80), "Excellent");
    assert_eq!(health_label(79), "Good");
    assert_eq!(health_label(60), "Good");
    assert_eq!(health_label(59), "Needs Attention");
    assert_eq!(health_label(0), "Needs Attention");
}
