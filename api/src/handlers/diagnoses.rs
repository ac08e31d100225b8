//! `POST /v1/clusters/{id}/diagnose`, `GET /v1/clusters/{id}/diagnoses` and
//! `POST /v1/clusters/{id}/recommendations/{rec_id}/implement`.
//!
//! A diagnose is refused (`429`) by the `diagnose` rate-limit rule before anything is
//! gathered or asked; the inputs are gathered and the engine asked before the command
//! that records the diagnosis runs, so a retried append never asks the LLM twice.

use bytes::Bytes;
use engine::commands::{completed_event_id, Diagnose, ImplementRecommendation};
use engine::diagnosis::DiagnosisView;
use engine::domain::ratelimit_rule::Endpoint;
use engine::domain::{Cluster, ClusterId, DiagnosisEngine};
use engine::views::ClusterView;
use projections::read_models::diagnoses::SORTABLE;
use projections::Page;
use warp::reply::Response;

use super::commands::{run, Guard};
use super::diagnosis_inputs::gather;
use super::limiting::{guard, with_rate_headers};
use super::{command_reply, ok, read_your_writes, room_for_a_job};
use crate::errors::ApiError;
use crate::filters::common::RequestMeta;
use crate::models::bodies::parse_optional;
use crate::models::{DiagnoseBody, Params};
use crate::schemas::openapi::common::{
    BodyProblems, CommandHeaders, CommandProblems, DiagnosisReply, JobStartedReply, MinPosition,
    MinPositionHeader, NotFound, Paging, ReadProblems, TooManyRequests,
};
use crate::state::AppState;

/// The live cluster `id`, folded from its stream (a 404 otherwise).
async fn live_cluster(state: &AppState, id: &str) -> Result<ClusterView, ApiError> {
    let not_found = || ApiError::NotFound {
        what: "cluster",
        id: id.to_owned(),
    };
    ClusterId::parse(id).map_err(|_| not_found())?;
    let cluster = state.commands.load::<Cluster>(id).await?;
    if !cluster.state.is_live() {
        return Err(not_found());
    }
    Ok(ClusterView::from_loaded(&cluster))
}

/// `POST /v1/clusters/{id}/diagnose`.
#[utoipa::path(
    post, path = "/v1/clusters/{id}/diagnose", tag = "diagnosis", operation_id = "diagnoseCluster",
    summary = "Diagnose a cluster",
    description = "Health score, insights and prioritised recommendations from the cluster's \
droplets, health, metric trends, failed jobs and provider faults, by the rules engine \
(default) or the configured LLM (`engine: \"llm\"`, falling back to the rules with a \
`fallback_reason` when it fails; `422` when no LLM is configured). Recorded as \
`diagnosis.completed`. Limited by the `diagnose` rule (per cluster). The body is optional.",
    params(("id" = String, Path, description = "The cluster id."), CommandHeaders),
    request_body(content = Option<DiagnoseBody>, description = "Optional: `{}` uses the rules engine."),
    responses(
        (status = 200, response = DiagnosisReply),
        (status = 404, response = NotFound),
        (status = 429, response = TooManyRequests),
        CommandProblems,
        BodyProblems,
    )
)]
pub async fn diagnose(
    state: AppState,
    id: String,
    meta: RequestMeta,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: DiagnoseBody = parse_optional(&body)?;
    let requested = input.engine()?;
    if requested == DiagnosisEngine::Llm && !state.diagnoser.llm_configured() {
        return Err(ApiError::invalid_field(
            "engine",
            "the llm engine is not configured (set llm_url and llm_model); use \"rules\"",
        ));
    }
    let cluster = live_cluster(&state, &id).await?;
    let verdict = guard(&state, &meta, Endpoint::ClustersDiagnose, Some(&id)).await?;
    let inputs = gather(&state, &cluster).await?;
    let cluster_id = ClusterId::parse(&id).map_err(|e| ApiError::bad_field(e.field, e.message))?;
    let completed = state
        .diagnoser
        .diagnose(cluster_id, inputs, requested)
        .await
        .map_err(|e| ApiError::invalid_field("engine", e.to_string()))?;
    let ctx = meta.context(&body);
    let reply = state
        .commands
        .execute(&ctx, &Diagnose { completed })
        .await?;
    Ok(with_rate_headers(command_reply(reply)?, &verdict))
}

/// `GET /v1/clusters/{id}/diagnoses` (newest first unless `sort_dir=asc`).
/// Paged by page number or by `cursor` (see [`crate::models::params`]).
#[utoipa::path(
    get, path = "/v1/clusters/{id}/diagnoses", tag = "diagnosis", operation_id = "listDiagnoses",
    summary = "List a cluster's diagnoses",
    description = "Newest first (`sort_by=position`, the default and only order). Each \
diagnosis carries `implemented`: which recommendation became which job.",
    params(("id" = String, Path, description = "The cluster id."), Paging, MinPosition, MinPositionHeader),
    responses(
        (status = 200, description = "A page of diagnoses.", body = Page<DiagnosisView>),
        (status = 404, response = NotFound),
        ReadProblems,
    )
)]
pub async fn list(
    state: AppState,
    id: String,
    meta: RequestMeta,
    params: Params,
) -> Result<Response, ApiError> {
    read_your_writes(&state, &meta, &params).await?;
    live_cluster(&state, &id).await?;
    let page = params.page(&SORTABLE, true)?;
    let result = state.read.diagnoses(&id, &page).await?;
    ok(&result)
}

/// `POST /v1/clusters/{id}/recommendations/{rec_id}/implement`.
#[utoipa::path(
    post, path = "/v1/clusters/{id}/recommendations/{rec_id}/implement", tag = "diagnosis",
    operation_id = "implementRecommendation",
    summary = "Implement a recommendation (start its job)",
    description = "Creates the job the recommendation's action names (scale_up, scale_down, \
monitor on the cluster; resize or restart of a droplet; a new droplet with its provision \
job), caused by the diagnosis' event. Implementing it again answers the same job. `409` for \
a recommendation of a diagnosis that is not the cluster's latest, `404` for an unknown one, \
`422` for advice only (action `none`). The body is ignored.",
    params(
        ("id" = String, Path, description = "The cluster id."),
        ("rec_id" = String, Path, description = "The recommendation id (`rec_<diagnosis hex>_<n>`)."),
        CommandHeaders
    ),
    responses(
        (status = 202, response = JobStartedReply),
        (status = 404, response = NotFound),
        CommandProblems,
        BodyProblems,
    )
)]
pub async fn implement(
    state: AppState,
    id: String,
    rec_id: String,
    meta: RequestMeta,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ctx = meta.context(&body);
    let command = ImplementRecommendation::parse(&id, &rec_id, ctx.trace_id())?;
    // The job's events are caused by the diagnosis they implement.
    let ctx = match completed_event_id(&state.commands, &id).await? {
        Some(event) => {
            let mut caused = ctx.caused_by(event.to_string());
            caused.idempotency = ctx.idempotency.clone();
            caused
        }
        None => ctx,
    };
    room_for_a_job(&state, &meta).await?;
    run(&state, &meta, &ctx, Guard::Open, &command).await
}
