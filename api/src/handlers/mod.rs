//! Handlers: turn a validated request into a command or a query, and the result into a
//! response.

pub mod autoscaling;
pub mod cluster_health;
pub mod clusters;
pub mod commands;
pub mod deployments;
pub mod diagnoses;
pub mod diagnosis_inputs;
pub mod droplets;
pub mod events;
pub mod jobs;
pub mod limiting;
pub mod metric_samples;
pub mod projections;
pub mod providers;
pub mod ratelimits;
pub mod system;

use std::time::Duration;

use engine::commands::{Reply, ReplyKind};
use serde::Serialize;
use serde_json::Value;
use warp::http::{HeaderValue, StatusCode};
use warp::reply::Response;
use warp::Reply as _;

use crate::errors::ApiError;
use crate::filters::common::RequestMeta;
use crate::models::{AsOf, Params};
use crate::state::AppState;

/// A JSON response with a status.
pub fn json(status: StatusCode, body: &Value) -> Response {
    let response = warp::reply::with_status(warp::reply::json(body), status).into_response();
    with_etag(response, body.get("version").and_then(Value::as_u64))
}

/// `response` with `ETag: "<version>"` when there is a version.
fn with_etag(mut response: Response, version: Option<u64>) -> Response {
    if let Some(version) = version {
        if let Ok(etag) = HeaderValue::from_str(&format!("\"{version}\"")) {
            response
                .headers_mut()
                .insert(warp::http::header::ETAG, etag);
        }
    }
    response
}

/// The top-level `version` of a JSON object, its other fields skipped unread.
#[derive(serde::Deserialize)]
struct TopLevelVersion {
    #[serde(default)]
    version: Option<Value>,
}

/// A command's answer: the value (or the replayed first answer) plus `position`.
pub fn command_reply<T: Serialize>(reply: Reply<T>) -> Result<Response, ApiError> {
    let replayed = matches!(reply, Reply::Replayed { .. });
    let (kind, mut body, position) = match reply {
        Reply::Fresh {
            value,
            kind,
            position,
        } => (
            kind,
            serde_json::to_value(value).map_err(engine::commands::CommandError::from)?,
            position,
        ),
        Reply::Replayed {
            kind,
            body,
            position,
        } => (kind, body, position),
    };
    if let Value::Object(map) = &mut body {
        map.insert("position".into(), position.into());
    }
    let mut response = json(command_status(kind), &body);
    if let Ok(value) = HeaderValue::from_str(&position.to_string()) {
        response.headers_mut().insert("x-position", value);
    }
    if replayed {
        // The answer of the first request with this Idempotency-Key, replayed.
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// The HTTP status of a command's answer of `kind` (the one place the API maps them).
pub fn command_status(kind: ReplyKind) -> StatusCode {
    match kind {
        ReplyKind::Created => StatusCode::CREATED,
        ReplyKind::Accepted => StatusCode::ACCEPTED,
        ReplyKind::Done => StatusCode::OK,
    }
}

/// Waits for the read models to reach `min_position` (query or header), if asked.
pub async fn read_your_writes(
    state: &AppState,
    meta: &RequestMeta,
    params: &Params,
) -> Result<(), ApiError> {
    let from_query = params.int("min_position", 0, i64::MAX)?;
    if let Some(position) = from_query.or(meta.min_position) {
        let timeout = Duration::from_millis(state.settings.read_your_writes_timeout_ms);
        state.runtime.wait_for(position, timeout).await?;
    }
    Ok(())
}

/// `200` with `value` as JSON.
pub fn ok<T: Serialize>(value: &T) -> Result<Response, ApiError> {
    typed(StatusCode::OK, value)
}

/// `value` as JSON with a status; a value that cannot be serialised is a `500` (logged
/// with its cause), never an empty answer.
///
/// Serialised straight to bytes (a list page is 50 views: building a `Value` of it first
/// cost as much as the rest of the answer); the `ETag` comes from the top-level
/// `version`, found by a second pass that allocates nothing else.
pub fn typed<T: Serialize>(status: StatusCode, value: &T) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(value).map_err(ApiError::Serialise)?;
    let version = serde_json::from_slice::<TopLevelVersion>(&body)
        .ok()
        .and_then(|top| top.version)
        .and_then(|v| v.as_u64());
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        warp::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(with_etag(response, version))
}

/// `200` with the view, or `404` naming `what` and `id`.
pub fn found<V: Serialize>(
    view: Option<V>,
    what: &'static str,
    id: &str,
) -> Result<Response, ApiError> {
    match view {
        Some(view) => ok(&view),
        None => Err(not_found(what, id)),
    }
}

/// Where a GET of one resource reads from.
pub enum Source {
    /// The log, folded up to this position (`?as_of=`).
    AsOf(i64),
    /// The read model, caught up with `min_position` if one was asked for.
    ReadModel,
}

/// Resolves `as_of`, or waits for read-your-writes.
pub async fn source(
    state: &AppState,
    meta: &RequestMeta,
    params: &Params,
) -> Result<Source, ApiError> {
    match params.as_of()? {
        Some(as_of) => Ok(Source::AsOf(as_of_position(state, as_of).await?)),
        None => {
            read_your_writes(state, meta, params).await?;
            Ok(Source::ReadModel)
        }
    }
}

/// Resolves `as_of` to a log position.
pub async fn as_of_position(state: &AppState, as_of: AsOf) -> Result<i64, ApiError> {
    Ok(match as_of {
        AsOf::Position(position) => position,
        AsOf::Time(at) => state.store.position_at(at).await?,
    })
}

/// 404 for `what` `id`.
pub fn not_found(what: &'static str, id: &str) -> ApiError {
    ApiError::NotFound {
        what,
        id: id.to_owned(),
    }
}

/// True when the request repeats one recorded under its `Idempotency-Key`: the command
/// service answers it from the record (or with `409` for another body) without running
/// anything, so neither back-pressure nor rate limits apply to it. A store that cannot be
/// read counts as "not recorded": the checks then apply as usual.
pub async fn recorded_before(state: &AppState, meta: &RequestMeta) -> bool {
    match &meta.idempotency_key {
        Some(key) => matches!(state.store.idempotency(key).await, Ok(Some(_))),
        None => false,
    }
}

/// Refuses a command that would start a job while this process's job queue is full: a
/// `503` with `Retry-After`, checked before the command runs, so nothing is created (a
/// repeat of a recorded request is let through: it only replays its answer). With
/// `--no-workers` there is no local queue; the log holds the jobs until a worker runs them.
pub async fn room_for_a_job(state: &AppState, meta: &RequestMeta) -> Result<(), ApiError> {
    match &state.executor {
        Some(executor) if executor.is_full() && !recorded_before(state, meta).await => {
            let stats = executor.stats();
            Err(ApiError::Unavailable(format!(
                "the job queue is full ({} of {} waiting); retry later",
                stats.queue_length, stats.queue_capacity
            )))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn a_value_that_cannot_be_serialised_is_a_500_not_an_empty_200() {
        let answer = ok(&BTreeMap::from([((1, 2), "a tuple key")]));
        let error = answer.expect_err("JSON object keys must be strings");
        assert!(matches!(error, ApiError::Serialise(_)), "{error:?}");
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let fine = typed(StatusCode::ACCEPTED, &BTreeMap::from([("version", 3)])).unwrap();
        assert_eq!(fine.status(), StatusCode::ACCEPTED);
        assert_eq!(fine.headers()[warp::http::header::ETAG], "\"3\"");
        assert_eq!(
            fine.headers()[warp::http::header::CONTENT_TYPE],
            "application/json"
        );
        let page = ok(&serde_json::json!({"items": [{"version": 4}], "total": 1})).unwrap();
        assert!(page.headers().get(warp::http::header::ETAG).is_none());
        let list = ok(&[BTreeMap::from([("version", 5)])]).unwrap();
        assert!(list.headers().get(warp::http::header::ETAG).is_none());
    }
}
