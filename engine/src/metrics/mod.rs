//! Metric samples: telemetry, not events. Samples (`cpu`, `memory` and `disk` in percent,
//! `network` in Mbps) per cluster and droplet go to a metrics table beside the log, with
//! per-minute rollups kept longer than the raw samples. Health checks, diagnosis and the
//! console read them through [`MetricsStore`].
//!
//! - [`model`]: the types and the [`MetricsStore`] trait.
//! - [`reads`]: [`SampleStore`], what both stores add: the paged list and expiry.
//! - [`rollup`]: the per-minute rollups a batch is grouped into before it is stored.
//! - [`sql`]: the statements both backends share.
//! - [`postgres`], [`sqlite`]: the two stores; [`connect`]: opening one by URL.
//! - [`retention`]: the background task that expires old samples and rollups.
//! - [`sim`]: simulated load, a pure function of seed, droplet, provider and time.

pub mod connect;
pub mod model;
pub mod postgres;
pub mod reads;
pub mod retention;
pub mod rollup;
pub mod sim;
pub mod sql;
pub mod sqlite;

pub use connect::connect_metrics;
pub use model::{
    MetricSample, MetricType, MetricsError, MetricsStore, SeriesPoint, SeriesQuery, WindowSummary,
};
pub use postgres::PgMetricsStore;
pub use reads::{
    Expired, KeyedBatch, SampleFilter, SamplePage, SamplePageRequest, SampleStart, SampleStore,
    StoredSample,
};
pub use retention::Retention;
pub use sqlite::SqliteMetricsStore;
