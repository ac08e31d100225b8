//! The SQL read models: clusters, droplets (with the fleet's billing totals), jobs,
//! diagnoses, auto-scaling policies, providers, rate-limit rules. Each row
//! keeps the folded aggregate (`state`) and the position of the last event it reflects, so
//! a replayed event is skipped and a row equals what a fresh fold gives; the API's view is
//! rendered from `state` when read. The clusters, droplets and jobs lists also keep how
//! many rows each of their filters shows ([`list_counts`]).

pub mod autoscaling;
pub mod billing;
mod bulk_rows;
pub mod clusters;
pub mod diagnoses;
pub mod droplets;
pub mod jobs;
pub mod list_counts;
pub mod providers;
pub mod ratelimit_rules;
pub mod row_model;
pub(crate) mod rows;
pub mod search;
pub mod tables;

pub use autoscaling::AutoscalingProjection;
pub use diagnoses::DiagnosesProjection;
pub use droplets::DropletsProjection;
pub use row_model::RowModel;
pub use rows::Value;
pub use tables::{index_all, Index, TableDef};
