//! Projection operations beyond the status list (which lives with the system handlers).

use serde_json::json;
use warp::http::StatusCode;
use warp::reply::Response;

use super::json;
use crate::errors::ApiError;
use crate::state::AppState;

/// `POST /v1/projections/{name}/rebuild`: starts a rebuild without downtime (shadow
/// tables, then an atomic swap); `202`, then watch `GET /v1/projections`. `404` for an
/// unknown projection, `409` while one of it is running in this process.
pub async fn rebuild(state: AppState, name: String) -> Result<Response, ApiError> {
    state.runtime.rebuild(&name).await?;
    let body = json!({
        "projection": name,
        "status": "rebuilding",
        "watch": "/v1/projections",
    });
    Ok(json(StatusCode::ACCEPTED, &body))
}
