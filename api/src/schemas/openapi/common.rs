//! What many operations of the OpenAPI document share: the request headers and query
//! parameters [`crate::filters::common`] and [`crate::handlers`] read, and the problem
//! responses [`crate::errors`] renders. Referenced from the `#[utoipa::path]` attributes
//! of the handlers.

use engine::commands::{DeploymentAccepted, DropletCreated, JobAccepted};
use engine::diagnosis::DiagnosisView;
use engine::views::{ClusterView, JobView, ProviderView, RateLimitRuleView};
use serde_json::Value;
use std::collections::BTreeMap;

use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, Type};
use utoipa::openapi::{Ref, RefOr, Response};
use utoipa::{IntoParams, IntoResponses, ToResponse};

use crate::errors::Problem;
use crate::models::replies::Positioned;

/// A string schema that allows only `values` (the lists the handlers check against),
/// described (a parameter with such a schema has no description of its own).
pub fn one_of(values: &[&str], description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .description(Some(description))
        .build()
}

/// The schema of the domain value `T` as its [`schemars::JsonSchema`] describes it (the
/// event schemas use the same): what its `parse` accepts, a string or a number with its
/// pattern, lengths, bounds or allowed values.
pub fn domain<T: schemars::JsonSchema>() -> Object {
    let schema = T::json_schema(&mut schemars::SchemaGenerator::default());
    let value = schema.as_value();
    let text = |key: &str| value.get(key).and_then(Value::as_str);
    let number = |key: &str| {
        value.get(key).and_then(|n| match n.as_i64() {
            Some(int) => isize::try_from(int).ok().map(utoipa::Number::Int),
            None => n.as_f64().map(utoipa::Number::Float),
        })
    };
    let length = |key: &str| {
        let n = value.get(key).and_then(Value::as_u64);
        n.and_then(|n| usize::try_from(n).ok())
    };
    let listed = value.get("enum").and_then(Value::as_array).cloned();
    let alternatives = value
        .get("oneOf")
        .and_then(Value::as_array)
        .map(|alternatives| {
            let consts = alternatives.iter().filter_map(|a| a.get("const"));
            consts.cloned().collect::<Vec<_>>()
        });
    let kind = match text("type") {
        Some("integer") => Type::Integer,
        Some("number") => Type::Number,
        _ => Type::String,
    };
    ObjectBuilder::new()
        .schema_type(kind)
        .description(text("description"))
        .pattern(text("pattern"))
        .min_length(length("minLength"))
        .max_length(length("maxLength"))
        .minimum(number("minimum"))
        .maximum(number("maximum"))
        .exclusive_minimum(number("exclusiveMinimum"))
        .exclusive_maximum(number("exclusiveMaximum"))
        .enum_values(listed.or(alternatives))
        .build()
}

/// An array of the domain value `T` (see [`domain`]).
pub fn domain_list<T: schemars::JsonSchema>() -> Array {
    ArrayBuilder::new().items(domain::<T>()).build()
}

/// The headers of a command ([`crate::filters::common::RequestMeta`]). Header values are
/// visible ASCII and spaces (else `400`), trimmed.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct CommandHeaders {
    /// Who asks: the `actor` of the recorded events and the key of per-user rate limits
    /// (`anonymous` when absent or empty). Visible ASCII, at most 200 characters.
    #[param(
        rename = "X-User-Id",
        required = false,
        max_length = 200,
        pattern = "^[ -~]*$"
    )]
    pub user_id: String,
    /// The correlation id recorded with the events (a new UUID when absent, empty or
    /// longer than 200 characters).
    #[param(rename = "X-Request-Id", required = false, pattern = "^[ -~]*$")]
    pub request_id: String,
    /// W3C trace context recorded with the events (a new one when absent or malformed).
    #[param(rename = "traceparent", required = false, pattern = "^[ -~]*$")]
    pub traceparent: String,
    /// Makes the command safe to retry: the same key with the same method, path and body
    /// replays the first answer (`Idempotent-Replayed: true`; nothing recorded, no
    /// rate-limit token taken); the same key with another request is a `409`.
    #[param(
        rename = "Idempotency-Key",
        required = false,
        min_length = 1,
        max_length = 255,
        pattern = "^[!-~]([ -~]*[!-~])?$"
    )]
    pub idempotency_key: String,
}

/// Optimistic concurrency on a command that changes an existing resource.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatch {
    /// The version the change is made against, as `ETag` gives it: `"3"`, `W/"3"` or
    /// `3`. A stale version is a `412`; without it, the change applies to the latest
    /// version.
    #[param(rename = "If-Match", required = false, pattern = "^[ -~]*$")]
    pub if_match: String,
}

/// Read-your-writes: answer only once the read models have reached a log position.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MinPosition {
    /// Wait (up to the read-your-writes timeout, 5 s by default, else `504`) until the
    /// read models have applied this log position (a command's `position`). Wins over
    /// `X-Min-Position`.
    #[param(minimum = 0)]
    pub min_position: Option<i64>,
}

/// Read-your-writes as a header.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct MinPositionHeader {
    /// As the `min_position` query parameter.
    #[param(rename = "X-Min-Position", required = false)]
    pub min_position: i64,
}

/// Paging of a list ([`crate::models::params`]); `sort_by` is the list's own.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// The page (ignored with `cursor`).
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// Items per page (default 20).
    #[param(minimum = 1, maximum = 500)]
    pub page_size: Option<u32>,
    #[param(schema_with = sort_dir)]
    pub sort_dir: Option<String>,
    /// A list answer's `next_cursor`: reads the next page in the same order (same
    /// `sort_by` and `sort_dir`, else `400`) without counting or skipping rows.
    pub cursor: Option<String>,
}

fn sort_dir() -> Object {
    one_of(&["asc", "desc"], "The direction of the order.")
}

/// `?as_of=`: the resource as it was.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOf {
    /// A log position (an integer, at least 0) or an RFC 3339 time: the resource folded
    /// from the log up to that point (`404` if it did not exist then).
    pub as_of: Option<String>,
}

/// Malformed input: a header, query parameter or JSON body that cannot be read
/// (`errors` names it).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct BadRequest(pub Problem);

/// No such resource (or no route for the path).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct NotFound(pub Problem);

/// The command conflicts with the resource's state, or its `Idempotency-Key` was used
/// with another request.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Conflict(pub Problem);

/// `If-Match` names a version that is no longer the current one.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PreconditionFailed(pub Problem);

/// The body is not an object of the expected shape, or a value breaks a rule
/// (`errors` names the fields).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Unprocessable(pub Problem);

/// The body has no length (chunked) where one is needed.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct LengthRequired(pub Problem);

/// The body is larger than 2 MiB.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct PayloadTooLarge(pub Problem);

/// A rate-limit rule refused the request; nothing was recorded.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(
        ("Retry-After" = u64, description = "Seconds until a token is back (rounded up)."),
        ("RateLimit-Limit" = u64, description = "The refusing rule's capacity."),
        ("RateLimit-Remaining" = u64, description = "Whole tokens left (0)."),
        ("RateLimit-Reset" = u64, description = "Seconds until the bucket is full."),
    )
)]
pub struct TooManyRequests(pub Problem);

/// An internal error (logged; the detail says no more).
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct Internal(pub Problem);

/// Busy: the job queue is full, the store is overloaded, or a part that must answer did
/// not. Nothing was recorded; retry.
#[derive(ToResponse)]
#[response(
    content_type = "application/problem+json",
    headers(("Retry-After" = u64, description = "Seconds to wait: 1."))
)]
pub struct Unavailable(pub Problem);

/// The read models did not reach `min_position` in time.
#[derive(ToResponse)]
#[response(content_type = "application/problem+json")]
pub struct GatewayTimeout(pub Problem);

/// Declares [`IntoResponses`] sets of the problem responses above, by status, for the
/// `responses(...)` lists of the handlers.
macro_rules! problems {
    ($($(#[doc = $doc:literal])* $name:ident: $($status:literal => $response:ident),+;)+) => {
        $(
            $(#[doc = $doc])*
            pub struct $name;

            impl IntoResponses for $name {
                fn responses() -> BTreeMap<String, RefOr<Response>> {
                    BTreeMap::from([$((
                        $status.to_string(),
                        RefOr::Ref(Ref::from_response_name(stringify!($response))),
                    )),+])
                }
            }
        )+
    };
}

problems! {
    /// What any command may answer: bad input, a conflict, an internal error, busy.
    CommandProblems: 400 => BadRequest, 409 => Conflict, 500 => Internal, 503 => Unavailable;
    /// What a command with a JSON body may answer besides.
    BodyProblems: 411 => LengthRequired, 413 => PayloadTooLarge, 422 => Unprocessable;
    /// What any read may answer: bad parameters, an internal error, read models too late.
    ReadProblems: 400 => BadRequest, 500 => Internal, 504 => GatewayTimeout;
}

/// Declares the [`ToResponse`] of a command's answer, `Positioned<$body>`, with the
/// headers every command answers with (`X-Position`, `Idempotent-Replayed`), `ETag` when
/// a description of it is given, and the `RateLimit-*` headers on a `limited` route.
macro_rules! command_reply {
    (
        $(#[doc = $doc:literal])*
        $name:ident($body:ident), etag: $($etag:literal)?, $limits:ident
    ) => {
        command_reply!(@limits $limits [$(#[doc = $doc])*] $name($body) [
            ("X-Position" = i64, description = "The log position of the command's last event."),
            $(("ETag" = String, description = $etag),)?
            ("Idempotent-Replayed" = String, description = "`true` when this is the replayed answer of an earlier request with the same `Idempotency-Key`."),
        ]);
    };
    (@limits limited $docs:tt $name:ident($body:ident) [$($headers:tt)*]) => {
        command_reply!(@emit $docs $name($body) [$($headers)*
            ("RateLimit-Limit" = u64, description = "When a rule limits the route: the capacity of the binding rule (the one with the fewest tokens left)."),
            ("RateLimit-Remaining" = u64, description = "Its whole tokens left."),
            ("RateLimit-Reset" = u64, description = "Seconds until its bucket is full."),
        ]);
    };
    (@limits unlimited $docs:tt $name:ident($body:ident) $headers:tt) => {
        command_reply!(@emit $docs $name($body) $headers);
    };
    (@emit [$($docs:tt)*] $name:ident($body:ident) [$($headers:tt)*]) => {
        $($docs)*
        #[derive(ToResponse)]
        #[response(headers($($headers)*))]
        pub struct $name(pub Positioned<$body>);
    };
}

command_reply! {
    /// The cluster after the command, with `position`.
    ClusterReply(ClusterView), etag: "The cluster's version, quoted: `If-Match` takes it.", limited
}

command_reply! {
    /// The droplet and the job that provisions it, with `position`.
    DropletCreatedReply(DropletCreated), etag:, limited
}

command_reply! {
    /// The diagnosis recorded, with `position`.
    DiagnosisReply(DiagnosisView), etag:, limited
}

command_reply! {
    /// The deployment after the command (`{deployment}`), with `position`.
    DeploymentReply(DeploymentAccepted), etag:, unlimited
}

command_reply! {
    /// The job the command started, with `position`.
    JobStartedReply(JobAccepted), etag:, limited
}

command_reply! {
    /// The job after the cancel request (`cancelled`, or running with `cancel_requested`),
    /// with `position`.
    JobCancelReply(JobView), etag: "The job's version, quoted.", limited
}

command_reply! {
    /// The rule in force after the command (a deleted built-in rule: its default), with
    /// `position`. Answered once the read models have it, so the limiter applies it.
    RuleReply(RateLimitRuleView), etag: "The rule's version, quoted: `If-Match` takes it.", unlimited
}

command_reply! {
    /// The provider's configuration, with `position`.
    ProviderReply(ProviderView), etag: "The provider configuration's version, quoted.", unlimited
}
