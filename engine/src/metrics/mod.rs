//! Metric samples: telemetry, not events. Samples (`cpu`, `memory` and `disk` in percent,
//! `network` in Mbps) per cluster and droplet go to a metrics table beside the log, with
//! per-minute rollups kept longer than the raw samples. Health checks, diagnosis and the
//! console read them through [`MetricsStore`].

pub mod model;

pub use model::{
    MetricSample, MetricType, MetricsError, MetricsStore, SeriesPoint, SeriesQuery, WindowSummary,
};
