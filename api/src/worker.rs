//! `clustergenie worker`: the job runtime without the HTTP API, as one member of the Kafka
//! worker group (see `engine::kafka::group`). Several workers (and `serve` processes with
//! workers) divide the jobs by the group's partitions; a worker that stops or dies leaves
//! its partitions to the others, which retry its lost attempts.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use engine::store::{self, EventStore};
use tokio::sync::watch;

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
    let store: Arc<dyn EventStore> =
        store::connect(&settings.database_url(), settings.database_max_connections).await?;
    store.migrate().await?;
    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut tasks = Vec::new();
    let commands = runtime::commands(&settings, &store)?;
    let providers = runtime::providers(&settings, &store, &shutdown_rx, &mut tasks).await?;
    let jobs = runtime::executor(&settings, &commands, &providers, &shutdown_rx, &mut tasks)?;
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
