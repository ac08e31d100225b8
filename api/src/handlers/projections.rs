//! Projection operations beyond the status list (which lives with the system handlers).

use warp::http::StatusCode;
use warp::reply::Response;

use super::typed;
use crate::errors::ApiError;
use crate::models::replies::RebuildStarted;
use crate::schemas::openapi::common::{Conflict, Internal, NotFound};
use crate::state::AppState;

/// `POST /v1/projections/{name}/rebuild`: starts a rebuild without downtime (shadow
/// tables, then an atomic swap); `202`, then watch `GET /v1/projections`. `404` for an
/// unknown projection, `409` while one of it is running in this process.
#[utoipa::path(
    post, path = "/v1/projections/{name}/rebuild", tag = "projections", operation_id = "rebuildProjection",
    summary = "Rebuild a projection from the log without downtime",
    description = "Shadow tables, then an atomic swap; watch `GET /v1/projections`. `409` \
while a rebuild of it runs in this process.",
    params(("name" = String, Path, description = "The projection, e.g. `clusters`.")),
    responses(
        (status = 202, description = "Started.", body = RebuildStarted),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 500, response = Internal),
    )
)]
pub async fn rebuild(state: AppState, name: String) -> Result<Response, ApiError> {
    state.runtime.rebuild(&name).await?;
    let body = RebuildStarted {
        projection: name,
        status: "rebuilding",
        watch: "/v1/projections",
    };
    typed(StatusCode::ACCEPTED, &body)
}
