//! `/v1/jobs` routes.

use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::common::{command, read};
use crate::handlers::jobs;
use crate::state::AppState;

/// Create, list, get, cancel.
pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    let base = warp::path!("v1" / "jobs");
    let one = warp::path!("v1" / "jobs" / String);
    let create = base
        .and(warp::post())
        .and(command(state.clone()))
        .and_then(|s, m, b| async move { jobs::create(s, m, b).await.map_err(Rejection::from) });
    let list = base
        .and(warp::get())
        .and(read(state.clone()))
        .and_then(|s, m, q| async move { jobs::list(s, m, q).await.map_err(Rejection::from) });
    let get = one
        .and(warp::get())
        .and(read(state.clone()))
        .and_then(
            |id, s, m, q| async move { jobs::get(s, id, m, q).await.map_err(Rejection::from) },
        );
    let cancel = warp::path!("v1" / "jobs" / String / "cancel")
        .and(warp::post())
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
