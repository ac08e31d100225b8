//! Property: random command sequences never break the job's invariants.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::domain::aggregate::{execute, fold, Classify};

/// Builds a command from two random numbers. Commands that end a job are rarer than the
/// others, so that sequences get through several attempts; attempts stay small so that
/// they often match, and progress ranges past 100 so that invalid values are tried.
fn command(selector: u8, param: u8) -> JobCommand {
    let attempt = u32::from(param % 4);
    match selector % 32 {
        0 | 1 => JobCommand::CreateJob {
            id: JobId::parse(&format!("job_{:032x}", 1)).expect("valid job id"),
            job_type: JobType::ALL[usize::from(param) % JobType::ALL.len()],
            cluster_id: ClusterId::parse(&format!("cl_{:032x}", 1)).expect("valid cluster id"),
            droplet_id: None,
            parameters: json!({}),
            trace_id: "trace".into(),
            max_attempts: u32::from(param % 4),
        },
        2..=5 => JobCommand::QueueJob,
        6..=12 => JobCommand::StartJob {
            attempt,
            worker: format!("w{param}"),
        },
        13..=15 => JobCommand::ReportProgress {
            progress: param % 120,
            message: param.is_multiple_of(2).then(|| "working".to_owned()),
        },
        16 | 17 => JobCommand::RecordHeartbeat { attempt },
        18..=22 => JobCommand::ScheduleRetry {
            attempt,
            error: "e".into(),
            delay_ms: 10,
        },
        23 => JobCommand::SucceedJob {
            attempt,
            result: json!(param),
        },
        24 => JobCommand::FailJob {
            attempt: param.is_multiple_of(2).then_some(attempt),
            error: "e".into(),
        },
        25 => JobCommand::TimeOutJob {
            attempt,
            retry_delay_ms: param.is_multiple_of(3).then_some(10),
        },
        26 | 27 if param.is_multiple_of(4) => JobCommand::RequestCancel { reason: None },
        26 | 27 => JobCommand::ConfirmCancel { attempt },
        _ => JobCommand::StartJob {
            attempt: attempt + 1,
            worker: format!("w{param}"),
        },
    }
}

proptest! {
    #[test]
    fn random_commands_keep_the_invariants(
        steps in proptest::collection::vec((any::<u8>(), any::<u8>()), 0..80)
    ) {
        let mut job = Job::default();
        let mut history = Vec::new();
        for (selector, param) in steps {
            let before = job.clone();
            match execute(&mut job, command(selector, param)) {
                Ok(events) => history.extend(events),
                Err(err) => {
                    prop_assert_eq!(&job, &before);
                    let _ = err.kind();
                }
            }
            prop_assert!(job.attempts <= job.max_attempts);
            prop_assert!(job.progress <= 100);
            // A terminal status is never left, and nothing changes after it.
            if before.exists() && before.status.is_terminal() {
                prop_assert_eq!(&job, &before);
            }
            if job.exists() {
                prop_assert!(job.max_attempts >= 1);
            }
            if job.status == JobStatus::Succeeded {
                prop_assert_eq!(job.progress, 100);
            }
            if job.cancel_requested && !job.status.is_terminal() {
                prop_assert_eq!(job.status, JobStatus::Running);
            }
        }
        prop_assert_eq!(fold::<Job>(history), job);
    }
}
