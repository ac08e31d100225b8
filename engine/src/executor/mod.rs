//! The in-process job executor (v1): follows job events in the log, and carries every
//! unfinished job through queue -> start -> progress -> outcome with a bounded pool of
//! workers, each step a command with its events. The durable job runtime with retry
//! policies, timers and Kafka consumer groups replaces it later.

pub mod pool;
pub mod steps;
pub mod work;

pub use pool::{Executor, ExecutorOptions};
