//! `/v1/jobs`.

use bytes::Bytes;
use engine::commands::{load, CancelJob, CreateJob};
use engine::domain::ratelimit_rule::Endpoint;
use engine::domain::Job;
use engine::views::JobView;
use projections::JobFilter;
use warp::reply::Response;

use super::clusters::bounds;
use super::limiting::{guard, with_rate_headers};
use super::{command_reply, found, ok, read_your_writes, room_for_a_job, source, Source};
use crate::errors::ApiError;
use crate::filters::common::RequestMeta;
use crate::models::bodies::{parse, parse_optional};
use crate::models::{CancelJobBody, CreateJobBody, Params};
use crate::state::AppState;

const STATUSES: [&str; 7] = [
    "pending",
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
    "timed_out",
];
const TYPES: [&str; 11] = [
    "provision",
    "destroy",
    "resize",
    "scale_up",
    "scale_down",
    "restart",
    "diagnose",
    "monitor",
    "power_on",
    "power_off",
    "migrate",
];

/// `POST /v1/jobs`.
pub async fn create(state: AppState, meta: RequestMeta, body: Bytes) -> Result<Response, ApiError> {
    let input: CreateJobBody = parse(&body)?;
    let ctx = meta.context(&body);
    let command = CreateJob::parse(
        &input.job_type,
        &input.cluster_id,
        input.parameters,
        ctx.trace_id(),
    )?;
    let cluster = Some(input.cluster_id.as_str());
    room_for_a_job(&state, &meta).await?;
    let verdict = guard(&state, &meta, Endpoint::JobsCreate, cluster).await?;
    let response = command_reply(state.commands.execute(&ctx, &command).await?)?;
    Ok(with_rate_headers(response, &verdict))
}

/// `GET /v1/jobs` (newest first unless `sort_dir=asc`).
/// Paged by page number or by `cursor` (see [`crate::models::params`]).
pub async fn list(
    state: AppState,
    meta: RequestMeta,
    params: Params,
) -> Result<Response, ApiError> {
    read_your_writes(&state, &meta, &params).await?;
    let filter = JobFilter {
        cluster_id: params.text("cluster_id"),
        status: params.one_of("status", &STATUSES)?.map(str::to_owned),
        job_type: params.one_of("type", &TYPES)?.map(str::to_owned),
    };
    let page = params.page(&["created_at", "id"], true)?;
    let result = state.read.jobs(&filter, &page).await?;
    Ok(ok(&result))
}

/// `GET /v1/jobs/{id}` (with `as_of` for time travel).
pub async fn get(
    state: AppState,
    id: String,
    meta: RequestMeta,
    params: Params,
) -> Result<Response, ApiError> {
    let view = match source(&state, &meta, &params).await? {
        Source::AsOf(position) => {
            let job = load::<Job>(&*state.store, &id, Some(position)).await?;
            job.exists().then(|| JobView::from_loaded(&job))
        }
        Source::ReadModel => {
            let bounds = bounds(&state, &meta, &params)?;
            match state.cached("job", state.cache.job(&id, bounds).await) {
                Some(view) => view,
                None => state.read.job(&id).await?,
            }
        }
    };
    found(view, "job", &id)
}

/// `POST /v1/jobs/{id}/cancel`.
pub async fn cancel(
    state: AppState,
    id: String,
    meta: RequestMeta,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: CancelJobBody = parse_optional(&body)?;
    let command = CancelJob {
        id,
        reason: input.reason,
    };
    let verdict = guard(&state, &meta, Endpoint::JobsCancel, None).await?;
    let reply = state
        .commands
        .execute(&meta.context(&body), &command)
        .await?;
    Ok(with_rate_headers(command_reply(reply)?, &verdict))
}
