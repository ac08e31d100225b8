//! Retention: raw samples are kept for a short window (24 h by default), rollups longer
//! (30 days by default); a background task deletes what is older, in batches.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::reads::{Expired, SampleStore};
use super::MetricsError;

/// How long samples and rollups are kept, and how the task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Raw samples older than this are deleted.
    pub raw: Duration,
    /// Rollups of minutes older than this are deleted.
    pub rollups: Duration,
    /// How often the task runs.
    pub every: Duration,
    /// Rows deleted per statement.
    pub batch: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            raw: Duration::from_secs(24 * 3600),
            rollups: Duration::from_secs(30 * 24 * 3600),
            every: Duration::from_secs(300),
            batch: 10_000,
        }
    }
}

/// `now - keep`, or the earliest time when that is out of range.
fn before(now: DateTime<Utc>, keep: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(keep)
        .ok()
        .and_then(|keep| now.checked_sub_signed(keep))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

impl Retention {
    /// The oldest time a raw sample may have at `now` and still be kept.
    pub fn raw_horizon(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        before(now, self.raw)
    }

    /// The oldest minute a rollup may have at `now` and still be kept.
    pub fn rollup_horizon(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        before(now, self.rollups)
    }

    /// One pass at `now`.
    pub async fn run_once(
        &self,
        store: &dyn SampleStore,
        now: DateTime<Utc>,
    ) -> Result<Expired, MetricsError> {
        store
            .expire(self.raw_horizon(now), self.rollup_horizon(now), self.batch)
            .await
    }

    /// Runs a pass every [`every`](Self::every) until `shutdown` turns true.
    pub fn spawn(
        self,
        store: Arc<dyn SampleStore>,
        mut shutdown: watch::Receiver<bool>,
    ) -> JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                match self.run_once(store.as_ref(), Utc::now()).await {
                    Ok(done) if done != Expired::default() => tracing::info!(
                        samples = done.samples,
                        rollups = done.rollups,
                        "expired metric samples"
                    ),
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "metric retention failed; retrying later"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(self.every) => {}
                    _ = shutdown.wait_for(|stop| *stop) => return,
                }
            }
        })
    }
}
