//! `/v1/droplets` routes.

use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::common::{command, meta, read, with_state};
use crate::handlers::droplets;
use crate::state::AppState;

/// Create, list, get, resize, power, migrate, destroy.
pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    let base = warp::path!("v1" / "droplets");
    let one = warp::path!("v1" / "droplets" / String);
    let create =
        base.and(warp::post())
            .and(command(state.clone()))
            .and_then(
                |s, m, b| async move { droplets::create(s, m, b).await.map_err(Rejection::from) },
            );
    let list = base
        .and(warp::get())
        .and(read(state.clone()))
        .and_then(|s, m, q| async move { droplets::list(s, m, q).await.map_err(Rejection::from) });
    let get = one
        .and(warp::get())
        .and(read(state.clone()))
        .and_then(|id, s, m, q| async move {
            droplets::get(s, id, m, q).await.map_err(Rejection::from)
        });
    let destroy = one
        .and(warp::delete())
        .and(with_state(state.clone()))
        .and(meta())
        .and_then(
            |id, s, m| async move { droplets::destroy(s, id, m).await.map_err(Rejection::from) },
        );
    let resize = warp::path!("v1" / "droplets" / String / "resize")
        .and(warp::post())
        .and(command(state.clone()))
        .and_then(|id, s, m, b| async move {
            droplets::resize(s, id, m, b).await.map_err(Rejection::from)
        });
    let power = warp::path!("v1" / "droplets" / String / "power")
        .and(warp::post())
        .and(command(state.clone()))
        .and_then(|id, s, m, b| async move {
            droplets::power(s, id, m, b).await.map_err(Rejection::from)
        });
    let migrate = warp::path!("v1" / "droplets" / String / "migrate")
        .and(warp::post())
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
