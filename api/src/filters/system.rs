//! Health, readiness, metrics, the OpenAPI document, projections and workers routes.

use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::common::{query, with_state};
use super::table::RouteTable;
use crate::handlers::{self, system};
use crate::state::AppState;

/// `/healthz`, `/readyz`, `/metrics`, `/v1/openapi.json`, `/v1/projections[/…]`,
/// `/v1/workers`.
pub fn routes(state: AppState, table: &mut RouteTable) -> BoxedFilter<(Response,)> {
    let healthz = table
        .at0(Method::GET, "/healthz")
        .and_then(|| async { system::healthz().await.map_err(Rejection::from) });
    let readyz = table
        .at0(Method::GET, "/readyz")
        .and(with_state(state.clone()))
        .and_then(|s| async move { system::readyz(s).await.map_err(Rejection::from) });
    let metrics = table
        .at0(Method::GET, "/metrics")
        .and(with_state(state.clone()))
        .and_then(|s| async move { system::metrics(s).await.map_err(Rejection::from) });
    let openapi = table
        .at0(Method::GET, "/v1/openapi.json")
        .and_then(|| async { system::openapi().await.map_err(Rejection::from) });
    let projections = table
        .at0(Method::GET, "/v1/projections")
        .and(with_state(state.clone()))
        .and_then(|s| async move { system::projections(s).await.map_err(Rejection::from) });
    let dead_letters = table
        .at0(Method::GET, "/v1/projections/dead-letters")
        .and(with_state(state.clone()))
        .and(query())
        .and_then(|s, q| async move { system::dead_letters(s, q).await.map_err(Rejection::from) });
    let retry = table
        .at1(Method::POST, "/v1/projections/dead-letters/{id}/retry")
        .and(with_state(state.clone()))
        .and_then(|id, s| async move {
            system::retry_dead_letter(s, id)
                .await
                .map_err(Rejection::from)
        });
    let rebuild = table
        .at1(Method::POST, "/v1/projections/{name}/rebuild")
        .and(with_state(state.clone()))
        .and_then(|name, s| async move {
            handlers::projections::rebuild(s, name)
                .await
                .map_err(Rejection::from)
        });
    let workers = table
        .at0(Method::GET, "/v1/workers")
        .and(with_state(state))
        .and_then(|s| async move { system::workers(s).await.map_err(Rejection::from) });
    healthz
        .or(readyz)
        .unify()
        .or(metrics)
        .unify()
        .or(openapi)
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
