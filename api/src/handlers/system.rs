//! Health, readiness, metrics, projections and workers.

use std::time::Duration;

use engine::kafka::RELAY_NAME;
use projections::cache::{error_chain, CacheState};
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Reply;

use super::{json, ok, typed};
use crate::errors::ApiError;
use crate::models::replies::{
    Check, CheckStatus, Checks, DeadLetterList, Health, ProjectionList, Readiness, ReadyStatus,
    RetryOutcome, Workers,
};
use crate::models::Params;
use crate::schemas::openapi::common::{Internal, NotFound};
use crate::state::AppState;

/// `GET /healthz`.
#[utoipa::path(
    get, path = "/healthz", tag = "system", operation_id = "healthz",
    summary = "Liveness",
    responses((status = 200, description = "The process answers.", body = Health))
)]
pub async fn healthz() -> Result<Response, ApiError> {
    ok(&Health { status: "ok" })
}

/// How long `/readyz` waits for the cache to answer a ping.
const CACHE_PING_TIMEOUT: Duration = Duration::from_millis(500);

/// `GET /readyz`: 200 only when the store answers. The cache is reported (`ok`,
/// `healing` while it fills up to the log head, `down`) but does not decide readiness:
/// while it is not `ok`, GETs answer from SQL (`degraded` is then true).
#[utoipa::path(
    get, path = "/readyz", tag = "system", operation_id = "readyz",
    summary = "Readiness, with the state of each part",
    responses(
        (status = 200, description = "The store answers (the other parts are reported).", body = Readiness),
        (status = 503, description = "The store does not answer.", body = Readiness),
    )
)]
pub async fn readyz(state: AppState) -> Result<Response, ApiError> {
    let backend = Some(state.store.backend());
    let store = match state.store.ping().await {
        Ok(()) => Check {
            backend,
            ..Check::of(CheckStatus::Ok)
        },
        Err(error) => Check {
            backend,
            error: Some(error.to_string()),
            ..Check::of(CheckStatus::Down)
        },
    };
    let cache = cache_check(&state).await;
    let ready = store.status == CheckStatus::Ok;
    let body = Readiness {
        status: if ready {
            ReadyStatus::Ready
        } else {
            ReadyStatus::NotReady
        },
        degraded: cache.status != CheckStatus::Ok,
        checks: Checks {
            store,
            bus: bus_check(&state).await,
            cache,
            workers: workers_check(&state),
            projections: Check {
                position: Some(state.runtime.position()),
                ..Check::of(CheckStatus::Ok)
            },
        },
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    typed(status, &body)
}

/// The bus: in process, or Kafka with the relay's backlog (Kafka being down delays
/// publication, it never refuses commands, so it does not decide readiness).
async fn bus_check(state: &AppState) -> Check {
    let Some(relay) = &state.relay else {
        return Check {
            backend: Some("in-process"),
            ..Check::of(CheckStatus::Ok)
        };
    };
    let acknowledged = state.store.relay_position(RELAY_NAME).await.ok();
    let head = state.store.head().await.ok();
    Check {
        backend: Some("kafka"),
        publishing_here: Some(relay.is_leader()),
        acknowledged_position: acknowledged,
        backlog: head.zip(acknowledged).map(|(h, a)| h - a),
        failures: Some(relay.failures()),
        last_error: relay.last_error(),
        ..Check::of(CheckStatus::Ok)
    }
}

/// The job runtime: off, running every job (no Kafka), or in the Kafka worker group:
/// `joining` while Kafka cannot be reached (no job runs here then; commands are still
/// accepted, so it does not decide readiness), `ok` once in the group.
fn workers_check(state: &AppState) -> Check {
    if state.executor.is_none() {
        return Check::of(CheckStatus::Off);
    }
    let Some(group) = &state.worker_group else {
        return Check {
            backend: Some("in-process"),
            ..Check::of(CheckStatus::Ok)
        };
    };
    let status = if group.is_joined() {
        CheckStatus::Ok
    } else {
        CheckStatus::Joining
    };
    Check {
        backend: Some("kafka-group"),
        partitions: Some(group.partitions()),
        assigned: Some(group.assigned()),
        last_error: group.last_error(),
        ..Check::of(status)
    }
}

/// The cache's check: a ping now, and where its runner is.
async fn cache_check(state: &AppState) -> Check {
    let cache = state.cache.cache();
    let runner = state.cache.handle().status();
    let ping = match tokio::time::timeout(CACHE_PING_TIMEOUT, cache.ping()).await {
        Ok(Ok(())) => None,
        Ok(Err(error)) => Some(error_chain(&error)),
        Err(_) => Some(format!("no answer within {CACHE_PING_TIMEOUT:?}")),
    };
    let status = match (&ping, runner.state) {
        (Some(_), _) | (None, CacheState::Down | CacheState::Stopped) => CheckStatus::Down,
        (None, CacheState::Starting | CacheState::Healing) => CheckStatus::Healing,
        (None, CacheState::Ok) => CheckStatus::Ok,
    };
    let usage = cache.usage();
    Check {
        backend: Some(cache.backend()),
        position: Some(runner.position),
        heals: Some(runner.heals),
        records: usage.as_ref().map(|u| u.records),
        bytes: usage.as_ref().map(|u| u.bytes),
        budget_bytes: usage.as_ref().map(|u| u.budget_bytes),
        evictions: usage.as_ref().map(|u| u.evictions),
        error: ping.or(runner.last_error),
        ..Check::of(status)
    }
}

/// `GET /metrics`.
#[utoipa::path(
    get, path = "/metrics", tag = "system", operation_id = "metrics",
    summary = "Prometheus metrics",
    responses(
        (status = 200, description = "The Prometheus text format (version 0.0.4).", body = String, content_type = "text/plain"),
        (status = 500, response = Internal),
    )
)]
pub async fn metrics(state: AppState) -> Result<Response, ApiError> {
    if let Some(executor) = &state.executor {
        state.metrics.observe_workers(&executor.stats());
        state.metrics.observe_jobs(&executor.take_finished());
    }
    if let Ok(statuses) = state.runtime.statuses().await {
        state.metrics.observe_projections(&statuses);
    }
    if let Some(relay) = &state.relay {
        let (head, acknowledged) = (
            state.store.head().await?,
            state.store.relay_position(RELAY_NAME).await?,
        );
        state.metrics.observe_relay(head - acknowledged, relay);
    }
    if let Some(group) = &state.worker_group {
        state.metrics.observe_worker_group(group);
    }
    if let Some(fallback) = &state.limiter_fallback {
        state
            .metrics
            .observe_rate_limit_fallbacks(fallback.fallbacks());
    }
    if let Some(usage) = state.cache.cache().usage() {
        state.metrics.observe_cache_usage(&usage);
    }
    let text = state.metrics.render().map_err(ApiError::Metrics)?;
    Ok(warp::reply::with_header(text, "content-type", "text/plain; version=0.0.4").into_response())
}

/// `GET /v1/openapi.json`: this API's OpenAPI document (as `schemas/openapi.yaml`).
#[utoipa::path(
    get, path = "/v1/openapi.json", tag = "system", operation_id = "openapi",
    summary = "This OpenAPI document",
    responses((status = 200, description = "The OpenAPI 3.1 document.", body = Object))
)]
pub async fn openapi() -> Result<Response, ApiError> {
    let document = crate::schemas::openapi::served().map_err(ApiError::Serialise)?;
    Ok(json(StatusCode::OK, document))
}

/// `GET /v1/projections`.
#[utoipa::path(
    get, path = "/v1/projections", tag = "projections", operation_id = "listProjections",
    summary = "Each projection's position, lag and state",
    responses(
        (status = 200, description = "The projections.", body = ProjectionList),
        (status = 500, response = Internal),
    )
)]
pub async fn projections(state: AppState) -> Result<Response, ApiError> {
    let items = state.runtime.statuses().await?;
    ok(&ProjectionList { items })
}

/// `GET /v1/projections/dead-letters?projection=`.
#[utoipa::path(
    get, path = "/v1/projections/dead-letters", tag = "projections", operation_id = "listDeadLetters",
    summary = "Events a projection could not apply",
    params(("projection" = Option<String>, Query, description = "Only this projection's.")),
    responses(
        (status = 200, description = "The dead letters.", body = DeadLetterList),
        (status = 500, response = Internal),
    )
)]
pub async fn dead_letters(state: AppState, params: Params) -> Result<Response, ApiError> {
    let projection = params.text("projection");
    let items = state.runtime.dead_letters(projection.as_deref()).await?;
    ok(&DeadLetterList { items })
}

/// `POST /v1/projections/dead-letters/{id}/retry`: `applied` true when the event went
/// through (the dead letter is gone), else the new error.
#[utoipa::path(
    post, path = "/v1/projections/dead-letters/{id}/retry", tag = "projections", operation_id = "retryDeadLetter",
    summary = "Apply a dead letter again",
    params(("id" = String, Path, description = "The dead letter's id.")),
    responses(
        (status = 200, description = "Whether it went through.", body = RetryOutcome),
        (status = 404, response = NotFound),
        (status = 500, response = Internal),
    )
)]
pub async fn retry_dead_letter(state: AppState, id: String) -> Result<Response, ApiError> {
    let error = state.runtime.retry_dead_letter(&id).await?;
    ok(&RetryOutcome {
        id,
        applied: error.is_none(),
        error,
    })
}

/// `GET /v1/workers`.
#[utoipa::path(
    get, path = "/v1/workers", tag = "jobs", operation_id = "getWorkers",
    summary = "This process's job runtime",
    responses((status = 200, description = "Its workers, queue and policies.", body = Workers))
)]
pub async fn workers(state: AppState) -> Result<Response, ApiError> {
    let executor = state.executor.as_ref();
    ok(&Workers {
        stats: executor.map(|e| e.stats()).unwrap_or_default(),
        running: executor.is_some(),
        policies: executor.map(|e| {
            let all = e.policies().all().iter();
            all.map(|(name, policy)| ((*name).to_owned(), policy.clone()))
                .collect()
        }),
    })
}
