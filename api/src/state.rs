//! What every handler can reach.

use std::sync::Arc;

use engine::commands::CommandService;
use engine::diagnosis::Diagnoser;
use engine::executor::Executor;
use engine::kafka::group::WorkerGroup;
use engine::kafka::RelayStats;
use engine::provider::Providers;
use engine::ratelimit::{FallbackBuckets, RateLimiter};
use engine::store::EventStore;
use projections::cache::{error_chain, CacheError, CacheReads, Lookup};
use projections::{ProjectionRuntime, ReadModels};

use crate::handlers::limiting::RulesHeld;
use crate::metrics::Metrics;
use crate::settings::Settings;

/// Shared application state: one [`Shared`] behind an `Arc`, so that the clone each
/// route's filter takes per request costs one reference count.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl From<Shared> for AppState {
    fn from(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What every handler can reach (through [`AppState`]).
pub struct Shared {
    pub commands: CommandService,
    pub store: Arc<dyn EventStore>,
    pub read: ReadModels,
    /// The cache read models (`Arc<dyn ReadCache>`) and their runner's handle.
    pub cache: CacheReads,
    pub runtime: Arc<ProjectionRuntime>,
    pub executor: Option<Executor>,
    /// The Kafka worker group the executor is in (joined in the background).
    pub worker_group: Option<Arc<WorkerGroup>>,
    /// The simulated providers of this process (defaults plus registered ones).
    pub providers: Arc<Providers>,
    /// The Kafka relay's statistics, when Kafka is on.
    pub relay: Option<Arc<RelayStats>>,
    /// The rate limiter (buckets in Redis when configured, else in process).
    pub limiter: RateLimiter,
    /// The Redis buckets' local fallback, when Redis is configured (for its metric).
    pub limiter_fallback: Option<Arc<FallbackBuckets>>,
    /// The rate-limit rules last read, while the log says they still hold.
    pub rules: Arc<RulesHeld>,
    pub metrics: Arc<Metrics>,
    /// Makes diagnoses (the rules engine, and the LLM when `llm_url` is set).
    pub diagnoser: Diagnoser,
    /// Metric samples (telemetry beside the log), as health checks and diagnosis read them.
    pub metric_samples: Arc<dyn engine::metrics::MetricsStore>,
    /// The same store with its list and retention, and what ingest checks ids against.
    pub samples: Arc<crate::samples::Samples>,
    /// The health checks (`GET /v1/clusters/{id}/health`, and scheduled rounds).
    pub health: engine::health::HealthChecker,
    /// The autoscaler (manual evaluations, the decision history; scheduled rounds).
    pub autoscaler: engine::autoscaling::Autoscaler,
    pub settings: Arc<Settings>,
    /// Turns true when the server starts shutting down: live tails end then.
    pub draining: tokio::sync::watch::Receiver<bool>,
}

impl Shared {
    /// The answer a cache lookup of `resource` gave, or None when the caller must ask
    /// SQL; counts both, and logs a cache error at debug (a cache error is never the
    /// client's problem).
    pub fn cached<T>(
        &self,
        resource: &'static str,
        lookup: Result<Lookup<T>, CacheError>,
    ) -> Option<T> {
        match lookup {
            Ok(Lookup::Hit(value)) => {
                self.metrics.cache_hit(resource);
                Some(value)
            }
            Ok(Lookup::Fallback(why)) => {
                self.metrics.cache_fallback(resource, why.as_str());
                None
            }
            Err(error) => {
                tracing::debug!(resource, error = %error_chain(&error), "cache read failed; answering from SQL");
                self.metrics.cache_fallback(resource, "error");
                None
            }
        }
    }
}
