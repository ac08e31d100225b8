//! The `ratelimit_rule` aggregate: a configuration aggregate, one stream per rule name.
//!
//! A rule says how fast requests of some endpoints may come (a token bucket: `rate_per_sec`
//! refill, `capacity` burst) and whose bucket they take from (`scope`). The built-in rules
//! ([`builtin_rules`]) exist without any event: setting a rule of the same name overrides
//! one, deleting the override restores its default. The limiter itself lives in
//! [`crate::ratelimit`]; this aggregate only records what the rules are.

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::aggregate::{handle_with_decide, Classify, Decide, DomainErrorKind};

mod events;
#[cfg(test)]
mod tests;
mod values;

pub use events::*;
pub use values::{
    Capacity, Endpoint, RatePerSec, RuleName, RuleScope, RuleSpec, MAX_CAPACITY, MAX_RATE_PER_SEC,
    MAX_RULE_NAME_LEN,
};

/// A rule with its name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub name: RuleName,
    pub spec: RuleSpec,
}

/// The built-in rules (the seed's defaults): `diagnose`, 0.2 tokens/s, capacity 5 per
/// cluster on `clusters.diagnose`; `jobs_create`, 0.1 tokens/s, capacity 3 per user on
/// `jobs.create`.
pub fn builtin_rules() -> Vec<Rule> {
    let rule = |name: &str, scope, rate: f64, capacity: u64, endpoint| {
        let spec = RuleSpec::new(
            scope,
            RatePerSec::parse(rate).expect("a valid built-in rate"),
            Capacity::parse(capacity).expect("a valid built-in capacity"),
            vec![endpoint],
        )
        .expect("a valid built-in rule");
        Rule {
            name: RuleName::parse(name).expect("a valid built-in name"),
            spec,
        }
    };
    vec![
        rule(
            "diagnose",
            RuleScope::Cluster,
            0.2,
            5,
            Endpoint::ClustersDiagnose,
        ),
        rule("jobs_create", RuleScope::User, 0.1, 3, Endpoint::JobsCreate),
    ]
}

/// The built-in rule named `name`, if there is one.
pub fn builtin_rule(name: &str) -> Option<Rule> {
    builtin_rules()
        .into_iter()
        .find(|r| r.name.as_str() == name)
}

/// The state of one rule's stream, folded from its events.
/// Stored (rows, snapshots) without its unset fields: a field missing reads as unset.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RateLimitRule {
    /// Set by the first `ratelimit_rule.set`.
    pub name: Option<RuleName>,
    /// What the rule says now; `None` before the first set and after a delete.
    pub spec: Option<RuleSpec>,
    /// Whether the last event was a delete.
    pub deleted: bool,
}

impl RateLimitRule {
    /// Whether a rule is set (and not deleted).
    pub fn is_live(&self) -> bool {
        self.spec.is_some() && !self.deleted
    }

    /// The rule as set, when it is live.
    pub fn rule(&self) -> Option<Rule> {
        match (&self.name, &self.spec) {
            (Some(name), Some(spec)) if !self.deleted => Some(Rule {
                name: name.clone(),
                spec: spec.clone(),
            }),
            _ => None,
        }
    }
}

/// Commands on a rule.
#[derive(Debug, Clone, PartialEq)]
pub enum RateLimitRuleCommand {
    /// Create or replace the rule.
    SetRule { name: RuleName, spec: RuleSpec },
    /// Delete the rule (a built-in one falls back to its default).
    DeleteRule,
}

/// Why a rule command was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateLimitRuleError {
    /// Delete of a rule that is not set.
    #[error("rate-limit rule not found")]
    NotFound,
    /// Set with a name other than the stream's.
    #[error("the rule's stream is {stream}, not {name}")]
    NameMismatch { stream: String, name: String },
}

impl Classify for RateLimitRuleError {
    fn kind(&self) -> DomainErrorKind {
        match self {
            Self::NotFound => DomainErrorKind::NotFound,
            Self::NameMismatch { .. } => DomainErrorKind::Invalid,
        }
    }
}

impl Decide for RateLimitRule {
    fn decide(
        &self,
        command: RateLimitRuleCommand,
    ) -> Result<Vec<RateLimitRuleEvent>, RateLimitRuleError> {
        match command {
            RateLimitRuleCommand::SetRule { name, spec } => {
                if let Some(stream) = self.name.as_ref().filter(|n| **n != name) {
                    return Err(RateLimitRuleError::NameMismatch {
                        stream: stream.to_string(),
                        name: name.to_string(),
                    });
                }
                if self.is_live() && self.spec.as_ref() == Some(&spec) {
                    return Ok(Vec::new());
                }
                Ok(vec![RateLimitRuleEvent::Set(RateLimitRuleSet {
                    name,
                    scope: spec.scope,
                    rate_per_sec: spec.rate_per_sec,
                    capacity: spec.capacity,
                    endpoints: spec.endpoints,
                })])
            }
            RateLimitRuleCommand::DeleteRule => match &self.name {
                Some(name) if self.is_live() => {
                    Ok(vec![RateLimitRuleEvent::Deleted(RateLimitRuleDeleted {
                        name: name.clone(),
                    })])
                }
                _ => Err(RateLimitRuleError::NotFound),
            },
        }
    }
}

impl Aggregate for RateLimitRule {
    const TYPE: &'static str = "ratelimit_rule";
    type Command = RateLimitRuleCommand;
    type Event = RateLimitRuleEvent;
    type Error = RateLimitRuleError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        handle_with_decide(self, command, sink).await
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            RateLimitRuleEvent::Set(e) => {
                self.name = Some(e.name);
                self.spec = Some(RuleSpec {
                    scope: e.scope,
                    rate_per_sec: e.rate_per_sec,
                    capacity: e.capacity,
                    endpoints: e.endpoints,
                });
                self.deleted = false;
            }
            RateLimitRuleEvent::Deleted(_) => {
                self.spec = None;
                self.deleted = true;
            }
        }
    }
}
