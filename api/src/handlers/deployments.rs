//! `POST /v1/clusters/{id}/deployments`, `GET /v1/clusters/{id}/deployments`,
//! `GET /v1/deployments/{id}`, `POST /v1/deployments/{id}/rollback` and
//! `POST /v1/deployments/{id}/promote`.
//!
//! Reads fold the deployment's stream (and the droplets it touches) at the log's head, so
//! they always show what the commands wrote (read-your-writes without waiting).

use bytes::Bytes;
use engine::commands::deployments::{cluster_deployments, deployment_view};
use engine::commands::{CreateDeployment, DeploymentInput, PromoteDeployment, RollbackDeployment};
use engine::deploy::DeploymentView;
use engine::domain::{HealthGate, JobId};
use engine::health::Thresholds;
use warp::reply::Response;

use super::commands::{run, Guard};
use super::{ok, room_for_a_job};
use crate::errors::ApiError;
use crate::filters::common::RequestMeta;
use crate::models::bodies::parse;
use crate::models::deployments::DeploymentList;
use crate::models::Params;
use crate::schemas::openapi::common::{
    BodyProblems, CommandHeaders, CommandProblems, DeploymentReply, NotFound, ReadProblems,
};
use crate::state::AppState;

/// `POST /v1/clusters/{id}/deployments`.
#[utoipa::path(
    post, path = "/v1/clusters/{id}/deployments", tag = "deployments", operation_id = "createDeployment",
    summary = "Start a deployment (rolling, canary or blue-green)",
    description = "Rolls `version` out over the cluster's active droplets: `rolling` in \
batches of `batch_size` with a health gate after each, `canary` on `target_percent` of them \
(at least one), a gate, then the rest (or it waits for `promote` when `auto_promote` is \
false), `blue_green` on a new set of droplets, a gate, a switch, then the old set is \
destroyed. Each step and gate is a job; a failed step or gate rolls back by itself. `409` \
while another deployment of the cluster runs, `422` for bad fields or a cluster without \
active droplets.",
    params(("id" = String, Path, description = "The cluster id."), CommandHeaders),
    request_body(content = DeploymentInput, description = "What to deploy, and how."),
    responses(
        (status = 202, response = DeploymentReply),
        (status = 404, response = NotFound),
        CommandProblems,
        BodyProblems,
    )
)]
pub async fn create(
    state: AppState,
    id: String,
    meta: RequestMeta,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: DeploymentInput = parse(&body)?;
    let ctx = meta.context(&body);
    let gate = HealthGate::default_with(Thresholds::default().cpu_warning);
    let command = CreateDeployment::parse(&id, &input, gate, ctx.trace_id())?;
    room_for_a_job(&state, &meta).await?;
    run(&state, &meta, &ctx, Guard::Open, &command).await
}

/// `GET /v1/clusters/{id}/deployments`.
#[utoipa::path(
    get, path = "/v1/clusters/{id}/deployments", tag = "deployments", operation_id = "listDeployments",
    summary = "List a cluster's deployments",
    description = "Newest first (at most 100), each with its steps, gates, logs and the \
droplets it touches at their current application version.",
    params(("id" = String, Path, description = "The cluster id.")),
    responses(
        (status = 200, description = "The cluster's deployments.", body = DeploymentList),
        (status = 404, response = NotFound),
        ReadProblems,
    )
)]
pub async fn list(
    state: AppState,
    id: String,
    _meta: RequestMeta,
    _params: Params,
) -> Result<Response, ApiError> {
    let items = cluster_deployments(&state.commands, &id).await?;
    ok(&DeploymentList { items })
}

/// `GET /v1/deployments/{id}`.
#[utoipa::path(
    get, path = "/v1/deployments/{id}", tag = "deployments", operation_id = "getDeployment",
    summary = "Get a deployment",
    description = "Its status, phase, steps, gates, logs and the droplets it touches.",
    params(("id" = String, Path, description = "The deployment id (`dep_...`).")),
    responses(
        (status = 200, description = "The deployment.", body = DeploymentView),
        (status = 404, response = NotFound),
        ReadProblems,
    )
)]
pub async fn get(
    state: AppState,
    id: String,
    _meta: RequestMeta,
    _params: Params,
) -> Result<Response, ApiError> {
    ok(&deployment_view(&state.commands, &id).await?)
}

/// `POST /v1/deployments/{id}/rollback`.
#[utoipa::path(
    post, path = "/v1/deployments/{id}/rollback", tag = "deployments", operation_id = "rollbackDeployment",
    summary = "Roll a deployment back",
    description = "Stops the running step or gate job and starts the rollback job: every \
droplet a step touched goes back to the previous version (blue-green: the new set is \
destroyed). `409` once the deployment ended, while it already rolls back, or for a \
blue-green deployment after its switch. The body is ignored.",
    params(("id" = String, Path, description = "The deployment id."), CommandHeaders),
    responses(
        (status = 202, response = DeploymentReply),
        (status = 404, response = NotFound),
        CommandProblems,
    )
)]
pub async fn rollback(
    state: AppState,
    id: String,
    meta: RequestMeta,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ctx = meta.context(&body);
    let command = RollbackDeployment {
        deployment_id: id,
        job_id: JobId::new(),
        trace_id: ctx.trace_id(),
    };
    run(&state, &meta, &ctx, Guard::Open, &command).await
}

/// `POST /v1/deployments/{id}/promote`.
#[utoipa::path(
    post, path = "/v1/deployments/{id}/promote", tag = "deployments", operation_id = "promoteDeployment",
    summary = "Promote a canary waiting at its target",
    description = "The rest of the droplets follow the canary. `409` unless a canary waits \
at its target (`auto_promote: false` and a passed gate). The body is ignored.",
    params(("id" = String, Path, description = "The deployment id."), CommandHeaders),
    responses(
        (status = 202, response = DeploymentReply),
        (status = 404, response = NotFound),
        CommandProblems,
    )
)]
pub async fn promote(
    state: AppState,
    id: String,
    meta: RequestMeta,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ctx = meta.context(&body);
    let command = PromoteDeployment {
        deployment_id: id,
        job_id: JobId::new(),
        trace_id: ctx.trace_id(),
    };
    run(&state, &meta, &ctx, Guard::Open, &command).await
}
