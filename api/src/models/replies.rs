//! Answers the handlers build themselves (the resources are the engine's and projections'
//! views). Typed, so that the OpenAPI document describes them from the same types
//! ([`utoipa::ToSchema`]).

use std::collections::BTreeSet;

use engine::executor::WorkerStats;
use engine::policies::RetryPolicy;
use engine::provider::Faults;
use engine::store::RecordedEvent;
use engine::views::ProviderView;
use projections::{DeadLetter, ProjectionStatus};
use serde::Serialize;
use utoipa::ToSchema;

// `crate::handlers::command_reply` adds `position` to a command's answer; this type
// describes the result.
/// A command's answer: its value (the resource, or `{job}` / `{droplet, job}` when a job
/// was started) with `position`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Positioned<T> {
    #[serde(flatten)]
    pub value: T,
    /// The global log position of the last event the command appended (also in
    /// `X-Position`): pass it as `min_position` to read what the command wrote.
    pub position: i64,
}

/// `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

/// `GET /readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    #[schema(inline)]
    pub status: ReadyStatus,
    /// True while the cache is not `ok`: reads then answer from SQL.
    pub degraded: bool,
    pub checks: Checks,
}

/// `ready`, or `not_ready` (answered with `503`) when the store does not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReadyStatus {
    Ready,
    NotReady,
}

/// Store: `ok` or `down`. Bus: `ok`. Cache: `ok`, `healing` (filling up to the log
/// head) or `down`. Workers: `off`, `ok` or `joining` (Kafka worker group not
/// reached). Projections: `ok`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Works.
    Ok,
    /// Does not answer.
    Down,
    /// The cache, filling up to the log head.
    Healing,
    /// The job runtime, not run by this process.
    Off,
    /// The job runtime, not in the Kafka worker group yet.
    Joining,
}

/// Each part of the process, as `/readyz` sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Checks {
    pub store: Check,
    pub bus: Check,
    pub cache: Check,
    pub workers: Check,
    pub projections: Check,
}

/// One part's state. Only `status` decides for the store; the others are reported.
#[derive(Debug, Serialize, ToSchema)]
pub struct Check {
    #[schema(inline)]
    pub status: CheckStatus,
    /// Store: `sqlite` or `postgres`; bus: `in-process` or `kafka`; cache: `in-memory`
    /// or `redis`; workers: `in-process` or `kafka-group`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<&'static str>,
    /// The store's or the cache's error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Cache and projections: the log position they have reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    /// Cache: times its runner started over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heals: Option<u64>,
    /// In-process cache: records held, their size, the size budget and evictions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evictions: Option<u64>,
    /// Kafka bus: whether this process is the relay publishing the log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publishing_here: Option<bool>,
    /// Kafka bus: the last position Kafka acknowledged, and the events behind it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged_position: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backlog: Option<i64>,
    /// Kafka bus: failed publication attempts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failures: Option<u64>,
    /// Kafka worker group: the topic's partitions and those assigned here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partitions: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned: Option<BTreeSet<i32>>,
    /// Kafka bus or worker group: the last error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl Check {
    /// A check in `status` that reports nothing more (yet).
    pub fn of(status: CheckStatus) -> Self {
        Self {
            status,
            backend: None,
            error: None,
            position: None,
            heals: None,
            records: None,
            bytes: None,
            budget_bytes: None,
            evictions: None,
            publishing_here: None,
            acknowledged_position: None,
            backlog: None,
            failures: None,
            partitions: None,
            assigned: None,
            last_error: None,
        }
    }
}

/// `GET /v1/projections`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectionList {
    pub items: Vec<ProjectionStatus>,
}

/// `GET /v1/projections/dead-letters`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterList {
    pub items: Vec<DeadLetter>,
}

/// `POST /v1/projections/dead-letters/{id}/retry`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetryOutcome {
    pub id: String,
    /// True when the event went through (the dead letter is gone).
    pub applied: bool,
    /// The new error when it did not.
    pub error: Option<String>,
}

/// `POST /v1/projections/{name}/rebuild`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RebuildStarted {
    pub projection: String,
    /// `rebuilding`.
    pub status: &'static str,
    /// Where to follow it: `/v1/projections`.
    pub watch: &'static str,
}

/// `GET /v1/workers`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Workers {
    #[serde(flatten)]
    pub stats: WorkerStats,
    /// Whether this process runs jobs (false with `--no-workers`).
    pub running: bool,
    /// The retry policy of each job type, when running.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policies: Option<std::collections::BTreeMap<String, RetryPolicy>>,
}

/// `GET /v1/events`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub items: Vec<RecordedEvent>,
    /// Pass as `after` to read on (the last position read, or `after` when none was).
    /// Reading back (`before`): the newest position read, or `before - 1` when none was.
    pub next_after: i64,
    /// Reading back (`before`) only: pass as `before` to read on towards the start (the
    /// oldest position read, or `before` when none was: nothing older matches).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}

/// `GET /v1/streams/{aggregate_type}/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AggregateStream {
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// The sequence of the last event (also `ETag`).
    pub version: i64,
    pub items: Vec<RecordedEvent>,
}

/// A list without paging: every item and their count.
#[derive(Debug, Serialize, ToSchema)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub total: usize,
}

/// One provider in `GET /v1/providers`: its configuration, this process's faults and
/// sim speed, and what it runs.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderListItem {
    #[serde(flatten)]
    pub view: ProviderView,
    /// Injected faults in this process (`null` if this process does not know it yet).
    pub faults: Option<Faults>,
    pub sim_speed: f64,
    pub usage: Usage,
    /// What it charges for each of its `sizes` (the catalog's list price times its
    /// `price_multiplier`), in their order.
    pub prices: Vec<super::catalog::SizePrice>,
}

/// Live droplets of a provider.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Usage {
    /// Droplets of the read model that are neither destroyed nor failed and run on (or
    /// asked for) this provider.
    pub live_droplets: usize,
    /// The same, per region.
    pub by_region: std::collections::BTreeMap<String, usize>,
}

/// `GET|PUT /v1/admin/providers/{name}/faults`: the provider's faults in this process.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderFaults {
    pub provider: String,
    /// Probability (0 to 1) that an operation fails transiently after its latency.
    pub failure_rate: f64,
    /// Probability (0 to 1) that an operation takes `spike_ms` longer.
    pub spike_rate: f64,
    /// Extra latency of a spike, in milliseconds at sim speed 1.
    pub spike_ms: u64,
    /// While on, every operation fails at once with a retryable outage error.
    pub outage: bool,
    pub sim_speed: f64,
}

impl ProviderFaults {
    /// The faults of `provider` in this process.
    pub fn new(provider: String, faults: Faults, sim_speed: f64) -> Self {
        Self {
            provider,
            failure_rate: faults.failure_rate,
            spike_rate: faults.spike_rate,
            spike_ms: faults.spike_ms,
            outage: faults.outage,
            sim_speed,
        }
    }
}

/// `GET /v1/ratelimits/status`: a bucket now (nothing taken).
#[derive(Debug, Serialize, ToSchema)]
pub struct BucketStatus {
    pub name: String,
    /// `global`, `user` or `cluster`.
    pub scope: String,
    /// `global` for the global scope, else the user or cluster asked about.
    pub scope_id: String,
    /// Tokens available (fractional).
    pub available: f64,
    /// Whole tokens available.
    pub remaining: u64,
    pub capacity: u32,
    pub rate_per_sec: f64,
    /// Seconds until the bucket is full.
    pub reset_after_secs: u64,
    /// Seconds until one token is available (0 when one is).
    pub retry_after_secs: u64,
    /// The routes the rule guards, e.g. `jobs.create`.
    pub endpoints: Vec<String>,
    /// Whether this process enforces rate limits.
    pub enforced: bool,
    /// Where the buckets are: `memory` or `redis`.
    pub store: &'static str,
}
