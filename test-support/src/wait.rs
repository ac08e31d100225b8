//! Bounded waits on an observable condition, in place of sleeps.
//!
//! A test that sleeps and then asserts passes or fails by the machine's speed: too short a
//! sleep on a loaded machine and the thing has not happened yet. [`eventually`] polls a
//! probe until it says done, and fails (naming what it waited for and what it saw last)
//! only when the bound runs out, which can be generous because a passing test never waits
//! for it.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// A bound for waits on things the test itself set going (a projection catching up, a
/// job finishing): long enough for a loaded debug build, never waited for in a pass.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The longest pause between two probes (they start at a few milliseconds and double).
const MAX_PAUSE: Duration = Duration::from_millis(200);

/// What a probe of [`eventually`] answers: done (with a value) or not yet (perhaps saying
/// why, which the failure message shows).
///
/// - `bool`: `true` is done;
/// - `Option<T>`: `Some(value)` is done, giving `value`;
/// - `Result<T, E>`: `Ok(value)` is done, giving `value`; `Err(e)` is "not yet, because `e`".
pub trait Outcome {
    type Value;

    /// `Ok(value)` when done; `Err(why)` when not yet.
    fn done(self) -> Result<Self::Value, Option<String>>;
}

impl Outcome for bool {
    type Value = ();

    fn done(self) -> Result<(), Option<String>> {
        if self {
            Ok(())
        } else {
            Err(None)
        }
    }
}

impl<T> Outcome for Option<T> {
    type Value = T;

    fn done(self) -> Result<T, Option<String>> {
        self.ok_or(None)
    }
}

impl<T, E: fmt::Display> Outcome for Result<T, E> {
    type Value = T;

    fn done(self) -> Result<T, Option<String>> {
        self.map_err(|e| Some(e.to_string()))
    }
}

/// Polls `probe` until it answers done, and returns what it gave; panics once `within`
/// has passed without that, with `what` and the probe's last "not yet" reason.
///
/// The probe may assert too: an assertion inside it is checked at every poll, which is how
/// a test says "this must hold all along until that happens":
///
/// ```no_run
/// # async fn example(leader: impl Fn() -> bool, attempts: impl Fn() -> u64) {
/// use std::time::Duration;
/// test_support::eventually(Duration::from_secs(30), "the second relay tried 8 times", || async {
///     assert!(!leader(), "the second relay took the lease");
///     attempts() >= 8
/// })
/// .await;
/// # }
/// ```
///
/// Time is tokio's: under a paused clock the bound is virtual time too.
pub async fn eventually<O, F, Fut>(
    within: Duration,
    what: impl fmt::Display,
    mut probe: F,
) -> O::Value
where
    O: Outcome,
    F: FnMut() -> Fut,
    Fut: Future<Output = O>,
{
    let deadline = Instant::now() + within;
    let mut pause = Duration::from_millis(5);
    loop {
        let why = match probe().await.done() {
            Ok(value) => return value,
            Err(why) => why,
        };
        let now = Instant::now();
        if now >= deadline {
            match why {
                Some(why) => panic!("{what}: not within {within:?}; last seen: {why}"),
                None => panic!("{what}: not within {within:?}"),
            }
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn returns_what_the_probe_gave_once_done() {
        let polls = AtomicU32::new(0);
        let value = eventually(DEADLINE, "the third poll", || async {
            let n = polls.fetch_add(1, Ordering::SeqCst) + 1;
            (n == 3).then_some(n * 10)
        })
        .await;
        assert_eq!(value, 30);
        eventually(DEADLINE, "true", || async { true }).await;
        let ok: u8 = eventually(DEADLINE, "ok", || async { Ok::<_, String>(7) }).await;
        assert_eq!(ok, 7);
    }

    #[tokio::test]
    #[should_panic(expected = "the impossible: not within 50ms; last seen: still 1")]
    async fn fails_at_the_bound_naming_what_and_the_last_reason() {
        eventually(Duration::from_millis(50), "the impossible", || async {
            Err::<(), _>("still 1")
        })
        .await;
    }
}
