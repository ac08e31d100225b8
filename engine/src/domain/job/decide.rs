//! The job state machine: which events each command produces, or why it is refused.

use super::{
    Job, JobCancelRequested, JobCancelled, JobCommand, JobCreated, JobError, JobEvent, JobFailed,
    JobHeartbeat, JobProgressed, JobQueued, JobRetryScheduled, JobStarted, JobStatus, JobSucceeded,
    JobTimedOut,
};
use crate::domain::aggregate::Decide;

use JobStatus::{Pending, Queued, Running};

impl Job {
    /// Exists and is in one of `allowed`.
    fn require(&self, allowed: &[JobStatus], command: &'static str) -> Result<(), JobError> {
        if !self.exists() {
            Err(JobError::NotFound)
        } else if allowed.contains(&self.status) {
            Ok(())
        } else {
            Err(JobError::IllegalTransition {
                from: self.status,
                command,
            })
        }
    }

    /// `attempt` is the attempt running now.
    fn require_current(&self, attempt: u32) -> Result<(), JobError> {
        if attempt == self.attempts {
            Ok(())
        } else {
            Err(JobError::AttemptMismatch {
                expected: self.attempts,
                got: attempt,
            })
        }
    }
}

impl Decide for Job {
    fn decide(&self, command: JobCommand) -> Result<Vec<JobEvent>, JobError> {
        use JobCommand as C;
        use JobEvent as E;
        let events = match command {
            C::CreateJob {
                id,
                job_type,
                cluster_id,
                droplet_id,
                parameters,
                trace_id,
                max_attempts,
            } => {
                if self.exists() {
                    return Err(JobError::AlreadyExists);
                }
                if max_attempts == 0 {
                    return Err(JobError::InvalidMaxAttempts);
                }
                vec![E::Created(JobCreated {
                    id,
                    job_type,
                    cluster_id,
                    droplet_id,
                    parameters,
                    trace_id,
                    max_attempts,
                })]
            }
            C::QueueJob => {
                self.require(&[Pending], "queue")?;
                vec![E::Queued(JobQueued {})]
            }
            C::StartJob { attempt, worker } => {
                self.require(&[Queued], "start")?;
                let expected = self.attempts.saturating_add(1);
                if attempt != expected {
                    return Err(JobError::AttemptMismatch {
                        expected,
                        got: attempt,
                    });
                }
                if attempt > self.max_attempts {
                    return Err(JobError::AttemptsExhausted {
                        max_attempts: self.max_attempts,
                    });
                }
                vec![E::Started(JobStarted { attempt, worker })]
            }
            C::ReportProgress { progress, message } => {
                if !self.exists() {
                    return Err(JobError::NotFound);
                }
                if progress > 100 {
                    return Err(JobError::InvalidProgress { progress });
                }
                self.require(&[Running], "report progress on")?;
                if progress == self.progress && message == self.progress_message {
                    Vec::new()
                } else {
                    vec![E::Progressed(JobProgressed { progress, message })]
                }
            }
            C::RecordHeartbeat { attempt } => {
                self.require(&[Running], "record a heartbeat for")?;
                self.require_current(attempt)?;
                vec![E::Heartbeat(JobHeartbeat { attempt })]
            }
            C::ScheduleRetry {
                attempt,
                error,
                delay_ms,
            } => {
                self.require(&[Running], "retry")?;
                self.require_current(attempt)?;
                if self.cancel_requested {
                    return Err(JobError::CancelPending);
                }
                if self.attempts >= self.max_attempts {
                    return Err(JobError::AttemptsExhausted {
                        max_attempts: self.max_attempts,
                    });
                }
                vec![E::RetryScheduled(JobRetryScheduled {
                    attempt,
                    error,
                    delay_ms,
                })]
            }
            C::SucceedJob { attempt, result } => {
                self.require(&[Running], "succeed")?;
                self.require_current(attempt)?;
                vec![E::Succeeded(JobSucceeded { result })]
            }
            C::FailJob {
                attempt: Some(attempt),
                error,
            } => {
                self.require(&[Running], "fail")?;
                self.require_current(attempt)?;
                vec![E::Failed(JobFailed { error })]
            }
            C::FailJob {
                attempt: None,
                error,
            } => {
                self.require(&[Pending, Queued], "fail")?;
                vec![E::Failed(JobFailed { error })]
            }
            C::TimeOutJob {
                attempt,
                retry_delay_ms,
            } => {
                self.require(&[Running], "time out")?;
                self.require_current(attempt)?;
                match retry_delay_ms {
                    _ if self.cancel_requested => vec![E::Cancelled(JobCancelled {})],
                    Some(delay_ms) if self.attempts < self.max_attempts => {
                        vec![E::RetryScheduled(JobRetryScheduled {
                            attempt,
                            error: format!("attempt {attempt} timed out"),
                            delay_ms,
                        })]
                    }
                    _ => vec![E::TimedOut(JobTimedOut { attempt })],
                }
            }
            C::RequestCancel { reason } => {
                if !self.exists() {
                    return Err(JobError::NotFound);
                }
                if self.status.is_terminal() {
                    return Err(JobError::AlreadyFinished {
                        status: self.status,
                    });
                }
                match self.status {
                    Running if self.cancel_requested => Vec::new(),
                    Running => vec![E::CancelRequested(JobCancelRequested { reason })],
                    _ => vec![
                        E::CancelRequested(JobCancelRequested { reason }),
                        E::Cancelled(JobCancelled {}),
                    ],
                }
            }
            C::ConfirmCancel { attempt } => {
                self.require(&[Running], "confirm cancellation of")?;
                self.require_current(attempt)?;
                if !self.cancel_requested {
                    return Err(JobError::IllegalTransition {
                        from: self.status,
                        command: "confirm cancellation of",
                    });
                }
                vec![E::Cancelled(JobCancelled {})]
            }
        };
        Ok(events)
    }
}
