//! A pool on the event store's database for tables kept beside the log (metric samples,
//! the auto-scaling history): the URL's scheme picks PostgreSQL or SQLite, and each store
//! wraps the pool it gets.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

/// A pool on one of the two backends.
pub enum SidePool {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// Opens a pool of at most `max_connections` (at least 2) on the database named by `url`
/// (`postgres://…`, `postgresql://…` or `sqlite:…`); SQLite in WAL mode with the given
/// `synchronous` level. An unsupported scheme is a configuration error naming `what`.
pub async fn open_side_pool(
    url: &str,
    max_connections: u32,
    synchronous: SqliteSynchronous,
    what: &str,
) -> Result<SidePool, sqlx::Error> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        return Ok(SidePool::Postgres(pool));
    }
    if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(2))
            .connect_with(options)
            .await?;
        return Ok(SidePool::Sqlite(pool));
    }
    let scheme = url.split(':').next().unwrap_or("");
    Err(sqlx::Error::Configuration(
        format!("unsupported database URL for {what}: {scheme}").into(),
    ))
}
