//! Cache read models: hot views (clusters, droplets, jobs) and per-cluster summaries kept
//! in Redis when `REDIS_URL` is set, or in process memory by default, behind one
//! [`ReadCache`] trait. A [`CacheRunner`] tails the event log into the cache and heals it
//! from the log when it comes back empty; [`CacheReads`] answers from it when it is ready
//! and far enough, and tells the caller to fall back to SQL otherwise.

mod backend;
mod error;
mod fold;
mod held;
mod memory;
mod reads;
mod redis_cache;
mod runner;
mod summary;

pub use backend::{
    CacheUsage, Checkpoint, Kind, ReadCache, Record, RecordKey, StoredState, StoredView, ViewsRead,
    Written,
};
pub use error::{error_chain, CacheError};
pub use held::{record_bytes, RECORD_OVERHEAD};
pub use memory::{MemoryCache, DEFAULT_BUDGET_BYTES};
pub use reads::{Bounds, CacheReads, Fallback, Lookup};
pub use redis_cache::{redact_url, RedisCache, RedisOptions};
pub use runner::{CacheHandle, CacheRunner, CacheRunnerOptions, CacheState, CacheStatus};
pub use summary::{ClusterSummary, LastJob, SummaryState, Touch};
