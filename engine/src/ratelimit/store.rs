//! Where buckets live: the [`BucketStore`] trait, the in-process [`MemoryBuckets`] and
//! [`FallbackBuckets`], which answers from a local store while the shared one is down.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::bucket::{self, Allowance, BucketState, Limits};

/// Why a bucket store could not answer.
#[derive(Debug, thiserror::Error)]
pub enum BucketError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("the bucket store did not answer within {0} ms")]
    Timeout(u64),
    #[error("the bucket store answered something unexpected: {0}")]
    Malformed(String),
}

/// Token buckets by key. Rate and capacity come with every call (never stored), so a
/// changed rule applies to existing buckets at once.
#[async_trait]
pub trait BucketStore: Send + Sync {
    /// Takes one token from bucket `key` at `now_ms` if one is available.
    async fn take(&self, key: &str, limits: Limits, now_ms: u64) -> Result<Allowance, BucketError>;

    /// The bucket `key` at `now_ms`, taking nothing.
    async fn peek(&self, key: &str, limits: Limits, now_ms: u64) -> Result<Allowance, BucketError>;

    /// `memory` or `redis`, for logs and status answers.
    fn backend(&self) -> &'static str;
}

/// Buckets in this process (the embedded default, and the fallback of a shared store).
#[derive(Debug, Default)]
pub struct MemoryBuckets {
    buckets: Mutex<HashMap<String, BucketState>>,
}

/// Buckets kept before drained ones are dropped.
const PRUNE_ABOVE: usize = 10_000;

impl MemoryBuckets {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, BucketState>) -> T) -> T {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut buckets)
    }
}

#[async_trait]
impl BucketStore for MemoryBuckets {
    async fn take(&self, key: &str, limits: Limits, now_ms: u64) -> Result<Allowance, BucketError> {
        Ok(self.with(|buckets| {
            if buckets.len() > PRUNE_ABOVE {
                // A bucket with nothing in use is the same as no bucket: forget it. The
                // drain is judged at a high rate, so only long-idle buckets go.
                let idle = Limits {
                    rate_per_sec: 1.0,
                    capacity: 1,
                };
                buckets.retain(|_, state| bucket::drained(Some(*state), now_ms, idle) > 0.0);
            }
            let (state, outcome) = bucket::take(buckets.get(key).copied(), now_ms, limits);
            if let Some(state) = state {
                buckets.insert(key.to_owned(), state);
            }
            outcome
        }))
    }

    async fn peek(&self, key: &str, limits: Limits, now_ms: u64) -> Result<Allowance, BucketError> {
        Ok(self.with(|buckets| bucket::peek(buckets.get(key).copied(), now_ms, limits)))
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}

/// A shared store with a local fallback: while the shared store fails, buckets are kept
/// in this process (limits still hold, per process instead of shared). Each failure is
/// logged and counted; no failure reaches the caller.
pub struct FallbackBuckets {
    shared: Arc<dyn BucketStore>,
    local: MemoryBuckets,
    fallbacks: AtomicU64,
}

impl FallbackBuckets {
    /// `shared`, falling back to buckets in this process.
    pub fn new(shared: Arc<dyn BucketStore>) -> Self {
        Self {
            shared,
            local: MemoryBuckets::new(),
            fallbacks: AtomicU64::new(0),
        }
    }

    /// Calls answered locally because the shared store failed, since start.
    pub fn fallbacks(&self) -> u64 {
        self.fallbacks.load(Ordering::Relaxed)
    }

    fn fell_back(&self, error: &BucketError) {
        let n = self.fallbacks.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::warn!(
            error = %crate::error_chain(error),
            fallbacks = n,
            store = self.shared.backend(),
            "rate-limit store failed; using this process's buckets"
        );
    }
}

#[async_trait]
impl BucketStore for FallbackBuckets {
    async fn take(&self, key: &str, limits: Limits, now_ms: u64) -> Result<Allowance, BucketError> {
        match self.shared.take(key, limits, now_ms).await {
            Ok(outcome) => Ok(outcome),
            Err(error) => {
                self.fell_back(&error);
                self.local.take(key, limits, now_ms).await
            }
        }
    }

    async fn peek(&self, key: &str, limits: Limits, now_ms: u64) -> Result<Allowance, BucketError> {
        match self.shared.peek(key, limits, now_ms).await {
            Ok(outcome) => Ok(outcome),
            Err(error) => {
                self.fell_back(&error);
                self.local.peek(key, limits, now_ms).await
            }
        }
    }

    fn backend(&self) -> &'static str {
        self.shared.backend()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        rate_per_sec: 1.0,
        capacity: 2,
    };

    #[tokio::test]
    async fn given_memory_buckets_when_taking_then_each_key_has_its_own_bucket() {
        let store = MemoryBuckets::new();
        assert!(store.take("a", LIMITS, 0).await.unwrap().allowed);
        assert!(store.take("a", LIMITS, 0).await.unwrap().allowed);
        assert!(!store.take("a", LIMITS, 0).await.unwrap().allowed);
        assert!(store.take("b", LIMITS, 0).await.unwrap().allowed);
        assert_eq!(store.peek("a", LIMITS, 0).await.unwrap().remaining(), 0);
        assert_eq!(store.peek("a", LIMITS, 1_000).await.unwrap().remaining(), 1);
    }

    struct Down;

    #[async_trait]
    impl BucketStore for Down {
        async fn take(&self, _: &str, _: Limits, _: u64) -> Result<Allowance, BucketError> {
            Err(BucketError::Timeout(1))
        }
        async fn peek(&self, _: &str, _: Limits, _: u64) -> Result<Allowance, BucketError> {
            Err(BucketError::Timeout(1))
        }
        fn backend(&self) -> &'static str {
            "down"
        }
    }

    #[tokio::test]
    async fn given_a_failing_shared_store_when_taking_then_local_buckets_still_limit() {
        let store = FallbackBuckets::new(Arc::new(Down));
        assert!(store.take("a", LIMITS, 0).await.unwrap().allowed);
        assert!(store.take("a", LIMITS, 0).await.unwrap().allowed);
        assert!(!store.take("a", LIMITS, 0).await.unwrap().allowed);
        assert_eq!(store.fallbacks(), 3);
        assert_eq!(store.peek("a", LIMITS, 0).await.unwrap().remaining(), 0);
        assert_eq!(store.fallbacks(), 4);
    }
}
