//! `/v1/droplets` routes.

use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::common::{command, meta, read, with_state};
use super::table::RouteTable;
use crate::handlers::droplets;
use crate::state::AppState;

/// Create, list, get, resize, power, migrate, destroy.
pub fn routes(state: AppState, table: &mut RouteTable) -> BoxedFilter<(Response,)> {
    let create = table
        .at0(Method::POST, "/v1/droplets")
        .and(command(state.clone()))
        .and_then(
            |s, m, b| async move { droplets::create(s, m, b).await.map_err(Rejection::from) },
        );
    let list = table
        .at0(Method::GET, "/v1/droplets")
        .and(read(state.clone()))
        .and_then(|s, m, q| async move { droplets::list(s, m, q).await.map_err(Rejection::from) });
    let get = table
        .at1(Method::GET, "/v1/droplets/{id}")
        .and(read(state.clone()))
        .and_then(|id, s, m, q| async move {
            droplets::get(s, id, m, q).await.map_err(Rejection::from)
        });
    let destroy = table
        .at1(Method::DELETE, "/v1/droplets/{id}")
        .and(with_state(state.clone()))
        .and(meta())
        .and_then(
            |id, s, m| async move { droplets::destroy(s, id, m).await.map_err(Rejection::from) },
        );
    let resize = table
        .at1(Method::POST, "/v1/droplets/{id}/resize")
        .and(command(state.clone()))
        .and_then(|id, s, m, b| async move {
            droplets::resize(s, id, m, b).await.map_err(Rejection::from)
        });
    let power = table
        .at1(Method::POST, "/v1/droplets/{id}/power")
        .and(command(state.clone()))
        .and_then(|id, s, m, b| async move {
            droplets::power(s, id, m, b).await.map_err(Rejection::from)
        });
    let migrate = table
        .at1(Method::POST, "/v1/droplets/{id}/migrate")
        .and(command(state))
        .and_then(|id, s, m, b| async move {
            droplets::migrate(s, id, m, b)
                .await
                .map_err(Rejection::from)
        });
    create
        .or(list)
        .unify()
        .or(get)
        .unify()
        .or(destroy)
        .unify()
        .or(resize)
        .unify()
        .or(power)
        .unify()
        .or(migrate)
        .unify()
        .boxed()
}
