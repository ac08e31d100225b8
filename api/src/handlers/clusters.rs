//! `/v1/clusters`.

use bytes::Bytes;
use engine::commands::{load, CreateCluster, DeleteCluster, UpdateCluster};
use engine::domain::Cluster;
use engine::views::ClusterView;
use projections::ClusterFilter;
use warp::reply::Response;

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
    let reply = state
        .commands
        .execute(&meta.context(&body), &command)
        .await?;
    command_reply(reply)
}

/// `GET /v1/clusters`.
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
        Source::ReadModel => state.read.cluster(&id).await?,
    };
    found(view, "cluster", &id)
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
    command_reply(
        state
            .commands
            .execute(&meta.context(&body), &command)
            .await?,
    )
}

/// `DELETE /v1/clusters/{id}`.
pub async fn delete(state: AppState, id: String, meta: RequestMeta) -> Result<Response, ApiError> {
    let command = DeleteCluster {
        id,
        if_match: meta.if_match,
    };
    command_reply(state.commands.execute(&meta.context(b""), &command).await?)
}
