//! `/v1/droplets`.

use bytes::Bytes;
use engine::commands::{ActOnDroplet, CreateDroplet, DropletAction, DropletInput};
use engine::domain::ratelimit_rule::Endpoint;
use engine::domain::{Cluster, Droplet, PowerAction, ProviderName, Size, ValidationError};
use engine::fold::load;
use engine::views::DropletView;
use projections::{DropletFilter, Page};
use warp::reply::Response;

use super::clusters::bounds;
use super::commands::{run, Guard};
use super::{found, ok, read_your_writes, source, Source};
use crate::errors::ApiError;
use crate::filters::common::RequestMeta;
use crate::models::bodies::parse;
use crate::models::{CreateDropletBody, MigrateBody, Params, PowerBody, ResizeBody};
use crate::schemas::openapi::common::{
    one_of, AsOf, BodyProblems, CommandHeaders, CommandProblems, DropletCreatedReply, IfMatch,
    JobStartedReply, MinPosition, MinPositionHeader, NotFound, Paging, PreconditionFailed,
    ReadProblems, TooManyRequests, Unprocessable,
};
use crate::state::AppState;

/// A droplet's statuses.
pub const STATUSES: [&str; 6] = [
    "provisioning",
    "active",
    "resizing",
    "off",
    "failed",
    "destroyed",
];

/// What the droplet list sorts by (the first is the default).
pub const SORTABLE: [&str; 3] = ["created_at", "name", "status"];

/// The filters and order of `GET /v1/droplets`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only the droplets of this cluster.
    pub cluster_id: Option<String>,
    #[param(schema_with = statuses)]
    pub status: Option<String>,
    /// Only droplets whose name contains this text (starts with it, below 3 characters).
    pub search: Option<String>,
    #[param(schema_with = sortable)]
    pub sort_by: Option<String>,
}

fn statuses() -> utoipa::openapi::schema::Object {
    one_of(&STATUSES, "Only droplets in this status.")
}

fn sortable() -> utoipa::openapi::schema::Object {
    one_of(&SORTABLE, "The order (default `created_at`).")
}

/// `POST /v1/droplets`: the droplet and its provision job.
#[utoipa::path(
    post, path = "/v1/droplets", tag = "droplets", operation_id = "createDroplet",
    summary = "Create a droplet (and the job that provisions it)",
    params(CommandHeaders),
    request_body = CreateDropletBody,
    responses(
        (status = 202, response = DropletCreatedReply),
        (status = 404, response = NotFound),
        (status = 429, response = TooManyRequests),
        CommandProblems,
        BodyProblems,
    )
)]
pub async fn create(state: AppState, meta: RequestMeta, body: Bytes) -> Result<Response, ApiError> {
    let input: CreateDropletBody = parse(&body)?;
    let ctx = meta.context(&body);
    let raw = DropletInput {
        cluster_id: &input.cluster_id,
        name: &input.name,
        region: &input.region,
        size: &input.size,
        image: &input.image,
        provider: input.provider.as_deref(),
    };
    let command = CreateDroplet::parse(raw, ctx.trace_id())?.avoiding(&input.avoid_providers)?;
    let guard = Guard::StartsJob(Endpoint::DropletsCreate, Some(&input.cluster_id));
    run(&state, &meta, &ctx, guard, &command).await
}

/// `GET /v1/droplets`.
/// Paged by page number or by `cursor` (see [`crate::models::params`]).
#[utoipa::path(
    get, path = "/v1/droplets", tag = "droplets", operation_id = "listDroplets",
    summary = "List droplets",
    params(ListQuery, Paging, MinPosition, MinPositionHeader),
    responses(
        (status = 200, description = "A page of droplets.", body = Page<DropletView>),
        ReadProblems,
    )
)]
pub async fn list(
    state: AppState,
    meta: RequestMeta,
    params: Params,
) -> Result<Response, ApiError> {
    read_your_writes(&state, &meta, &params).await?;
    let filter = DropletFilter {
        cluster_id: params.text("cluster_id"),
        status: params.one_of("status", &STATUSES)?.map(str::to_owned),
        search: params.text("search"),
    };
    let page = params.page(&SORTABLE, false)?;
    let result = state.read.droplets(&filter, &page).await?;
    ok(&result)
}

/// `GET /v1/droplets/{id}` (with `as_of` for time travel).
#[utoipa::path(
    get, path = "/v1/droplets/{id}", tag = "droplets", operation_id = "getDroplet",
    summary = "Get a droplet (now, or as it was)",
    params(("id" = String, Path, description = "The droplet id."), AsOf, MinPosition, MinPositionHeader),
    responses(
        (status = 200, description = "The droplet.", body = DropletView,
            headers(("ETag" = String, description = "The droplet's version, quoted."))),
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
            let droplet = load::<Droplet>(&*state.store, &id, Some(position)).await?;
            match droplet
                .state
                .cluster_id
                .as_ref()
                .filter(|_| droplet.exists())
            {
                Some(cluster_id) => {
                    let cluster =
                        load::<Cluster>(&*state.store, cluster_id.as_str(), Some(position)).await?;
                    let name = cluster.state.name.as_ref().map(ToString::to_string);
                    Some(DropletView::from_loaded(&droplet, name))
                }
                None => None,
            }
        }
        Source::ReadModel => {
            let bounds = bounds(&state, &meta, &params)?;
            match state.cached("droplet", state.cache.droplet(&id, bounds).await) {
                Some(view) => view,
                None => state.read.droplet(&id).await?,
            }
        }
    };
    found(view, "droplet", &id)
}

/// `POST /v1/droplets/{id}/resize`.
#[utoipa::path(
    post, path = "/v1/droplets/{id}/resize", tag = "droplets", operation_id = "resizeDroplet",
    summary = "Resize a droplet",
    params(("id" = String, Path, description = "The droplet id."), CommandHeaders, IfMatch),
    request_body = ResizeBody,
    responses(
        (status = 202, response = JobStartedReply),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 429, response = TooManyRequests),
        CommandProblems,
        BodyProblems,
    )
)]
pub async fn resize(
    state: AppState,
    id: String,
    meta: RequestMeta,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: ResizeBody = parse(&body)?;
    let size = Size::parse(&input.size).map_err(engine::commands::CommandError::from)?;
    let action = DropletAction::Resize(size);
    act(state, id, meta, &body, action, Endpoint::DropletsResize).await
}

/// `POST /v1/droplets/{id}/power`.
#[utoipa::path(
    post, path = "/v1/droplets/{id}/power", tag = "droplets", operation_id = "powerDroplet",
    summary = "Power a droplet on or off, or restart it",
    params(("id" = String, Path, description = "The droplet id."), CommandHeaders, IfMatch),
    request_body = PowerBody,
    responses(
        (status = 202, response = JobStartedReply),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 429, response = TooManyRequests),
        CommandProblems,
        BodyProblems,
    )
)]
pub async fn power(
    state: AppState,
    id: String,
    meta: RequestMeta,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: PowerBody = parse(&body)?;
    let action = PowerAction::parse(&input.action).map_err(engine::commands::CommandError::from)?;
    let action = DropletAction::Power(action);
    act(state, id, meta, &body, action, Endpoint::DropletsPower).await
}

/// `POST /v1/droplets/{id}/migrate`.
#[utoipa::path(
    post, path = "/v1/droplets/{id}/migrate", tag = "droplets", operation_id = "migrateDroplet",
    summary = "Move a droplet to another provider",
    params(("id" = String, Path, description = "The droplet id."), CommandHeaders, IfMatch),
    request_body = MigrateBody,
    responses(
        (status = 202, response = JobStartedReply),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 429, response = TooManyRequests),
        CommandProblems,
        BodyProblems,
    )
)]
pub async fn migrate(
    state: AppState,
    id: String,
    meta: RequestMeta,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: MigrateBody = parse(&body)?;
    let target = ProviderName::parse(&input.target_provider)
        .map_err(|e| ValidationError::new("target_provider", e.message))
        .map_err(engine::commands::CommandError::from)?;
    let action = DropletAction::Migrate(target);
    act(state, id, meta, &body, action, Endpoint::DropletsMigrate).await
}

/// `DELETE /v1/droplets/{id}`.
#[utoipa::path(
    delete, path = "/v1/droplets/{id}", tag = "droplets", operation_id = "destroyDroplet",
    summary = "Destroy a droplet",
    params(("id" = String, Path, description = "The droplet id."), CommandHeaders, IfMatch),
    responses(
        (status = 202, response = JobStartedReply),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
        (status = 429, response = TooManyRequests),
        CommandProblems,
    )
)]
pub async fn destroy(state: AppState, id: String, meta: RequestMeta) -> Result<Response, ApiError> {
    let action = DropletAction::Destroy;
    act(state, id, meta, b"", action, Endpoint::DropletsDelete).await
}

async fn act(
    state: AppState,
    id: String,
    meta: RequestMeta,
    body: &[u8],
    action: DropletAction,
    endpoint: Endpoint,
) -> Result<Response, ApiError> {
    let ctx = meta.context(body);
    let command = ActOnDroplet::new(&id, action, ctx.trace_id(), meta.if_match);
    run(
        &state,
        &meta,
        &ctx,
        Guard::StartsJob(endpoint, None),
        &command,
    )
    .await
}
