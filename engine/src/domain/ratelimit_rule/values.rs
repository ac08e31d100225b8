//! The values of a rate-limit rule: its name, scope, rate, capacity and the endpoints it
//! guards. Each is built through `parse`, serialises as plain JSON and fails to
//! deserialise when invalid, so a stored event can never hold an invalid rule.

use std::borrow::Cow;
use std::fmt;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

use crate::domain::values::ValidationError;

/// Longest rule name.
pub const MAX_RULE_NAME_LEN: usize = 63;
/// Highest refill rate, tokens per second.
pub const MAX_RATE_PER_SEC: f64 = 10_000.0;
/// Largest bucket.
pub const MAX_CAPACITY: u32 = 1_000_000;
/// The rules of [`RuleName::parse`] as an ECMA-262 regular expression.
const RULE_NAME_PATTERN: &str = "^[a-z][a-z0-9_-]*$";

/// A rule name: 1 to 63 lowercase letters, digits, `_` and `-`, starting with a letter
/// (`jobs_create`, `diagnose`, `cluster-updates`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RuleName(String);

impl RuleName {
    /// Parses a rule name (nothing is trimmed).
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let field = "name";
        if value.is_empty() {
            return Err(ValidationError::new(field, "must not be empty"));
        }
        if value.len() > MAX_RULE_NAME_LEN {
            return Err(ValidationError::new(
                field,
                format!("must be at most {MAX_RULE_NAME_LEN} characters long"),
            ));
        }
        if !value.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(ValidationError::new(
                field,
                "must start with a lowercase letter",
            ));
        }
        if let Some(c) = value
            .chars()
            .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'))
        {
            return Err(ValidationError::new(
                field,
                format!("may contain only lowercase letters, digits, '_' and '-' (found {c:?})"),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RuleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RuleName {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<RuleName> for String {
    fn from(value: RuleName) -> Self {
        value.0
    }
}

impl JsonSchema for RuleName {
    fn schema_name() -> Cow<'static, str> {
        "RuleName".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A rate-limit rule name: 1 to 63 lowercase letters, digits, '_' \
                            and '-', starting with a letter.",
            "type": "string",
            "pattern": RULE_NAME_PATTERN,
            "minLength": 1,
            "maxLength": MAX_RULE_NAME_LEN,
        })
    }
}

/// Whose bucket a request takes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleScope {
    /// One bucket for everybody.
    Global,
    /// One bucket per caller (`X-User-Id`; callers without one share `anonymous`).
    User,
    /// One bucket per cluster the request names.
    Cluster,
}

impl RuleScope {
    /// Every scope.
    pub const ALL: [Self; 3] = [Self::Global, Self::User, Self::Cluster];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::User => "user",
            Self::Cluster => "cluster",
        }
    }

    /// Parses a wire name.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| ValidationError::new("scope", "must be one of: global, user, cluster"))
    }
}

impl fmt::Display for RuleScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Tokens added to a bucket per second: finite, above 0, at most 10 000.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct RatePerSec(f64);

impl RatePerSec {
    /// Parses a rate.
    pub fn parse(value: f64) -> Result<Self, ValidationError> {
        if !value.is_finite() || value <= 0.0 {
            return Err(ValidationError::new(
                "rate_per_sec",
                "must be a number above 0",
            ));
        }
        if value > MAX_RATE_PER_SEC {
            return Err(ValidationError::new(
                "rate_per_sec",
                format!("must be at most {MAX_RATE_PER_SEC}"),
            ));
        }
        Ok(Self(value))
    }

    /// The rate.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for RatePerSec {
    type Error = ValidationError;
    fn try_from(value: f64) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<RatePerSec> for f64 {
    fn from(value: RatePerSec) -> Self {
        value.0
    }
}

impl JsonSchema for RatePerSec {
    fn schema_name() -> Cow<'static, str> {
        "RatePerSec".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Tokens added to a bucket per second.",
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": MAX_RATE_PER_SEC,
        })
    }
}

/// The most tokens a bucket holds (its burst): 1 to 1 000 000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct Capacity(u32);

impl Capacity {
    /// Parses a capacity.
    pub fn parse(value: u64) -> Result<Self, ValidationError> {
        match u32::try_from(value) {
            Ok(n) if (1..=MAX_CAPACITY).contains(&n) => Ok(Self(n)),
            _ => Err(ValidationError::new(
                "capacity",
                format!("must be an integer from 1 to {MAX_CAPACITY}"),
            )),
        }
    }

    /// The capacity.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u64> for Capacity {
    type Error = ValidationError;
    fn try_from(value: u64) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<Capacity> for u64 {
    fn from(value: Capacity) -> Self {
        u64::from(value.0)
    }
}

impl JsonSchema for Capacity {
    fn schema_name() -> Cow<'static, str> {
        "Capacity".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The most tokens a bucket holds.",
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_CAPACITY,
        })
    }
}

/// A command route a rule can guard, named `<resource>.<action>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Endpoint {
    ClustersCreate,
    ClustersUpdate,
    ClustersDelete,
    ClustersDiagnose,
    DropletsCreate,
    DropletsResize,
    DropletsPower,
    DropletsMigrate,
    DropletsDelete,
    JobsCreate,
    JobsCancel,
}

impl Endpoint {
    /// Every limitable route.
    pub const ALL: [Self; 11] = [
        Self::ClustersCreate,
        Self::ClustersUpdate,
        Self::ClustersDelete,
        Self::ClustersDiagnose,
        Self::DropletsCreate,
        Self::DropletsResize,
        Self::DropletsPower,
        Self::DropletsMigrate,
        Self::DropletsDelete,
        Self::JobsCreate,
        Self::JobsCancel,
    ];

    /// The route name, e.g. `jobs.create`.
    pub fn as_str(self) -> &'static str {
        self.describe().0
    }

    /// The method and path template, e.g. `POST /v1/jobs`.
    pub fn route(self) -> &'static str {
        self.describe().1
    }

    /// Whether a request of this route names a cluster (so a `cluster` scope applies):
    /// by its path id, or by `cluster_id` in its body.
    pub fn names_cluster(self) -> bool {
        self.describe().2
    }

    fn describe(self) -> (&'static str, &'static str, bool) {
        match self {
            Self::ClustersCreate => ("clusters.create", "POST /v1/clusters", false),
            Self::ClustersUpdate => ("clusters.update", "PATCH /v1/clusters/{id}", true),
            Self::ClustersDelete => ("clusters.delete", "DELETE /v1/clusters/{id}", true),
            Self::ClustersDiagnose => {
                ("clusters.diagnose", "POST /v1/clusters/{id}/diagnose", true)
            }
            Self::DropletsCreate => ("droplets.create", "POST /v1/droplets", true),
            Self::DropletsResize => ("droplets.resize", "POST /v1/droplets/{id}/resize", false),
            Self::DropletsPower => ("droplets.power", "POST /v1/droplets/{id}/power", false),
            Self::DropletsMigrate => ("droplets.migrate", "POST /v1/droplets/{id}/migrate", false),
            Self::DropletsDelete => ("droplets.delete", "DELETE /v1/droplets/{id}", false),
            Self::JobsCreate => ("jobs.create", "POST /v1/jobs", true),
            Self::JobsCancel => ("jobs.cancel", "POST /v1/jobs/{id}/cancel", false),
        }
    }

    /// The endpoints of a rule that names none: every limitable route, or for a
    /// `cluster` scope every route that names a cluster.
    pub fn every_for(scope: RuleScope) -> Vec<Self> {
        Self::ALL
            .into_iter()
            .filter(|e| scope != RuleScope::Cluster || e.names_cluster())
            .collect()
    }

    /// Parses a route name.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == value)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|e| e.as_str()).collect();
                ValidationError::new(
                    "endpoints",
                    format!("unknown endpoint {value:?}; one of: {}", names.join(", ")),
                )
            })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Endpoint {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Endpoint> for String {
    fn from(value: Endpoint) -> Self {
        value.as_str().to_owned()
    }
}

impl JsonSchema for Endpoint {
    fn schema_name() -> Cow<'static, str> {
        "Endpoint".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = Self::ALL.iter().map(|e| e.as_str()).collect();
        json_schema!({
            "description": "A command route a rate-limit rule guards.",
            "type": "string",
            "enum": names,
        })
    }
}

/// What a rule says: scope, rate, capacity, and the endpoints it guards (1 or more,
/// each once, in a stable order). A `cluster` scope needs endpoints that name a cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RuleSpec {
    pub scope: RuleScope,
    pub rate_per_sec: RatePerSec,
    pub capacity: Capacity,
    pub endpoints: Vec<Endpoint>,
}

impl RuleSpec {
    /// Checks the rules that join several fields; the endpoints are sorted and deduplicated.
    pub fn new(
        scope: RuleScope,
        rate_per_sec: RatePerSec,
        capacity: Capacity,
        mut endpoints: Vec<Endpoint>,
    ) -> Result<Self, ValidationError> {
        endpoints.sort();
        endpoints.dedup();
        if endpoints.is_empty() {
            return Err(ValidationError::new(
                "endpoints",
                "must name at least one endpoint",
            ));
        }
        if scope == RuleScope::Cluster {
            if let Some(e) = endpoints.iter().find(|e| !e.names_cluster()) {
                return Err(ValidationError::new(
                    "scope",
                    format!("a cluster scope needs endpoints that name a cluster; {e} does not"),
                ));
            }
        }
        Ok(Self {
            scope,
            rate_per_sec,
            capacity,
            endpoints,
        })
    }

    /// Whether the rule guards `endpoint`.
    pub fn guards(&self, endpoint: Endpoint) -> bool {
        self.endpoints.contains(&endpoint)
    }
}
