//! `/v1/clusters` routes.

use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::common::{command, meta, read, with_state};
use super::table::RouteTable;
use crate::handlers::clusters;
use crate::state::AppState;

/// Create, list, get, summary, update, delete.
pub fn routes(state: AppState, table: &mut RouteTable) -> BoxedFilter<(Response,)> {
    let create = table
        .at0(Method::POST, "/v1/clusters")
        .and(command(state.clone()))
        .and_then(
            |s, m, b| async move { clusters::create(s, m, b).await.map_err(Rejection::from) },
        );
    let list = table
        .at0(Method::GET, "/v1/clusters")
        .and(read(state.clone()))
        .and_then(|s, m, q| async move { clusters::list(s, m, q).await.map_err(Rejection::from) });
    let get = table
        .at1(Method::GET, "/v1/clusters/{id}")
        .and(read(state.clone()))
        .and_then(|id, s, m, q| async move {
            clusters::get(s, id, m, q).await.map_err(Rejection::from)
        });
    let summary = table
        .at1(Method::GET, "/v1/clusters/{id}/summary")
        .and(read(state.clone()))
        .and_then(|id, s, m, q| async move {
            clusters::summary(s, id, m, q)
                .await
                .map_err(Rejection::from)
        });
    let update = table
        .at1(Method::PATCH, "/v1/clusters/{id}")
        .and(command(state.clone()))
        .and_then(|id, s, m, b| async move {
            clusters::update(s, id, m, b).await.map_err(Rejection::from)
        });
    let delete = table
        .at1(Method::DELETE, "/v1/clusters/{id}")
        .and(with_state(state))
        .and(meta())
        .and_then(
            |id, s, m| async move { clusters::delete(s, id, m).await.map_err(Rejection::from) },
        );
    create
        .or(list)
        .unify()
        .or(get)
        .unify()
        .or(summary)
        .unify()
        .or(update)
        .unify()
        .or(delete)
        .unify()
        .boxed()
}
