//! Validated value types: prefixed ids, resource names and catalog references.
//!
//! Every type is built through `parse` (or `new` for generated ids), so a value that exists
//! is valid. All of them serialise as plain JSON strings and fail to deserialise when the
//! string is invalid, so an event or a state snapshot can never hold an invalid value.

use super::aggregate::{Classify, DomainErrorKind};

mod app_version;
mod catalog_refs;
mod ids;
mod metric_type;
mod names;

pub use app_version::AppVersion;
pub use catalog_refs::{Image, Region, Size};
pub use ids::{ClusterId, DeploymentId, DiagnosisId, DropletId, JobId};
pub use metric_type::MetricType;
pub use names::{ClusterName, DropletName, ProviderId, ProviderName, MAX_NAME_LEN};

/// A value that failed validation: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The field (as named in the API) that is invalid.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl ValidationError {
    /// A validation error for `field`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl Classify for ValidationError {
    fn kind(&self) -> DomainErrorKind {
        DomainErrorKind::Invalid
    }
}
