//! `/v1/jobs`.

use bytes::Bytes;
use engine::commands::{CancelJob, CreateJob};
use engine::domain::ratelimit_rule::Endpoint;
use engine::domain::{DropletId, Job};
use engine::fold::load;
use engine::views::JobView;
use projections::{JobFilter, Page};
use warp::reply::Response;

use super::clusters::bounds;
use super::commands::{run, Guard};
use super::{found, ok, read_your_writes, source, Source};
use crate::errors::ApiError;
use crate::filters::common::RequestMeta;
use crate::models::bodies::{parse, parse_optional};
use crate::models::{CancelJobBody, CreateJobBody, Params};
use crate::schemas::openapi::common::{
    one_of, AsOf, BodyProblems, CommandHeaders, CommandProblems, JobCancelReply, JobStartedReply,
    MinPosition, MinPositionHeader, NotFound, Paging, ReadProblems, TooManyRequests,
};
use crate::state::AppState;

/// A job's statuses.
pub const STATUSES: [&str; 7] = [
    "pending",
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
    "timed_out",
];
/// The job types.
pub const TYPES: [&str; 11] = [
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

/// What the job list sorts by (the first is the default).
pub const SORTABLE: [&str; 2] = ["created_at", "id"];

/// The filters and order of `GET /v1/jobs`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only the jobs of this cluster.
    pub cluster_id: Option<String>,
    /// Only the jobs working on this droplet (`dr_` and 32 lowercase hex digits): its
    /// provisioning, power, resize, migration and destruction.
    #[param(pattern = r"^dr_[0-9a-f]{32}$")]
    pub droplet_id: Option<String>,
    #[param(schema_with = statuses)]
    pub status: Option<String>,
    #[param(schema_with = types)]
    pub r#type: Option<String>,
    #[param(schema_with = sortable)]
    pub sort_by: Option<String>,
}

fn statuses() -> utoipa::openapi::schema::Object {
    one_of(&STATUSES, "Only jobs in this status.")
}

fn types() -> utoipa::openapi::schema::Object {
    one_of(&TYPES, "Only jobs of this type.")
}

fn sortable() -> utoipa::openapi::schema::Object {
    one_of(&SORTABLE, "The order (default `created_at`, newest first).")
}

/// `POST /v1/jobs`.
#[utoipa::path(
    post, path = "/v1/jobs", tag = "jobs", operation_id = "createJob",
    summary = "Start a job on a cluster",
    params(CommandHeaders),
    request_body = CreateJobBody,
    responses(
        (status = 202, response = JobStartedReply),
        (status = 404, response = NotFound),
        (status = 429, response = TooManyRequests),
        CommandProblems,
        BodyProblems,
    )
)]
pub async fn create(state: AppState, meta: RequestMeta, body: Bytes) -> Result<Response, ApiError> {
    let input: CreateJobBody = parse(&body)?;
    let ctx = meta.context(&body);
    let command = CreateJob::parse(
        &input.job_type,
        &input.cluster_id,
        input.parameters,
        ctx.trace_id(),
    )?;
    let guard = Guard::StartsJob(Endpoint::JobsCreate, Some(&input.cluster_id));
    run(&state, &meta, &ctx, guard, &command).await
}

/// `GET /v1/jobs` (newest first unless `sort_dir=asc`).
/// Paged by page number or by `cursor` (see [`crate::models::params`]).
#[utoipa::path(
    get, path = "/v1/jobs", tag = "jobs", operation_id = "listJobs",
    summary = "List jobs",
    params(ListQuery, Paging, MinPosition, MinPositionHeader),
    responses(
        (status = 200, description = "A page of jobs.", body = Page<JobView>),
        ReadProblems,
    )
)]
pub async fn list(
    state: AppState,
    meta: RequestMeta,
    params: Params,
) -> Result<Response, ApiError> {
    read_your_writes(&state, &meta, &params).await?;
    let filter = JobFilter {
        cluster_id: params.text("cluster_id"),
        droplet_id: params
            .text("droplet_id")
            .map(|raw| DropletId::parse(&raw).map(String::from))
            .transpose()
            .map_err(|e| ApiError::bad_field(e.field, e.message))?,
        status: params.one_of("status", &STATUSES)?.map(str::to_owned),
        job_type: params.one_of("type", &TYPES)?.map(str::to_owned),
    };
    let page = params.page(&SORTABLE, true)?;
    let result = state.read.jobs(&filter, &page).await?;
    ok(&result)
}

/// `GET /v1/jobs/{id}` (with `as_of` for time travel).
#[utoipa::path(
    get, path = "/v1/jobs/{id}", tag = "jobs", operation_id = "getJob",
    summary = "Get a job (now, or as it was)",
    params(("id" = String, Path, description = "The job id."), AsOf, MinPosition, MinPositionHeader),
    responses(
        (status = 200, description = "The job.", body = JobView,
            headers(("ETag" = String, description = "The job's version, quoted."))),
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
#[utoipa::path(
    post, path = "/v1/jobs/{id}/cancel", tag = "jobs", operation_id = "cancelJob",
    summary = "Cancel a job",
    description = "`409` once the job has finished. The body is optional.",
    params(("id" = String, Path, description = "The job id."), CommandHeaders),
    request_body(content = Option<CancelJobBody>, description = "Optional: an empty body gives no reason."),
    responses(
        (status = 200, response = JobCancelReply),
        (status = 404, response = NotFound),
        (status = 429, response = TooManyRequests),
        CommandProblems,
        BodyProblems,
    )
)]
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
    let guard = Guard::Limited(Endpoint::JobsCancel, None);
    run(&state, &meta, &meta.context(&body), guard, &command).await
}
