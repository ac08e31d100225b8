//! Rate-limit rule commands: set (create or replace) and delete.
//!
//! A built-in rule exists without events: setting it records an override, deleting the
//! override restores the default, and deleting a built-in that is not overridden changes
//! nothing (it answers the default). Deleting any other rule that is not set is a 404.
//! Setting a rule that did not exist (never set, or deleted) answers 201, replacing one 200.

use super::clusters::check_version;
use super::error::Fields;
use super::service::{stream_write, Command, CommandService, Decision};
use super::CommandError;
use crate::domain::ratelimit_rule::{
    builtin_rule, Capacity, Endpoint, RateLimitRule, RateLimitRuleCommand, RatePerSec, RuleName,
    RuleScope, RuleSpec,
};
use crate::domain::Decide;
use crate::fold::Loaded;
use crate::store::{now, ReplyKind};
use crate::views::RateLimitRuleView;

/// Create or replace a rule.
#[derive(Debug, Clone)]
pub struct SetRateLimitRule {
    pub name: RuleName,
    pub spec: RuleSpec,
    /// The version the caller saw (`If-Match`).
    pub if_match: Option<u64>,
}

/// A rule as the caller wrote it, before validation.
#[derive(Debug, Clone, Default)]
pub struct RuleInput<'a> {
    pub name: &'a str,
    pub scope: &'a str,
    pub rate_per_sec: f64,
    pub capacity: u64,
    /// `None`: the built-in rule's endpoints; for any other rule every limitable route
    /// (with a `cluster` scope, every route that names a cluster), as
    /// [`Endpoint::every_for`] lists them when the rule is set.
    pub endpoints: Option<Vec<&'a str>>,
}

/// The most endpoints a rule may name (each route at most once).
const MAX_ENDPOINTS: usize = Endpoint::ALL.len();

impl SetRateLimitRule {
    /// Validates raw input (every field's error is reported).
    pub fn parse(input: &RuleInput<'_>, if_match: Option<u64>) -> Result<Self, CommandError> {
        let mut fields = Fields::default();
        let name = fields.check(RuleName::parse(input.name));
        let scope = fields.check(RuleScope::parse(input.scope));
        let rate = fields.check(RatePerSec::parse(input.rate_per_sec));
        let capacity = fields.check(Capacity::parse(input.capacity));
        let endpoints = match &input.endpoints {
            Some(list) if list.len() > MAX_ENDPOINTS * 2 => {
                fields.fail("endpoints", format!("at most {MAX_ENDPOINTS} endpoints"));
                None
            }
            Some(list) => {
                let parsed: Vec<Option<Endpoint>> = list
                    .iter()
                    .map(|e| fields.check(Endpoint::parse(e)))
                    .collect();
                parsed.into_iter().collect::<Option<Vec<_>>>()
            }
            None => match builtin_rule(input.name) {
                Some(default) => Some(default.spec.endpoints),
                None => scope.map(Endpoint::every_for),
            },
        };
        fields.finish()?;
        match (name, scope, rate, capacity, endpoints) {
            (Some(name), Some(scope), Some(rate), Some(capacity), Some(endpoints)) => Ok(Self {
                name,
                spec: RuleSpec::new(scope, rate, capacity, endpoints)?,
                if_match,
            }),
            _ => Err(CommandError::Invalid(Vec::new())),
        }
    }
}

impl Command for SetRateLimitRule {
    type Output = RateLimitRuleView;

    async fn decide(
        &self,
        service: &CommandService,
    ) -> Result<Decision<RateLimitRuleView>, CommandError> {
        let mut rule = service.load::<RateLimitRule>(self.name.as_str()).await?;
        check_version(self.if_match, rule.version)?;
        let expected = rule.version;
        // A built-in rule exists before any event: setting it replaces it.
        let creates = !rule.state.is_live() && builtin_rule(self.name.as_str()).is_none();
        let events = rule.state.decide(RateLimitRuleCommand::SetRule {
            name: self.name.clone(),
            spec: self.spec.clone(),
        })?;
        let at = now();
        rule.apply_new(&events, at);
        Ok(Decision {
            writes: vec![stream_write::<RateLimitRule>(
                self.name.as_str(),
                expected,
                &events,
                at,
            )?],
            value: view(&rule, self.name.as_str())?,
            kind: if creates && !events.is_empty() {
                ReplyKind::Created
            } else {
                ReplyKind::Done
            },
            unchanged_position: rule.last_position,
        })
    }
}

/// Delete a rule (a built-in one falls back to its default).
#[derive(Debug, Clone)]
pub struct DeleteRateLimitRule {
    pub name: String,
    pub if_match: Option<u64>,
}

impl Command for DeleteRateLimitRule {
    type Output = RateLimitRuleView;

    async fn decide(
        &self,
        service: &CommandService,
    ) -> Result<Decision<RateLimitRuleView>, CommandError> {
        let name = RuleName::parse(&self.name)?;
        let mut rule = service.load::<RateLimitRule>(name.as_str()).await?;
        check_version(self.if_match, rule.version)?;
        let expected = rule.version;
        let builtin = builtin_rule(name.as_str());
        if !rule.state.is_live() {
            // Nothing configured: a built-in answers its default, anything else is unknown.
            return match builtin {
                Some(default) => Ok(Decision {
                    writes: Vec::new(),
                    value: RateLimitRuleView {
                        version: rule.version,
                        created_at: rule.created_at,
                        updated_at: rule.updated_at,
                        ..RateLimitRuleView::of(&default, true, false)
                    },
                    kind: ReplyKind::Done,
                    unchanged_position: rule.last_position,
                }),
                None => Err(not_found(name.as_str())),
            };
        }
        let deleted = rule.state.clone();
        let events = rule.state.decide(RateLimitRuleCommand::DeleteRule)?;
        let at = now();
        rule.apply_new(&events, at);
        // A built-in answers its restored default; another rule what it was.
        let value = match RateLimitRuleView::from_loaded(&rule) {
            Some(view) => view,
            None => {
                let was = deleted.rule().ok_or_else(|| not_found(name.as_str()))?;
                RateLimitRuleView {
                    version: rule.version,
                    created_at: rule.created_at,
                    updated_at: rule.updated_at,
                    ..RateLimitRuleView::of(&was, false, false)
                }
            }
        };
        Ok(Decision {
            writes: vec![stream_write::<RateLimitRule>(
                name.as_str(),
                expected,
                &events,
                at,
            )?],
            value,
            kind: ReplyKind::Done,
            unchanged_position: rule.last_position,
        })
    }
}

fn view(rule: &Loaded<RateLimitRule>, name: &str) -> Result<RateLimitRuleView, CommandError> {
    RateLimitRuleView::from_loaded(rule).ok_or_else(|| not_found(name))
}

fn not_found(name: &str) -> CommandError {
    CommandError::NotFound {
        what: "rate-limit rule",
        id: name.to_owned(),
    }
}
