//! `/v1/metrics` routes (metric samples; `/metrics` is Prometheus, see `system`).

use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::common::{command, read};
use super::table::RouteTable;
use crate::handlers::metric_samples;
use crate::state::AppState;

/// Ingest a batch; list samples or a series.
pub fn routes(state: AppState, table: &mut RouteTable) -> BoxedFilter<(Response,)> {
    let ingest = table
        .at0(Method::POST, "/v1/metrics")
        .and(command(state.clone()))
        .and_then(|s, m, b| async move {
            metric_samples::ingest(s, m, b)
                .await
                .map_err(Rejection::from)
        });
    let list = table
        .at0(Method::GET, "/v1/metrics")
        .and(read(state))
        .and_then(
            |s, m, q| async move { metric_samples::list(s, m, q).await.map_err(Rejection::from) },
        );
    ingest.or(list).unify().boxed()
}
