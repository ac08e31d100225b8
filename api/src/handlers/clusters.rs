//! `/v1/clusters`.

use bytes::Bytes;
use engine::commands::{load, CreateCluster, DeleteCluster, UpdateCluster};
use engine::domain::ratelimit_rule::Endpoint;
use engine::domain::Cluster;
use engine::views::ClusterView;
use projections::cache::Bounds;
use projections::ClusterFilter;
use warp::reply::Response;

use super::limiting::{guard, with_rate_headers};
use super::{command_reply, found, ok, read_your_writes, source, Source};
use crate::errors::ApiError;
use crate::filters::common::RequestMeta;
use crate::models::bodies::parse;
use crate::models::{CreateClusterBody, Params, UpdateClusterBody};
use crate::state::AppState;

/// `POST /v1/clusters`.
pub async fn create(state: AppState, meta: RequestMeta, body: Bytes) -> Result<Response, ApiError> {
    let input: CreateClusterBody = parse(&body)?;
    let command = CreateCluster::parse(&input.name, &input.region, input.provider.as_deref())?;
    let verdict = guard(&state, &meta, Endpoint::ClustersCreate, None).await?;
    let reply = state
        .commands
        .execute(&meta.context(&body), &command)
        .await?;
    Ok(with_rate_headers(command_reply(reply)?, &verdict))
}

/// `GET /v1/clusters`.
/// Paged by page number or by `cursor` (see [`crate::models::params`]).
pub async fn list(
    state: AppState,
    meta: RequestMeta,
    params: Params,
) -> Result<Response, ApiError> {
    read_your_writes(&state, &meta, &params).await?;
    let filter = ClusterFilter {
        status: params
            .one_of("status", &["healthy", "warning", "critical"])?
            .map(str::to_owned),
        search: params.text("search"),
    };
    let page = params.page(&["created_at", "name", "region"], false)?;
    let result = state.read.clusters(&filter, &page).await?;
    Ok(ok(&result))
}

/// `GET /v1/clusters/{id}` (with `as_of` for time travel).
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
    let verdict = guard(&state, &meta, Endpoint::ClustersUpdate, Some(id.as_str())).await?;
    let reply = state
        .commands
        .execute(&meta.context(&body), &command)
        .await?;
    Ok(with_rate_headers(command_reply(reply)?, &verdict))
}

/// `DELETE /v1/clusters/{id}`.
pub async fn delete(state: AppState, id: String, meta: RequestMeta) -> Result<Response, ApiError> {
    let verdict = guard(&state, &meta, Endpoint::ClustersDelete, Some(id.as_str())).await?;
    let command = DeleteCluster {
        id,
        if_match: meta.if_match,
    };
    let reply = state.commands.execute(&meta.context(b""), &command).await?;
    Ok(with_rate_headers(command_reply(reply)?, &verdict))
}
