//! The `provider` aggregate: the configuration of one simulated cloud provider (regions,
//! sizes, price multiplier, capacity, latencies), as registered through
//! `POST /v1/providers`.
//!
//! A configuration aggregate: it only records what an operator set. The built-in
//! providers (see [`crate::provider::default_specs`]) exist without any event; registering
//! one of their names records a configuration that replaces the default. Injected faults
//! are operational state of one process and are never recorded here (see
//! `docs/providers.md`).

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::aggregate::{handle_with_decide, Classify, Decide, DomainErrorKind};
use super::values::ValidationError;

mod events;
mod offer;
mod spec;
#[cfg(test)]
mod tests;

pub use events::*;
pub use offer::ProviderOffer;
pub use spec::{Latency, ProviderSpec, MAX_CAPACITY, MAX_LATENCY_MS, MAX_PRICE_MULTIPLIER};

/// The state of one provider configuration, folded from its events.
/// Stored (rows, snapshots) without its unset fields: a field missing reads as unset.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderConfig {
    /// The current configuration, once registered.
    pub spec: Option<ProviderSpec>,
    /// How many times it was updated after registration.
    pub updates: u32,
}

impl ProviderConfig {
    /// Whether the provider was ever registered.
    pub fn exists(&self) -> bool {
        self.spec.is_some()
    }
}

/// Commands on a provider configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderCommand {
    /// Register the provider, or replace its configuration (the same configuration again
    /// changes nothing).
    RegisterProvider {
        /// The whole configuration.
        spec: ProviderSpec,
    },
}

/// Why a provider command was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderConfigError {
    /// The configuration breaks a rule (each field says which).
    #[error("invalid provider configuration: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<ValidationError>),
}

impl Classify for ProviderConfigError {
    fn kind(&self) -> DomainErrorKind {
        match self {
            Self::Invalid(_) => DomainErrorKind::Invalid,
        }
    }
}

impl Decide for ProviderConfig {
    fn decide(&self, command: ProviderCommand) -> Result<Vec<ProviderEvent>, ProviderConfigError> {
        match command {
            ProviderCommand::RegisterProvider { spec } => {
                let errors = spec.validate();
                if !errors.is_empty() {
                    return Err(ProviderConfigError::Invalid(errors));
                }
                Ok(match &self.spec {
                    None => vec![ProviderEvent::Registered(spec)],
                    Some(current) if *current == spec => Vec::new(),
                    Some(_) => vec![ProviderEvent::Updated(spec)],
                })
            }
        }
    }
}

impl Aggregate for ProviderConfig {
    const TYPE: &'static str = "provider";
    type Command = ProviderCommand;
    type Event = ProviderEvent;
    type Error = ProviderConfigError;
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
            ProviderEvent::Registered(spec) => self.spec = Some(spec),
            ProviderEvent::Updated(spec) => {
                self.spec = Some(spec);
                self.updates += 1;
            }
        }
    }
}
