//! What an attempt's error says about trying it again under its job type's
//! [`RetryPolicy`] (the policies themselves are in [`crate::policies`]).

use crate::commands::{CommandError, CommandErrorKind};
use crate::policies::RetryPolicy;
use crate::provider::ProviderError;

/// Why an attempt failed: a stable kind (what policies name), the message recorded on the
/// job, and whether the cause may pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptError {
    /// `provider_outage`, `provider_transient`, `no_capacity`, `no_placement`,
    /// `unsupported`, `unknown_resource`, `unknown_provider`, `store`, `conflict`,
    /// `invalid`, `not_found`, `unsupported_job` or `busy` (scale-down found every running
    /// droplet busy).
    pub kind: &'static str,
    /// What happened.
    pub message: String,
    /// Whether another attempt may succeed.
    pub retryable: bool,
}

impl AttemptError {
    /// Whether the attempt may be tried again under `policy`: the cause may pass and the
    /// policy does not name its kind (attempts left are the job's own business).
    pub fn retried_under(&self, policy: &RetryPolicy) -> bool {
        self.retryable && policy.retries_kind(self.kind)
    }

    /// An error that no retry can fix.
    pub fn permanent(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            retryable: false,
        }
    }
}

impl From<ProviderError> for AttemptError {
    fn from(error: ProviderError) -> Self {
        let kind = match &error {
            ProviderError::Outage { .. } => "provider_outage",
            ProviderError::Transient { .. } => "provider_transient",
            ProviderError::NoCapacity { .. } => "no_capacity",
            ProviderError::NoPlacement { .. } => "no_placement",
            ProviderError::UnsupportedRegion { .. } | ProviderError::UnsupportedSize { .. } => {
                "unsupported"
            }
            ProviderError::UnknownResource { .. } => "unknown_resource",
            ProviderError::UnknownProvider { .. } => "unknown_provider",
            ProviderError::InvalidFaults { .. } => "invalid",
        };
        Self {
            kind,
            retryable: error.is_retryable(),
            message: error.to_string(),
        }
    }
}

impl From<CommandError> for AttemptError {
    fn from(error: CommandError) -> Self {
        let kind = match error.kind() {
            CommandErrorKind::Conflict
            | CommandErrorKind::PreconditionFailed
            | CommandErrorKind::IdempotencyMismatch => "conflict",
            CommandErrorKind::NotFound => "not_found",
            CommandErrorKind::Invalid | CommandErrorKind::Unprocessable => "invalid",
            CommandErrorKind::Unavailable | CommandErrorKind::Internal => "store",
        };
        Self {
            kind,
            retryable: kind == "store",
            message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::JobType;

    #[test]
    fn an_error_is_retried_when_it_may_pass_and_the_policy_does_not_name_it() {
        let transient = AttemptError {
            kind: "provider_transient",
            message: String::new(),
            retryable: true,
        };
        let policy = RetryPolicy::default_for(JobType::Resize);
        assert!(transient.retried_under(&policy));
        let strict = RetryPolicy {
            non_retryable: vec!["provider_transient".into()],
            ..policy.clone()
        };
        assert!(!transient.retried_under(&strict));
        let permanent = AttemptError::permanent("provider_transient", "no");
        assert!(!permanent.retried_under(&policy));
    }

    #[test]
    fn provider_errors_keep_their_retryability() {
        let outage = AttemptError::from(ProviderError::Outage {
            provider: crate::domain::values::ProviderId::parse("nimbus").expect("id"),
        });
        assert_eq!((outage.kind, outage.retryable), ("provider_outage", true));
        let unknown = AttemptError::from(ProviderError::UnknownProvider { name: "x".into() });
        assert_eq!(
            (unknown.kind, unknown.retryable),
            ("unknown_provider", false)
        );
    }
}
