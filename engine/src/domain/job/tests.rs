//! Given/when/then tests of the job aggregate, one per command outcome.

use cqrs_es::test::TestFramework;
use cqrs_es::DomainEvent;
use serde_json::json;

use super::*;
use crate::domain::aggregate::{event_from_parts, event_parts, fold, Classify, DomainErrorKind};

type Framework = TestFramework<Job>;

fn id() -> JobId {
    JobId::parse("job_0190f3a1b2c37d4e8f9a0b1c2d3e4f50").expect("valid id")
}

fn cluster_id() -> ClusterId {
    ClusterId::parse("cl_0190f3a1b2c37d4e8f9a0b1c2d3e4f51").expect("valid id")
}

fn create(max_attempts: u32) -> JobCommand {
    JobCommand::CreateJob {
        id: id(),
        job_type: JobType::Diagnose,
        cluster_id: cluster_id(),
        droplet_id: None,
        parameters: json!({"engine": "rules"}),
        trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
        max_attempts,
    }
}

fn created(max_attempts: u32) -> JobEvent {
    JobEvent::Created(JobCreated {
        id: id(),
        job_type: JobType::Diagnose,
        cluster_id: cluster_id(),
        droplet_id: None,
        parameters: json!({"engine": "rules"}),
        trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
        max_attempts,
    })
}

fn queued() -> JobEvent {
    JobEvent::Queued(JobQueued {})
}

fn started(attempt: u32) -> JobEvent {
    JobEvent::Started(JobStarted {
        attempt,
        worker: "worker-1".into(),
    })
}

fn retry(attempt: u32) -> JobEvent {
    JobEvent::RetryScheduled(JobRetryScheduled {
        attempt,
        error: "boom".into(),
        delay_ms: 200,
    })
}

fn cancel_requested(reason: Option<&str>) -> JobEvent {
    JobEvent::CancelRequested(JobCancelRequested {
        reason: reason.map(str::to_owned),
    })
}

fn cancelled() -> JobEvent {
    JobEvent::Cancelled(JobCancelled {})
}

fn then(mut events: Vec<JobEvent>, more: JobEvent) -> Vec<JobEvent> {
    events.push(more);
    events
}

/// A job with 3 attempts allowed, in each live status.
fn pending() -> Vec<JobEvent> {
    vec![created(3)]
}

fn in_queue() -> Vec<JobEvent> {
    vec![created(3), queued()]
}

fn running() -> Vec<JobEvent> {
    vec![created(3), queued(), started(1)]
}

/// Histories ending in each terminal status.
fn terminal() -> Vec<(JobStatus, Vec<JobEvent>)> {
    vec![
        (
            JobStatus::Succeeded,
            then(
                running(),
                JobEvent::Succeeded(JobSucceeded { result: json!({}) }),
            ),
        ),
        (
            JobStatus::Failed,
            then(
                in_queue(),
                JobEvent::Failed(JobFailed { error: "x".into() }),
            ),
        ),
        (
            JobStatus::Cancelled,
            then(then(in_queue(), cancel_requested(None)), cancelled()),
        ),
        (
            JobStatus::TimedOut,
            then(running(), JobEvent::TimedOut(JobTimedOut { attempt: 1 })),
        ),
    ]
}

/// One instance of every command except create.
fn later_commands() -> Vec<JobCommand> {
    vec![
        JobCommand::QueueJob,
        JobCommand::StartJob {
            attempt: 1,
            worker: "w".into(),
        },
        JobCommand::ReportProgress {
            progress: 10,
            message: None,
        },
        JobCommand::RecordHeartbeat { attempt: 1 },
        JobCommand::ScheduleRetry {
            attempt: 1,
            error: "e".into(),
            delay_ms: 1,
        },
        JobCommand::SucceedJob {
            attempt: 1,
            result: json!(null),
        },
        JobCommand::FailJob {
            attempt: None,
            error: "e".into(),
        },
        JobCommand::FailJob {
            attempt: Some(1),
            error: "e".into(),
        },
        JobCommand::TimeOutJob {
            attempt: 1,
            retry_delay_ms: None,
        },
        JobCommand::RequestCancel { reason: None },
        JobCommand::ConfirmCancel { attempt: 1 },
    ]
}

fn illegal(from: JobStatus, command: &'static str) -> JobError {
    JobError::IllegalTransition { from, command }
}

// --- create and missing ---

#[test]
fn create_emits_created() {
    Framework::with(())
        .given_no_previous_events()
        .when(create(3))
        .then_expect_events(vec![created(3)]);
    let job: Job = fold([created(3)]);
    assert_eq!(job.status, JobStatus::Pending);
    assert_eq!((job.attempts, job.max_attempts, job.progress), (0, 3, 0));
}

#[test]
fn create_twice_is_rejected() {
    Framework::with(())
        .given(in_queue())
        .when(create(3))
        .then_expect_error_message("job already exists");
}

#[test]
fn create_with_no_attempts_is_invalid() {
    let err = Framework::with(())
        .given_no_previous_events()
        .when(create(0))
        .inspect_result()
        .expect_err("max_attempts 0");
    assert_eq!(err, JobError::InvalidMaxAttempts);
    assert_eq!(err.kind(), DomainErrorKind::Invalid);
}

#[test]
fn every_command_on_a_missing_job_is_not_found() {
    for command in later_commands() {
        Framework::with(())
            .given_no_previous_events()
            .when(command)
            .then_expect_error_message("job not found");
    }
    assert_eq!(JobError::NotFound.kind(), DomainErrorKind::NotFound);
}

// --- queue and start ---

#[test]
fn queue_from_pending_emits_queued() {
    Framework::with(())
        .given(pending())
        .when(JobCommand::QueueJob)
        .then_expect_events(vec![queued()]);
}

#[test]
fn queue_from_another_status_is_illegal() {
    Framework::with(())
        .given(in_queue())
        .when(JobCommand::QueueJob)
        .then_expect_error_message("cannot queue a job that is queued");
    let err = Framework::with(())
        .given(running())
        .when(JobCommand::QueueJob)
        .inspect_result()
        .expect_err("running");
    assert_eq!(err, illegal(JobStatus::Running, "queue"));
    assert_eq!(err.kind(), DomainErrorKind::Conflict);
}

#[test]
fn start_from_queued_emits_started() {
    Framework::with(())
        .given(in_queue())
        .when(JobCommand::StartJob {
            attempt: 1,
            worker: "worker-1".into(),
        })
        .then_expect_events(vec![started(1)]);
    let job: Job = fold(running());
    assert_eq!(job.status, JobStatus::Running);
    assert_eq!(job.attempts, 1);
    assert_eq!(job.worker.as_deref(), Some("worker-1"));
}

#[test]
fn start_after_a_retry_takes_the_next_attempt() {
    Framework::with(())
        .given(then(running(), retry(1)))
        .when(JobCommand::StartJob {
            attempt: 2,
            worker: "worker-1".into(),
        })
        .then_expect_events(vec![started(2)]);
}

#[test]
fn start_with_the_wrong_attempt_is_a_mismatch() {
    for attempt in [0, 2, 7] {
        let err = Framework::with(())
            .given(in_queue())
            .when(JobCommand::StartJob {
                attempt,
                worker: "w".into(),
            })
            .inspect_result()
            .expect_err("mismatch");
        assert_eq!(
            err,
            JobError::AttemptMismatch {
                expected: 1,
                got: attempt
            }
        );
        assert_eq!(err.kind(), DomainErrorKind::Conflict);
    }
    // A second start of the same attempt (a duplicate delivery) is refused too.
    Framework::with(())
        .given(then(running(), retry(1)))
        .when(JobCommand::StartJob {
            attempt: 1,
            worker: "w".into(),
        })
        .then_expect_error(JobError::AttemptMismatch {
            expected: 2,
            got: 1,
        });
}

#[test]
fn start_beyond_max_attempts_is_refused() {
    // A history that (through a retry recorded at the limit) leaves no attempt.
    Framework::with(())
        .given(vec![created(1), queued(), started(1), retry(1)])
        .when(JobCommand::StartJob {
            attempt: 2,
            worker: "w".into(),
        })
        .then_expect_error_message("all 1 attempt(s) are used up");
}

#[test]
fn start_from_another_status_is_illegal() {
    Framework::with(())
        .given(pending())
        .when(JobCommand::StartJob {
            attempt: 1,
            worker: "w".into(),
        })
        .then_expect_error(illegal(JobStatus::Pending, "start"));
    Framework::with(())
        .given(running())
        .when(JobCommand::StartJob {
            attempt: 2,
            worker: "w".into(),
        })
        .then_expect_error(illegal(JobStatus::Running, "start"));
}

// --- progress and heartbeat ---

#[test]
fn progress_while_running_emits_progressed() {
    let progressed = JobEvent::Progressed(JobProgressed {
        progress: 40,
        message: Some("copying".into()),
    });
    Framework::with(())
        .given(running())
        .when(JobCommand::ReportProgress {
            progress: 40,
            message: Some("copying".into()),
        })
        .then_expect_events(vec![progressed.clone()]);
    let job: Job = fold(then(running(), progressed));
    assert_eq!(job.progress, 40);
    assert_eq!(job.progress_message.as_deref(), Some("copying"));
}

#[test]
fn identical_progress_is_a_no_op() {
    let given = then(
        running(),
        JobEvent::Progressed(JobProgressed {
            progress: 40,
            message: None,
        }),
    );
    Framework::with(())
        .given(given)
        .when(JobCommand::ReportProgress {
            progress: 40,
            message: None,
        })
        .then_expect_events(vec![]);
}

#[test]
fn progress_above_100_is_invalid() {
    let err = Framework::with(())
        .given(running())
        .when(JobCommand::ReportProgress {
            progress: 101,
            message: None,
        })
        .inspect_result()
        .expect_err("above 100");
    assert_eq!(err, JobError::InvalidProgress { progress: 101 });
    assert_eq!(err.to_string(), "progress: 101 is above 100");
    assert_eq!(err.kind(), DomainErrorKind::Invalid);
}

#[test]
fn progress_when_not_running_is_illegal() {
    Framework::with(())
        .given(in_queue())
        .when(JobCommand::ReportProgress {
            progress: 10,
            message: None,
        })
        .then_expect_error_message("cannot report progress on a job that is queued");
}

#[test]
fn heartbeat_for_the_current_attempt_emits_heartbeat() {
    Framework::with(())
        .given(running())
        .when(JobCommand::RecordHeartbeat { attempt: 1 })
        .then_expect_events(vec![JobEvent::Heartbeat(JobHeartbeat { attempt: 1 })]);
}

#[test]
fn heartbeat_for_another_attempt_is_a_mismatch() {
    Framework::with(())
        .given(then(then(running(), retry(1)), started(2)))
        .when(JobCommand::RecordHeartbeat { attempt: 1 })
        .then_expect_error(JobError::AttemptMismatch {
            expected: 2,
            got: 1,
        });
}

#[test]
fn heartbeat_when_not_running_is_illegal() {
    Framework::with(())
        .given(then(running(), retry(1)))
        .when(JobCommand::RecordHeartbeat { attempt: 1 })
        .then_expect_error(illegal(JobStatus::Queued, "record a heartbeat for"));
}

// --- retry ---

#[test]
fn retry_while_attempts_remain_requeues_the_job() {
    Framework::with(())
        .given(running())
        .when(JobCommand::ScheduleRetry {
            attempt: 1,
            error: "boom".into(),
            delay_ms: 200,
        })
        .then_expect_events(vec![retry(1)]);
    let job: Job = fold(then(running(), retry(1)));
    assert_eq!(job.status, JobStatus::Queued);
    assert_eq!(job.error.as_deref(), Some("boom"));
    assert_eq!(job.worker, None);
}

#[test]
fn retry_of_the_last_attempt_is_exhausted() {
    let err = Framework::with(())
        .given(vec![created(1), queued(), started(1)])
        .when(JobCommand::ScheduleRetry {
            attempt: 1,
            error: "boom".into(),
            delay_ms: 200,
        })
        .inspect_result()
        .expect_err("no attempt left");
    assert_eq!(err, JobError::AttemptsExhausted { max_attempts: 1 });
    assert_eq!(err.kind(), DomainErrorKind::Conflict);
}

#[test]
fn retry_of_another_attempt_is_a_mismatch() {
    Framework::with(())
        .given(running())
        .when(JobCommand::ScheduleRetry {
            attempt: 2,
            error: "boom".into(),
            delay_ms: 200,
        })
        .then_expect_error(JobError::AttemptMismatch {
            expected: 1,
            got: 2,
        });
}

#[test]
fn retry_when_not_running_is_illegal() {
    Framework::with(())
        .given(in_queue())
        .when(JobCommand::ScheduleRetry {
            attempt: 0,
            error: "boom".into(),
            delay_ms: 200,
        })
        .then_expect_error(illegal(JobStatus::Queued, "retry"));
}

#[test]
fn retry_after_a_cancel_request_is_refused() {
    let err = Framework::with(())
        .given(then(running(), cancel_requested(None)))
        .when(JobCommand::ScheduleRetry {
            attempt: 1,
            error: "boom".into(),
            delay_ms: 200,
        })
        .inspect_result()
        .expect_err("cancel pending");
    assert_eq!(err, JobError::CancelPending);
    assert_eq!(err.kind(), DomainErrorKind::Conflict);
}

// --- succeed, fail, time out ---

#[test]
fn succeed_while_running_emits_succeeded_and_completes_progress() {
    let succeeded = JobEvent::Succeeded(JobSucceeded {
        result: json!({"ok": true}),
    });
    Framework::with(())
        .given(running())
        .when(JobCommand::SucceedJob {
            attempt: 1,
            result: json!({"ok": true}),
        })
        .then_expect_events(vec![succeeded.clone()]);
    let job: Job = fold(then(running(), succeeded));
    assert_eq!(job.status, JobStatus::Succeeded);
    assert_eq!(job.progress, 100);
    assert_eq!(job.result, Some(json!({"ok": true})));
}

#[test]
fn succeed_when_not_running_is_illegal() {
    Framework::with(())
        .given(in_queue())
        .when(JobCommand::SucceedJob {
            attempt: 1,
            result: json!(null),
        })
        .then_expect_error(illegal(JobStatus::Queued, "succeed"));
}

#[test]
fn a_late_answer_of_an_older_attempt_is_refused() {
    // Attempt 1 was given up on (timed out, retried) and attempt 2 runs: what attempt 1
    // reports now must not end the job.
    let second = then(then(running(), retry(1)), started(2));
    let mismatch = JobError::AttemptMismatch {
        expected: 2,
        got: 1,
    };
    for command in [
        JobCommand::SucceedJob {
            attempt: 1,
            result: json!(null),
        },
        JobCommand::FailJob {
            attempt: Some(1),
            error: "late".into(),
        },
        JobCommand::ConfirmCancel { attempt: 1 },
    ] {
        Framework::with(())
            .given(second.clone())
            .when(command)
            .then_expect_error(mismatch.clone());
    }
}

#[test]
fn fail_from_pending_queued_or_running_emits_failed() {
    for (given, attempt) in [(pending(), None), (in_queue(), None), (running(), Some(1))] {
        Framework::with(())
            .given(given)
            .when(JobCommand::FailJob {
                attempt,
                error: "broken".into(),
            })
            .then_expect_events(vec![JobEvent::Failed(JobFailed {
                error: "broken".into(),
            })]);
    }
}

#[test]
fn fail_must_name_the_running_attempt_and_only_it() {
    Framework::with(())
        .given(running())
        .when(JobCommand::FailJob {
            attempt: None,
            error: "broken".into(),
        })
        .then_expect_error(illegal(JobStatus::Running, "fail"));
    Framework::with(())
        .given(in_queue())
        .when(JobCommand::FailJob {
            attempt: Some(1),
            error: "broken".into(),
        })
        .then_expect_error(illegal(JobStatus::Queued, "fail"));
}

#[test]
fn time_out_of_the_running_attempt_emits_timed_out() {
    Framework::with(())
        .given(running())
        .when(JobCommand::TimeOutJob {
            attempt: 1,
            retry_delay_ms: None,
        })
        .then_expect_events(vec![JobEvent::TimedOut(JobTimedOut { attempt: 1 })]);
    let job: Job = fold(then(
        running(),
        JobEvent::TimedOut(JobTimedOut { attempt: 1 }),
    ));
    assert_eq!(job.status, JobStatus::TimedOut);
    assert_eq!(job.error.as_deref(), Some("attempt 1 timed out"));
}

#[test]
fn time_out_of_another_attempt_or_status_is_refused() {
    Framework::with(())
        .given(running())
        .when(JobCommand::TimeOutJob {
            attempt: 2,
            retry_delay_ms: None,
        })
        .then_expect_error(JobError::AttemptMismatch {
            expected: 1,
            got: 2,
        });
    Framework::with(())
        .given(in_queue())
        .when(JobCommand::TimeOutJob {
            attempt: 0,
            retry_delay_ms: None,
        })
        .then_expect_error(illegal(JobStatus::Queued, "time out"));
}

#[test]
fn a_timed_out_attempt_is_retried_while_attempts_are_left() {
    // running() has made 1 of 3 attempts.
    Framework::with(())
        .given(running())
        .when(JobCommand::TimeOutJob {
            attempt: 1,
            retry_delay_ms: Some(500),
        })
        .then_expect_events(vec![JobEvent::RetryScheduled(JobRetryScheduled {
            attempt: 1,
            error: "attempt 1 timed out".into(),
            delay_ms: 500,
        })]);
}

#[test]
fn a_timed_out_last_attempt_is_final_and_a_cancel_request_wins() {
    let last = vec![created(1), queued(), started(1)];
    Framework::with(())
        .given(last)
        .when(JobCommand::TimeOutJob {
            attempt: 1,
            retry_delay_ms: Some(500),
        })
        .then_expect_events(vec![JobEvent::TimedOut(JobTimedOut { attempt: 1 })]);
    Framework::with(())
        .given(then(running(), cancel_requested(None)))
        .when(JobCommand::TimeOutJob {
            attempt: 1,
            retry_delay_ms: Some(500),
        })
        .then_expect_events(vec![cancelled()]);
}

// --- cancel ---

#[test]
fn cancel_before_running_cancels_at_once() {
    for given in [pending(), in_queue()] {
        Framework::with(())
            .given(given)
            .when(JobCommand::RequestCancel {
                reason: Some("not needed".into()),
            })
            .then_expect_events(vec![cancel_requested(Some("not needed")), cancelled()]);
    }
}

#[test]
fn cancel_while_running_only_requests() {
    Framework::with(())
        .given(running())
        .when(JobCommand::RequestCancel { reason: None })
        .then_expect_events(vec![cancel_requested(None)]);
    let job: Job = fold(then(running(), cancel_requested(None)));
    assert_eq!(job.status, JobStatus::Running);
    assert!(job.cancel_requested);
}

#[test]
fn cancel_requested_twice_is_a_no_op() {
    Framework::with(())
        .given(then(running(), cancel_requested(None)))
        .when(JobCommand::RequestCancel {
            reason: Some("again".into()),
        })
        .then_expect_events(vec![]);
}

#[test]
fn cancel_of_a_finished_job_is_a_conflict() {
    for (status, given) in terminal() {
        let err = Framework::with(())
            .given(given)
            .when(JobCommand::RequestCancel { reason: None })
            .inspect_result()
            .expect_err("finished");
        assert_eq!(err, JobError::AlreadyFinished { status });
        assert_eq!(err.kind(), DomainErrorKind::Conflict);
    }
    assert_eq!(
        JobError::AlreadyFinished {
            status: JobStatus::TimedOut
        }
        .to_string(),
        "job already finished (timed_out)"
    );
}

#[test]
fn confirm_cancel_after_a_request_emits_cancelled() {
    Framework::with(())
        .given(then(running(), cancel_requested(None)))
        .when(JobCommand::ConfirmCancel { attempt: 1 })
        .then_expect_events(vec![cancelled()]);
}

#[test]
fn confirm_cancel_without_a_request_is_illegal() {
    Framework::with(())
        .given(running())
        .when(JobCommand::ConfirmCancel { attempt: 1 })
        .then_expect_error(illegal(JobStatus::Running, "confirm cancellation of"));
    Framework::with(())
        .given(in_queue())
        .when(JobCommand::ConfirmCancel { attempt: 0 })
        .then_expect_error(illegal(JobStatus::Queued, "confirm cancellation of"));
}

// --- terminal statuses are final ---

#[test]
fn nothing_leaves_a_terminal_status() {
    for (status, given) in terminal() {
        for command in later_commands() {
            let cancel = matches!(command, JobCommand::RequestCancel { .. });
            let err = Framework::with(())
                .given(given.clone())
                .when(command)
                .inspect_result()
                .expect_err("terminal");
            if cancel {
                assert_eq!(err, JobError::AlreadyFinished { status });
            } else {
                assert!(
                    matches!(err, JobError::IllegalTransition { from, .. } if from == status),
                    "{err}"
                );
            }
        }
    }
}

// --- serialisation ---

#[test]
fn created_serialises_to_its_type_and_data() {
    let (event_type, data) = event_parts(&created(3)).expect("parts");
    assert_eq!(event_type, "job.created");
    assert_eq!(
        data,
        json!({
            "id": "job_0190f3a1b2c37d4e8f9a0b1c2d3e4f50",
            "job_type": "diagnose",
            "cluster_id": "cl_0190f3a1b2c37d4e8f9a0b1c2d3e4f51",
            "droplet_id": null,
            "parameters": {"engine": "rules"},
            "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
            "max_attempts": 3
        })
    );
    assert_eq!(
        event_from_parts::<JobEvent>(&event_type, data).expect("back"),
        created(3)
    );
}

#[test]
fn lifecycle_events_serialise_to_their_shapes() {
    assert_eq!(
        event_parts(&started(2)).expect("parts"),
        (
            "job.started".to_owned(),
            json!({"attempt": 2, "worker": "worker-1"})
        )
    );
    assert_eq!(
        event_parts(&retry(1)).expect("parts"),
        (
            "job.retry_scheduled".to_owned(),
            json!({"attempt": 1, "error": "boom", "delay_ms": 200})
        )
    );
    assert_eq!(
        event_parts(&cancelled()).expect("parts"),
        ("job.cancelled".to_owned(), json!({}))
    );
}

#[test]
fn event_type_matches_the_serde_tag_for_every_variant() {
    let events = vec![
        created(2),
        queued(),
        started(1),
        JobEvent::Progressed(JobProgressed {
            progress: 5,
            message: None,
        }),
        JobEvent::Heartbeat(JobHeartbeat { attempt: 1 }),
        retry(1),
        JobEvent::Succeeded(JobSucceeded {
            result: json!([1, 2]),
        }),
        JobEvent::Failed(JobFailed { error: "e".into() }),
        JobEvent::TimedOut(JobTimedOut { attempt: 1 }),
        cancel_requested(Some("r")),
        cancelled(),
    ];
    let types: Vec<String> = events.iter().map(DomainEvent::event_type).collect();
    assert_eq!(types, JobEvent::TYPES);
    for event in events {
        let (event_type, data) = event_parts(&event).expect("parts");
        assert_eq!(event_type, event.event_type());
        assert_eq!(event.event_version(), "1");
        assert!(data.is_object());
        assert_eq!(
            event_from_parts::<JobEvent>(&event_type, data).expect("back"),
            event
        );
    }
}

#[test]
fn state_round_trips_through_json() {
    let job: Job = fold(then(running(), cancel_requested(Some("stop"))));
    let json = serde_json::to_value(&job).expect("serialise");
    assert_eq!(json["status"], "running");
    assert_eq!(json["job_type"], "diagnose");
    let back: Job = serde_json::from_value(json).expect("deserialise");
    assert_eq!(back, job);
}
