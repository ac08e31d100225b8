//! `/v1/jobs` routes.

use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::common::{command, read};
use super::table::RouteTable;
use crate::handlers::jobs;
use crate::state::AppState;

/// Create, list, get, cancel.
pub fn routes(state: AppState, table: &mut RouteTable) -> BoxedFilter<(Response,)> {
    let create = table
        .at0(Method::POST, "/v1/jobs")
        .and(command(state.clone()))
        .and_then(|s, m, b| async move { jobs::create(s, m, b).await.map_err(Rejection::from) });
    let list = table
        .at0(Method::GET, "/v1/jobs")
        .and(read(state.clone()))
        .and_then(|s, m, q| async move { jobs::list(s, m, q).await.map_err(Rejection::from) });
    let get = table
        .at1(Method::GET, "/v1/jobs/{id}")
        .and(read(state.clone()))
        .and_then(
            |id, s, m, q| async move { jobs::get(s, id, m, q).await.map_err(Rejection::from) },
        );
    let cancel = table
        .at1(Method::POST, "/v1/jobs/{id}/cancel")
        .and(command(state))
        .and_then(
            |id, s, m, b| async move { jobs::cancel(s, id, m, b).await.map_err(Rejection::from) },
        );
    create
        .or(list)
        .unify()
        .or(get)
        .unify()
        .or(cancel)
        .unify()
        .boxed()
}
