//! The command layer's one error type.

use crate::domain::{
    AutoscalerError, Classify, ClusterError, DeploymentError, DiagnosisError, DomainErrorKind,
    DropletError, JobError, ProviderConfigError, RateLimitRuleError, ValidationError,
};
use crate::fold::FoldError;
use crate::store::StoreError;

/// How a command error should be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandErrorKind {
    /// The input is malformed or breaks a value rule (400/422).
    Invalid,
    /// Something named does not exist (404).
    NotFound,
    /// The command contradicts the current state (409).
    Conflict,
    /// The command is well-formed but cannot apply (422).
    Unprocessable,
    /// `If-Match` named a stale version (412).
    PreconditionFailed,
    /// The key was used with another request (409).
    IdempotencyMismatch,
    /// Too much contention, or the store is unavailable (503).
    Unavailable,
    /// A bug or a broken store (500).
    Internal,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Droplet(#[from] DropletError),
    #[error(transparent)]
    Diagnosis(#[from] DiagnosisError),
    #[error(transparent)]
    Deployment(#[from] DeploymentError),
    #[error(transparent)]
    Job(#[from] JobError),
    #[error(transparent)]
    Autoscaler(#[from] AutoscalerError),
    #[error(transparent)]
    Provider(#[from] ProviderConfigError),
    #[error(transparent)]
    RateLimitRule(#[from] RateLimitRuleError),
    #[error(transparent)]
    Validation(#[from] ValidationError),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<ValidationError>),
    #[error("scale job {0} of the last auto-scaling decision is still running")]
    ScaleJobRunning(crate::domain::JobId),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("version {expected} is stale; the current version is {actual}")]
    PreconditionFailed { expected: u64, actual: u64 },
    #[error("idempotency key {0:?} was already used with a different request")]
    IdempotencyMismatch(String),
    #[error("the command kept conflicting with concurrent commands; try again")]
    Contention,
    #[error("event store failure")]
    Store(#[source] StoreError),
    #[error("event payload could not be (de)serialised")]
    Serde(#[from] serde_json::Error),
    #[error("a stored event could not be read in its current version")]
    Upcast(#[from] crate::domain::upcast::UpcastError),
}

impl From<StoreError> for CommandError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::IdempotencyMismatch { key } => Self::IdempotencyMismatch(key),
            other => Self::Store(other),
        }
    }
}

impl From<FoldError> for CommandError {
    fn from(error: FoldError) -> Self {
        match error {
            FoldError::Store(error) => error.into(),
            FoldError::Serde(error) => Self::Serde(error),
            FoldError::Upcast(error) => Self::Upcast(error),
        }
    }
}

impl CommandError {
    /// How to answer this error.
    pub fn kind(&self) -> CommandErrorKind {
        let domain = |kind| match kind {
            DomainErrorKind::NotFound => CommandErrorKind::NotFound,
            DomainErrorKind::Conflict => CommandErrorKind::Conflict,
            DomainErrorKind::Unprocessable => CommandErrorKind::Unprocessable,
            DomainErrorKind::Invalid => CommandErrorKind::Invalid,
        };
        match self {
            Self::Cluster(e) => domain(e.kind()),
            Self::Droplet(e) => domain(e.kind()),
            Self::Diagnosis(e) => domain(e.kind()),
            Self::Deployment(e) => domain(e.kind()),
            Self::Job(e) => domain(e.kind()),
            Self::Autoscaler(e) => domain(e.kind()),
            Self::Provider(e) => domain(e.kind()),
            Self::RateLimitRule(e) => domain(e.kind()),
            Self::Validation(_) | Self::Invalid(_) => CommandErrorKind::Invalid,
            Self::NotFound { .. } => CommandErrorKind::NotFound,
            Self::ScaleJobRunning(_) => CommandErrorKind::Conflict,
            Self::PreconditionFailed { .. } => CommandErrorKind::PreconditionFailed,
            Self::IdempotencyMismatch(_) => CommandErrorKind::IdempotencyMismatch,
            Self::Contention | Self::Store(StoreError::WriterStopped) => {
                CommandErrorKind::Unavailable
            }
            Self::Store(StoreError::Database(sqlx::Error::PoolTimedOut)) => {
                CommandErrorKind::Unavailable
            }
            Self::Store(_) | Self::Serde(_) | Self::Upcast(_) => CommandErrorKind::Internal,
        }
    }

    /// Field -> message for validation errors (empty for other errors).
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Validation(e) => vec![(e.field, e.message.clone())],
            Self::Invalid(errors) | Self::Provider(ProviderConfigError::Invalid(errors)) => errors
                .iter()
                .map(|e| (e.field, e.message.clone()))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Collects the validation errors of several fields, to report them all at once.
#[derive(Debug, Default)]
pub struct Fields {
    errors: Vec<ValidationError>,
}

impl Fields {
    /// Keeps the value, or records the error.
    pub fn check<T>(&mut self, parsed: Result<T, ValidationError>) -> Option<T> {
        parsed.map_err(|e| self.errors.push(e)).ok()
    }

    /// The fields that failed so far.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.errors.iter().map(|e| e.field)
    }

    /// Records an error.
    pub fn fail(&mut self, field: &'static str, message: impl Into<String>) {
        self.errors.push(ValidationError::new(field, message));
    }

    /// `Ok(())` when no field failed.
    pub fn finish(self) -> Result<(), CommandError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(CommandError::Invalid(self.errors))
        }
    }
}
