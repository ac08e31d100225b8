//! The deployment routes: start and list a cluster's deployments, read one, roll it back,
//! promote it.

use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::common::{command, read};
use super::table::RouteTable;
use crate::handlers::deployments;
use crate::state::AppState;

/// Create, list, get, rollback, promote.
pub fn routes(state: AppState, table: &mut RouteTable) -> BoxedFilter<(Response,)> {
    let create = table
        .at1(Method::POST, "/v1/clusters/{id}/deployments")
        .and(command(state.clone()))
        .and_then(|id, s, m, b| async move {
            deployments::create(s, id, m, b)
                .await
                .map_err(Rejection::from)
        });
    let list = table
        .at1(Method::GET, "/v1/clusters/{id}/deployments")
        .and(read(state.clone()))
        .and_then(|id, s, m, q| async move {
            deployments::list(s, id, m, q)
                .await
                .map_err(Rejection::from)
        });
    let get = table
        .at1(Method::GET, "/v1/deployments/{id}")
        .and(read(state.clone()))
        .and_then(|id, s, m, q| async move {
            deployments::get(s, id, m, q).await.map_err(Rejection::from)
        });
    let rollback = table
        .at1(Method::POST, "/v1/deployments/{id}/rollback")
        .and(command(state.clone()))
        .and_then(|id, s, m, b| async move {
            deployments::rollback(s, id, m, b)
                .await
                .map_err(Rejection::from)
        });
    let promote = table
        .at1(Method::POST, "/v1/deployments/{id}/promote")
        .and(command(state))
        .and_then(|id, s, m, b| async move {
            deployments::promote(s, id, m, b)
                .await
                .map_err(Rejection::from)
        });
    create
        .or(list)
        .unify()
        .or(get)
        .unify()
        .or(rollback)
        .unify()
        .or(promote)
        .unify()
        .boxed()
}
