//! Which jobs this process's runtime may start: all of them (one process, or several racing
//! for each attempt), or those of the partitions a Kafka consumer group assigned to it
//! ([`crate::kafka::group::WorkerGroup`]).

/// Decides whether this process starts (and times out) a job.
pub trait Ownership: Send + Sync {
    /// Whether this process takes care of job `job_id` now.
    fn owns(&self, job_id: &str) -> bool;
}

/// Every job (the embedded default).
#[derive(Debug, Clone, Copy, Default)]
pub struct AllJobs;

impl Ownership for AllJobs {
    fn owns(&self, _job_id: &str) -> bool {
        true
    }
}
