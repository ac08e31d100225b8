//! Errors of the cache read models.

/// What can go wrong while filling or reading the cache.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("redis error")]
    Redis(#[from] redis::RedisError),
    #[error("the cache did not answer within {0:?}")]
    Timeout(std::time::Duration),
    #[error("event store error")]
    Store(#[from] engine::store::StoreError),
    #[error("could not fold an event")]
    Fold(#[from] engine::fold::FoldError),
    #[error("cache JSON")]
    Json(#[from] serde_json::Error),
    /// The cache lost data it should have (a key evicted, a partial restore): it has to
    /// be healed from the log.
    #[error("the cache is inconsistent: {0}")]
    Inconsistent(String),
    /// The cache answered something this build cannot read.
    #[error("unexpected answer from the cache: {0}")]
    Protocol(String),
}

/// The error and all its sources, joined by ": " (one implementation for the read side).
pub use crate::runtime::error_chain;
