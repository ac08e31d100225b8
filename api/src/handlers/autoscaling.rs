//! `/v1/clusters/{id}/autoscaling`: a cluster's auto-scaling policy (get, set, remove), a
//! manual evaluation and the decision history.
//!
//! Setting and removing a policy answer once the read models have the change, so the
//! next `GET` and the next round see it. An evaluation decides at once (the same rules as
//! the scheduled rounds) and, when it acts, starts the scale job in the same append as
//! its `autoscaling.decided`.

use bytes::Bytes;
use chrono::Utc;
use engine::autoscaling::AutoscalingDecisionView;
use engine::commands::{RemoveAutoscalingPolicy, Reply, SetAutoscalingPolicy};
use engine::domain::cluster::PolicyInput;
use engine::domain::{Cluster, ClusterId};
use projections::read_models::autoscaling::AutoscalingPolicyView;
use serde::Serialize;
use warp::http::{HeaderValue, StatusCode};
use warp::reply::Response;
use warp::Reply as _;

use super::commands::{execute, Guard};
use super::{ok, read_your_writes, room_for_a_job};
use crate::errors::ApiError;
use crate::filters::common::RequestMeta;
use crate::models::bodies::parse;
use crate::models::Params;
use crate::schemas::openapi::common::{
    BodyProblems, CommandHeaders, CommandProblems, Conflict, MinPosition, MinPositionHeader,
    NotFound, ReadProblems,
};
use crate::state::AppState;

/// Rows of the history a list answers by default, and at most.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 100;

/// `GET /v1/clusters/{id}/autoscaling/decisions`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DecisionList {
    /// Newest first.
    pub items: Vec<AutoscalingDecisionView>,
}

/// The live cluster `id` (a 404 otherwise).
async fn live_cluster(state: &AppState, id: &str) -> Result<ClusterId, ApiError> {
    let not_found = || ApiError::NotFound {
        what: "cluster",
        id: id.to_owned(),
    };
    let cluster_id = ClusterId::parse(id).map_err(|_| not_found())?;
    let cluster = state.commands.load::<Cluster>(id).await?;
    if !cluster.state.is_live() {
        return Err(not_found());
    }
    Ok(cluster_id)
}

/// The policy of `id` from the read models, or a 404 saying the cluster has none.
async fn policy_view(state: &AppState, id: &str) -> Result<AutoscalingPolicyView, ApiError> {
    state
        .read
        .autoscaling_policy(id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            what: "auto-scaling policy of cluster",
            id: id.to_owned(),
        })
}

/// Waits (bounded) for the read models to reach a command's position.
async fn settle<T>(state: &AppState, reply: &Reply<T>) -> Result<(), ApiError> {
    let timeout = std::time::Duration::from_millis(state.settings.read_your_writes_timeout_ms);
    state.runtime.wait_for(reply.position(), timeout).await?;
    Ok(())
}

fn with_position(mut response: Response, position: i64) -> Response {
    if let Ok(value) = HeaderValue::from_str(&position.to_string()) {
        response.headers_mut().insert("x-position", value);
    }
    response
}

/// `GET /v1/clusters/{id}/autoscaling`.
#[utoipa::path(
    get, path = "/v1/clusters/{id}/autoscaling", tag = "autoscaling", operation_id = "getAutoscalingPolicy",
    summary = "A cluster's auto-scaling policy",
    description = "`404` when the cluster is unknown or has no policy (`detail` says which).",
    params(("id" = String, Path, description = "The cluster id."), MinPosition, MinPositionHeader),
    responses(
        (status = 200, description = "The policy.", body = AutoscalingPolicyView),
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
    live_cluster(&state, &id).await?;
    ok(&policy_view(&state, &id).await?)
}

/// `PUT /v1/clusters/{id}/autoscaling`.
#[utoipa::path(
    put, path = "/v1/clusters/{id}/autoscaling", tag = "autoscaling", operation_id = "putAutoscalingPolicy",
    summary = "Set (create or replace) a cluster's auto-scaling policy",
    description = "Types `metrics` (a metric's average over `evaluation_window_seconds` \
against `scale_up_threshold` and `scale_down_threshold`; the band between them is the \
hysteresis), `cost` (the same under a required `cost_limit_per_hour`) and `time_of_day` \
(`windows` of desired droplets, `min_droplets` outside them). Fields the type does not use \
are not kept. Every bad field is reported at once (`422`). Recorded as \
`cluster.autoscaling_policy_set` (nothing when identical); answered once the read models \
have it.",
    params(("id" = String, Path, description = "The cluster id."), CommandHeaders),
    request_body = PolicyInput,
    responses(
        (status = 200, description = "The policy in force.", body = AutoscalingPolicyView,
            headers(("X-Position" = i64, description = "The log position of the command's last event."))),
        (status = 404, response = NotFound),
        CommandProblems,
        BodyProblems,
    )
)]
pub async fn put(
    state: AppState,
    id: String,
    meta: RequestMeta,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: PolicyInput = parse(&body)?;
    let command = SetAutoscalingPolicy::parse(&id, &input)?;
    let ctx = meta.context(&body);
    let executed = execute(&state, &meta, &ctx, Guard::Open, &command).await?;
    settle(&state, &executed.reply).await?;
    let view = policy_view(&state, &id).await?;
    Ok(with_position(ok(&view)?, executed.reply.position()))
}

/// `DELETE /v1/clusters/{id}/autoscaling`.
#[utoipa::path(
    delete, path = "/v1/clusters/{id}/autoscaling", tag = "autoscaling", operation_id = "deleteAutoscalingPolicy",
    summary = "Remove a cluster's auto-scaling policy",
    description = "Recorded as `cluster.autoscaling_policy_removed`; `404` when the cluster \
has no policy.",
    params(("id" = String, Path, description = "The cluster id."), CommandHeaders),
    responses(
        (status = 204, description = "Removed.",
            headers(("X-Position" = i64, description = "The log position of the removal."))),
        (status = 404, response = NotFound),
        CommandProblems,
    )
)]
pub async fn delete(state: AppState, id: String, meta: RequestMeta) -> Result<Response, ApiError> {
    let command = RemoveAutoscalingPolicy::parse(&id)?;
    let ctx = meta.context(b"");
    let executed = execute(&state, &meta, &ctx, Guard::Open, &command).await?;
    settle(&state, &executed.reply).await?;
    let response = warp::reply::with_status(warp::reply(), StatusCode::NO_CONTENT).into_response();
    Ok(with_position(response, executed.reply.position()))
}

/// `POST /v1/clusters/{id}/autoscaling/evaluate`.
#[utoipa::path(
    post, path = "/v1/clusters/{id}/autoscaling/evaluate", tag = "autoscaling",
    operation_id = "evaluateAutoscaling",
    summary = "Evaluate a cluster's policy now",
    description = "Decides as a scheduled round does (a disabled policy decides `none`), \
from read models that include everything logged before the request, \
records the decision in the history (`trigger: manual`) and, when it acts, starts the scale \
job (`job_id`) in the same append as its `autoscaling.decided` (`event_position`). `409` \
when the cluster has no policy. The body is ignored.",
    params(("id" = String, Path, description = "The cluster id."), CommandHeaders),
    responses(
        (status = 200, description = "The decision.", body = AutoscalingDecisionView),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        CommandProblems,
    )
)]
pub async fn evaluate(
    state: AppState,
    id: String,
    meta: RequestMeta,
    body: Bytes,
) -> Result<Response, ApiError> {
    let cluster_id = live_cluster(&state, &id).await?;
    room_for_a_job(&state, &meta).await?;
    // The read models the evaluation reads include everything logged before the request
    // (a deployment that just ended, droplets just added).
    let head = state.store.head().await?;
    let timeout = std::time::Duration::from_millis(state.settings.read_your_writes_timeout_ms);
    state.runtime.wait_for(head, timeout).await?;
    // An acting decision is the request's: its actor, correlation and trace.
    let ctx = meta.context(&body);
    let decision = state
        .autoscaler
        .evaluate_cluster(&cluster_id, Utc::now(), &ctx)
        .await?;
    let response = ok(&decision)?;
    Ok(match decision.event_position {
        Some(position) => with_position(response, position),
        None => response,
    })
}

/// `GET /v1/clusters/{id}/autoscaling/decisions?limit=50`.
#[utoipa::path(
    get, path = "/v1/clusters/{id}/autoscaling/decisions", tag = "autoscaling",
    operation_id = "listAutoscalingDecisions",
    summary = "A cluster's recent auto-scaling decisions",
    description = "Newest first, acting and `none` alike, each with its code, reason and \
inputs. Consecutive evaluations with the same outcome share a row (`evaluations`, \
`last_at`); at most 100 rows are kept per cluster.",
    params(
        ("id" = String, Path, description = "The cluster id."),
        ("limit" = Option<i64>, Query, description = "Rows, 1 to 100 (default 50)."),
    ),
    responses(
        (status = 200, description = "The decisions.", body = DecisionList),
        (status = 404, response = NotFound),
        ReadProblems,
    )
)]
pub async fn decisions(
    state: AppState,
    id: String,
    _meta: RequestMeta,
    params: Params,
) -> Result<Response, ApiError> {
    let limit = params.int("limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
    let cluster_id = live_cluster(&state, &id).await?;
    let items = state
        .autoscaler
        .store()
        .list(&cluster_id, u32::try_from(limit).unwrap_or(50))
        .await
        .map_err(|e| ApiError::Autoscaling(e.into()))?;
    ok(&DecisionList { items })
}
