//! [`ProviderError`]: why a provider operation failed, and whether trying again may help.

use crate::domain::values::{ProviderId, Region, Size};

/// The operations a provider carries out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Create a droplet.
    Provision,
    /// Change a droplet's size.
    Resize,
    /// Power a droplet off, on, or restart it.
    Power,
    /// Delete a droplet.
    Destroy,
    /// Put an application version on a droplet.
    Deploy,
}

impl Operation {
    /// The lowercase name (`provision`, `resize`, `power`, `destroy`, `deploy`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provision => "provision",
            Self::Resize => "resize",
            Self::Power => "power",
            Self::Destroy => "destroy",
            Self::Deploy => "deploy",
        }
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a provider operation failed. [`ProviderError::is_retryable`] tells a job whether to
/// schedule another attempt (transient failure, outage) or to fail at once (no capacity,
/// unsupported region or size, unknown resource or provider).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The provider is down (an injected outage). Retryable.
    #[error("provider {provider} is unavailable (outage)")]
    Outage {
        /// The provider.
        provider: ProviderId,
    },
    /// The operation failed for no lasting reason (an injected failure). Retryable.
    #[error("provider {provider}: {operation} failed transiently")]
    Transient {
        /// The provider.
        provider: ProviderId,
        /// What failed.
        operation: Operation,
    },
    /// The region is full. Not retryable: capacity only frees up when droplets go.
    #[error("provider {provider} has no capacity left in {region}")]
    NoCapacity {
        /// The provider.
        provider: ProviderId,
        /// The full region.
        region: Region,
    },
    /// The provider does not offer the region.
    #[error("provider {provider} does not offer region {region}")]
    UnsupportedRegion {
        /// The provider.
        provider: ProviderId,
        /// The region.
        region: Region,
    },
    /// The provider does not offer the size.
    #[error("provider {provider} does not offer size {size}")]
    UnsupportedSize {
        /// The provider.
        provider: ProviderId,
        /// The size.
        size: Size,
    },
    /// The provider knows no droplet by this provider-side id (destroyed, or never made).
    #[error("provider {provider} has no droplet {resource}")]
    UnknownResource {
        /// The provider.
        provider: ProviderId,
        /// The provider-side id.
        resource: String,
    },
    /// No provider of that name is registered.
    #[error("no provider named {name:?}")]
    UnknownProvider {
        /// The name asked for.
        name: String,
    },
    /// Placement found no provider offering the region and size (outside the avoided ones).
    #[error("no provider offers size {size} in region {region}")]
    NoPlacement {
        /// The region.
        region: Region,
        /// The size.
        size: Size,
    },
    /// A fault setting is out of range.
    #[error("{field}: {message}")]
    InvalidFaults {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl ProviderError {
    /// Whether another attempt of the same operation may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Outage { .. } | Self::Transient { .. })
    }
}
