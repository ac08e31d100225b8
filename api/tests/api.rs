//! Integration tests of the HTTP API (see /work/shared/spec/API.md), each run on SQLite and
//! on PostgreSQL: `cargo test -p clustergenie-api --test api`.

#[macro_use]
mod common;

#[path = "api/system.rs"]
mod system;

#[path = "api/clusters.rs"]
mod clusters;

#[path = "api/droplets.rs"]
mod droplets;

#[path = "api/jobs.rs"]
mod jobs;

#[path = "api/diagnoses.rs"]
mod diagnoses;

#[path = "api/autoscaling.rs"]
mod autoscaling;
#[path = "api/deployments.rs"]
mod deployments;

#[path = "api/runtime.rs"]
mod runtime;

#[path = "api/bad_input.rs"]
mod bad_input;

#[path = "api/conventions.rs"]
mod conventions;

#[path = "api/events.rs"]
mod events;

#[path = "api/cache.rs"]
mod cache;

#[path = "api/kafka.rs"]
mod kafka;

#[path = "api/providers.rs"]
mod providers;
#[path = "api/ratelimits.rs"]
mod ratelimits;

#[path = "api/history.rs"]
mod history;

#[path = "api/openapi.rs"]
mod openapi;

#[path = "api/metric_samples.rs"]
mod metric_samples;

#[path = "api/health.rs"]
mod health;
