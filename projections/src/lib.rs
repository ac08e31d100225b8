//! # ClusterGenie projections
//!
//! The read side: a runtime that tails the event log into SQL read models, and the queries
//! the API answers GETs from. Rows are built from the engine's fold
//! ([`engine::fold::Loaded`]) and views, read from its store: the read side never goes
//! through the command service.
//!
//! # Layout
//! - [`runtime`]: the [`Projection`] trait and the [`ProjectionRuntime`] (checkpoints,
//!   batches in one transaction, read-your-writes waiting, status).
//! - [`read_models`]: the clusters, droplets, jobs, diagnoses and rate-limit rules projections and
//!   their tables.
//! - [`target`]: where a projection writes: live tables, a rebuild's shadows, a scratch schema.
//! - [`rebuild`]: rebuilding a projection without downtime (shadow tables, atomic swap).
//! - [`replay`]: the read models at a past position in a scratch schema, and their diff.
//! - [`bulk`]: filling a rebuild's shadow or a replay's scratch schema in bulk (rows folded
//!   in memory and written once, with `COPY` on PostgreSQL).
//! - [`pg_copy`]: loading rows into PostgreSQL with binary `COPY`.
//! - [`queries`]: get and list queries over the read models.
//! - [`lists`]: how a list query is built to be served from indexes (keyset cursors,
//!   bounded `total`, trigram search).
//! - [`health_directory`]: what the health checker reads of clusters and droplets.
//! - [`autoscaling_directory`]: what the autoscaler's rounds read of policies, droplets
//!   and jobs, in one statement each.
//! - [`cache`]: the cache read models (Redis or in-process), their runner and reads.
//! - [`dead_letters`]: events a projection parked after its retries.
//! - [`db`]: the portable read-model database (PostgreSQL or SQLite through sqlx `Any`).
//! - [`error`]: the read side's error type (a failed fold is an [`engine::fold::FoldError`]).

pub mod autoscaling_directory;
pub mod bulk;
pub mod cache;
pub mod db;
pub mod dead_letters;
pub mod error;
pub mod health_directory;
pub mod lists;
pub mod metric_refs;
pub mod pg_copy;
pub mod queries;
pub mod read_models;
pub mod rebuild;
pub mod replay;
pub mod runtime;
pub mod target;

use std::sync::Arc;

pub use autoscaling_directory::AutoscalingReadDirectory;
pub use cache::{CacheReads, CacheRunner, ClusterSummary, MemoryCache, ReadCache, RedisCache};
pub use db::{ReadDb, WriteTx};
pub use dead_letters::DeadLetter;
pub use error::ProjectionError;
pub use health_directory::HealthDirectory;
pub use lists::{Cursor, ListQuery, DEFAULT_COUNT_BOUND};
pub use queries::{ClusterFilter, DropletFilter, JobFilter, Page, PageRequest, ReadModels};
pub use runtime::{
    Projection, ProjectionRuntime, ProjectionStatus, RebuildState, RebuildStatus, RuntimeOptions,
    WorkerState,
};
pub use target::{plain_identifier, SchemaName, Target};

/// The projections ClusterGenie runs.
pub fn all() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(read_models::clusters::projection()),
        Arc::new(read_models::DropletsProjection),
        Arc::new(read_models::jobs::projection()),
        Arc::new(read_models::DiagnosesProjection),
        Arc::new(read_models::AutoscalingProjection),
        Arc::new(read_models::providers::projection()),
        Arc::new(read_models::ratelimit_rules::projection()),
    ]
}
