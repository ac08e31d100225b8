//! `serve --sim-load`: every few seconds, every active droplet (one read-model query per
//! tick) reports the samples [`engine::metrics::sim::sample`] gives for it at that second,
//! stored in batches like any client's.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use engine::domain::{ClusterId, DropletId};
use engine::metrics::{sim, MetricSample, SampleStore};
use projections::metric_refs::{active_droplets, ActiveDroplet};
use projections::ReadDb;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::metrics::Metrics;
use crate::models::metric_samples::MAX_BATCH;

/// The simulated load's inputs.
pub struct SimLoad {
    pub store: Arc<dyn SampleStore>,
    pub db: ReadDb,
    pub metrics: Arc<Metrics>,
    pub seed: u64,
    pub every: Duration,
}

/// The samples `droplets` report at `at` (whole seconds) under `seed`.
pub fn samples_at(seed: u64, droplets: &[ActiveDroplet], at: DateTime<Utc>) -> Vec<MetricSample> {
    let at = at.trunc_subsecs(0);
    droplets
        .iter()
        .filter_map(|d| {
            let cluster = ClusterId::parse(&d.cluster_id).ok()?;
            let droplet = DropletId::parse(&d.id).ok()?;
            Some(
                sim::sample(seed, &d.id, &d.provider, at).map(|(kind, value)| MetricSample {
                    cluster_id: cluster.clone(),
                    droplet_id: Some(droplet.clone()),
                    metric_type: kind,
                    value,
                    timestamp: at,
                }),
            )
        })
        .flatten()
        .collect()
}

impl SimLoad {
    /// One tick at `at`: how many samples were stored.
    pub async fn tick(&self, at: DateTime<Utc>) -> Result<usize, String> {
        let droplets = active_droplets(&self.db).await.map_err(|e| e.to_string())?;
        let samples = samples_at(self.seed, &droplets, at);
        for batch in samples.chunks(MAX_BATCH) {
            self.store.insert(batch).await.map_err(|e| e.to_string())?;
            self.metrics.observe_samples(batch);
        }
        Ok(samples.len())
    }

    /// Ticks every [`every`](Self::every) until `shutdown` turns true.
    pub fn spawn(self, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(self.every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = shutdown.wait_for(|stop| *stop) => return,
                }
                match self.tick(Utc::now()).await {
                    Ok(n) => tracing::debug!(samples = n, "simulated load"),
                    Err(error) => {
                        tracing::warn!(%error, "simulated load failed; next tick retries")
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tick_is_the_same_for_the_same_seed_and_second() {
        let droplets = vec![ActiveDroplet {
            id: DropletId::new().to_string(),
            cluster_id: ClusterId::new().to_string(),
            provider: "nimbus".into(),
        }];
        let at = DateTime::from_timestamp(1_800_000_000, 250_000_000).unwrap();
        let first = samples_at(1, &droplets, at);
        assert_eq!(first.len(), 4);
        assert_eq!(first, samples_at(1, &droplets, at.trunc_subsecs(0)));
        assert_ne!(first, samples_at(2, &droplets, at));
        assert!(first.iter().all(|s| s.timestamp == at.trunc_subsecs(0)));
    }
}
