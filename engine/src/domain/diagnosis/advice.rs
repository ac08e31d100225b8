//! What a diagnosis advises: recommendations with a priority and a machine-readable
//! action, their ids (`rec_<diagnosis hex>_<n>`, so a recommendation names its diagnosis),
//! the engines and the health label of a score.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::values::{DiagnosisId, DropletId, Image, Size, ValidationError};

/// The engine that produced a diagnosis (or the one that was asked for).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosisEngine {
    /// The deterministic rules engine (offline, reproducible).
    #[default]
    Rules,
    /// An OpenAI-compatible chat endpoint.
    Llm,
}

impl DiagnosisEngine {
    /// The wire name (`rules`, `llm`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rules => "rules",
            Self::Llm => "llm",
        }
    }

    /// Parses a wire name (field `engine`).
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        match value {
            "rules" => Ok(Self::Rules),
            "llm" => Ok(Self::Llm),
            _ => Err(ValidationError::new("engine", "must be one of: rules, llm")),
        }
    }
}

impl fmt::Display for DiagnosisEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How urgent a recommendation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Act now.
    High,
    /// Act soon.
    Medium,
    /// Worth considering.
    Low,
}

impl Priority {
    /// The wire names, in order of urgency.
    pub const NAMES: [&'static str; 3] = ["high", "medium", "low"];
}

/// What implementing a recommendation does: `{"type": ..., ...parameters}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RecommendedAction {
    /// A `scale_up` job adding `count` droplets to the cluster.
    ScaleUp {
        /// Droplets to add (1-20).
        count: u32,
    },
    /// A `scale_down` job removing `count` droplets from the cluster.
    ScaleDown {
        /// Droplets to remove (1-20).
        count: u32,
    },
    /// A `resize` job of one droplet.
    Resize {
        /// The droplet.
        droplet_id: DropletId,
        /// Its new size.
        size: Size,
    },
    /// A `restart` job of one droplet.
    Restart {
        /// The droplet.
        droplet_id: DropletId,
    },
    /// A new droplet in the cluster's region, with its `provision` job.
    CreateDroplet {
        /// Its size.
        size: Size,
        /// Its image.
        image: Image,
    },
    /// A `monitor` job inspecting the cluster.
    Monitor {},
    /// Nothing to do (advice only; implementing it is refused).
    None {},
}

impl RecommendedAction {
    /// The wire names of the action types.
    pub const TYPES: [&'static str; 7] = [
        "scale_up",
        "scale_down",
        "resize",
        "restart",
        "create_droplet",
        "monitor",
        "none",
    ];

    /// The action's `type`.
    pub fn type_str(&self) -> &'static str {
        let index = match self {
            Self::ScaleUp { .. } => 0,
            Self::ScaleDown { .. } => 1,
            Self::Resize { .. } => 2,
            Self::Restart { .. } => 3,
            Self::CreateDroplet { .. } => 4,
            Self::Monitor {} => 5,
            Self::None {} => 6,
        };
        Self::TYPES[index]
    }
}

/// A recommendation id: `rec_`, the 32 hex digits of its diagnosis id, `_` and its
/// number in the diagnosis (from 1).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RecommendationId(String);

impl RecommendationId {
    /// The `n`th recommendation (from 1) of `diagnosis`.
    pub fn new(diagnosis: &DiagnosisId, n: usize) -> Self {
        let hex = &diagnosis.as_str()[DiagnosisId::PREFIX.len()..];
        Self(format!("rec_{hex}_{n}"))
    }

    /// Parses `rec_<32 lowercase hex>_<n>` (n from 1).
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let invalid = || {
            ValidationError::new(
                "recommendation_id",
                "must be \"rec_\", 32 lowercase hex characters, \"_\" and a number from 1",
            )
        };
        let rest = value.strip_prefix("rec_").ok_or_else(invalid)?;
        let (hex, n) = rest.split_once('_').ok_or_else(invalid)?;
        DiagnosisId::parse(&format!("{}{hex}", DiagnosisId::PREFIX)).map_err(|_| invalid())?;
        let number_ok = !n.is_empty()
            && n.len() <= 4
            && n.bytes().all(|b| b.is_ascii_digit())
            && !n.starts_with('0');
        if !number_ok {
            return Err(invalid());
        }
        Ok(Self(value.to_owned()))
    }

    /// The id of the diagnosis this recommendation belongs to.
    pub fn diagnosis_id(&self) -> DiagnosisId {
        let hex = &self.0[4..4 + 32];
        DiagnosisId::parse(&format!("{}{hex}", DiagnosisId::PREFIX))
            .unwrap_or_else(|_| DiagnosisId::new())
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecommendationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RecommendationId {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<RecommendationId> for String {
    fn from(value: RecommendationId) -> Self {
        value.0
    }
}

impl JsonSchema for RecommendationId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RecommendationId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A recommendation id: `rec_`, the 32 hex digits of its diagnosis \
                            id, `_` and its number in the diagnosis (from 1).",
            "type": "string",
            "pattern": "^rec_[0-9a-f]{32}_[1-9][0-9]{0,3}$",
        })
    }
}

/// One piece of advice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Recommendation {
    /// `rec_<diagnosis hex>_<n>`.
    pub id: RecommendationId,
    /// A short title.
    pub title: String,
    /// Why, and what it would do.
    pub detail: String,
    /// How urgent.
    pub priority: Priority,
    /// What implementing it does.
    pub action: RecommendedAction,
}

/// The label of a health score: `Excellent` from 80, `Good` from 60, else
/// `Needs Attention` (the seed's thresholds).
pub fn health_label(score: u8) -> &'static str {
    match score {
        80.. => "Excellent",
        60..=79 => "Good",
        _ => "Needs Attention",
    }
}
