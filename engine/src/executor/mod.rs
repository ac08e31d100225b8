//! The durable job runtime: a bounded pool of workers runs job attempts; a follower
//! folds job events into a [`book::JobBook`] whose durable timers (retry backoffs,
//! silent attempts) are recomputed from the log after a restart.
//!
//! - [`policy`]: attempt errors and whether an attempt is retried under its job type's
//!   [`RetryPolicy`](crate::policies::RetryPolicy).
//! - [`book`]: unfinished jobs and their timers, folded from events.
//! - [`pool`]: the worker pool and the follower.
//! - [`work`]: one attempt: start, heartbeats, time limit, cancellation, outcome.
//! - [`operations`]: what each job type does (droplet jobs through the provider).
//! - [`scale`]: scale-up and scale-down of a cluster.
//! - [`deploy`]: a deployment's steps, health gates and rollback.
//! - [`ownership`]: which jobs this process starts (all, or a consumer group's share).
//! - [`steps`]: the commands that move a job (and its droplet) one step.

pub mod book;
pub mod deploy;
pub mod operations;
pub mod ownership;
pub mod policy;
pub mod pool;
pub mod scale;
pub mod steps;
pub mod work;

pub use ownership::{AllJobs, Ownership};
pub use policy::AttemptError;
pub use pool::{Executor, ExecutorOptions, Finished, WorkerStats};
