//! The job runtime as `serve` and `worker` start it: providers (folded from the log and
//! followed), retry policies from the settings, and the executor, in the Kafka worker group
//! when Kafka is configured (the group divides the jobs among the processes; without it,
//! the processes race for each attempt and one wins). Kafka being down holds nothing up:
//! the group is joined in the background. Also the scheduled health checks, which record
//! a cluster status change when the checks change it.

use std::sync::Arc;
use std::time::Duration;

use engine::autoscaling::{connect_autoscaling, Autoscaler, StoreLease};
use engine::commands::CommandService;
use engine::executor::{AllJobs, Executor, ExecutorOptions, Ownership};
use engine::health::HealthChecker;
use engine::kafka::group::{self, WorkerGroup};
use engine::metrics::MetricsStore;
use engine::policies::Policies;
use engine::provider::{self, Providers};
use engine::store::EventStore;
use projections::{AutoscalingReadDirectory, HealthDirectory, ReadDb};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::startup::StartupError;

/// The simulated providers of this process, kept in step with the log: registrations, and
/// the live droplets each provider runs (so capacity counts droplets made before a restart
/// or by other processes).
pub async fn providers(
    settings: &Settings,
    store: &Arc<dyn EventStore>,
    shutdown: &watch::Receiver<bool>,
    tasks: &mut Vec<JoinHandle<()>>,
) -> Result<Arc<Providers>, StartupError> {
    let providers = Arc::new(Providers::from_options(&settings.sim_options())?);
    let mut synced = provider::sync::Synced::default();
    provider::sync::catch_up(&**store, &providers, &mut synced).await?;
    tasks.push(provider::sync::follow(
        Arc::clone(store),
        Arc::clone(&providers),
        synced,
        shutdown.clone(),
    ));
    Ok(providers)
}

/// The command service, with the job policies of the settings.
pub fn commands(
    settings: &Settings,
    store: &Arc<dyn EventStore>,
) -> Result<CommandService, StartupError> {
    let policies = Policies::patched(&settings.job_policies)?;
    Ok(CommandService::new(Arc::clone(store))
        .with_snapshot_every(settings.snapshot_every)
        .with_policies(policies))
}

/// The executor, and the worker group it is in when Kafka is configured.
pub struct JobRuntime {
    pub executor: Executor,
    pub group: Option<Arc<WorkerGroup>>,
}

/// Starts the executor with the job policies of `commands`, in the worker group when
/// Kafka is configured. The group is joined in the background (the brokers may be down:
/// start-up does not wait for them; the jobs wait in the log until the group is joined).
pub fn executor(
    settings: &Settings,
    commands: &CommandService,
    providers: &Arc<Providers>,
    shutdown: &watch::Receiver<bool>,
    tasks: &mut Vec<JoinHandle<()>>,
) -> Result<JobRuntime, StartupError> {
    let group = match settings.kafka() {
        Some(kafka) => {
            let group_id = format!("{}.workers", kafka.client_id);
            let (group, membership) = group::join(kafka, &group_id, shutdown.clone())?;
            tracing::info!(group = %group_id, "job runtime: joining the Kafka worker group");
            tasks.push(membership);
            Some(group)
        }
        None => None,
    };
    let ownership: Arc<dyn Ownership> = match &group {
        Some(group) => Arc::clone(group) as _,
        None => Arc::new(AllJobs),
    };
    let options = ExecutorOptions {
        workers: settings.worker_count,
        queue: settings.worker_queue,
        sim_delay: Duration::from_millis(settings.sim_delay_ms),
        name: format!("{}-{}", hostname(), std::process::id()),
        policies: commands.policies().clone(),
    };
    let (executor, handles) = Executor::start_owning(
        commands.clone(),
        Arc::clone(providers),
        options,
        ownership,
        shutdown.clone(),
    );
    tasks.extend(handles);
    Ok(JobRuntime { executor, group })
}

/// The machine's name (`HOSTNAME`, else `local`), for worker names.
pub fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "local".into())
}

/// The health checker over `samples` and the read models; its scheduled rounds run
/// every `health_check_interval_seconds` (none at `0`) until shutdown.
pub fn health_checks(
    settings: &Settings,
    samples: Arc<dyn MetricsStore>,
    db: &ReadDb,
    commands: &CommandService,
    metrics: &Metrics,
    shutdown: &watch::Receiver<bool>,
    tasks: &mut Vec<JoinHandle<()>>,
) -> HealthChecker {
    let checker = HealthChecker::new(
        samples,
        Arc::new(HealthDirectory::new(db.clone())),
        commands.clone(),
        Duration::from_secs(settings.health_window_seconds.max(1)),
    )
    .with_stored_samples(metrics.samples_stored());
    if settings.health_check_interval_seconds > 0 {
        let interval = Duration::from_secs(settings.health_check_interval_seconds);
        let head = commands.store().watch_head();
        let round = checker.clone().run(interval, head, shutdown.clone());
        tasks.push(tokio::spawn(round));
    }
    checker
}

/// The autoscaler over the read models and the decision history (in the event store's
/// database); its scheduled rounds run every `autoscaler_interval_seconds` (none at `0`)
/// while this process holds the store lease `autoscaler`, until shutdown.
#[allow(clippy::too_many_arguments)]
pub async fn autoscaler(
    settings: &Settings,
    db: &ReadDb,
    commands: &CommandService,
    providers: &Arc<Providers>,
    metrics: Option<&Metrics>,
    shutdown: &watch::Receiver<bool>,
    tasks: &mut Vec<JoinHandle<()>>,
) -> Result<Autoscaler, StartupError> {
    let history =
        connect_autoscaling(&settings.database_url(), settings.database_max_connections).await?;
    let mut autoscaler = Autoscaler::new(
        Arc::new(AutoscalingReadDirectory::new(db.clone())),
        history,
        commands.clone(),
        Arc::clone(providers),
    );
    if let Some(metrics) = metrics {
        autoscaler = autoscaler.with_observer(metrics.autoscaler_observer());
    }
    if settings.autoscaler_interval_seconds > 0 {
        let interval = Duration::from_secs(settings.autoscaler_interval_seconds);
        let holder = format!(
            "{}-{}-{}",
            hostname(),
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        );
        let lease = Arc::new(StoreLease {
            store: Arc::clone(commands.store()),
            holder,
        });
        let round = autoscaler.clone().run(interval, lease, shutdown.clone());
        tasks.push(tokio::spawn(round));
    }
    Ok(autoscaler)
}
