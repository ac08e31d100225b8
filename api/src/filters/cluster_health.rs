//! `/v1/clusters/{id}/health` route.

use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::common::read;
use super::table::RouteTable;
use crate::handlers::cluster_health;
use crate::state::AppState;

/// A cluster's health now.
pub fn routes(state: AppState, table: &mut RouteTable) -> BoxedFilter<(Response,)> {
    table
        .at1(Method::GET, "/v1/clusters/{id}/health")
        .and(read(state))
        .and_then(|id, s, m, q| async move {
            cluster_health::get(s, id, m, q)
                .await
                .map_err(Rejection::from)
        })
        .boxed()
}
