//! A pool on the event store's database for tables kept beside the log (metric samples,
//! the auto-scaling history): the URL's scheme picks PostgreSQL or SQLite, and each store
//! wraps the pool it gets. Also how every SQLite connection of the process is opened
//! ([`sqlite_options`]) and the options every pool on a database server starts from
//! ([`pool_options`], with [`ping_when_idle`]).

use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

/// How much of a SQLite database file each connection reads through a memory map
/// (`PRAGMA mmap_size`), rather than by copying pages into its own page cache.
///
/// In WAL mode a connection empties its page cache whenever it starts a read after another
/// connection wrote, and with the log, the read models and the side tables in one file
/// written by several connections, that is nearly every transaction: each one reads its
/// B-tree pages again, as many as the trees are deep. Through the map those reads are
/// memory accesses to the operating system's page cache instead of a system call and a
/// copy each. The mapped pages are the kernel's file cache, shared and reclaimable, not the
/// process's own memory.
pub const SQLITE_MMAP_BYTES: u64 = 128 * 1024 * 1024;

/// The options every SQLite connection of the process is opened with: the file named by
/// `url` (created if missing), WAL mode, the `synchronous` level given, a 30 s busy
/// timeout and reads through a memory map of [`SQLITE_MMAP_BYTES`].
pub fn sqlite_options(
    url: &str,
    synchronous: SqliteSynchronous,
) -> Result<SqliteConnectOptions, sqlx::Error> {
    Ok(SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous)
        .busy_timeout(Duration::from_secs(30))
        .pragma("mmap_size", SQLITE_MMAP_BYTES.to_string()))
}

/// How long a pooled connection may sit idle and still be handed out unchecked
/// ([`ping_when_idle`]).
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// `options` that check a connection with a round trip (`Connection::ping`) before handing
/// it out only when it sat idle in the pool for [`PING_AFTER_IDLE`] or more.
///
/// sqlx pings before *every* acquire by default. Under load a connection goes back and
/// forth between the pool and its users many times a second, and each ping was a round
/// trip to the server on the way to every statement: on the writer's path, one per
/// committed batch, which every command of the batch waited for (a batch's write took
/// 1.39 ms with the ping and 1.12 ms without it, creating clusters at 16 clients). A
/// connection that was in use a moment ago is as good as the ping would show; one that sat
/// idle long enough for a server restart, a proxy's idle timeout or a network drop to
/// have killed it is still checked, and replaced when the ping fails.
pub fn ping_when_idle<DB: sqlx::Database>(options: PoolOptions<DB>) -> PoolOptions<DB> {
    options
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_AFTER_IDLE {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// The options the process's pools on a database start from: `max_connections` (at least
/// two), ten seconds to wait for a free connection, and a connection checked before use
/// only after it sat idle ([`ping_when_idle`]).
pub fn pool_options<DB: sqlx::Database>(max_connections: u32) -> PoolOptions<DB> {
    ping_when_idle(PoolOptions::new())
        .max_connections(max_connections.max(2))
        .acquire_timeout(Duration::from_secs(10))
}

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
        let pool = pool_options::<sqlx::Postgres>(max_connections)
            .connect(url)
            .await?;
        return Ok(SidePool::Postgres(pool));
    }
    if url.starts_with("sqlite:") {
        let options = sqlite_options(url, synchronous)?;
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
