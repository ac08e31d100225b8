//! Building and running the application: store, read models, projections, executor and
//! the HTTP server on a listener that tests bind to port 0.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use engine::diagnosis::{Diagnoser, LlmClient};
use engine::kafka::{Relay, RelayOptions, RelayStats, RELAY_NAME};
use engine::ratelimit::{
    BucketStore, Clock, FallbackBuckets, MemoryBuckets, RateLimiter, RedisBuckets, SystemClock,
};
use engine::store::{self, EventStore, TailedStore};
use projections::cache::{
    redact_url, CacheHandle, CacheReads, CacheRunner, CacheRunnerOptions, CacheState, MemoryCache,
    ReadCache, RedisCache, RedisOptions,
};
use projections::{ProjectionRuntime, ReadDb, ReadModels, RuntimeOptions};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::command_topic::CommandConsumer;
use crate::metrics::Metrics;
use crate::runtime;
use crate::settings::Settings;
use crate::state::{AppState, Shared};

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("could not create the data directory {0}")]
    DataDir(std::path::PathBuf, #[source] std::io::Error),
    #[error("could not open the event store")]
    Store(#[from] engine::store::StoreError),
    #[error("could not open the read models")]
    ReadModels(#[from] projections::ProjectionError),
    #[error("could not listen on {0}")]
    Listen(SocketAddr, #[source] std::io::Error),
    #[error("could not register metrics")]
    Metrics(#[from] prometheus::Error),
    #[error("invalid simulated provider settings")]
    Providers(#[from] engine::provider::ProviderError),
    #[error("could not set up the cache read models")]
    Cache(#[from] projections::cache::CacheError),
    #[error("could not set up the rate-limit buckets")]
    RateLimit(#[from] engine::ratelimit::BucketError),
    #[error("invalid job policy settings")]
    JobPolicies(#[from] engine::policies::PolicyError),
    #[error("could not join the Kafka worker group")]
    WorkerGroup(#[from] engine::kafka::KafkaError),
    #[error("could not open the metric samples store")]
    MetricSamples(#[from] engine::metrics::MetricsError),
    #[error("could not open the autoscaling history")]
    Autoscaling(#[from] engine::autoscaling::AutoscalingStoreError),
    #[error("`clustergenie worker` needs Kafka: set KAFKA_BROKERS (or [kafka] brokers)")]
    NoKafka,
}

/// How long start-up waits for the cache runner's first attempt (a small log starts with
/// a warm cache; a large one keeps filling it in the background).
const CACHE_WARM_UP: Duration = Duration::from_secs(2);

/// A built application, listening but not yet serving.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    /// Tells the live tails the server is shutting down.
    draining: watch::Sender<bool>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Application {
    /// Opens and migrates the store and read models, starts projections and (unless
    /// disabled) the job executor, and binds the listener.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// [`Application::build`] with the rate limiter telling time by `clock` (tests move
    /// a manual clock instead of sleeping).
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartupError> {
        let url = settings.database_url();
        if url.starts_with("sqlite:") {
            std::fs::create_dir_all(&settings.data_dir)
                .map_err(|e| StartupError::DataDir(settings.data_dir.clone(), e))?;
        }
        let store = store::connect(&url, settings.database_max_connections).await?;
        store.migrate().await?;
        // Every reader of the log in this process shares one tail of it.
        let store: Arc<dyn EventStore> = TailedStore::wrap(store).await?;
        let db = ReadDb::connect(&url, settings.database_max_connections).await?;
        db.migrate().await?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let runtime = Arc::new(ProjectionRuntime::new(
            Arc::clone(&store),
            db.clone(),
            projections::all(),
            RuntimeOptions::default(),
        ));
        let mut tasks = runtime.start(shutdown_rx.clone()).await?;
        let (cache, handle) = start_cache(&settings, &store, &shutdown_rx, &mut tasks)?;
        handle
            .wait_for(CACHE_WARM_UP, |s| s.state != CacheState::Starting)
            .await;
        let commands = runtime::commands(&settings, &store)?;
        let providers = runtime::providers(&settings, &store, &shutdown_rx, &mut tasks).await?;
        let jobs = match settings.workers {
            true => Some(runtime::executor(
                &settings,
                &commands,
                &providers,
                &shutdown_rx,
                &mut tasks,
            )?),
            false => None,
        };
        let worker_group = jobs.as_ref().and_then(|j| j.group.clone());
        let relay = start_relay(&settings, &store, &shutdown_rx, &mut tasks);
        let (limiter, limiter_fallback) = rate_limiter(&settings, clock)?;
        let (draining, draining_rx) = watch::channel(false);
        let samples = crate::samples::Samples::open(&settings, &url, db.clone()).await?;
        // Deployment health gates read the droplets' samples through the providers.
        providers.set_monitoring(samples.reader());
        let metrics = Arc::new(Metrics::new()?);
        samples.start(&settings, &metrics, &shutdown_rx, &mut tasks);
        let health = runtime::health_checks(
            &settings,
            samples.reader(),
            &db,
            &commands,
            &metrics,
            &shutdown_rx,
            &mut tasks,
        );
        let autoscaler = runtime::autoscaler(
            &settings,
            &db,
            &commands,
            &providers,
            Some(&metrics),
            &shutdown_rx,
            &mut tasks,
        )
        .await?;
        let listener = TcpListener::bind(settings.listen)
            .await
            .map_err(|e| StartupError::Listen(settings.listen, e))?;
        let state = AppState::from(Shared {
            commands,
            store,
            read: ReadModels::new(db),
            cache: CacheReads::new(cache, handle),
            runtime,
            executor: jobs.map(|j| j.executor),
            worker_group,
            providers,
            relay,
            limiter,
            limiter_fallback,
            rules: Arc::default(),
            diagnoser: Diagnoser::new(settings.llm().map(LlmClient::new)),
            metrics,
            metric_samples: samples.reader(),
            health,
            autoscaler,
            samples: Arc::new(samples),
            settings: Arc::new(settings),
            draining: draining_rx,
        });
        if let Some(kafka) = state.settings.kafka() {
            let routes = crate::filters::routes(state.clone());
            let consumer = CommandConsumer::new(kafka.clone(), routes, Default::default());
            tasks.push(consumer.spawn(shutdown_rx.clone()));
        }
        Ok(Self {
            listener,
            state,
            draining,
            shutdown,
            tasks,
        })
    }

    /// The address actually bound (port 0 becomes a real port).
    pub fn address(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| self.state.settings.listen)
    }

    /// The shared state (tests reach the store through it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `signal` completes, then ends the live tails (each with a
    /// `disconnect` event), lets in-flight requests finish (for at most
    /// `shutdown_grace_ms`), stops the background tasks and waits (bounded) for them to
    /// persist their checkpoints.
    pub async fn run_until(self, signal: impl Future<Output = ()> + Send + 'static) {
        let routes = crate::filters::routes(self.state.clone());
        let address = self.address();
        tracing::info!(%address, database = self.state.store.backend(), "serving");
        let grace = Duration::from_millis(self.state.settings.shutdown_grace_ms);
        let (fired, heard) = tokio::sync::oneshot::channel::<()>();
        let draining = self.draining;
        let server = warp::serve(routes)
            .incoming(self.listener)
            .graceful(async move {
                signal.await;
                let _ = draining.send(true);
                let _ = fired.send(());
            })
            .run();
        let deadline = async move {
            if heard.await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            () = server => {}
            () = deadline => {
                tracing::warn!(?grace, "requests still open after the shutdown grace; stopping");
            }
        }
        let _ = self.shutdown.send(true);
        let stop = futures::future::join_all(self.tasks);
        if tokio::time::timeout(Duration::from_secs(10), stop)
            .await
            .is_err()
        {
            tracing::warn!("background tasks did not stop within 10 s");
        }
        tracing::info!("stopped");
    }
}

/// The cache (Redis when configured, else in process) and its runner, on `tasks`.
fn start_cache(
    settings: &Settings,
    store: &Arc<dyn EventStore>,
    shutdown: &watch::Receiver<bool>,
    tasks: &mut Vec<JoinHandle<()>>,
) -> Result<(Arc<dyn ReadCache>, CacheHandle), StartupError> {
    let cache: Arc<dyn ReadCache> = match settings.redis_url() {
        Some(url) => {
            tracing::info!(redis = %redact_url(url), prefix = %settings.cache_key_prefix, "cache read models in Redis");
            let options = RedisOptions {
                prefix: settings.cache_key_prefix.clone(),
                ..RedisOptions::default()
            };
            Arc::new(RedisCache::open(url, options)?)
        }
        None => {
            let budget = settings.cache_memory_budget_bytes();
            tracing::info!(budget_bytes = budget, "cache read models in process");
            Arc::new(MemoryCache::with_budget(budget))
        }
    };
    let runner = CacheRunner::new(
        Arc::clone(store),
        Arc::clone(&cache),
        CacheRunnerOptions::default(),
    );
    let handle = runner.handle();
    tasks.push(runner.spawn(shutdown.clone()));
    Ok((cache, handle))
}

/// The rate limiter: buckets in Redis (shared by every process, with this process's own
/// buckets as the fallback while Redis fails) when Redis is configured, else in process.
fn rate_limiter(
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> Result<(RateLimiter, Option<Arc<FallbackBuckets>>), StartupError> {
    let Some(url) = settings.redis_url() else {
        return Ok((
            RateLimiter::new(Arc::new(MemoryBuckets::new()), clock),
            None,
        ));
    };
    tracing::info!(redis = %redact_url(url), prefix = %settings.ratelimit_key_prefix, "rate-limit buckets in Redis");
    let redis = RedisBuckets::open(
        url,
        &settings.ratelimit_key_prefix,
        Duration::from_millis(settings.ratelimit_redis_timeout_ms),
    )?;
    let fallback = Arc::new(FallbackBuckets::new(Arc::new(redis)));
    let store: Arc<dyn BucketStore> = fallback.clone();
    Ok((RateLimiter::new(store, clock), Some(fallback)))
}

/// The Kafka relay, when brokers are configured: every process runs one, the holder of
/// the lease publishes.
fn start_relay(
    settings: &Settings,
    store: &Arc<dyn EventStore>,
    shutdown: &watch::Receiver<bool>,
    tasks: &mut Vec<JoinHandle<()>>,
) -> Option<Arc<RelayStats>> {
    let kafka = settings.kafka()?;
    tracing::info!(brokers = %kafka.brokers, "publishing the log to Kafka");
    let options = RelayOptions {
        name: RELAY_NAME.into(),
        holder: format!(
            "{}-{}-{}",
            runtime::hostname(),
            std::process::id(),
            uuid::Uuid::new_v4()
        ),
        ..RelayOptions::default()
    };
    let relay = Relay::new(Arc::clone(store), kafka.clone(), options);
    let stats = relay.stats();
    tasks.push(relay.spawn(shutdown.clone()));
    Some(stats)
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    tracing::info!("shutdown signal received");
}
