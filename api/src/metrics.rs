//! Prometheus metrics, with the seed's names (see PRODUCT.md).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use engine::executor::pool::{Finished, WorkerStats};
use engine::kafka::group::WorkerGroup;
use engine::kafka::RelayStats;
use projections::cache::CacheUsage;
use projections::ProjectionStatus;
use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

/// The process's metrics.
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    worker_count: IntGauge,
    active_workers: IntGauge,
    jobs_processed: IntCounterVec,
    job_seconds: HistogramVec,
    queue_length: IntGauge,
    projection_lag: IntGaugeVec,
    dead_letters: IntGaugeVec,
    cache_hits: IntCounterVec,
    cache_fallbacks: IntCounterVec,
    cache_usage: CacheUsageMetrics,
    relay: RelayMetrics,
    rate_limit: RateLimitMetrics,
    live_tails: LiveTailMetrics,
    samples: crate::sample_gauge::SampleGauge,
    samples_stored: Arc<AtomicU64>,
    autoscaler_decisions: IntCounterVec,
}

/// The live tails' (`/v1/events/stream`) metrics.
struct LiveTailMetrics {
    open: IntGauge,
    slow_clients: IntCounter,
}

impl LiveTailMetrics {
    fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let metrics = Self {
            open: IntGauge::new(
                "clustergenie_live_tails_open",
                "Live event streams being served",
            )?,
            slow_clients: IntCounter::new(
                "clustergenie_live_tail_slow_clients_total",
                "Live event streams ended because the client did not take its buffered events",
            )?,
        };
        registry.register(Box::new(metrics.open.clone()))?;
        registry.register(Box::new(metrics.slow_clients.clone()))?;
        Ok(metrics)
    }
}

/// What the in-process cache holds (registered always; zero with the cache in Redis).
struct CacheUsageMetrics {
    bytes: IntGauge,
    records: IntGauge,
    budget: IntGauge,
    evictions: IntCounter,
}

impl CacheUsageMetrics {
    fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let metrics = Self {
            bytes: IntGauge::new(
                "clustergenie_cache_bytes",
                "Approximate bytes of the records the in-process cache holds",
            )?,
            records: IntGauge::new(
                "clustergenie_cache_records",
                "Records the in-process cache holds",
            )?,
            budget: IntGauge::new(
                "clustergenie_cache_budget_bytes",
                "Size budget of the in-process cache (cache_memory_budget_mb)",
            )?,
            evictions: IntCounter::new(
                "clustergenie_cache_evictions_total",
                "Least recently used records the in-process cache dropped to stay within \
                 its budget",
            )?,
        };
        registry.register(Box::new(metrics.bytes.clone()))?;
        registry.register(Box::new(metrics.records.clone()))?;
        registry.register(Box::new(metrics.budget.clone()))?;
        registry.register(Box::new(metrics.evictions.clone()))?;
        Ok(metrics)
    }
}

/// The rate limiter's metrics (the seed's names, plus the store fallbacks).
struct RateLimitMetrics {
    exceeded: IntCounterVec,
    available: GaugeVec,
    fallbacks: IntCounter,
}

impl RateLimitMetrics {
    fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let metrics = Self {
            exceeded: IntCounterVec::new(
                Opts::new(
                    "clustergenie_rate_limit_exceeded_total",
                    "Requests refused with 429, by rule and scope",
                ),
                &["rule", "scope"],
            )?,
            available: GaugeVec::new(
                Opts::new(
                    "clustergenie_rate_limit_available_tokens",
                    "Tokens left in the bucket a request of the rule last took from",
                ),
                &["rule", "scope"],
            )?,
            fallbacks: IntCounter::new(
                "clustergenie_rate_limit_store_fallbacks_total",
                "Rate-limit checks answered by this process's own buckets because Redis failed",
            )?,
        };
        registry.register(Box::new(metrics.exceeded.clone()))?;
        registry.register(Box::new(metrics.available.clone()))?;
        registry.register(Box::new(metrics.fallbacks.clone()))?;
        Ok(metrics)
    }
}

/// The Kafka relay's and worker group's metrics (registered always; zero while Kafka is
/// off).
struct RelayMetrics {
    backlog: IntGauge,
    leader: IntGauge,
    published: IntCounter,
    failures: IntCounter,
    group_joined: IntGauge,
    group_assigned: IntGauge,
}

impl RelayMetrics {
    fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let metrics = Self {
            backlog: IntGauge::new(
                "clustergenie_outbox_backlog",
                "Events in the log the Kafka relay has yet to see acknowledged",
            )?,
            leader: IntGauge::new(
                "clustergenie_kafka_relay_leader",
                "1 when this process holds the relay lease and publishes",
            )?,
            published: IntCounter::new(
                "clustergenie_kafka_relay_published_total",
                "Events this process published and the broker acknowledged",
            )?,
            failures: IntCounter::new(
                "clustergenie_kafka_relay_failures_total",
                "Relay failures (each followed by a restart from the acknowledged position)",
            )?,
            group_joined: IntGauge::new(
                "clustergenie_kafka_worker_group_joined",
                "1 once this process's job runtime reached Kafka and joined the worker group \
                 (0 while it keeps trying: it runs no job until then)",
            )?,
            group_assigned: IntGauge::new(
                "clustergenie_kafka_worker_group_assigned_partitions",
                "Partitions of the jobs topic the worker group assigned to this process",
            )?,
        };
        registry.register(Box::new(metrics.backlog.clone()))?;
        registry.register(Box::new(metrics.leader.clone()))?;
        registry.register(Box::new(metrics.published.clone()))?;
        registry.register(Box::new(metrics.failures.clone()))?;
        registry.register(Box::new(metrics.group_joined.clone()))?;
        registry.register(Box::new(metrics.group_assigned.clone()))?;
        Ok(metrics)
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new(
                "clustergenie_http_requests_total",
                "HTTP requests by method, path and status",
            ),
            &["method", "path", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "clustergenie_http_request_duration_seconds",
                "HTTP request duration",
            ),
            &["method", "path"],
        )?;
        let worker_count = IntGauge::new(
            "clustergenie_workerpool_worker_count",
            "Workers in the pool",
        )?;
        let active_workers = IntGauge::new(
            "clustergenie_workerpool_active_workers",
            "Workers running a job",
        )?;
        let queue_length = IntGauge::new(
            "clustergenie_workerpool_queue_length",
            "Jobs waiting for a worker",
        )?;
        let projection_lag = IntGaugeVec::new(
            Opts::new(
                "clustergenie_projection_lag_events",
                "Events a projection is behind the log head",
            ),
            &["projection"],
        )?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(worker_count.clone()))?;
        registry.register(Box::new(active_workers.clone()))?;
        registry.register(Box::new(queue_length.clone()))?;
        registry.register(Box::new(projection_lag.clone()))?;
        let jobs_processed = IntCounterVec::new(
            Opts::new(
                "clustergenie_jobs_processed_total",
                "Job attempts ended in this process, by job type and the job's status after \
                 it (queued: a retry was scheduled)",
            ),
            &["job_type", "status"],
        )?;
        registry.register(Box::new(jobs_processed.clone()))?;
        let job_seconds = HistogramVec::new(
            HistogramOpts::new(
                "clustergenie_job_processing_seconds",
                "Duration of job attempts in this process, by job type",
            )
            .buckets(vec![
                0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
            ]),
            &["job_type"],
        )?;
        registry.register(Box::new(job_seconds.clone()))?;
        let dead_letters = IntGaugeVec::new(
            Opts::new(
                "clustergenie_projection_dead_letters",
                "Events a projection parked after its retries",
            ),
            &["projection"],
        )?;
        registry.register(Box::new(dead_letters.clone()))?;
        let cache_hits = IntCounterVec::new(
            Opts::new(
                "clustergenie_cache_hits_total",
                "GETs answered from the cache read models, by resource",
            ),
            &["resource"],
        )?;
        registry.register(Box::new(cache_hits.clone()))?;
        let cache_fallbacks = IntCounterVec::new(
            Opts::new(
                "clustergenie_cache_fallbacks_total",
                "GETs answered from SQL instead of the cache, by resource and reason",
            ),
            &["resource", "reason"],
        )?;
        registry.register(Box::new(cache_fallbacks.clone()))?;
        let cache_usage = CacheUsageMetrics::register(&registry)?;
        let relay = RelayMetrics::register(&registry)?;
        let rate_limit = RateLimitMetrics::register(&registry)?;
        let live_tails = LiveTailMetrics::register(&registry)?;
        let samples = crate::sample_gauge::SampleGauge::register(&registry)?;
        let autoscaler_decisions = IntCounterVec::new(
            Opts::new(
                "clustergenie_autoscaler_decisions_total",
                "Auto-scaling evaluations by decision (scale_up, scale_down, none)",
            ),
            &["decision"],
        )?;
        registry.register(Box::new(autoscaler_decisions.clone()))?;
        Ok(Self {
            registry,
            http_requests,
            http_duration,
            worker_count,
            active_workers,
            jobs_processed,
            job_seconds,
            queue_length,
            projection_lag,
            dead_letters,
            cache_hits,
            cache_fallbacks,
            cache_usage,
            relay,
            rate_limit,
            live_tails,
            samples,
            samples_stored: Arc::default(),
            autoscaler_decisions,
        })
    }

    /// Counts every auto-scaling evaluation by its decision (the autoscaler's observer).
    pub fn autoscaler_observer(&self) -> engine::autoscaling::runner::Observer {
        let counter = self.autoscaler_decisions.clone();
        Arc::new(move |decision| {
            counter
                .with_label_values(&[decision.decision.as_str()])
                .inc();
        })
    }

    /// Takes a stored batch of metric samples into `clustergenie_cluster_metric_value`.
    pub fn observe_samples(&self, samples: &[engine::metrics::MetricSample]) {
        self.samples.observe(samples);
        self.samples_stored
            .fetch_add(samples.len() as u64, Ordering::Relaxed);
    }

    /// How many samples this process stored so far (the health checks skip a round when
    /// neither it nor the log moved).
    pub fn samples_stored(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.samples_stored)
    }

    /// Drops the metric-value series of a cluster whose samples were refused as gone.
    pub fn forget_cluster_samples(&self, cluster_id: &str) {
        self.samples.forget(cluster_id);
    }

    /// Records a rate-limit check of `rule` (`scope`): the tokens left, and whether the
    /// request was refused.
    pub fn observe_rate_limit(&self, rule: &str, scope: &str, available: f64, refused: bool) {
        let labels = [rule, scope];
        self.rate_limit
            .available
            .with_label_values(&labels)
            .set(available);
        if refused {
            self.rate_limit.exceeded.with_label_values(&labels).inc();
        }
    }

    /// Brings the fallback counter up to the store's count since start.
    pub fn observe_rate_limit_fallbacks(&self, total: u64) {
        let counter = &self.rate_limit.fallbacks;
        counter.inc_by(total.saturating_sub(counter.get()));
    }

    /// Counts one HTTP request.
    pub fn observe_request(&self, method: &str, path: &str, status: u16, elapsed: Duration) {
        let path = route_of(path);
        self.http_requests
            .with_label_values(&[method, &path, &status.to_string()])
            .inc();
        self.http_duration
            .with_label_values(&[method, &path])
            .observe(elapsed.as_secs_f64());
    }

    /// Counts job attempts that ended (drained from the executor at each scrape).
    pub fn observe_jobs(&self, finished: &[Finished]) {
        for attempt in finished {
            let job_type = attempt.job_type.as_str();
            self.jobs_processed
                .with_label_values(&[job_type, attempt.status.as_str()])
                .inc();
            self.job_seconds
                .with_label_values(&[job_type])
                .observe(attempt.took.as_secs_f64());
        }
    }

    /// Updates the worker-pool gauges.
    pub fn observe_workers(&self, stats: &WorkerStats) {
        self.worker_count.set(stats.worker_count as i64);
        self.active_workers.set(stats.active_workers as i64);
        self.queue_length.set(stats.queue_length as i64);
    }

    /// Updates projection lag gauges.
    pub fn observe_projections(&self, statuses: &[ProjectionStatus]) {
        for status in statuses {
            self.projection_lag
                .with_label_values(&[&status.name])
                .set(status.lag);
            self.dead_letters
                .with_label_values(&[&status.name])
                .set(status.parked);
        }
    }

    /// Updates the relay's metrics: the backlog (from the store, whichever process
    /// publishes) and this process's own counts.
    pub fn observe_relay(&self, backlog: i64, stats: &RelayStats) {
        let relay = &self.relay;
        relay.backlog.set(backlog);
        relay.leader.set(i64::from(stats.is_leader()));
        relay
            .published
            .inc_by(stats.published().saturating_sub(relay.published.get()));
        relay
            .failures
            .inc_by(stats.failures().saturating_sub(relay.failures.get()));
    }

    /// Updates the worker group's gauges.
    pub fn observe_worker_group(&self, group: &WorkerGroup) {
        self.relay.group_joined.set(i64::from(group.is_joined()));
        self.relay.group_assigned.set(group.assigned().len() as i64);
    }

    /// Counts a GET of `resource` answered from the cache.
    pub fn cache_hit(&self, resource: &str) {
        self.cache_hits.with_label_values(&[resource]).inc();
    }

    /// Counts a GET of `resource` that fell back to SQL, and why (`not_ready`, `behind`,
    /// `miss`, `error`).
    pub fn cache_fallback(&self, resource: &str, reason: &str) {
        self.cache_fallbacks
            .with_label_values(&[resource, reason])
            .inc();
    }

    /// Updates the in-process cache's gauges, and brings its eviction counter up to the
    /// cache's count.
    pub fn observe_cache_usage(&self, usage: &CacheUsage) {
        let metrics = &self.cache_usage;
        metrics.bytes.set(gauge(usage.bytes));
        metrics.records.set(gauge(usage.records));
        metrics.budget.set(gauge(usage.budget_bytes));
        metrics
            .evictions
            .inc_by(usage.evictions.saturating_sub(metrics.evictions.get()));
    }

    /// Counts a live tail opened (`true`) or ended (`false`).
    pub fn live_tail(&self, opened: bool) {
        if opened {
            self.live_tails.open.inc();
        } else {
            self.live_tails.open.dec();
        }
    }

    /// Counts a live tail ended because its client was too slow.
    pub fn live_tail_slow_client(&self) {
        self.live_tails.slow_clients.inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        String::from_utf8(buffer).map_err(|error| prometheus::Error::Msg(error.to_string()))
    }
}

/// A count as a gauge value (saturating).
fn gauge(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The route template of a path: ids become `{id}` so label values stay few.
pub fn route_of(path: &str) -> String {
    let known = [
        "v1",
        "clusters",
        "droplets",
        "jobs",
        "events",
        "stream",
        "streams",
        "cancel",
        "resize",
        "power",
        "projections",
        "workers",
        "healthz",
        "readyz",
        "metrics",
        "openapi.json",
        "rebuild",
        "cluster",
        "droplet",
        "job",
        "summary",
        "diagnose",
        "ratelimits",
        "rules",
        "status",
        "providers",
        "admin",
        "faults",
        "billing",
        "provider",
    ];
    let segments: Vec<&str> = path
        .split('/')
        .map(|s| {
            if s.is_empty() || known.contains(&s) {
                s
            } else {
                "{id}"
            }
        })
        .collect();
    segments.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_collapse_into_templates() {
        assert_eq!(route_of("/v1/clusters/cl_abc"), "/v1/clusters/{id}");
        assert_eq!(route_of("/v1/streams/job/job_1"), "/v1/streams/job/{id}");
        assert_eq!(route_of("/v1/whatever/../x"), "/v1/{id}/{id}/{id}");
        assert_eq!(
            route_of("/v1/clusters/cl_abc/summary"),
            "/v1/clusters/{id}/summary"
        );
    }

    #[test]
    fn seed_metric_names_are_exposed() {
        let metrics = Metrics::new().unwrap();
        metrics.observe_request("GET", "/v1/clusters", 200, Duration::from_millis(3));
        metrics.observe_workers(&WorkerStats {
            worker_count: 4,
            ..Default::default()
        });
        metrics.cache_hit("cluster");
        metrics.cache_fallback("cluster", "error");
        metrics.observe_rate_limit("jobs_create", "user", 0.0, true);
        metrics.observe_cache_usage(&CacheUsage {
            records: 3,
            bytes: 900,
            budget_bytes: 1024,
            evictions: 2,
        });
        metrics.observe_rate_limit("jobs_create", "user", 2.5, false);
        let text = metrics.render().expect("metrics");
        assert!(
            text.contains(
                r#"clustergenie_rate_limit_exceeded_total{rule="jobs_create",scope="user"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"clustergenie_rate_limit_available_tokens{rule="jobs_create",scope="user"} 2.5"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"clustergenie_cache_fallbacks_total{reason="error",resource="cluster"} 1"#
            ),
            "{text}"
        );
        for series in [
            "clustergenie_cache_bytes 900",
            "clustergenie_cache_records 3",
            "clustergenie_cache_budget_bytes 1024",
            "clustergenie_cache_evictions_total 2",
        ] {
            assert!(text.contains(series), "{series} missing from\n{text}");
        }
        for name in [
            "clustergenie_http_requests_total",
            "clustergenie_http_request_duration_seconds",
            "clustergenie_workerpool_worker_count",
        ] {
            assert!(text.contains(name), "{name} missing from\n{text}");
        }
    }
}
