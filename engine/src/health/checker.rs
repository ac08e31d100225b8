//! The scheduled health check: which clusters to look at, their health, and the status
//! change it records.
//!
//! One round asks the metrics store for the window of every cluster that sent samples
//! lately (one query, costing what the window holds) and the directory for the clusters
//! that need another look although they are quiet: those recorded as not healthy (so
//! they recover when their samples calm down or stop) and those with failed droplets.
//! Clusters whose judged status differs from the recorded one get a
//! [`RecordClusterHealth`] command; the aggregate appends nothing when the status did not
//! change, so two processes checking at once, or a read model that lags, never record a
//! change twice.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::evaluate::{evaluate, DropletState, Thresholds};
use crate::commands::{CommandContext, CommandError, CommandService, RecordClusterHealth};
use crate::domain::{worst_status, ClusterId, ClusterStatus, HealthIssue};
use crate::metrics::{MetricsError, MetricsStore, WindowSummary};

/// Clusters looked up per directory query in one round.
const CHUNK: usize = 500;

/// A directory's failure (the read models, as the API process has them).
pub type DirectoryError = Box<dyn std::error::Error + Send + Sync>;

/// What the checker needs to know of clusters and droplets besides metrics (the read
/// models answer it).
#[async_trait]
pub trait ClusterDirectory: Send + Sync {
    /// The recorded status of those of `clusters` that exist and are not deleted.
    async fn statuses(
        &self,
        clusters: &[ClusterId],
    ) -> Result<Vec<(ClusterId, ClusterStatus)>, DirectoryError>;

    /// The droplets of `clusters` that are not destroyed.
    async fn droplets(
        &self,
        clusters: &[ClusterId],
    ) -> Result<Vec<(ClusterId, DropletState)>, DirectoryError>;

    /// Live clusters recorded as not healthy, or with a droplet whose provisioning failed.
    async fn needing_attention(&self) -> Result<Vec<ClusterId>, DirectoryError>;
}

/// What can stop a health check.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// The metrics store failed.
    #[error("reading the metric window failed")]
    Metrics(#[from] MetricsError),
    /// The read models failed.
    #[error("reading clusters and droplets failed")]
    Directory(#[source] DirectoryError),
    /// Recording the status failed.
    #[error("recording the cluster status failed")]
    Command(#[from] CommandError),
}

/// One cluster's health now.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ClusterHealth {
    pub cluster_id: String,
    /// The status the issues set (the worst wins; `healthy` without issues).
    #[schema(value_type = String, example = "warning")]
    pub status: ClusterStatus,
    pub issues: Vec<HealthIssue>,
    pub checked_at: DateTime<Utc>,
    /// The window metric averages are taken over.
    pub window_seconds: u32,
}

/// Runs health checks.
#[derive(Clone)]
pub struct HealthChecker {
    metrics: Arc<dyn MetricsStore>,
    directory: Arc<dyn ClusterDirectory>,
    commands: CommandService,
    thresholds: Thresholds,
    window: Duration,
    /// Samples stored by this process so far (see [`HealthChecker::run`]).
    stored: Arc<AtomicU64>,
}

/// What a round saw, to tell whether the next one can be skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    head: i64,
    stored: u64,
}

impl HealthChecker {
    /// A checker judging metric averages over `window` with the seed's thresholds.
    pub fn new(
        metrics: Arc<dyn MetricsStore>,
        directory: Arc<dyn ClusterDirectory>,
        commands: CommandService,
        window: Duration,
    ) -> Self {
        Self {
            metrics,
            directory,
            commands,
            thresholds: Thresholds::default(),
            window,
            stored: Arc::default(),
        }
    }

    /// Counts the samples this process stores in `stored` (bumped by whoever stores them).
    pub fn with_stored_samples(mut self, stored: Arc<AtomicU64>) -> Self {
        self.stored = stored;
        self
    }

    /// The window metric averages are taken over, in seconds.
    pub fn window_seconds(&self) -> u32 {
        u32::try_from(self.window.as_secs()).unwrap_or(u32::MAX)
    }

    fn since(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::MAX)
    }

    /// One cluster's health at `now` (nothing is recorded).
    pub async fn check(
        &self,
        cluster: &ClusterId,
        now: DateTime<Utc>,
    ) -> Result<ClusterHealth, HealthError> {
        let summaries = self
            .metrics
            .window_summaries(self.since(now), Some(cluster))
            .await?;
        let droplets = self.droplets_of(std::slice::from_ref(cluster)).await?;
        let issues = evaluate(
            &summaries,
            droplets.get(cluster).map_or(&[][..], Vec::as_slice),
            &self.thresholds,
            self.window_seconds(),
        );
        Ok(ClusterHealth {
            cluster_id: cluster.to_string(),
            status: worst_status(&issues),
            issues,
            checked_at: now,
            window_seconds: self.window_seconds(),
        })
    }

    /// One round at `now`: records a status change on every cluster whose status the
    /// checks change; returns how many changed.
    pub async fn run_once(&self, now: DateTime<Utc>) -> Result<usize, HealthError> {
        self.round(now).await.map(|(changed, _)| changed)
    }

    /// One round: how many statuses changed, and how many clusters it looked at.
    async fn round(&self, now: DateTime<Utc>) -> Result<(usize, usize), HealthError> {
        let mut windows: BTreeMap<ClusterId, Vec<WindowSummary>> = BTreeMap::new();
        for summary in self.metrics.window_summaries(self.since(now), None).await? {
            windows
                .entry(summary.cluster_id.clone())
                .or_default()
                .push(summary);
        }
        let mut candidates: BTreeSet<ClusterId> = windows.keys().cloned().collect();
        candidates.extend(
            self.directory
                .needing_attention()
                .await
                .map_err(HealthError::Directory)?,
        );
        let candidates: Vec<ClusterId> = candidates.into_iter().collect();
        let mut changed = 0;
        for chunk in candidates.chunks(CHUNK) {
            changed += self.judge(chunk, &windows).await?;
        }
        Ok((changed, candidates.len()))
    }

    /// Judges a chunk of clusters and records the changes.
    async fn judge(
        &self,
        clusters: &[ClusterId],
        windows: &BTreeMap<ClusterId, Vec<WindowSummary>>,
    ) -> Result<usize, HealthError> {
        let recorded = self
            .directory
            .statuses(clusters)
            .await
            .map_err(HealthError::Directory)?;
        let droplets = self.droplets_of(clusters).await?;
        let mut changed = 0;
        for (cluster, status) in recorded {
            let issues = evaluate(
                windows.get(&cluster).map_or(&[][..], Vec::as_slice),
                droplets.get(&cluster).map_or(&[][..], Vec::as_slice),
                &self.thresholds,
                self.window_seconds(),
            );
            let judged = worst_status(&issues);
            if judged == status {
                continue;
            }
            match self.record(cluster.clone(), judged, issues).await {
                Ok(()) => changed += 1,
                // Deleted between the read and the command: nothing to record.
                Err(CommandError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(changed)
    }

    async fn record(
        &self,
        id: ClusterId,
        status: ClusterStatus,
        issues: Vec<HealthIssue>,
    ) -> Result<(), CommandError> {
        let command = RecordClusterHealth { id, status, issues };
        self.commands
            .execute(&CommandContext::new("health-check"), &command)
            .await
            .map(|_| ())
    }

    async fn droplets_of(
        &self,
        clusters: &[ClusterId],
    ) -> Result<BTreeMap<ClusterId, Vec<DropletState>>, HealthError> {
        let mut by_cluster: BTreeMap<ClusterId, Vec<DropletState>> = BTreeMap::new();
        for (cluster, droplet) in self
            .directory
            .droplets(clusters)
            .await
            .map_err(HealthError::Directory)?
        {
            by_cluster.entry(cluster).or_default().push(droplet);
        }
        Ok(by_cluster)
    }

    /// Checks every `interval` until `stop` turns true; a failed round is logged and the
    /// next one runs on time. A round is skipped while nothing can have changed: the last
    /// round looked at no cluster (no recent samples, none unhealthy, no failed droplet),
    /// the log's `head` has not moved and this process stored no sample since. An idle
    /// server then reads nothing.
    pub async fn run(
        self,
        interval: Duration,
        head: tokio::sync::watch::Receiver<i64>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut quiet_at: Option<Seen> = None;
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                return;
            }
            let seen = Seen {
                head: *head.borrow(),
                stored: self.stored.load(Ordering::Relaxed),
            };
            if quiet_at == Some(seen) {
                continue;
            }
            match self.round(Utc::now()).await {
                Ok((changed, looked_at)) => {
                    if changed > 0 {
                        tracing::info!(changed, "health checks changed cluster statuses");
                    }
                    // A status change moves the head: the next round runs and confirms.
                    quiet_at = (looked_at == 0).then_some(seen);
                }
                Err(e) => {
                    quiet_at = None;
                    tracing::warn!(error = %crate::error_chain(&e), "health check round failed");
                }
            }
        }
    }
}
