//! The diagnosis routes of a cluster: diagnose, list its diagnoses, implement a
//! recommendation.

use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::common::{command, read};
use super::table::RouteTable;
use crate::handlers::diagnoses;
use crate::state::AppState;

/// Diagnose, list, implement.
pub fn routes(state: AppState, table: &mut RouteTable) -> BoxedFilter<(Response,)> {
    let diagnose = table
        .at1(Method::POST, "/v1/clusters/{id}/diagnose")
        .and(command(state.clone()))
        .and_then(|id, s, m, b| async move {
            diagnoses::diagnose(s, id, m, b)
                .await
                .map_err(Rejection::from)
        });
    let list = table
        .at1(Method::GET, "/v1/clusters/{id}/diagnoses")
        .and(read(state.clone()))
        .and_then(|id, s, m, q| async move {
            diagnoses::list(s, id, m, q).await.map_err(Rejection::from)
        });
    let implement = table
        .at2(
            Method::POST,
            "/v1/clusters/{id}/recommendations/{rec_id}/implement",
        )
        .and(command(state))
        .and_then(|id, rec, s, m, b| async move {
            diagnoses::implement(s, id, rec, m, b)
                .await
                .map_err(Rejection::from)
        });
    diagnose.or(list).unify().or(implement).unify().boxed()
}
