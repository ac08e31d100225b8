//! Health, readiness, metrics, projections and workers routes.

use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::common::{query, with_state};
use crate::handlers::{self, system};
use crate::state::AppState;

/// `/healthz`, `/readyz`, `/metrics`, `/v1/projections[/…]`, `/v1/workers`.
pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    let healthz = warp::path!("healthz")
        .and(warp::get())
        .and_then(|| async { system::healthz().await.map_err(Rejection::from) });
    let readyz = warp::path!("readyz")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and_then(|s| async move { system::readyz(s).await.map_err(Rejection::from) });
    let metrics = warp::path!("metrics")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and_then(|s| async move { system::metrics(s).await.map_err(Rejection::from) });
    let projections = warp::path!("v1" / "projections")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and_then(|s| async move { system::projections(s).await.map_err(Rejection::from) });
    let dead_letters = warp::path!("v1" / "projections" / "dead-letters")
        .and(warp::get())
        .and(with_state(state.clone()))
        .and(query())
        .and_then(|s, q| async move { system::dead_letters(s, q).await.map_err(Rejection::from) });
    let retry = warp::path!("v1" / "projections" / "dead-letters" / String / "retry")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and_then(|id, s| async move {
            system::retry_dead_letter(s, id)
                .await
                .map_err(Rejection::from)
        });
    let rebuild = warp::path!("v1" / "projections" / String / "rebuild")
        .and(warp::post())
        .and(with_state(state.clone()))
        .and_then(|name, s| async move {
            handlers::projections::rebuild(s, name)
                .await
                .map_err(Rejection::from)
        });
    let workers = warp::path!("v1" / "workers")
        .and(warp::get())
        .and(with_state(state))
        .and_then(|s| async move { system::workers(s).await.map_err(Rejection::from) });
    healthz
        .or(readyz)
        .unify()
        .or(metrics)
        .unify()
        .or(projections)
        .unify()
        .or(dead_letters)
        .unify()
        .or(retry)
        .unify()
        .or(rebuild)
        .unify()
        .or(workers)
        .unify()
        .boxed()
}
