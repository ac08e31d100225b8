//! The auto-scaling routes of a cluster: its policy (get, set, remove), a manual
//! evaluation and the decision history.

use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::common::{command, meta, read, with_state};
use super::table::RouteTable;
use crate::handlers::autoscaling;
use crate::state::AppState;

/// Policy, evaluate, decisions.
pub fn routes(state: AppState, table: &mut RouteTable) -> BoxedFilter<(Response,)> {
    let get = table
        .at1(Method::GET, "/v1/clusters/{id}/autoscaling")
        .and(read(state.clone()))
        .and_then(|id, s, m, q| async move {
            autoscaling::get(s, id, m, q).await.map_err(Rejection::from)
        });
    let put = table
        .at1(Method::PUT, "/v1/clusters/{id}/autoscaling")
        .and(command(state.clone()))
        .and_then(|id, s, m, b| async move {
            autoscaling::put(s, id, m, b).await.map_err(Rejection::from)
        });
    let delete = table
        .at1(Method::DELETE, "/v1/clusters/{id}/autoscaling")
        .and(with_state(state.clone()))
        .and(meta())
        .and_then(|id, s, m| async move {
            autoscaling::delete(s, id, m).await.map_err(Rejection::from)
        });
    let evaluate = table
        .at1(Method::POST, "/v1/clusters/{id}/autoscaling/evaluate")
        .and(command(state.clone()))
        .and_then(|id, s, m, b| async move {
            autoscaling::evaluate(s, id, m, b)
                .await
                .map_err(Rejection::from)
        });
    let decisions = table
        .at1(Method::GET, "/v1/clusters/{id}/autoscaling/decisions")
        .and(read(state))
        .and_then(|id, s, m, q| async move {
            autoscaling::decisions(s, id, m, q)
                .await
                .map_err(Rejection::from)
        });
    get.or(put)
        .unify()
        .or(delete)
        .unify()
        .or(evaluate)
        .unify()
        .or(decisions)
        .unify()
        .boxed()
}
