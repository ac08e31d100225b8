//! `/v1/catalog`, `/v1/providers`, `/v1/admin/providers/{name}/faults`,
//! `/v1/clusters/{id}/billing` and `/v1/billing` routes.

use warp::filters::BoxedFilter;
use warp::http::Method;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::common::{body, command, read, with_state};
use super::table::RouteTable;
use crate::handlers::providers;
use crate::state::AppState;

/// Catalog, list, register, faults get/put, a cluster's billing, the fleet's.
pub fn routes(state: AppState, table: &mut RouteTable) -> BoxedFilter<(Response,)> {
    let catalog = table
        .at0(Method::GET, "/v1/catalog")
        .and_then(|| async move { providers::catalog().await.map_err(Rejection::from) });
    let list = table
        .at0(Method::GET, "/v1/providers")
        .and(read(state.clone()))
        .and_then(|s, m, q| async move { providers::list(s, m, q).await.map_err(Rejection::from) });
    let register = table
        .at0(Method::POST, "/v1/providers")
        .and(command(state.clone()))
        .and_then(
            |s, m, b| async move { providers::register(s, m, b).await.map_err(Rejection::from) },
        );
    let get_faults = table
        .at1(Method::GET, "/v1/admin/providers/{name}/faults")
        .and(with_state(state.clone()))
        .and_then(|name, s| async move {
            providers::get_faults(s, name)
                .await
                .map_err(Rejection::from)
        });
    let put_faults = table
        .at1(Method::PUT, "/v1/admin/providers/{name}/faults")
        .and(with_state(state.clone()))
        .and(body())
        .and_then(|name, s, b| async move {
            providers::put_faults(s, name, b)
                .await
                .map_err(Rejection::from)
        });
    let billing = table
        .at1(Method::GET, "/v1/clusters/{id}/billing")
        .and(read(state.clone()))
        .and_then(|id, s, m, q| async move {
            providers::billing(s, id, m, q)
                .await
                .map_err(Rejection::from)
        });
    let fleet_billing = table
        .at0(Method::GET, "/v1/billing")
        .and(read(state))
        .and_then(|s, m, q| async move {
            providers::fleet_billing(s, m, q)
                .await
                .map_err(Rejection::from)
        });
    catalog
        .or(list)
        .unify()
        .or(register)
        .unify()
        .or(get_faults)
        .unify()
        .or(put_faults)
        .unify()
        .or(billing)
        .unify()
        .or(fleet_billing)
        .unify()
        .boxed()
}
