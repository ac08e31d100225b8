//! Rate limiting: token buckets per rule and scope, behind one [`BucketStore`] trait
//! (in process, or in Redis shared by every API process), with an injectable [`Clock`].
//! Knows nothing of HTTP: callers name the [`crate::domain::ratelimit_rule::Endpoint`]
//! and the [`RequestScope`] of a request. The rules themselves are the `ratelimit_rule`
//! aggregate ([`crate::domain::ratelimit_rule`]).

pub mod bucket;
pub mod clock;
pub mod limiter;
pub mod redis_buckets;
pub mod store;

pub use bucket::{Allowance, BucketState, Limits};
pub use clock::{Clock, ManualClock, SystemClock};
pub use limiter::{
    bucket_key, effective_rules, Check, EffectiveRule, RateLimiter, RequestScope, Verdict,
    GLOBAL_SCOPE_ID,
};
pub use redis_buckets::RedisBuckets;
pub use store::{BucketError, BucketStore, FallbackBuckets, MemoryBuckets};
