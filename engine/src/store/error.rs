//! Errors of the event store layer.

/// What can go wrong when appending to or reading from the log.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A stream moved on since the command read it (optimistic concurrency).
    #[error("concurrency conflict on {aggregate_type} {aggregate_id}: expected version {expected}, found {actual}")]
    Conflict {
        aggregate_type: String,
        aggregate_id: String,
        expected: u64,
        actual: u64,
    },
    /// The idempotency key was used before with another request.
    #[error("idempotency key {key} was already used with a different request")]
    IdempotencyMismatch { key: String },
    /// The database refused or failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// Migrations could not be applied.
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored payload could not be (de)serialised.
    #[error("event serialisation failed")]
    Serde(#[from] serde_json::Error),
    /// An idempotency record holds a reply kind this build does not know.
    #[error("idempotency record with unknown reply kind {0}")]
    UnknownReplyKind(i64),
    /// The batching writer is gone (the process is shutting down).
    #[error("the event writer has stopped")]
    WriterStopped,
    /// The database URL names no supported backend.
    #[error("unsupported database url {0:?} (expected postgres://, postgresql:// or sqlite:)")]
    UnsupportedUrl(String),
}
