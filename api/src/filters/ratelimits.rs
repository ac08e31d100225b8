//! `/v1/ratelimits` routes.

use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::common::{command, meta, query, read, with_state};
use super::table::RouteTable;
use crate::handlers::ratelimits;
use crate::state::AppState;

/// Rules (list, get, set, delete) and bucket status.
pub fn routes(state: AppState, table: &mut RouteTable) -> BoxedFilter<(Response,)> {
    let list = table
        .at0(Method::GET, "/v1/ratelimits/rules")
        .and(read(state.clone()))
        .and_then(
            |s, m, q| async move { ratelimits::list(s, m, q).await.map_err(Rejection::from) },
        );
    let put_base = table
        .at0(Method::PUT, "/v1/ratelimits/rules")
        .and(command(state.clone()))
        .and_then(|s, m, b| async move {
            ratelimits::put_named_in_body(s, m, b)
                .await
                .map_err(Rejection::from)
        });
    let get = table
        .at1(Method::GET, "/v1/ratelimits/rules/{name}")
        .and(read(state.clone()))
        .and_then(|name, s, m, q| async move {
            ratelimits::get(s, name, m, q)
                .await
                .map_err(Rejection::from)
        });
    let put = table
        .at1(Method::PUT, "/v1/ratelimits/rules/{name}")
        .and(command(state.clone()))
        .and_then(|name, s, m, b| async move {
            ratelimits::put(s, Some(name), m, b)
                .await
                .map_err(Rejection::from)
        });
    let delete = table
        .at1(Method::DELETE, "/v1/ratelimits/rules/{name}")
        .and(with_state(state.clone()))
        .and(meta())
        .and_then(|name, s, m| async move {
            ratelimits::delete(s, name, m)
                .await
                .map_err(Rejection::from)
        });
    let status = table
        .at0(Method::GET, "/v1/ratelimits/status")
        .and(with_state(state))
        .and(query())
        .and_then(|s, q| async move { ratelimits::status(s, q).await.map_err(Rejection::from) });
    list.or(put_base)
        .unify()
        .or(get)
        .unify()
        .or(put)
        .unify()
        .or(delete)
        .unify()
        .or(status)
        .unify()
        .boxed()
}
