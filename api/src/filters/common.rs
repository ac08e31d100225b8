//! Filters every route shares: state, query, body, and the request's metadata headers.

use std::convert::Infallible;

use bytes::Bytes;
use engine::commands::context::{is_traceparent, new_traceparent};
use engine::commands::CommandContext;
use sha2::{Digest, Sha256};
use warp::http::{HeaderMap, Method};
use warp::path::FullPath;
use warp::{Filter, Rejection};

use crate::errors::ApiError;
use crate::models::Params;
use crate::state::AppState;

/// The largest JSON body accepted (a larger one is a 413).
pub const MAX_BODY_BYTES: u64 = 2 * 1024 * 1024;

/// Hands the state to a handler.
pub fn with_state(
    state: AppState,
) -> impl Filter<Extract = (AppState,), Error = Infallible> + Clone {
    warp::any().map(move || state.clone())
}

/// The parsed query string (empty when there is none).
pub fn query() -> impl Filter<Extract = (Params,), Error = Rejection> + Clone {
    warp::query::raw()
        .or(warp::any().map(String::new))
        .unify()
        .and_then(|raw: String| async move { Params::parse(&raw).map_err(Rejection::from) })
}

/// The raw body, size-limited. A request with neither `Content-Length` nor
/// `Transfer-Encoding` has an empty body (RFC 9112, 6.3), as a bodiless POST often is.
pub fn body() -> impl Filter<Extract = (Bytes,), Error = Rejection> + Clone {
    warp::header::optional::<String>("content-length")
        .and(warp::header::optional::<String>("transfer-encoding"))
        .and_then(
            |length: Option<String>, encoding: Option<String>| async move {
                match (length, encoding) {
                    (None, None) => Ok(Bytes::new()),
                    _ => Err(warp::reject()),
                }
            },
        )
        .or(warp::body::content_length_limit(MAX_BODY_BYTES).and(warp::body::bytes()))
        .unify()
}

/// State, request metadata and body: what a command route hands its handler.
pub fn command(
    state: AppState,
) -> impl Filter<Extract = (AppState, RequestMeta, Bytes), Error = Rejection> + Clone {
    with_state(state).and(meta()).and(body())
}

/// State, request metadata and query: what a read route hands its handler.
pub fn read(
    state: AppState,
) -> impl Filter<Extract = (AppState, RequestMeta, Params), Error = Rejection> + Clone {
    with_state(state).and(meta()).and(query())
}

/// What the headers say about a request.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub method: Method,
    pub path: String,
    pub actor: String,
    pub correlation_id: String,
    pub traceparent: String,
    pub idempotency_key: Option<String>,
    pub if_match: Option<u64>,
    pub min_position: Option<i64>,
}

/// Extracts [`RequestMeta`]; malformed headers are a 400.
pub fn meta() -> impl Filter<Extract = (RequestMeta,), Error = Rejection> + Clone {
    warp::method()
        .and(warp::path::full())
        .and(warp::header::headers_cloned())
        .and_then(
            |method: Method, path: FullPath, headers: HeaderMap| async move {
                RequestMeta::from_headers(method, path.as_str(), &headers).map_err(Rejection::from)
            },
        )
}

/// The longest `Idempotency-Key` (a command's `ce_id` on the command topic is one too).
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

impl RequestMeta {
    fn from_headers(method: Method, path: &str, headers: &HeaderMap) -> Result<Self, ApiError> {
        let text = |name: &str| -> Result<Option<String>, ApiError> {
            match headers.get(name) {
                None => Ok(None),
                Some(v) => v
                    .to_str()
                    .map(|s| Some(s.trim().to_owned()))
                    .map_err(|_| ApiError::bad_field(name, "header must be visible ASCII")),
            }
        };
        let actor = text("x-user-id")?
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| "anonymous".into());
        if actor.len() > 200 {
            return Err(ApiError::bad_field("x-user-id", "at most 200 characters"));
        }
        let idempotency_key = text("idempotency-key")?;
        if idempotency_key
            .as_ref()
            .is_some_and(|k| k.is_empty() || k.len() > MAX_IDEMPOTENCY_KEY_LEN)
        {
            return Err(ApiError::bad_field(
                "idempotency-key",
                format!("must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} characters"),
            ));
        }
        let if_match = text("if-match")?.map(|raw| parse_etag(&raw)).transpose()?;
        let min_position = text("x-min-position")?
            .map(|raw| {
                raw.parse::<i64>()
                    .map_err(|_| ApiError::bad_field("x-min-position", "must be an integer"))
            })
            .transpose()?;
        let traceparent = text("traceparent")?
            .filter(|t| is_traceparent(t))
            .unwrap_or_else(new_traceparent);
        let correlation_id = text("x-request-id")?
            .filter(|c| !c.is_empty() && c.len() <= 200)
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        Ok(Self {
            method,
            path: path.to_owned(),
            actor,
            correlation_id,
            traceparent,
            idempotency_key,
            if_match,
            min_position,
        })
    }

    /// The command context for this request and its body.
    pub fn context(&self, body: &[u8]) -> CommandContext {
        let mut ctx = CommandContext::new(self.actor.clone());
        ctx.correlation_id = self.correlation_id.clone();
        ctx.causation_id = self.correlation_id.clone();
        ctx.traceparent = self.traceparent.clone();
        if let Some(key) = &self.idempotency_key {
            let mut digest = Sha256::new();
            digest.update(self.method.as_str().as_bytes());
            digest.update(b" ");
            digest.update(self.path.as_bytes());
            digest.update(b"\n");
            digest.update(body);
            ctx = ctx.with_idempotency(key.clone(), hex::encode(digest.finalize()));
        }
        ctx
    }
}

/// `"3"`, `W/"3"` or `3` -> 3.
fn parse_etag(raw: &str) -> Result<u64, ApiError> {
    raw.trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .map_err(|_| {
            ApiError::bad_field(
                "if-match",
                "must be a version as returned in ETag, e.g. \"3\"",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_parse_in_every_usual_form() {
        assert_eq!(parse_etag("\"3\"").unwrap(), 3);
        assert_eq!(parse_etag("W/\"4\"").unwrap(), 4);
        assert_eq!(parse_etag("5").unwrap(), 5);
        assert!(parse_etag("\"x\"").is_err());
    }

    #[test]
    fn same_key_and_body_give_the_same_fingerprint() {
        let mut headers = HeaderMap::new();
        headers.insert("idempotency-key", "k1".parse().unwrap());
        let meta = RequestMeta::from_headers(Method::POST, "/v1/clusters", &headers).unwrap();
        let a = meta.context(b"{}").idempotency.unwrap();
        let b = meta.context(b"{}").idempotency.unwrap();
        let c = meta.context(b"{ }").idempotency.unwrap();
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_ne!(a.fingerprint, c.fingerprint);
        assert_eq!(meta.actor, "anonymous");
    }
}
