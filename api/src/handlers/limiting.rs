//! Enforcement of the rate limits on command routes: [`guard`] before a command runs
//! (a refused request is a `429` and records nothing), [`with_rate_headers`] on the answer
//! of an allowed one.
//!
//! Headers (on `429` and on allowed requests of a limited endpoint), for the rule that
//! binds (the refusing one, else the one with the fewest tokens left):
//! `RateLimit-Limit` (capacity), `RateLimit-Remaining` (whole tokens left),
//! `RateLimit-Reset` (seconds until the bucket is full), and on `429` `Retry-After`
//! (seconds until one token is back, rounded up).

use engine::domain::ratelimit_rule::Endpoint;
use engine::ratelimit::{effective_rules, Check, EffectiveRule, RequestScope, Verdict};
use projections::runtime::error_chain;
use warp::http::HeaderValue;
use warp::reply::Response;

use crate::errors::ApiError;
use crate::filters::common::RequestMeta;
use crate::state::AppState;

/// The rules in force: those set through the API (from the read model) over the
/// built-in defaults. A read failure falls back to the defaults (logged): limiting never
/// fails a request.
pub async fn rules_in_force(state: &AppState) -> Vec<EffectiveRule> {
    match state.read.ratelimit_rules().await {
        Ok(loaded) => effective_rules(loaded.iter().filter_map(|l| l.state.rule()).collect()),
        Err(error) => {
            tracing::warn!(error = %error_chain(&error), "rate-limit rules unreadable; enforcing the built-in defaults");
            effective_rules(Vec::new())
        }
    }
}

/// Checks the rules guarding `endpoint` for this request (its caller and, if the route
/// names one, `cluster`). `Err` is the `429` to answer. A repeat of a recorded request
/// (same `Idempotency-Key`) takes no token: it only replays its answer.
pub async fn guard(
    state: &AppState,
    meta: &RequestMeta,
    endpoint: Endpoint,
    cluster: Option<&str>,
) -> Result<Verdict, ApiError> {
    if !state.settings.ratelimit_enabled || super::recorded_before(state, meta).await {
        return Ok(Verdict::default());
    }
    let rules = rules_in_force(state).await;
    if !rules.iter().any(|r| r.rule.spec.guards(endpoint)) {
        return Ok(Verdict::default());
    }
    let scope = RequestScope {
        user: meta.actor.clone(),
        cluster: cluster.map(str::to_owned),
    };
    let verdict = state.limiter.check(&rules, endpoint, &scope).await;
    for check in &verdict.checks {
        state.metrics.observe_rate_limit(
            &check.rule,
            check.scope.as_str(),
            check.outcome.available,
            !check.outcome.allowed,
        );
    }
    match verdict.checks.iter().find(|c| !c.outcome.allowed) {
        None => Ok(verdict),
        Some(refused) => {
            tracing::info!(rule = %refused.rule, scope = refused.scope.as_str(), scope_id = %refused.scope_id, endpoint = %endpoint, "rate limit exceeded");
            let retry_after = refused.outcome.retry_after_secs();
            let mut headers = rate_headers(refused);
            headers.push(("retry-after", retry_after.to_string()));
            Err(ApiError::RateLimited {
                rule: refused.rule.clone(),
                scope: refused.scope.as_str(),
                headers,
                retry_after,
            })
        }
    }
}

/// `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` of one check.
fn rate_headers(check: &Check) -> Vec<(&'static str, String)> {
    let outcome = &check.outcome;
    vec![
        ("ratelimit-limit", outcome.limits.capacity.to_string()),
        ("ratelimit-remaining", outcome.remaining().to_string()),
        ("ratelimit-reset", outcome.reset_secs().to_string()),
    ]
}

/// Adds the `RateLimit-*` headers of the binding rule to an allowed request's answer
/// (none when no rule guards the endpoint).
pub fn with_rate_headers(mut response: Response, verdict: &Verdict) -> Response {
    if let Some(check) = verdict.binding() {
        for (name, value) in rate_headers(check) {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
    }
    response
}
