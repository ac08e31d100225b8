//! # ClusterGenie API
//!
//! The thin HTTP layer (warp) over the engine's commands and the projections' read
//! models, and the `clustergenie` binary's building blocks.
//!
//! # Layout
//! - [`startup`]: [`startup::Application`] builds everything from [`settings::Settings`]
//!   and serves on a listener until a shutdown future completes.
//! - [`runtime`]: the job runtime as `serve` and [`worker`] (`clustergenie worker`, the
//!   runtime alone in the Kafka worker group) start it.
//! - [`filters`]: routes (path + method -> handler), one file per resource.
//! - [`handlers`]: request -> command or query -> response, one file per resource.
//! - [`models`]: request bodies and query parameters, validated.
//! - [`errors`]: the one [`errors::ApiError`] and the `recover` that renders problems.
//! - [`console`]: the web console (`web/`), embedded, at every path outside the API.
//! - [`command_topic`]: commands from Kafka, run through the same routes, outcomes to
//!   the results topic.
//! - [`state`], [`metrics`], [`settings`], [`telemetry`]: shared plumbing.
//! - [`samples`], [`sample_gauge`], [`sim_load`]: metric samples (telemetry beside the
//!   log): the store and its tasks, their Prometheus gauge, simulated load.
//! - [`subcommands`]: what each subcommand of the binary does (`main` only parses the
//!   command line, loads the settings and sets up logging).
//! - [`cli`], [`admin`], `bench` (with the default `bench` feature), `demo` (with the
//!   default `demo` feature), [`schemas`]: the command line and its non-serving commands.

pub mod admin;
#[cfg(feature = "bench")]
pub mod bench;
pub mod cli;
pub mod command_topic;
pub mod console;
#[cfg(feature = "demo")]
pub mod demo;
pub mod errors;
pub mod filters;
pub mod handlers;
pub mod metrics;
pub mod models;
pub mod runtime;
pub mod sample_gauge;
pub mod samples;
pub mod schemas;
pub mod settings;
pub mod sim_load;
pub mod startup;
pub mod state;
pub mod subcommands;
pub mod telemetry;
pub mod worker;
