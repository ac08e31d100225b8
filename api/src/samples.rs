//! Metric samples in the application: the store (on the event store's database), what
//! ingest checks ids against, and the background tasks `serve` runs for them (retention
//! always, simulated load with `--sim-load`).

use std::sync::Arc;
use std::time::Duration;

use engine::metrics::{connect_metrics, MetricsError, MetricsStore, Retention, SampleStore};
use projections::ReadDb;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::metrics::Metrics;
use crate::settings::Settings;

/// The metrics store and what its handlers and tasks need besides.
pub struct Samples {
    /// The store, with its list and retention.
    pub store: Arc<dyn SampleStore>,
    /// The read models, for the clusters and droplets a batch names and the droplets
    /// simulated load reports for.
    pub db: ReadDb,
    pub retention: Retention,
}

impl Samples {
    /// Opens the store on the database at `url` (already migrated with the event store).
    pub async fn open(settings: &Settings, url: &str, db: ReadDb) -> Result<Self, MetricsError> {
        let store = connect_metrics(url, settings.database_max_connections).await?;
        Ok(Self {
            store,
            db,
            retention: retention(settings),
        })
    }

    /// The store as health checks and diagnosis read it.
    pub fn reader(&self) -> Arc<dyn MetricsStore> {
        Arc::clone(&self.store) as Arc<dyn MetricsStore>
    }

    /// Starts retention and, when asked, simulated load.
    pub fn start(
        &self,
        settings: &Settings,
        metrics: &Arc<Metrics>,
        shutdown: &watch::Receiver<bool>,
        tasks: &mut Vec<JoinHandle<()>>,
    ) {
        tasks.push(
            self.retention
                .spawn(Arc::clone(&self.store), shutdown.clone()),
        );
        if settings.sim_load {
            let load = crate::sim_load::SimLoad {
                store: Arc::clone(&self.store),
                db: self.db.clone(),
                metrics: Arc::clone(metrics),
                seed: settings.sim_seed,
                every: Duration::from_secs(settings.sim_load_interval_secs.max(1)),
            };
            tracing::info!(seed = load.seed, every = ?load.every, "simulated load on");
            tasks.push(load.spawn(shutdown.clone()));
        }
    }
}

/// The retention the settings ask for.
pub fn retention(settings: &Settings) -> Retention {
    Retention {
        raw: Duration::from_secs(settings.metrics_raw_retention_hours.max(1) * 3600),
        rollups: Duration::from_secs(settings.metrics_rollup_retention_days.max(1) * 86_400),
        every: Duration::from_secs(settings.metrics_retention_interval_secs.max(1)),
        ..Retention::default()
    }
}
