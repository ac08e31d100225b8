//! Health, readiness, metrics, projections and workers.

use std::time::Duration;

use engine::kafka::RELAY_NAME;
use projections::cache::{error_chain, CacheState};
use serde_json::json;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Reply;

use super::{json, ok};
use crate::errors::ApiError;
use crate::models::Params;
use crate::state::AppState;

/// `GET /healthz`.
pub async fn healthz() -> Result<Response, ApiError> {
    Ok(json(StatusCode::OK, &json!({ "status": "ok" })))
}

/// How long `/readyz` waits for the cache to answer a ping.
const CACHE_PING_TIMEOUT: Duration = Duration::from_millis(500);

/// `GET /readyz`: 200 only when the store answers. The cache is reported (`ok`,
/// `healing` while it fills up to the log head, `down`) but does not decide readiness:
/// while it is not `ok`, GETs answer from SQL (`degraded` is then true).
pub async fn readyz(state: AppState) -> Result<Response, ApiError> {
    let store = match state.store.ping().await {
        Ok(()) => json!({ "status": "ok", "backend": state.store.backend() }),
        Err(error) => {
            json!({ "status": "down", "backend": state.store.backend(), "error": error.to_string() })
        }
    };
    let cache = cache_check(&state).await;
    let bus = bus_check(&state).await;
    let ready = store["status"] == "ok";
    let workers = workers_check(&state);
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "degraded": cache["status"] != "ok",
        "checks": {
            "store": store,
            "bus": bus,
            "cache": cache,
            "workers": workers,
            "projections": { "status": "ok", "position": state.runtime.position() },
        }
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok(json(status, &body))
}

/// The bus: in process, or Kafka with the relay's backlog (Kafka being down delays
/// publication, it never refuses commands, so it does not decide readiness).
async fn bus_check(state: &AppState) -> serde_json::Value {
    let Some(relay) = &state.relay else {
        return json!({ "status": "ok", "backend": "in-process" });
    };
    let acknowledged = state.store.relay_position(RELAY_NAME).await.ok();
    let head = state.store.head().await.ok();
    let backlog = head.zip(acknowledged).map(|(h, a)| h - a);
    let mut check = json!({
        "status": "ok",
        "backend": "kafka",
        "publishing_here": relay.is_leader(),
        "acknowledged_position": acknowledged,
        "backlog": backlog,
        "failures": relay.failures(),
    });
    if let Some(error) = relay.last_error() {
        check["last_error"] = error.into();
    }
    check
}

/// The job runtime: off, running every job (no Kafka), or in the Kafka worker group:
/// `joining` while Kafka cannot be reached (no job runs here then; commands are still
/// accepted, so it does not decide readiness), `ok` once in the group.
fn workers_check(state: &AppState) -> serde_json::Value {
    if state.executor.is_none() {
        return json!({ "status": "off" });
    }
    let Some(group) = &state.worker_group else {
        return json!({ "status": "ok", "backend": "in-process" });
    };
    let mut check = json!({
        "status": if group.is_joined() { "ok" } else { "joining" },
        "backend": "kafka-group",
        "partitions": group.partitions(),
        "assigned": group.assigned(),
    });
    if let Some(error) = group.last_error() {
        check["last_error"] = error.into();
    }
    check
}

/// The cache's check: a ping now, and where its runner is.
async fn cache_check(state: &AppState) -> serde_json::Value {
    let cache = state.cache.cache();
    let runner = state.cache.handle().status();
    let ping = match tokio::time::timeout(CACHE_PING_TIMEOUT, cache.ping()).await {
        Ok(Ok(())) => None,
        Ok(Err(error)) => Some(error_chain(&error)),
        Err(_) => Some(format!("no answer within {CACHE_PING_TIMEOUT:?}")),
    };
    let status = match (&ping, runner.state) {
        (Some(_), _) | (None, CacheState::Down | CacheState::Stopped) => "down",
        (None, CacheState::Starting | CacheState::Healing) => "healing",
        (None, CacheState::Ok) => "ok",
    };
    let mut check = json!({
        "status": status,
        "backend": cache.backend(),
        "position": runner.position,
        "heals": runner.heals,
    });
    if let Some(usage) = cache.usage() {
        check["records"] = usage.records.into();
        check["bytes"] = usage.bytes.into();
        check["budget_bytes"] = usage.budget_bytes.into();
        check["evictions"] = usage.evictions.into();
    }
    if let Some(error) = ping.or(runner.last_error) {
        check["error"] = error.into();
    }
    check
}

/// `GET /metrics`.
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
    let text = state.metrics.render();
    Ok(warp::reply::with_header(text, "content-type", "text/plain; version=0.0.4").into_response())
}

/// `GET /v1/projections`.
pub async fn projections(state: AppState) -> Result<Response, ApiError> {
    let items = state.runtime.statuses().await?;
    Ok(json(StatusCode::OK, &json!({ "items": items })))
}

/// `GET /v1/projections/dead-letters?projection=`.
pub async fn dead_letters(state: AppState, params: Params) -> Result<Response, ApiError> {
    let projection = params.text("projection");
    let items = state.runtime.dead_letters(projection.as_deref()).await?;
    Ok(ok(&json!({ "items": items })))
}

/// `POST /v1/projections/dead-letters/{id}/retry`: `applied` true when the event went
/// through (the dead letter is gone), else the new error.
pub async fn retry_dead_letter(state: AppState, id: String) -> Result<Response, ApiError> {
    let outcome = state.runtime.retry_dead_letter(&id).await?;
    Ok(ok(
        &json!({ "id": id, "applied": outcome.is_none(), "error": outcome }),
    ))
}

/// `GET /v1/workers`.
pub async fn workers(state: AppState) -> Result<Response, ApiError> {
    let executor = state.executor.as_ref();
    let stats = executor.map(|e| e.stats()).unwrap_or_default();
    let mut body = serde_json::to_value(stats).unwrap_or_default();
    body["running"] = executor.is_some().into();
    if let Some(executor) = executor {
        body["policies"] = json!(executor.policies().all());
    }
    Ok(ok(&body))
}
