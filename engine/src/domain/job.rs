//! The `job` aggregate: one unit of asynchronous work and its state machine.
//!
//! ```text
//! pending -> queued -> running -> succeeded | failed | timed_out | cancelled
//!                ^         |
//!                +---------+  retry_scheduled (while attempts < max_attempts)
//! pending | queued -> failed | cancelled
//! ```
//!
//! A worker starts attempt `n + 1` of a job that has made `n` attempts; heartbeats and
//! time-outs name the attempt they belong to, so a late message from an older attempt is
//! rejected instead of being applied to the current one. Terminal statuses are final.

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::aggregate::{handle_with_decide, Classify, DomainErrorKind};
use super::values::{ClusterId, DropletId, JobId};

mod decide;
mod events;
mod kinds;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use events::*;
pub use kinds::{JobStatus, JobType};

/// The state of one job, folded from its events.
/// Stored (rows, snapshots) without its unset fields: a field missing reads as unset.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Set once created.
    pub id: Option<JobId>,
    /// What the job does.
    pub job_type: Option<JobType>,
    /// The cluster it works on.
    pub cluster_id: Option<ClusterId>,
    /// The droplet it works on, if any.
    pub droplet_id: Option<DropletId>,
    /// Type-specific parameters.
    pub parameters: Value,
    /// The trace the job belongs to.
    pub trace_id: String,
    /// Current status.
    pub status: JobStatus,
    /// Progress in percent, 0..=100.
    pub progress: u8,
    /// What the current attempt is doing.
    pub progress_message: Option<String>,
    /// Attempts started so far (the current attempt while running).
    pub attempts: u32,
    /// Most attempts allowed.
    pub max_attempts: u32,
    /// The result, once succeeded.
    pub result: Option<Value>,
    /// The last error.
    pub error: Option<String>,
    /// Whether cancellation was requested while running.
    pub cancel_requested: bool,
    /// Why cancellation was requested.
    pub cancel_reason: Option<String>,
    /// The worker running the current attempt.
    pub worker: Option<String>,
}

impl Job {
    /// Whether the job was ever created.
    pub fn exists(&self) -> bool {
        self.id.is_some()
    }
}

/// Commands on a job.
#[derive(Debug, Clone, PartialEq)]
pub enum JobCommand {
    /// Create the job (status `pending`).
    CreateJob {
        /// The new job's id.
        id: JobId,
        /// What it does.
        job_type: JobType,
        /// The cluster it works on.
        cluster_id: ClusterId,
        /// The droplet it works on, if any.
        droplet_id: Option<DropletId>,
        /// Type-specific parameters.
        parameters: Value,
        /// The trace it belongs to.
        trace_id: String,
        /// Most attempts allowed (at least 1).
        max_attempts: u32,
    },
    /// Hand the job to the queue.
    QueueJob,
    /// A worker starts attempt `attempt` (= attempts so far + 1).
    StartJob {
        /// The attempt number, from 1.
        attempt: u32,
        /// The worker's name.
        worker: String,
    },
    /// Report progress of the running attempt.
    ReportProgress {
        /// Percent, 0..=100.
        progress: u8,
        /// What it is doing.
        message: Option<String>,
    },
    /// The running attempt is alive.
    RecordHeartbeat {
        /// The attempt.
        attempt: u32,
    },
    /// The running attempt failed and will be retried after `delay_ms`.
    ScheduleRetry {
        /// The attempt that failed.
        attempt: u32,
        /// Its error.
        error: String,
        /// Backoff before the next attempt.
        delay_ms: u64,
    },
    /// The running attempt succeeded.
    SucceedJob {
        /// The attempt that succeeded (a late answer of an older attempt is refused).
        attempt: u32,
        /// The result.
        result: Value,
    },
    /// The job failed for good.
    FailJob {
        /// The running attempt that failed, or None for a job that never ran (pending
        /// or queued).
        attempt: Option<u32>,
        /// Why.
        error: String,
    },
    /// The running attempt overran its time (or its worker stopped sending heartbeats):
    /// retried after `retry_delay_ms` while attempts are left, else final `timed_out`;
    /// cancelled instead when cancellation was requested.
    TimeOutJob {
        /// The attempt.
        attempt: u32,
        /// Backoff before another attempt; None: do not retry.
        retry_delay_ms: Option<u64>,
    },
    /// Ask for cancellation: immediate before the job runs, cooperative while it runs.
    RequestCancel {
        /// Why.
        reason: Option<String>,
    },
    /// The running attempt stopped after a cancellation request.
    ConfirmCancel {
        /// The attempt that stopped.
        attempt: u32,
    },
}

/// Why a job command was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Create on an existing job.
    #[error("job already exists")]
    AlreadyExists,
    /// The job does not exist.
    #[error("job not found")]
    NotFound,
    /// The command is not allowed in the current status.
    #[error("cannot {command} a job that is {from}")]
    IllegalTransition {
        /// The current status.
        from: JobStatus,
        /// The refused command.
        command: &'static str,
    },
    /// The attempt named is not the expected one.
    #[error("attempt {got} does not match the expected attempt {expected}")]
    AttemptMismatch {
        /// The expected attempt.
        expected: u32,
        /// The attempt named by the command.
        got: u32,
    },
    /// No attempt is left.
    #[error("all {max_attempts} attempt(s) are used up")]
    AttemptsExhausted {
        /// The limit.
        max_attempts: u32,
    },
    /// Progress above 100.
    #[error("progress: {progress} is above 100")]
    InvalidProgress {
        /// The offending value.
        progress: u8,
    },
    /// `max_attempts` of 0.
    #[error("max_attempts: must be at least 1")]
    InvalidMaxAttempts,
    /// Cancel on a finished job.
    #[error("job already finished ({status})")]
    AlreadyFinished {
        /// The terminal status.
        status: JobStatus,
    },
    /// Retry of an attempt whose cancellation was requested.
    #[error("cancellation was requested; confirm it instead of retrying")]
    CancelPending,
}

impl Classify for JobError {
    fn kind(&self) -> DomainErrorKind {
        match self {
            Self::NotFound => DomainErrorKind::NotFound,
            Self::AlreadyExists
            | Self::IllegalTransition { .. }
            | Self::AttemptMismatch { .. }
            | Self::AttemptsExhausted { .. }
            | Self::AlreadyFinished { .. }
            | Self::CancelPending => DomainErrorKind::Conflict,
            Self::InvalidProgress { .. } | Self::InvalidMaxAttempts => DomainErrorKind::Invalid,
        }
    }
}

impl Aggregate for Job {
    const TYPE: &'static str = "job";
    type Command = JobCommand;
    type Event = JobEvent;
    type Error = JobError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        handle_with_decide(self, command, sink).await
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            JobEvent::Created(e) => {
                self.id = Some(e.id);
                self.job_type = Some(e.job_type);
                self.cluster_id = Some(e.cluster_id);
                self.droplet_id = e.droplet_id;
                self.parameters = e.parameters;
                self.trace_id = e.trace_id;
                self.max_attempts = e.max_attempts;
                self.status = JobStatus::Pending;
            }
            JobEvent::Queued(_) => self.status = JobStatus::Queued,
            JobEvent::Started(e) => {
                self.status = JobStatus::Running;
                self.attempts = e.attempt;
                self.worker = Some(e.worker);
                self.progress = 0;
                self.progress_message = None;
            }
            JobEvent::Progressed(e) => {
                self.progress = e.progress.min(100);
                self.progress_message = e.message;
            }
            JobEvent::Heartbeat(_) => {}
            JobEvent::RetryScheduled(e) => {
                self.status = JobStatus::Queued;
                self.error = Some(e.error);
                self.worker = None;
            }
            JobEvent::Succeeded(e) => {
                self.status = JobStatus::Succeeded;
                self.progress = 100;
                self.result = Some(e.result);
                self.error = None;
            }
            JobEvent::Failed(e) => {
                self.status = JobStatus::Failed;
                self.error = Some(e.error);
            }
            JobEvent::TimedOut(e) => {
                self.status = JobStatus::TimedOut;
                self.error = Some(format!("attempt {} timed out", e.attempt));
            }
            JobEvent::CancelRequested(e) => {
                self.cancel_requested = true;
                self.cancel_reason = e.reason;
            }
            JobEvent::Cancelled(_) => self.status = JobStatus::Cancelled,
        }
    }
}
