//! # ClusterGenie engine
//!
//! The write side of ClusterGenie: the domain (clusters, droplets, jobs as cqrs-es
//! aggregates with pure, synchronous decisions), the event store (one gap-free global log
//! on PostgreSQL or SQLite) and the command service that joins them. It knows nothing of
//! HTTP.
//!
//! # Layout
//!
//! Modules build on the ones listed before them, never on one listed after (the store and
//! the fold know nothing of commands; commands know nothing of the job runtime).
//!
//! - [`domain`]: values, the seed catalog, and one file per aggregate (state, commands,
//!   events, error, tests).
//! - [`store`]: the [`store::EventStore`] trait, its PostgreSQL and SQLite implementations,
//!   the batching writer, the in-memory planning of a batch, and idempotency records
//!   (with the [`store::ReplyKind`] of the first answer).
//! - [`fold`]: an aggregate folded from its stream ([`fold::Loaded`]) and its loading
//!   from a snapshot and the events after it; shared by commands and the read side.
//! - [`views`]: the resource views built from folded aggregates.
//! - [`metrics`]: metric samples (telemetry beside the log, not events): the metrics
//!   table, its rollups and retention, and simulated load.
//! - [`policies`]: the retry policy of each job type (attempts, backoff, time limits).
//! - [`diagnosis`]: the genie's diagnosis: bounded inputs and their digest, the rules
//!   engine (the seed's rules and what it adds after them), the LLM engine (any
//!   OpenAI-compatible endpoint, a versioned prompt, fallback to the rules).
//! - [`deploy`]: deployments beside their aggregate: the API's view and the health
//!   gate's judgement of a step's droplets over a metric window.
//! - [`commands`]: the command service (load, decide, append, retry on conflict,
//!   idempotency) and the commands callers issue; each answer has a
//!   [`ReplyKind`](store::ReplyKind) (created, accepted, done), never a transport status.
//! - [`health`]: synthetic health checks turning metric windows and droplet states into
//!   a cluster's status, recorded only when it changes.
//! - [`provider`]: the simulated cloud behind the `Provider` trait: named providers,
//!   placement, latencies scaled by a sim speed, injected faults, billing.
//! - [`autoscaling`]: auto-scaling: the pure evaluator of a cluster's policy, the bounded
//!   decision history (PostgreSQL or SQLite), and the scheduled rounds (one process at a
//!   time, by a store lease) that record acting decisions with their scale jobs.
//! - [`executor`]: the durable job runtime: durable timers, a bounded worker pool, and what
//!   each job type does, through the commands.
//! - [`ratelimit`]: token-bucket rate limiting (bucket math, in-memory and Redis bucket
//!   stores, the limiter); the rules are the `ratelimit_rule` aggregate.
//! - [`kafka`]: the outbox relay publishing the log to Kafka as CloudEvents, and the topics.
//! - [`contract`]: the published event contract: every event type, its version and the
//!   JSON Schema of its data, and the backward-compatibility check between two schemas.

pub mod autoscaling;
pub mod commands;
pub mod contract;
pub mod deploy;
pub mod diagnosis;
pub mod domain;
pub mod executor;
pub mod fold;
pub mod health;
pub mod kafka;
pub mod metrics;
pub mod policies;
pub mod provider;
pub mod ratelimit;
pub mod store;
pub mod views;

/// An error and all its sources, joined by ": " (for logs and status fields).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
