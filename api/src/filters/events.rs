//! `/v1/events`, `/v1/events/stream`, `/v1/streams/{type}/{id}` routes.

use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::common::{query, with_state};
use super::table::RouteTable;
use crate::handlers::events;
use crate::state::AppState;

/// The log, the live tail and per-aggregate streams.
pub fn routes(state: AppState, table: &mut RouteTable) -> BoxedFilter<(Response,)> {
    let list = table
        .at0(Method::GET, "/v1/events")
        .and(with_state(state.clone()))
        .and(query())
        .and_then(|s, q| async move { events::list(s, q).await.map_err(Rejection::from) });
    let live = table
        .at0(Method::GET, "/v1/events/stream")
        .and(with_state(state.clone()))
        .and(query())
        .and(warp::header::optional::<String>("last-event-id"))
        .and_then(
            |s, q, last| async move { events::live(s, q, last).await.map_err(Rejection::from) },
        );
    let stream = table
        .at2(Method::GET, "/v1/streams/{aggregate_type}/{id}")
        .and(with_state(state))
        .and_then(
            |t, id, s| async move { events::stream_of(s, t, id).await.map_err(Rejection::from) },
        );
    list.or(live).unify().or(stream).unify().boxed()
}
