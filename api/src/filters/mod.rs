//! Routes: which path and method reach which handler.

pub mod autoscaling;
pub mod cluster_health;
pub mod clusters;
pub mod common;
pub mod deployments;
pub mod diagnoses;
pub mod droplets;
pub mod events;
pub mod jobs;
pub mod metric_samples;
pub mod providers;
pub mod ratelimits;
pub mod system;
pub mod table;

use std::sync::Arc;

use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Reply};

use crate::errors::recover;
use crate::state::AppState;
use table::RouteTable;

/// Every route, with problem+json errors and request metrics.
pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    router(state).0
}

/// [`routes`], and the table of the routes it serves.
pub fn router(state: AppState) -> (BoxedFilter<(Response,)>, RouteTable) {
    let mut table = RouteTable::default();
    let metrics = Arc::clone(&state.metrics);
    let log = warp::log::custom(move |info| {
        metrics.observe_request(
            info.method().as_str(),
            info.path(),
            info.status().as_u16(),
            info.elapsed(),
        );
        tracing::info!(
            method = %info.method(), path = info.path(), status = info.status().as_u16(),
            elapsed_ms = info.elapsed().as_secs_f64() * 1000.0, "request"
        );
    });
    let t = &mut table;
    let filter = system::routes(state.clone(), t)
        .or(clusters::routes(state.clone(), t))
        .unify()
        .or(droplets::routes(state.clone(), t))
        .unify()
        .or(jobs::routes(state.clone(), t))
        .unify()
        .or(diagnoses::routes(state.clone(), t))
        .unify()
        .or(deployments::routes(state.clone(), t))
        .unify()
        .or(autoscaling::routes(state.clone(), t))
        .unify()
        .or(ratelimits::routes(state.clone(), t))
        .unify()
        .or(providers::routes(state.clone(), t))
        .unify()
        .or(metric_samples::routes(state.clone(), t))
        .unify()
        .or(cluster_health::routes(state.clone(), t))
        .unify()
        .or(events::routes(state, t))
        .unify()
        .or(crate::console::routes())
        .unify()
        .recover(recover)
        .unify()
        .with(log)
        .map(Reply::into_response)
        .boxed();
    (filter, table)
}
