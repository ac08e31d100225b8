//! The events of the `provider` aggregate. Both carry the whole configuration, so a
//! consumer never needs an earlier event to know a provider's current settings.

use cqrs_es::DomainEvent;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ProviderSpec;

/// Events of a provider configuration; serialised as
/// `{"type": "provider.<name>", "data": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", content = "data")]
pub enum ProviderEvent {
    /// `provider.registered`: the first configuration of this name.
    #[serde(rename = "provider.registered")]
    Registered(ProviderSpec),
    /// `provider.updated`: a new configuration replacing the previous one.
    #[serde(rename = "provider.updated")]
    Updated(ProviderSpec),
}

impl ProviderEvent {
    /// Every event type string of this aggregate.
    pub const TYPES: [&'static str; 2] = ["provider.registered", "provider.updated"];

    /// The event type string, e.g. `provider.registered`.
    pub fn type_str(&self) -> &'static str {
        match self {
            Self::Registered(_) => Self::TYPES[0],
            Self::Updated(_) => Self::TYPES[1],
        }
    }

    /// The configuration the event carries.
    pub fn spec(&self) -> &ProviderSpec {
        match self {
            Self::Registered(spec) | Self::Updated(spec) => spec,
        }
    }
}

impl DomainEvent for ProviderEvent {
    fn event_type(&self) -> String {
        self.type_str().to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
