//! The token-bucket math, pure: one bucket's state, a take, a peek.
//!
//! A bucket stores how many tokens are *in use* (`used`, drained at the rule's rate), not
//! how many are left: the rate and capacity come with each take, so a changed rule applies
//! to existing buckets at once. A bucket that never took anything, or that drained
//! completely, holds `capacity` tokens; a lowered capacity below what is in use leaves the
//! bucket empty until enough has drained. A clock that steps backward (another process's
//! time) drains nothing.

/// A rule's rate and capacity, as a take sees them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Tokens per second (above 0).
    pub rate_per_sec: f64,
    /// The most tokens a bucket holds (at least 1).
    pub capacity: u32,
}

/// What a bucket stores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketState {
    /// Tokens in use at `at_ms`.
    pub used: f64,
    /// When `used` was last computed, in milliseconds since the epoch.
    pub at_ms: u64,
}

/// The answer of a take (or a peek).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Allowance {
    /// Whether the request may go ahead (always false for a peek of an empty bucket).
    pub allowed: bool,
    /// Tokens available after the take (fractional).
    pub available: f64,
    /// The rule's capacity and rate the allowance was computed with.
    pub limits: Limits,
    /// Milliseconds until one token is available (0 when one is).
    pub retry_after_ms: u64,
    /// Milliseconds until the bucket is full again.
    pub reset_ms: u64,
}

impl Allowance {
    /// The allowance for a bucket with `used` tokens in use.
    pub fn from_used(allowed: bool, used: f64, limits: Limits) -> Self {
        let capacity = f64::from(limits.capacity);
        let available = (capacity - used).max(0.0);
        let missing = (used + 1.0 - capacity).max(0.0);
        Self {
            allowed,
            available,
            limits,
            retry_after_ms: millis(missing / limits.rate_per_sec),
            reset_ms: millis(used.max(0.0) / limits.rate_per_sec),
        }
    }

    /// Whole tokens available (`RateLimit-Remaining`).
    pub fn remaining(&self) -> u64 {
        self.available.floor() as u64
    }

    /// Seconds until a request may succeed, rounded up (`Retry-After`; at least 1 when
    /// the request was refused).
    pub fn retry_after_secs(&self) -> u64 {
        let secs = self.retry_after_ms.div_ceil(1000);
        if self.allowed {
            secs
        } else {
            secs.max(1)
        }
    }

    /// Seconds until the bucket is full, rounded up (`RateLimit-Reset`).
    pub fn reset_secs(&self) -> u64 {
        self.reset_ms.div_ceil(1000)
    }
}

fn millis(secs: f64) -> u64 {
    (secs * 1000.0).ceil().clamp(0.0, u64::MAX as f64) as u64
}

/// Tokens in use at `now_ms`: what `state` had, drained at the rate since then.
pub fn drained(state: Option<BucketState>, now_ms: u64, limits: Limits) -> f64 {
    match state {
        None => 0.0,
        Some(state) => {
            let elapsed = now_ms.saturating_sub(state.at_ms) as f64 / 1000.0;
            (state.used - elapsed * limits.rate_per_sec).max(0.0)
        }
    }
}

/// Takes one token if one is available: the state to store (`None`: leave the bucket as
/// it was, a refusal changes nothing) and the outcome.
pub fn take(
    state: Option<BucketState>,
    now_ms: u64,
    limits: Limits,
) -> (Option<BucketState>, Allowance) {
    let used = drained(state, now_ms, limits);
    if used + 1.0 > f64::from(limits.capacity) {
        return (None, Allowance::from_used(false, used, limits));
    }
    let at_ms = state.map_or(now_ms, |s| now_ms.max(s.at_ms));
    let used = used + 1.0;
    (
        Some(BucketState { used, at_ms }),
        Allowance::from_used(true, used, limits),
    )
}

/// The bucket at `now_ms`, taking nothing.
pub fn peek(state: Option<BucketState>, now_ms: u64, limits: Limits) -> Allowance {
    let used = drained(state, now_ms, limits);
    Allowance::from_used(used + 1.0 <= f64::from(limits.capacity), used, limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JOBS: Limits = Limits {
        rate_per_sec: 0.1,
        capacity: 3,
    };

    fn takes(
        n: usize,
        mut state: Option<BucketState>,
        now_ms: u64,
    ) -> (Option<BucketState>, Vec<Allowance>) {
        let mut outcomes = Vec::new();
        for _ in 0..n {
            let (next, outcome) = take(state, now_ms, JOBS);
            state = next.or(state);
            outcomes.push(outcome);
        }
        (state, outcomes)
    }

    #[test]
    fn given_a_new_bucket_when_capacity_plus_one_taken_at_once_then_only_the_last_is_refused() {
        let (_, outcomes) = takes(4, None, 1_000);
        let allowed: Vec<bool> = outcomes.iter().map(|o| o.allowed).collect();
        assert_eq!(allowed, [true, true, true, false]);
        let remaining: Vec<u64> = outcomes.iter().map(Allowance::remaining).collect();
        assert_eq!(remaining, [2, 1, 0, 0]);
    }

    #[test]
    fn given_an_empty_bucket_when_refused_then_retry_after_is_the_time_to_one_token() {
        let (_, outcomes) = takes(4, None, 1_000);
        let refused = outcomes[3];
        assert_eq!(refused.retry_after_ms, 10_000);
        assert_eq!(refused.retry_after_secs(), 10);
        assert_eq!(refused.reset_ms, 30_000);
        assert_eq!(refused.reset_secs(), 30);
    }

    #[test]
    fn given_an_empty_bucket_when_time_passes_then_tokens_come_back_at_the_rate() {
        let (state, _) = takes(3, None, 1_000);
        let (_, early) = take(state, 1_000 + 9_999, JOBS);
        assert!(!early.allowed);
        assert_eq!(early.retry_after_secs(), 1, "1 ms rounds up to a second");
        let (_, on_time) = take(state, 1_000 + 10_000, JOBS);
        assert!(on_time.allowed);
        assert_eq!(on_time.remaining(), 0);
        let full = peek(state, 1_000 + 60_000, JOBS);
        assert_eq!(full.available, 3.0, "never more than the capacity");
        assert_eq!(full.reset_ms, 0);
    }

    #[test]
    fn given_a_used_bucket_when_the_capacity_is_lowered_then_the_next_take_is_refused() {
        let (state, _) = takes(2, None, 1_000);
        let lowered = Limits {
            capacity: 2,
            ..JOBS
        };
        let (_, outcome) = take(state, 1_000, lowered);
        assert!(!outcome.allowed);
        assert_eq!(outcome.limits.capacity, 2);
        let raised = Limits {
            capacity: 10,
            ..JOBS
        };
        let (_, outcome) = take(state, 1_000, raised);
        assert!(outcome.allowed);
        assert_eq!(outcome.remaining(), 7);
    }

    #[test]
    fn given_a_used_bucket_when_the_rate_changes_then_it_drains_at_the_new_rate() {
        let (state, _) = takes(3, None, 0);
        let fast = Limits {
            rate_per_sec: 1.0,
            ..JOBS
        };
        assert_eq!(peek(state, 2_000, fast).remaining(), 2);
        assert_eq!(peek(state, 2_000, JOBS).remaining(), 0);
    }

    #[test]
    fn given_a_clock_that_steps_back_when_taking_then_nothing_drains_and_time_does_not_go_back() {
        let (state, _) = takes(2, None, 5_000);
        let (next, outcome) = take(state, 1_000, JOBS);
        assert!(outcome.allowed);
        assert_eq!(next.map(|s| (s.used, s.at_ms)), Some((3.0, 5_000)));
        let (next, outcome) = take(next, 1_000, JOBS);
        assert!(!outcome.allowed);
        assert_eq!(next, None, "a refusal stores nothing");
    }

    #[test]
    fn given_a_refusal_when_time_passes_then_the_refusal_did_not_delay_the_refill() {
        let (state, _) = takes(3, None, 0);
        let (unchanged, refused) = take(state, 9_999, JOBS);
        assert!(!refused.allowed && unchanged.is_none());
        let (_, allowed) = take(state, 10_000, JOBS);
        assert!(allowed.allowed);
    }

    #[test]
    fn given_a_peek_then_nothing_is_taken() {
        let state = Some(BucketState {
            used: 1.5,
            at_ms: 0,
        });
        let outcome = peek(state, 0, JOBS);
        assert!(outcome.allowed);
        assert_eq!(outcome.available, 1.5);
        assert_eq!(outcome.remaining(), 1);
        assert_eq!(outcome.retry_after_ms, 0);
        assert_eq!(outcome.reset_ms, 15_000);
    }
}
