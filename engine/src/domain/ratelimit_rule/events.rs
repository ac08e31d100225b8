//! The events of the `ratelimit_rule` aggregate and their payloads.

use cqrs_es::DomainEvent;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Capacity, Endpoint, RatePerSec, RuleName, RuleScope};

/// Payload of `ratelimit_rule.set`: the whole rule as it is from now on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RateLimitRuleSet {
    /// The rule name (also the stream id).
    pub name: RuleName,
    /// Whose bucket a request takes from.
    pub scope: RuleScope,
    /// Tokens added per second.
    pub rate_per_sec: RatePerSec,
    /// The most tokens a bucket holds.
    pub capacity: Capacity,
    /// The command routes the rule guards.
    pub endpoints: Vec<Endpoint>,
}

/// Payload of `ratelimit_rule.deleted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RateLimitRuleDeleted {
    /// The rule name.
    pub name: RuleName,
}

/// Events of a rule; serialised as `{"type": "ratelimit_rule.<name>", "data": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", content = "data")]
pub enum RateLimitRuleEvent {
    /// `ratelimit_rule.set`
    #[serde(rename = "ratelimit_rule.set")]
    Set(RateLimitRuleSet),
    /// `ratelimit_rule.deleted`
    #[serde(rename = "ratelimit_rule.deleted")]
    Deleted(RateLimitRuleDeleted),
}

impl RateLimitRuleEvent {
    /// Every event type string of this aggregate.
    pub const TYPES: [&'static str; 2] = ["ratelimit_rule.set", "ratelimit_rule.deleted"];

    /// The event type string.
    pub fn type_str(&self) -> &'static str {
        match self {
            Self::Set(_) => Self::TYPES[0],
            Self::Deleted(_) => Self::TYPES[1],
        }
    }
}

impl DomainEvent for RateLimitRuleEvent {
    fn event_type(&self) -> String {
        self.type_str().to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
