//! `GET /v1/clusters/{id}/health`: the cluster's health checked now, from its metric
//! window and droplet states. The status the log records follows within one round of
//! the scheduled checks.

use chrono::Utc;
use engine::domain::ClusterId;
use engine::health::ClusterHealth;
use warp::reply::Response;

use super::{ok, read_your_writes};
use crate::errors::ApiError;
use crate::filters::common::RequestMeta;
use crate::models::Params;
use crate::schemas::openapi::common::{MinPosition, MinPositionHeader, NotFound, ReadProblems};
use crate::state::AppState;

/// `GET /v1/clusters/{id}/health`.
#[utoipa::path(
    get, path = "/v1/clusters/{id}/health", tag = "metrics", operation_id = "getClusterHealth",
    summary = "A cluster's health now",
    description = "Checks the cluster now: each metric's average over the check window \
        against the thresholds (CPU > 80 % warning, memory > 85 % and disk > 90 % critical) \
        and its droplets' states (a droplet whose provisioning failed is a warning; all \
        failed is critical). The worst issue sets `status`. The scheduled checks record a \
        `cluster.status_changed` event when this status differs from the recorded one.",
    params(("id" = String, Path, description = "The cluster id."), MinPosition, MinPositionHeader),
    responses(
        (status = 200, description = "The cluster's health.", body = ClusterHealth),
        (status = 404, response = NotFound),
        ReadProblems,
    )
)]
pub async fn get(
    state: AppState,
    id: String,
    meta: RequestMeta,
    params: Params,
) -> Result<Response, ApiError> {
    read_your_writes(&state, &meta, &params).await?;
    let not_found = || ApiError::NotFound {
        what: "cluster",
        id: id.clone(),
    };
    let cluster = ClusterId::parse(&id).map_err(|_| not_found())?;
    state.read.cluster(&id).await?.ok_or_else(not_found)?;
    let health = state.health.check(&cluster, Utc::now()).await?;
    ok(&health)
}
