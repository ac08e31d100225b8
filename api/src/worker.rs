//! `clustergenie worker`: the job runtime without the HTTP API, as one member of the Kafka
//! worker group (see `engine::kafka::group`). Several workers (and `serve` processes with
//! workers) divide the jobs by the group's partitions; a worker that stops or dies leaves
//! its partitions to the others, which retry its lost attempts. With `--projections`
//! (`worker_projections`) it runs the projections too, as `serve` does (every process
//! that runs them shares the work safely: a batch locks its checkpoint row). It takes part
//! in the auto-scaling rounds too (one process at a time, by the store lease `autoscaler`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use engine::store::{self, EventStore, TailedStore};
use projections::{ProjectionRuntime, ReadDb, RuntimeOptions};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::runtime;
use crate::settings::Settings;
use crate::startup::StartupError;

/// Runs the job runtime until `signal` completes, then stops it (bounded) and leaves the
/// group.
pub async fn run(
    settings: Settings,
    signal: impl Future<Output = ()> + Send,
) -> Result<(), StartupError> {
    if settings.kafka().is_none() {
        return Err(StartupError::NoKafka);
    }
    let store = store::connect(&settings.database_url(), settings.database_max_connections).await?;
    store.migrate().await?;
    let store: Arc<dyn EventStore> = TailedStore::wrap(store).await?;
    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    if settings.worker_projections {
        tasks.extend(start_projections(&settings, &store, &shutdown_rx).await?);
    }
    let commands = runtime::commands(&settings, &store)?;
    let providers = runtime::providers(&settings, &store, &shutdown_rx, &mut tasks).await?;
    let jobs = runtime::executor(&settings, &commands, &providers, &shutdown_rx, &mut tasks)?;
    // Auto-scaling rounds: only the process holding the store lease runs them.
    let db = ReadDb::connect(&settings.database_url(), settings.database_max_connections).await?;
    runtime::autoscaler(
        &settings,
        &db,
        &commands,
        &providers,
        None,
        &shutdown_rx,
        &mut tasks,
    )
    .await?;
    tracing::info!(
        workers = jobs.executor.stats().worker_count,
        database = store.backend(),
        "job worker running"
    );
    signal.await;
    let _ = shutdown.send(true);
    if tokio::time::timeout(Duration::from_secs(10), futures::future::join_all(tasks))
        .await
        .is_err()
    {
        tracing::warn!("worker tasks did not stop within 10 s");
    }
    tracing::info!("job worker stopped");
    Ok(())
}

/// The projection runtime on the read models of `settings`' database, until `shutdown`.
async fn start_projections(
    settings: &Settings,
    store: &Arc<dyn EventStore>,
    shutdown: &watch::Receiver<bool>,
) -> Result<Vec<JoinHandle<()>>, StartupError> {
    let db = ReadDb::connect(&settings.database_url(), settings.database_max_connections).await?;
    db.migrate().await?;
    let runtime = ProjectionRuntime::new(
        Arc::clone(store),
        db,
        projections::all(),
        RuntimeOptions::default(),
    );
    let tasks = runtime.start(shutdown.clone()).await?;
    tracing::info!("projections running in this worker");
    Ok(tasks)
}
