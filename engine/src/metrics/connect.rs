//! Opening the metrics store on the event store's database.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::postgres::PgMetricsStore;
use super::reads::SampleStore;
use super::sqlite::SqliteMetricsStore;
use super::MetricsError;

/// The metrics store in the database named by `url` (`postgres://…`, `postgresql://…`
/// or `sqlite:…`), the one the event store uses: its tables come with the event store's
/// migrations ([`crate::store::EventLog::migrate`]), which must have run.
pub async fn connect_metrics(
    url: &str,
    max_connections: u32,
) -> Result<Arc<dyn SampleStore>, MetricsError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        return Ok(Arc::new(PgMetricsStore::new(pool)));
    }
    if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(2))
            .connect_with(options)
            .await?;
        return Ok(Arc::new(SqliteMetricsStore::new(pool)));
    }
    Err(MetricsError::Database(sqlx::Error::Configuration(
        format!(
            "unsupported database URL for metrics: {}",
            url.split(':').next().unwrap_or("")
        )
        .into(),
    )))
}
