//! Opening the metrics store on the event store's database.

use std::sync::Arc;

use sqlx::sqlite::SqliteSynchronous;

use super::postgres::PgMetricsStore;
use super::reads::SampleStore;
use super::sqlite::SqliteMetricsStore;
use super::MetricsError;
use crate::store::side_pool::{open_side_pool, SidePool};

/// The metrics store in the database named by `url` (`postgres://…`, `postgresql://…`
/// or `sqlite:…`), the one the event store uses: its tables come with the event store's
/// migrations ([`crate::store::EventLog::migrate`]), which must have run. Samples are
/// telemetry: on SQLite a commit waits for the WAL write, not for its sync.
pub async fn connect_metrics(
    url: &str,
    max_connections: u32,
) -> Result<Arc<dyn SampleStore>, MetricsError> {
    let pool = open_side_pool(url, max_connections, SqliteSynchronous::Normal, "metrics");
    Ok(match pool.await? {
        SidePool::Postgres(pool) => Arc::new(PgMetricsStore::new(pool)),
        SidePool::Sqlite(pool) => Arc::new(SqliteMetricsStore::new(pool)),
    })
}
