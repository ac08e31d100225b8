//! Errors of the read side.

/// What can go wrong while projecting or querying read models.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("read-model database error")]
    Database(#[from] sqlx::Error),
    #[error("read-model migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("event store error")]
    Store(#[from] engine::store::StoreError),
    #[error("could not fold an event")]
    Fold(#[from] engine::fold::FoldError),
    #[error("read-model JSON")]
    Json(#[from] serde_json::Error),
    #[error("waited {0:?} for the read models to reach position {1}")]
    Timeout(std::time::Duration, i64),
    #[error("unknown projection {0:?}")]
    UnknownProjection(String),
    #[error("unknown dead letter {0:?}")]
    UnknownDeadLetter(String),
    /// A request the read side cannot take as it is (a bad schema name, …).
    #[error("{0}")]
    Invalid(String),
    #[error("a rebuild of {0:?} is already running")]
    RebuildRunning(String),
    /// A projection refuses an event (it cannot be applied as it is).
    #[error("event rejected: {0}")]
    Rejected(String),
}
