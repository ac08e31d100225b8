//! `/v1/ratelimits`: the rules (list, get, set, delete) and the state of a bucket.

use std::time::Duration;

use bytes::Bytes;
use engine::commands::{DeleteRateLimitRule, Reply, RuleInput, SetRateLimitRule};
use engine::domain::ratelimit_rule::RuleScope;
use engine::ratelimit::{EffectiveRule, GLOBAL_SCOPE_ID};
use engine::views::RateLimitRuleView;
use projections::runtime::error_chain;
use warp::reply::Response;

use super::commands::{execute, Guard};
use super::limiting::rules_in_force;
use super::{ok, read_your_writes};
use crate::errors::ApiError;
use crate::filters::common::RequestMeta;
use crate::models::bodies::parse;
use crate::models::replies::{BucketStatus, Listed};
use crate::models::{Params, RateLimitRuleBody};
use crate::schemas::openapi::common::{
    BadRequest, BodyProblems, CommandHeaders, CommandProblems, IfMatch, MinPosition,
    MinPositionHeader, NotFound, PreconditionFailed, ReadProblems, RuleReply, Unavailable,
    Unprocessable,
};
use crate::state::AppState;

/// `GET /v1/ratelimits/rules`: every rule in force (built-in defaults included), by name.
#[utoipa::path(
    get, path = "/v1/ratelimits/rules", tag = "ratelimits", operation_id = "listRateLimitRules",
    summary = "Every rule in force, built-in defaults included",
    params(MinPosition, MinPositionHeader),
    responses(
        (status = 200, description = "The rules, by name.", body = Listed<RateLimitRuleView>),
        ReadProblems,
    )
)]
pub async fn list(
    state: AppState,
    meta: RequestMeta,
    params: Params,
) -> Result<Response, ApiError> {
    read_your_writes(&state, &meta, &params).await?;
    let configured = state.read.ratelimit_rules().await?;
    let mut items: Vec<RateLimitRuleView> = configured
        .iter()
        .filter_map(RateLimitRuleView::from_loaded)
        .collect();
    for default in rules_in_force(&state)
        .await
        .iter()
        .filter(|r| !r.configured)
    {
        items.push(RateLimitRuleView::of(&default.rule, true, false));
    }
    items.sort_by(|a, b| a.name.cmp(&b.name));
    let total = items.len();
    ok(&Listed { items, total })
}

/// `GET /v1/ratelimits/rules/{name}`.
#[utoipa::path(
    get, path = "/v1/ratelimits/rules/{name}", tag = "ratelimits", operation_id = "getRateLimitRule",
    summary = "A rule (a built-in one as configured, else its default)",
    params(("name" = String, Path, description = "The rule's name."), MinPosition, MinPositionHeader),
    responses(
        (status = 200, description = "The rule.", body = RateLimitRuleView,
            headers(("ETag" = String, description = "The rule's version, quoted (0 for a default)."))),
        (status = 404, response = NotFound),
        ReadProblems,
    )
)]
pub async fn get(
    state: AppState,
    name: String,
    meta: RequestMeta,
    params: Params,
) -> Result<Response, ApiError> {
    read_your_writes(&state, &meta, &params).await?;
    let stored = state.read.ratelimit_rule(&name).await?;
    let view = match stored {
        Some(loaded) => RateLimitRuleView::from_loaded(&loaded),
        None => engine::domain::ratelimit_rule::builtin_rule(&name)
            .map(|default| RateLimitRuleView::of(&default, true, false)),
    };
    super::found(view, "rate-limit rule", &name)
}

/// `PUT /v1/ratelimits/rules/{name}` (and `PUT /v1/ratelimits/rules` with the name in
/// the body): create or replace a rule. Answers once the read models have it, so the
/// next request anywhere is limited by it.
#[utoipa::path(
    put, path = "/v1/ratelimits/rules/{name}", tag = "ratelimits", operation_id = "putRateLimitRule",
    summary = "Create or replace a rule",
    description = "A body `name` must be the path's. `endpoints` may be left out: a \
built-in rule keeps its own, any other rule guards every limitable route (every one that names \
a cluster for the `cluster` scope). `201` when the rule did not exist, `200` when it replaced \
one. Answered once the read models have the rule, so the next request anywhere is limited by it.",
    params(("name" = String, Path, description = "The rule's name."), CommandHeaders, IfMatch),
    request_body = RateLimitRuleBody,
    responses(
        (status = 200, response = RuleReply),
        (status = 201, response = RuleReply),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        CommandProblems,
        BodyProblems,
    )
)]
pub async fn put(
    state: AppState,
    path_name: Option<String>,
    meta: RequestMeta,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: RateLimitRuleBody = parse(&body)?;
    let name = match (&path_name, &input.name) {
        (Some(path), Some(body)) if path != body => {
            return Err(ApiError::invalid_field(
                "name",
                format!("the body names {body:?} but the path names {path:?}"),
            ));
        }
        (Some(name), _) | (None, Some(name)) => name.clone(),
        (None, None) => return Err(ApiError::invalid_field("name", "missing field `name`")),
    };
    let endpoints: Option<Vec<&str>> = input
        .endpoints
        .as_ref()
        .map(|list| list.iter().map(String::as_str).collect());
    let command = SetRateLimitRule::parse(
        &RuleInput {
            name: &name,
            scope: &input.scope,
            rate_per_sec: input.rate_per_sec,
            capacity: input.capacity,
            endpoints,
        },
        meta.if_match,
    )?;
    let ctx = meta.context(&body);
    let executed = execute(&state, &meta, &ctx, Guard::Open, &command).await?;
    settle(&state, &executed.reply).await;
    executed.respond()
}

/// `PUT /v1/ratelimits/rules`: [`put`] with the rule's name in the body.
#[utoipa::path(
    put, path = "/v1/ratelimits/rules", tag = "ratelimits", operation_id = "putRateLimitRuleByBody",
    summary = "Create or replace the rule the body names",
    params(CommandHeaders, IfMatch),
    request_body = RateLimitRuleBody,
    responses(
        (status = 200, response = RuleReply),
        (status = 201, response = RuleReply),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        CommandProblems,
        BodyProblems,
    )
)]
pub async fn put_named_in_body(
    state: AppState,
    meta: RequestMeta,
    body: Bytes,
) -> Result<Response, ApiError> {
    put(state, None, meta, body).await
}

/// `DELETE /v1/ratelimits/rules/{name}`: a built-in rule goes back to its default.
#[utoipa::path(
    delete, path = "/v1/ratelimits/rules/{name}", tag = "ratelimits", operation_id = "deleteRateLimitRule",
    summary = "Delete a rule (a built-in one goes back to its default)",
    params(("name" = String, Path, description = "The rule's name (`422` if no rule could have it)."), CommandHeaders, IfMatch),
    responses(
        (status = 200, response = RuleReply),
        (status = 404, response = NotFound),
        (status = 412, response = PreconditionFailed),
        (status = 422, response = Unprocessable),
        CommandProblems,
    )
)]
pub async fn delete(
    state: AppState,
    name: String,
    meta: RequestMeta,
) -> Result<Response, ApiError> {
    let command = DeleteRateLimitRule {
        name,
        if_match: meta.if_match,
    };
    let ctx = meta.context(b"");
    let executed = execute(&state, &meta, &ctx, Guard::Open, &command).await?;
    settle(&state, &executed.reply).await;
    executed.respond()
}

/// Waits (bounded) for the read models to reach a rule command's position: the limiter
/// reads the rules from them. The command is done either way; a timeout is only logged.
async fn settle<T>(state: &AppState, reply: &Reply<T>) {
    let timeout = Duration::from_millis(state.settings.read_your_writes_timeout_ms);
    if let Err(error) = state.runtime.wait_for(reply.position(), timeout).await {
        tracing::warn!(error = %error_chain(&error), "rate-limit rule change not yet visible to the limiter");
    }
}

/// `GET /v1/ratelimits/status?name&scope&scope_id`: the bucket of rule `name` for
/// `scope_id` now, taking nothing.
#[utoipa::path(
    get, path = "/v1/ratelimits/status", tag = "ratelimits", operation_id = "getRateLimitStatus",
    summary = "A bucket now (nothing is taken)",
    params(
        ("name" = String, Query, description = "The rule (required: `400` without it)."),
        ("scope" = Option<String>, Query, description = "`global`, `user` or `cluster`: must be the rule's own scope (`422` otherwise; default: the rule's)."),
        ("scope_id" = Option<String>, Query, max_length = 200, description = "The user or cluster (required unless the scope is `global`)."),
    ),
    responses(
        (status = 200, description = "The bucket.", body = BucketStatus),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 422, response = Unprocessable),
        (status = 503, response = Unavailable),
    )
)]
pub async fn status(state: AppState, params: Params) -> Result<Response, ApiError> {
    let name = params
        .text("name")
        .ok_or_else(|| ApiError::bad_field("name", "name is required"))?;
    let rules = rules_in_force(&state).await;
    let Some(EffectiveRule { rule, .. }) = rules.iter().find(|r| r.rule.name.as_str() == name)
    else {
        return Err(super::not_found("rate-limit rule", &name));
    };
    let scope = match params.one_of("scope", &["global", "user", "cluster"])? {
        None => rule.spec.scope,
        Some(raw) => RuleScope::parse(raw).map_err(|e| ApiError::bad_field("scope", e.message))?,
    };
    if scope != rule.spec.scope {
        return Err(ApiError::invalid_field(
            "scope",
            format!("rule {name} has the {} scope", rule.spec.scope),
        ));
    }
    let scope_id = match (scope, params.text("scope_id")) {
        (RuleScope::Global, _) => GLOBAL_SCOPE_ID.to_owned(),
        (_, Some(id)) if id.len() <= 200 => id,
        (_, Some(_)) => return Err(ApiError::bad_field("scope_id", "at most 200 characters")),
        (_, None) => {
            return Err(ApiError::bad_field(
                "scope_id",
                format!("scope_id is required for the {scope} scope"),
            ))
        }
    };
    let outcome = match state.limiter.status(rule, scope, &scope_id).await {
        Ok(outcome) => outcome,
        Err(error) => {
            tracing::warn!(error = %error_chain(&error), "rate-limit status unavailable");
            return Err(ApiError::Unavailable(
                "the rate-limit buckets did not answer; try again".into(),
            ));
        }
    };
    ok(&BucketStatus {
        name: rule.name.to_string(),
        scope: scope.to_string(),
        scope_id,
        available: outcome.available,
        remaining: outcome.remaining(),
        capacity: outcome.limits.capacity,
        rate_per_sec: outcome.limits.rate_per_sec,
        reset_after_secs: outcome.reset_secs(),
        retry_after_secs: outcome.retry_after_secs(),
        endpoints: rule
            .spec
            .endpoints
            .iter()
            .map(ToString::to_string)
            .collect(),
        enforced: state.settings.ratelimit_enabled,
        store: state.limiter.backend(),
    })
}
