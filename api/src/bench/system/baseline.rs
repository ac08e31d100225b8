//! The baseline of `bench system` and what it reads from the database beside the load: a
//! raw single-row insert of a row shaped like `cg_events` at the same concurrency, the
//! bytes stored, and PostgreSQL's transaction counts.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::Connection;

use super::load::{Outcome, Request};

/// The raw insert on PostgreSQL: `bench append`'s contender, on its own database `url`.
pub async fn postgres_insert(url: &str, clients: usize) -> anyhow::Result<Request> {
    let (_, op) = crate::bench::append::raw_insert(url.to_owned(), clients).await?;
    Ok(Arc::new(move |_, _| {
        let op = Arc::clone(&op);
        Box::pin(async move {
            op().await?;
            Ok(Outcome::Done)
        })
    }))
}

/// The raw insert on SQLite: the same row into a table of the same shape in the file
/// `path` (WAL, as the store runs it).
pub async fn sqlite_insert(path: &Path, clients: usize) -> anyhow::Result<Request> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .busy_timeout(std::time::Duration::from_secs(30));
    let pool = SqlitePoolOptions::new()
        .max_connections(clients as u32 + 1)
        .connect_with(options)
        .await
        .context("open the raw SQLite file")?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS raw_events (position INTEGER PRIMARY KEY AUTOINCREMENT, \
         id TEXT NOT NULL UNIQUE, aggregate_type TEXT NOT NULL, aggregate_id TEXT NOT NULL, \
         sequence INTEGER NOT NULL, event_type TEXT NOT NULL, schema_version INTEGER NOT NULL, \
         recorded_at TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, \
         hash TEXT NOT NULL, UNIQUE (aggregate_type, aggregate_id, sequence))",
    )
    .execute(&pool)
    .await?;
    Ok(Arc::new(move |_, _| {
        let pool = pool.clone();
        Box::pin(async move {
            let id = engine::domain::ClusterId::new();
            let data = serde_json::json!({ "id": id, "name": "bench", "region": "nyc1", "provider": null });
            let metadata = engine::commands::CommandContext::new("bench").metadata();
            sqlx::query(
                "INSERT INTO raw_events (id, aggregate_type, aggregate_id, sequence, event_type, \
                 schema_version, recorded_at, data, metadata, hash) \
                 VALUES (?, 'cluster', ?, 1, 'cluster.created', 1, ?, ?, ?, ?)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(id.as_str())
            .bind(Utc::now().to_rfc3339())
            .bind(data.to_string())
            .bind(serde_json::to_string(&metadata)?)
            .bind("0".repeat(64))
            .execute(&pool)
            .await?;
            Ok(Outcome::Done)
        })
    }))
}

/// Where the measured data lives, to size it and count its transactions.
pub enum Database {
    Postgres(String),
    Sqlite(PathBuf),
}

impl Database {
    /// `postgres` or `sqlite`.
    pub fn backend(&self) -> &'static str {
        match self {
            Database::Postgres(_) => "postgres",
            Database::Sqlite(_) => "sqlite",
        }
    }

    /// Bytes stored: every table of the database with its indexes and TOAST (PostgreSQL:
    /// the log, the read models and the engine's other tables, not the system catalogs)
    /// or the file with its WAL (SQLite).
    pub async fn bytes(&self) -> anyhow::Result<u64> {
        match self {
            Database::Postgres(url) => {
                let mut conn = PgConnection::connect(url).await?;
                let bytes: i64 = sqlx::query_scalar(
                    "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::BIGINT \
                     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE c.relkind = 'r' \
                     AND n.nspname NOT IN ('pg_catalog', 'information_schema')",
                )
                .fetch_one(&mut conn)
                .await?;
                let _ = conn.close().await;
                Ok(bytes.max(0) as u64)
            }
            Database::Sqlite(path) => {
                let mut total = 0;
                for suffix in ["", "-wal"] {
                    let file = PathBuf::from(format!("{}{suffix}", path.display()));
                    total += std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
                }
                Ok(total)
            }
        }
    }

    /// Vacuums and analyses the database (PostgreSQL; nothing on SQLite), as autovacuum
    /// would minutes after the prefill's burst: the figures then measure a long log, not
    /// the dead row versions and cold visibility map a bulk load leaves for a while.
    pub async fn vacuum(&self) -> anyhow::Result<()> {
        let Database::Postgres(url) = self else {
            return Ok(());
        };
        let mut conn = PgConnection::connect(url).await?;
        sqlx::query("VACUUM (ANALYZE)").execute(&mut conn).await?;
        let _ = conn.close().await;
        Ok(())
    }

    /// Ends the checkpoint in progress at once (PostgreSQL's `CHECKPOINT`; nothing on
    /// SQLite). Copying a 1M-event log writes it whole to the WAL, which starts a
    /// checkpoint spread over minutes: without this, its writes would land on the first
    /// measurements, more on whichever ran first. Refused without the right (superuser or
    /// `pg_checkpoint`): the run goes on, with a warning.
    pub async fn checkpoint(&self) -> anyhow::Result<()> {
        let Database::Postgres(url) = self else {
            return Ok(());
        };
        let mut conn = PgConnection::connect(url).await?;
        if let Err(error) = sqlx::query("CHECKPOINT").execute(&mut conn).await {
            eprintln!("warning: CHECKPOINT refused ({error}): measuring without it");
        }
        let _ = conn.close().await;
        Ok(())
    }

    /// Transactions committed in this database so far (`pg_stat_database.xact_commit`;
    /// `None` on SQLite).
    pub async fn commits(&self) -> anyhow::Result<Option<i64>> {
        let Database::Postgres(url) = self else {
            return Ok(None);
        };
        let mut conn = PgConnection::connect(url).await?;
        let commits: i64 = sqlx::query_scalar(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
        )
        .fetch_one(&mut conn)
        .await?;
        let _ = conn.close().await;
        Ok(Some(commits))
    }

    /// Connections PostgreSQL would still accept for us now (`max_connections` less the
    /// reserved ones and every client connected; `None` on SQLite, which has no limit).
    pub async fn free_connections(&self) -> anyhow::Result<Option<i64>> {
        let Database::Postgres(url) = self else {
            return Ok(None);
        };
        let mut conn = PgConnection::connect(url).await?;
        let free: i64 = sqlx::query_scalar(
            "SELECT current_setting('max_connections')::BIGINT \
             - current_setting('superuser_reserved_connections')::BIGINT \
             - (SELECT COUNT(*) FROM pg_stat_activity WHERE backend_type = 'client backend')",
        )
        .fetch_one(&mut conn)
        .await?;
        let _ = conn.close().await;
        // Less this reading's own connection, which is closed now.
        Ok(Some(free + 1))
    }
}
