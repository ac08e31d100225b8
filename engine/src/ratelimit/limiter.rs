//! The [`RateLimiter`]: which rules guard an endpoint, whose bucket a request takes from,
//! and the verdict over all of them.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::bucket::{Allowance, Limits};
use super::clock::Clock;
use super::store::BucketStore;
use crate::domain::ratelimit_rule::{builtin_rules, Endpoint, Rule, RuleScope};

/// The scope id of the `global` scope.
pub const GLOBAL_SCOPE_ID: &str = "global";

/// Who and what a request is about: the caller and, when the route names one, the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestScope {
    /// The caller (`X-User-Id`, `anonymous` without one).
    pub user: String,
    /// The cluster the request names (path id or body `cluster_id`), if any.
    pub cluster: Option<String>,
}

impl RequestScope {
    /// The scope id of `scope` for this request (`None`: the rule does not apply, e.g. a
    /// cluster scope on a request that names no cluster).
    pub fn id(&self, scope: RuleScope) -> Option<&str> {
        match scope {
            RuleScope::Global => Some(GLOBAL_SCOPE_ID),
            RuleScope::User => Some(&self.user),
            RuleScope::Cluster => self.cluster.as_deref(),
        }
    }
}

/// A rule in force, and where it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveRule {
    pub rule: Rule,
    /// A built-in rule name (whether or not it was overridden).
    pub builtin: bool,
    /// Set through the API (for a built-in: overridden).
    pub configured: bool,
}

/// The rules in force: the configured ones, plus each built-in one not configured.
pub fn effective_rules(configured: Vec<Rule>) -> Vec<EffectiveRule> {
    let builtins = builtin_rules();
    let mut rules: Vec<EffectiveRule> = builtins
        .iter()
        .filter(|b| !configured.iter().any(|c| c.name == b.name))
        .map(|b| EffectiveRule {
            rule: b.clone(),
            builtin: true,
            configured: false,
        })
        .collect();
    rules.extend(configured.into_iter().map(|rule| EffectiveRule {
        builtin: builtins.iter().any(|b| b.name == rule.name),
        configured: true,
        rule,
    }));
    rules.sort_by(|a, b| a.rule.name.cmp(&b.rule.name));
    rules
}

/// One rule's answer for one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub rule: String,
    pub scope: RuleScope,
    pub scope_id: String,
    pub outcome: Allowance,
}

/// The answer over every rule guarding a request's endpoint.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Verdict {
    /// One check per applicable rule, in rule-name order (stopping at the first refusal).
    pub checks: Vec<Check>,
}

impl Verdict {
    /// Whether every rule let the request through (true when no rule applies).
    pub fn allowed(&self) -> bool {
        self.checks.iter().all(|c| c.outcome.allowed)
    }

    /// The check the response reports: the refusing one, else the one with the fewest
    /// tokens left. `None` when no rule guards the endpoint.
    pub fn binding(&self) -> Option<&Check> {
        self.checks.iter().find(|c| !c.outcome.allowed).or_else(|| {
            self.checks
                .iter()
                .min_by(|a, b| a.outcome.available.total_cmp(&b.outcome.available))
        })
    }
}

/// Token-bucket rate limiting over a [`BucketStore`] and a [`Clock`]. Knows nothing of
/// HTTP: the caller says which endpoint and scope a request has.
#[derive(Clone)]
pub struct RateLimiter {
    store: Arc<dyn BucketStore>,
    clock: Arc<dyn Clock>,
}

impl RateLimiter {
    /// A limiter over `store`, telling time by `clock`.
    pub fn new(store: Arc<dyn BucketStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Where the buckets are (`memory` or `redis`).
    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    /// Takes a token from the bucket of every rule of `rules` guarding `endpoint`, in name
    /// order, stopping at the first refusal (so a refused request costs no later rule a
    /// token). A store error lets the request through (logged): limiting is never the
    /// reason a command fails; [`super::FallbackBuckets`] makes such errors rare.
    pub async fn check(
        &self,
        rules: &[EffectiveRule],
        endpoint: Endpoint,
        request: &RequestScope,
    ) -> Verdict {
        let mut verdict = Verdict::default();
        let now_ms = self.clock.now_ms();
        for effective in rules.iter().filter(|r| r.rule.spec.guards(endpoint)) {
            let rule = &effective.rule;
            let Some(scope_id) = request.id(rule.spec.scope) else {
                continue;
            };
            let key = bucket_key(rule.name.as_str(), rule.spec.scope, scope_id);
            match self.store.take(&key, limits(rule), now_ms).await {
                Ok(outcome) => {
                    verdict.checks.push(Check {
                        rule: rule.name.to_string(),
                        scope: rule.spec.scope,
                        scope_id: scope_id.to_owned(),
                        outcome,
                    });
                    if !outcome.allowed {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(rule = %rule.name, error = %crate::error_chain(&error), "rate-limit check failed; letting the request through");
                }
            }
        }
        verdict
    }

    /// The bucket of `rule` for `scope_id` now, taking nothing.
    pub async fn status(
        &self,
        rule: &Rule,
        scope: RuleScope,
        scope_id: &str,
    ) -> Result<Allowance, super::BucketError> {
        let key = bucket_key(rule.name.as_str(), scope, scope_id);
        self.store
            .peek(&key, limits(rule), self.clock.now_ms())
            .await
    }
}

fn limits(rule: &Rule) -> Limits {
    Limits {
        rate_per_sec: rule.spec.rate_per_sec.get(),
        capacity: rule.spec.capacity.get(),
    }
}

/// The key of a bucket: `<rule>:<scope>:<scope id>`; a scope id longer than 128 bytes is
/// replaced by its SHA-256 (keys stay short whatever a path holds).
pub fn bucket_key(rule: &str, scope: RuleScope, scope_id: &str) -> String {
    if scope_id.len() > 128 {
        let digest = hex::encode(Sha256::digest(scope_id.as_bytes()));
        format!("{rule}:{scope}:sha256-{digest}")
    } else {
        format!("{rule}:{scope}:{scope_id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ratelimit_rule::{Capacity, RatePerSec, RuleName, RuleSpec};
    use crate::ratelimit::{ManualClock, MemoryBuckets};
    use std::time::Duration;

    fn rule(name: &str, scope: RuleScope, capacity: u64, endpoints: &[Endpoint]) -> Rule {
        Rule {
            name: RuleName::parse(name).unwrap(),
            spec: RuleSpec::new(
                scope,
                RatePerSec::parse(1.0).unwrap(),
                Capacity::parse(capacity).unwrap(),
                endpoints.to_vec(),
            )
            .unwrap(),
        }
    }

    fn alice_on(cluster: &str) -> RequestScope {
        RequestScope {
            user: "alice".into(),
            cluster: Some(cluster.into()),
        }
    }

    fn limiter() -> (RateLimiter, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::at(1_000_000));
        let limiter = RateLimiter::new(Arc::new(MemoryBuckets::new()), clock.clone());
        (limiter, clock)
    }

    #[test]
    fn given_no_configured_rules_then_the_builtins_are_in_force() {
        let rules = effective_rules(vec![]);
        let names: Vec<&str> = rules.iter().map(|r| r.rule.name.as_str()).collect();
        assert_eq!(names, ["diagnose", "jobs_create"]);
        assert!(rules.iter().all(|r| r.builtin && !r.configured));
    }

    #[test]
    fn given_a_configured_builtin_then_it_replaces_the_default() {
        let custom = rule("jobs_create", RuleScope::Global, 9, &[Endpoint::JobsCreate]);
        let extra = rule("burst", RuleScope::User, 1, &[Endpoint::ClustersCreate]);
        let rules = effective_rules(vec![custom.clone(), extra]);
        assert_eq!(rules.len(), 3);
        let jobs = rules
            .iter()
            .find(|r| r.rule.name.as_str() == "jobs_create")
            .unwrap();
        assert_eq!(jobs.rule, custom);
        assert!(jobs.builtin && jobs.configured);
        let burst = rules
            .iter()
            .find(|r| r.rule.name.as_str() == "burst")
            .unwrap();
        assert!(!burst.builtin && burst.configured);
    }

    #[tokio::test]
    async fn given_a_cluster_rule_when_requests_name_clusters_then_each_cluster_has_a_bucket() {
        let (limiter, _) = limiter();
        let rules = effective_rules(vec![rule(
            "updates",
            RuleScope::Cluster,
            1,
            &[Endpoint::ClustersUpdate],
        )]);
        let first = limiter
            .check(&rules, Endpoint::ClustersUpdate, &alice_on("cl_a"))
            .await;
        assert!(first.allowed());
        assert_eq!(first.binding().unwrap().scope_id, "cl_a");
        let second = limiter
            .check(&rules, Endpoint::ClustersUpdate, &alice_on("cl_a"))
            .await;
        assert!(!second.allowed());
        let other = limiter
            .check(&rules, Endpoint::ClustersUpdate, &alice_on("cl_b"))
            .await;
        assert!(other.allowed());
        let unguarded = limiter
            .check(&rules, Endpoint::ClustersCreate, &alice_on("cl_a"))
            .await;
        assert!(unguarded.allowed() && unguarded.binding().is_none());
    }

    #[tokio::test]
    async fn given_the_builtin_diagnose_rule_then_five_per_cluster_pass_and_refill_at_0_2_per_second(
    ) {
        let (limiter, clock) = limiter();
        let rules = effective_rules(vec![]);
        for _ in 0..5 {
            let verdict = limiter
                .check(&rules, Endpoint::ClustersDiagnose, &alice_on("cl_a"))
                .await;
            assert!(verdict.allowed());
        }
        let refused = limiter
            .check(&rules, Endpoint::ClustersDiagnose, &alice_on("cl_a"))
            .await;
        assert!(!refused.allowed());
        assert_eq!(refused.binding().unwrap().rule, "diagnose");
        assert_eq!(refused.binding().unwrap().outcome.retry_after_secs(), 5);
        clock.advance(Duration::from_secs(5));
        let refilled = limiter
            .check(&rules, Endpoint::ClustersDiagnose, &alice_on("cl_a"))
            .await;
        assert!(refilled.allowed());
    }

    #[tokio::test]
    async fn given_two_rules_on_an_endpoint_when_one_refuses_then_the_verdict_reports_it() {
        let (limiter, _) = limiter();
        let rules = effective_rules(vec![
            rule("a_wide", RuleScope::Global, 10, &[Endpoint::ClustersCreate]),
            rule("b_narrow", RuleScope::User, 1, &[Endpoint::ClustersCreate]),
        ]);
        let scope = alice_on("x");
        let first = limiter
            .check(&rules, Endpoint::ClustersCreate, &scope)
            .await;
        assert_eq!(first.checks.len(), 2);
        assert_eq!(first.binding().unwrap().rule, "b_narrow");
        let second = limiter
            .check(&rules, Endpoint::ClustersCreate, &scope)
            .await;
        assert!(!second.allowed());
        assert_eq!(second.binding().unwrap().rule, "b_narrow");
        let status = limiter
            .status(&rules[0].rule, RuleScope::Global, GLOBAL_SCOPE_ID)
            .await
            .unwrap();
        assert_eq!(status.remaining(), 8);
    }

    #[test]
    fn long_scope_ids_are_hashed_in_keys() {
        assert_eq!(bucket_key("r", RuleScope::User, "bob"), "r:user:bob");
        let long = "x".repeat(500);
        let key = bucket_key("r", RuleScope::Cluster, &long);
        assert!(
            key.starts_with("r:cluster:sha256-") && key.len() < 100,
            "{key}"
        );
    }
}
