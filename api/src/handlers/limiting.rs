//! Enforcement of the rate limits on command routes: [`guard`] before a command runs
//! (a refused request is a `429` and records nothing), [`with_rate_headers`] on the answer
//! of an allowed one.
//!
//! Headers (on `429` and on allowed requests of a limited endpoint), for the rule that
//! binds (the refusing one, else the one with the fewest tokens left):
//! `RateLimit-Limit` (capacity), `RateLimit-Remaining` (whole tokens left),
//! `RateLimit-Reset` (seconds until the bucket is full), and on `429` `Retry-After`
//! (seconds until one token is back, rounded up).

use std::sync::{Arc, Mutex};

use cqrs_es::Aggregate;
use engine::domain::ratelimit_rule::Endpoint;
use engine::domain::RateLimitRule;
use engine::ratelimit::{effective_rules, Check, EffectiveRule, RequestScope, Verdict};
use engine::store::EventFilter;
use projections::runtime::error_chain;
use warp::http::HeaderValue;
use warp::reply::Response;

use crate::errors::ApiError;
use crate::filters::common::RequestMeta;
use crate::state::AppState;

/// The rules in force: those set through the API (from the read model) over the
/// built-in defaults. A read failure falls back to the defaults (logged): limiting never
/// fails a request.
///
/// The rules read are kept ([`RulesHeld`]) and answered again as long as the log holds no
/// `ratelimit_rule` event after the read model's position at the time of the read: a
/// question the process's tail of the log answers from memory, so a limited request
/// costs no query while the rules do not change, and a rule set anywhere is in force for
/// the next request once the read models have it.
pub async fn rules_in_force(state: &AppState) -> Arc<Vec<EffectiveRule>> {
    if let Some(rules) = still_valid(state).await {
        return rules;
    }
    let through = state.runtime.position();
    match state.read.ratelimit_rules().await {
        Ok(loaded) => {
            let rules = Arc::new(effective_rules(
                loaded.iter().filter_map(|l| l.state.rule()).collect(),
            ));
            state.rules.keep(Arc::clone(&rules), through);
            rules
        }
        Err(error) => {
            tracing::warn!(error = %error_chain(&error), "rate-limit rules unreadable; enforcing the built-in defaults");
            Arc::new(effective_rules(Vec::new()))
        }
    }
}

/// The rules held, when no rule event was appended after the position they were read at.
async fn still_valid(state: &AppState) -> Option<Arc<Vec<EffectiveRule>>> {
    let (rules, through) = state.rules.held()?;
    let head = *state.store.watch_head().borrow();
    let filter = EventFilter {
        aggregate_type: Some(RateLimitRule::TYPE.to_owned()),
        ..EventFilter::default()
    };
    match state.store.read_all(through, 1, &filter).await {
        Ok(changes) if changes.is_empty() => {
            // No rule changed up to the head known before asking: later checks start there.
            state.rules.keep(Arc::clone(&rules), head.max(through));
            Some(rules)
        }
        _ => None,
    }
}

/// The rules last read from the read model, and the log position up to which no rule
/// event can have changed them.
#[derive(Default)]
pub struct RulesHeld(Mutex<Option<(Arc<Vec<EffectiveRule>>, i64)>>);

impl RulesHeld {
    fn held(&self) -> Option<(Arc<Vec<EffectiveRule>>, i64)> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn keep(&self, rules: Arc<Vec<EffectiveRule>>, through: i64) {
        let mut held = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A slower reader never replaces a newer answer.
        if held.as_ref().is_none_or(|(_, known)| *known <= through) {
            *held = Some((rules, through));
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
