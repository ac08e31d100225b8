//! `/v1/clusters` routes.

use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::common::{command, meta, read, with_state};
use crate::handlers::clusters;
use crate::state::AppState;

/// Create, list, get, summary, update, delete.
pub fn routes(state: AppState) -> BoxedFilter<(Response,)> {
    let base = warp::path!("v1" / "clusters").and(warp::path::end());
    let one = warp::path!("v1" / "clusters" / String);
    let create =
        base.and(warp::post())
            .and(command(state.clone()))
            .and_then(
                |s, m, b| async move { clusters::create(s, m, b).await.map_err(Rejection::from) },
            );
    let list = base
        .and(warp::get())
        .and(read(state.clone()))
        .and_then(|s, m, q| async move { clusters::list(s, m, q).await.map_err(Rejection::from) });
    let get = one
        .and(warp::get())
        .and(read(state.clone()))
        .and_then(|id, s, m, q| async move {
            clusters::get(s, id, m, q).await.map_err(Rejection::from)
        });
    let summary = warp::path!("v1" / "clusters" / String / "summary")
        .and(warp::get())
        .and(read(state.clone()))
        .and_then(|id, s, m, q| async move {
            clusters::summary(s, id, m, q)
                .await
                .map_err(Rejection::from)
        });
    let update =
        one.and(warp::patch())
            .and(command(state.clone()))
            .and_then(|id, s, m, b| async move {
                clusters::update(s, id, m, b).await.map_err(Rejection::from)
            });
    let delete = one
        .and(warp::delete())
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
