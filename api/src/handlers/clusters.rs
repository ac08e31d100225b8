//! `/v1/clusters`.

use bytes::Bytes;
use engine::commands::{CreateCluster, DeleteCluster, UpdateCluster};
use engine::domain::ratelimit_rule::Endpoint;
use engine::domain::Cluster;
use engine::fold::load;
use engine::views::ClusterView;
use projections::cache::Bounds;
use projections::{ClusterFilter, ClusterSummary, Page};
use warp::reply::Response;

use super::commands::{run, Guard};
use super::{found, ok, read_your_writes, source, Source};
use crate::errors::ApiError;
use crate::filters::common::RequestMeta;
use crate::models::bodies::parse;
use crate::models::{CreateClusterBody, Params, UpdateClusterBody};
use crate::schemas::openapi::common::{
    one_of, AsOf, BodyProblems, ClusterReply, CommandHeaders, CommandProblems, IfMatch,
    MinPosition, MinPositionHeader, NotFound, Paging, PreconditionFailed, ReadProblems,
    TooManyRequests,
};
use crate::state::AppState;

/// What the cluster list sorts by (the first is the default).
pub const SORTABLE: [&str; 3] = ["created_at", "name", "region"];

/// A cluster's health statuses.
pub const STATUSES: [&str; 3] = ["healthy", "warning", "critical"];

/// The filters and order of `GET /v1/clusters`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    #[param(schema_with = statuses)]
    pub status: Option<String>,
    /// Only clusters whose name contains this text (starts with it, below 3 characters).
    pub search: Option<String>,
    #[param(schema_with = sortable)]
    pub sort_by: Option<String>,
}

fn statuses() -> utoipa::openapi::schema::Object {
    one_of(&STATUSES, "Only clusters of this health.")
}

fn sortable() -> utoipa::openapi::schema::Object {
    one_of(&SORTABLE, "The order (default `created_at`).")
}

/// `POST /v1/clusters`.
#[utoipa::path(
    post, path = "/v1/clusters", tag = "clusters", operation_id = "createCluster",
    summary = "Create a cluster",
    params(CommandHeaders),
    request_body = CreateClusterBody,
    responses(
        (status = 201, response = ClusterReply),
        (status = 429, response = TooManyRequests),
        CommandProblems,
        BodyProblems,
    )
)]
pub async fn create(state: AppState, meta: RequestMeta, body: Bytes) -> Result<Response, ApiError> {
    let input: CreateClusterBody = parse(&body)?;
    let command = CreateCluster::parse(&input.name, &input.region, input.provider.as_deref())?;
    let guard = Guard::Limited(Endpoint::ClustersCreate, None);
    run(&state, &meta, &meta.context(&body), guard, &command).await
}

/// `GET /v1/clusters`.
/// Paged by page number or by `cursor` (see [`crate::models::params`]).
#[utoipa::path(
    get, path = "/v1/clusters", tag = "clusters", operation_id = "listClusters",
    summary = "List clusters",
    params(ListQuery, Paging, MinPosition, MinPositionHeader),
    responses(
        (status = 200, description = "A page of clusters.", body = Page<ClusterView>),
        ReadProblems,
    )
)]
pub async fn list(
    state: AppState,
    meta: RequestMeta,
    params: Params,
) -> Result<Response, ApiError> {
    read_your_writes(&state, &meta, &params).await?;
    let filter = ClusterFilter {
        status: params.one_of("status", &STATUSES)?.map(str::to_owned),
        search: params.text("search"),
    };
    let page = params.page(&SORTABLE, false)?;
    let result = state.read.clusters(&filter, &page).await?;
    ok(&result)
}

/// `GET /v1/clusters/{id}` (with `as_of` for time travel).
#[utoipa::path(
    get, path = "/v1/clusters/{id}", tag = "clusters", operation_id = "getCluster",
    summary = "Get a cluster (now, or as it was)",
    params(("id" = String, Path, description = "The cluster id."), AsOf, MinPosition, MinPositionHeader),
    responses(
        (status = 200, description = "The cluster.", body = ClusterView,
            headers(("ETag" = String, description = "The cluster's version, quoted."))),
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
            let cluster = load::<Cluster>(&*state.store, &id, Some(position)).await?;
            cluster
                .state
                .is_live()
                .then(|| ClusterView::from_loaded(&cluster))
        }
        Source::ReadModel => {
            let bounds = bounds(&state, &meta, &params)?;
            match state.cached("cluster", state.cache.cluster(&id, bounds).await) {
                Some(view) => view,
                None => state.read.cluster(&id).await?,
            }
        }
    };
    found(view, "cluster", &id)
}

/// `GET /v1/clusters/{id}/summary`: health, droplet count, droplets by status and the
/// last job, from the cache read models when they are ready, else from SQL.
#[utoipa::path(
    get, path = "/v1/clusters/{id}/summary", tag = "clusters", operation_id = "getClusterSummary",
    summary = "A cluster's health, droplets by status and last job",
    description = "No time travel: `as_of` is a `400` here.",
    params(("id" = String, Path, description = "The cluster id."), MinPosition, MinPositionHeader),
    responses(
        (status = 200, description = "The summary.", body = ClusterSummary),
        (status = 404, response = NotFound),
        ReadProblems,
    )
)]
pub async fn summary(
    state: AppState,
    id: String,
    meta: RequestMeta,
    params: Params,
) -> Result<Response, ApiError> {
    if params.text("as_of").is_some() {
        return Err(ApiError::bad_field(
            "as_of",
            "the summary has no time travel; read the cluster with as_of instead",
        ));
    }
    read_your_writes(&state, &meta, &params).await?;
    let bounds = bounds(&state, &meta, &params)?;
    let summary = match state.cached("summary", state.cache.summary(&id, bounds).await) {
        Some(summary) => summary,
        None => state.read.cluster_summary(&id).await?,
    };
    found(summary, "cluster", &id)
}

/// Where an answer from the cache must stand: at the `min_position` the read asked for
/// (query or `X-Min-Position`) and at the SQL read models' position.
pub(crate) fn bounds(
    state: &AppState,
    meta: &RequestMeta,
    params: &Params,
) -> Result<Bounds, ApiError> {
    let min_position = params
        .int("min_position", 0, i64::MAX)?
        .or(meta.min_position);
    Ok(Bounds {
        min_position: min_position.unwrap_or(0),
        sql_position: state.runtime.position(),
    })
}

/// `PATCH /v1/clusters/{id}`.
#[utoipa::path(
    patch, path = "/v1/clusters/{id}", tag = "clusters", operation_id = "updateCluster",
    summary = "Rename or move a cluster",
    params(("id" = String, Path, description = "The cluster id."), CommandHeaders, IfMatch),
    request_body = UpdateClusterBody,
    responses(
        (status = 200, response = ClusterReply),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 429, response = TooManyRequests),
        CommandProblems,
        BodyProblems,
    )
)]
pub async fn update(
    state: AppState,
    id: String,
    meta: RequestMeta,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: UpdateClusterBody = parse(&body)?;
    let command = UpdateCluster::parse(
        &id,
        input.name.as_deref(),
        input.region.as_deref(),
        meta.if_match,
    )?;
    let guard = Guard::Limited(Endpoint::ClustersUpdate, Some(&id));
    run(&state, &meta, &meta.context(&body), guard, &command).await
}

/// `DELETE /v1/clusters/{id}`.
#[utoipa::path(
    delete, path = "/v1/clusters/{id}", tag = "clusters", operation_id = "deleteCluster",
    summary = "Delete a cluster",
    description = "`409` while it has droplets that are not destroyed.",
    params(("id" = String, Path, description = "The cluster id."), CommandHeaders, IfMatch),
    responses(
        (status = 200, response = ClusterReply),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 429, response = TooManyRequests),
        CommandProblems,
    )
)]
pub async fn delete(state: AppState, id: String, meta: RequestMeta) -> Result<Response, ApiError> {
    let command = DeleteCluster {
        id,
        if_match: meta.if_match,
    };
    let guard = Guard::Limited(Endpoint::ClustersDelete, Some(&command.id));
    run(&state, &meta, &meta.context(b""), guard, &command).await
}
