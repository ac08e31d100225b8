//! The read-model database: one portable SQL dialect over PostgreSQL and SQLite (sqlx `Any`).

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row, Transaction};

use crate::ProjectionError;

/// Read-model pool plus the backend name (SQLite write transactions start `IMMEDIATE`).
#[derive(Clone, Debug)]
pub struct ReadDb {
    pool: AnyPool,
    sqlite: bool,
}

impl ReadDb {
    /// Connects to the same database the event store uses.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, ProjectionError> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(Self {
            pool,
            sqlite: url.starts_with("sqlite:"),
        })
    }

    /// Applies the read-model migrations.
    pub async fn migrate(&self) -> Result<(), ProjectionError> {
        let mut migrator = sqlx::migrate!("./migrations");
        migrator.set_ignore_missing(true);
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// The pool, for queries.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A write transaction.
    pub async fn begin(&self) -> Result<Transaction<'static, sqlx::Any>, ProjectionError> {
        let statement = if self.sqlite {
            "BEGIN IMMEDIATE"
        } else {
            "BEGIN"
        };
        Ok(self.pool.begin_with(statement).await?)
    }

    /// True on SQLite.
    pub fn is_sqlite(&self) -> bool {
        self.sqlite
    }
}

/// Reads a JSON text column.
pub fn json_column(row: &AnyRow, column: &str) -> Result<serde_json::Value, ProjectionError> {
    let text: String = row.try_get(column)?;
    Ok(serde_json::from_str(&text)?)
}
