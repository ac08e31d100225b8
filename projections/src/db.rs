//! The read-model database: one portable SQL dialect over PostgreSQL and SQLite (sqlx `Any`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use engine::store::side_pool::{pool_options, SQLITE_MMAP_BYTES};
use engine::store::{GateGuard, GatedTx, WriteGate};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyConnection, AnyPool, Connection, Row};

use crate::{ProjectionError, SchemaName};

/// Read-model pool plus the backend name (SQLite write transactions start `IMMEDIATE`,
/// once the file's [`WriteGate`] lets them in).
#[derive(Clone, Debug)]
pub struct ReadDb {
    pool: AnyPool,
    sqlite: bool,
    url: String,
    gate: WriteGate,
}

impl ReadDb {
    /// Connects to the same database the event store uses.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, ProjectionError> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        let pool = pool_options::<sqlx::Any>(max_connections)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        map_the_file(conn).await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        Ok(Self {
            pool,
            sqlite,
            url: url.to_owned(),
            gate: WriteGate::for_url(url),
        })
    }

    /// A scratch schema, emptied (PostgreSQL: a schema, dropped and created again; SQLite:
    /// a database file next to the main one, deleted and attached anew), and a handle on
    /// which it is visible.
    pub async fn fresh_schema(&self, schema: &SchemaName) -> Result<Self, ProjectionError> {
        if !self.sqlite {
            let name = schema.as_str();
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                .execute(&self.pool)
                .await?;
            sqlx::query(&format!("CREATE SCHEMA {name}"))
                .execute(&self.pool)
                .await?;
            return Ok(self.clone());
        }
        let path = self.scratch_path(schema)?;
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            if file.exists() {
                std::fs::remove_file(&file).map_err(|e| {
                    ProjectionError::Invalid(format!("cannot remove {}: {e}", file.display()))
                })?;
            }
        }
        // ATTACH opens with the main connection's flags, which do not create files.
        let create = format!("sqlite://{}?mode=rwc", path.display());
        AnyConnection::connect(&create).await?.close().await?;
        self.attached(schema, &path).await
    }

    /// An existing scratch schema and a handle on which it is visible.
    pub async fn existing_schema(&self, schema: &SchemaName) -> Result<Self, ProjectionError> {
        let missing = || {
            ProjectionError::Invalid(format!(
                "there is no scratch schema {:?}; create it with `clustergenie replay --into`",
                schema.as_str()
            ))
        };
        if !self.sqlite {
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM information_schema.schemata WHERE schema_name = $1",
            )
            .bind(schema.as_str())
            .fetch_optional(&self.pool)
            .await?;
            return found.map(|_| self.clone()).ok_or_else(missing);
        }
        let path = self.scratch_path(schema)?;
        if !path.exists() {
            return Err(missing());
        }
        self.attached(schema, &path).await
    }

    /// The file of a scratch schema on SQLite: `<schema>.db` next to the main database.
    fn scratch_path(&self, schema: &SchemaName) -> Result<PathBuf, ProjectionError> {
        let rest = self
            .url
            .strip_prefix("sqlite://")
            .or_else(|| self.url.strip_prefix("sqlite:"))
            .unwrap_or(&self.url);
        let main = Path::new(rest.split('?').next().unwrap_or(rest));
        match main.parent() {
            Some(dir) if !rest.starts_with(":memory:") => {
                Ok(dir.join(format!("{}.db", schema.as_str())))
            }
            _ => Err(ProjectionError::Invalid(
                "an in-memory SQLite database has no place for a scratch schema".into(),
            )),
        }
    }

    /// A pool on the same database whose connections attach `path` as `schema`.
    async fn attached(&self, schema: &SchemaName, path: &Path) -> Result<Self, ProjectionError> {
        let attach = format!(
            "ATTACH DATABASE '{}' AS {}",
            path.display().to_string().replace('\'', "''"),
            schema.as_str()
        );
        let pool = AnyPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                let attach = attach.clone();
                Box::pin(async move {
                    map_the_file(conn).await?;
                    sqlx::query(&attach).execute(conn).await?;
                    Ok(())
                })
            })
            .connect(&self.url)
            .await?;
        Ok(Self {
            pool,
            sqlite: true,
            url: self.url.clone(),
            gate: self.gate.clone(),
        })
    }

    /// Applies the read-model migrations, fills the columns they added to existing rows
    /// (once), then makes the live tables' search indexes (backend-specific, so not in
    /// the portable migrations).
    pub async fn migrate(&self) -> Result<(), ProjectionError> {
        let mut migrator = sqlx::migrate!("./migrations");
        migrator.set_ignore_missing(true);
        migrator.run(&self.pool).await?;
        crate::read_models::jobs::backfill_droplet_ids(self).await?;
        let tables = [
            &crate::read_models::tables::CLUSTERS,
            &crate::read_models::tables::DROPLETS,
        ];
        crate::read_models::search::ensure_live(self, &tables).await
    }

    /// The pool, for queries.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A write transaction (on SQLite, once the file is this writer's: see [`WriteGate`]).
    pub async fn begin(&self) -> Result<WriteTx, ProjectionError> {
        let statement = if self.sqlite {
            "BEGIN IMMEDIATE"
        } else {
            "BEGIN"
        };
        Ok(self.gate.begin(&self.pool, statement).await?)
    }

    /// Waits for the file's turn to write, for a statement run outside [`begin`](Self::begin)
    /// (`None` on PostgreSQL).
    pub async fn write_turn(&self) -> Option<GateGuard> {
        self.gate.enter().await
    }

    /// The database's URL (a secret may be in it: never log it).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// True on SQLite.
    pub fn is_sqlite(&self) -> bool {
        self.sqlite
    }
}

/// A write transaction on the read models; on SQLite it holds the file's write gate until
/// it commits, rolls back or is dropped. It dereferences to its connection.
pub type WriteTx = GatedTx<sqlx::Any>;

/// Reads a JSON text column.
pub fn json_column(row: &AnyRow, column: &str) -> Result<serde_json::Value, ProjectionError> {
    let text: String = row.try_get(column)?;
    Ok(serde_json::from_str(&text)?)
}

/// Has a new SQLite connection read the file through a memory map, as the event store's
/// connections do (see `SQLITE_MMAP_BYTES`).
async fn map_the_file(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    let pragma = format!("PRAGMA mmap_size = {SQLITE_MMAP_BYTES}");
    sqlx::query(&pragma).execute(conn).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use engine::store::side_pool::SQLITE_MMAP_BYTES;
    use test_support::{Backend, ScratchDb};

    use super::ReadDb;
    use crate::SchemaName;

    /// The read models' SQLite connections read the file through a memory map, as the event
    /// store's do.
    #[tokio::test]
    async fn sqlite_connections_read_through_a_memory_map() {
        let db = ScratchDb::new(Backend::Sqlite).await;
        // The event store creates the file; the read models open it.
        let _store = engine::store::connect(db.url(), 2).await.unwrap();
        let read = ReadDb::connect(db.url(), 3).await.unwrap();
        // And the pool a replay or a rebuild writes its scratch schema through.
        let scratch = SchemaName::parse("mapped").unwrap();
        let attached = read.fresh_schema(&scratch).await.unwrap();
        for (pool, connections) in [(read.pool(), 3), (attached.pool(), 2)] {
            let mut held = Vec::new();
            for _ in 0..connections {
                let mut conn = pool.acquire().await.unwrap();
                let mmap: i64 = sqlx::query_scalar("PRAGMA mmap_size")
                    .fetch_one(&mut *conn)
                    .await
                    .unwrap();
                assert_eq!(mmap, i64::try_from(SQLITE_MMAP_BYTES).unwrap());
                held.push(conn);
            }
        }
    }

    /// A read-model write transaction and the event store's writes share the SQLite file's
    /// write gate: while one is open, the other waits in the process, not in SQLite.
    #[tokio::test]
    async fn sqlite_writes_of_the_read_models_and_the_log_share_one_gate() {
        let db = ScratchDb::new(Backend::Sqlite).await;
        let store = engine::store::SqliteEventStore::connect(db.url(), 2)
            .await
            .unwrap();
        let read = ReadDb::connect(db.url(), 3).await.unwrap();
        let tx = read.begin().await.unwrap();
        assert!(store.write_gate().is_gated());
        assert!(store.write_gate().try_enter().is_none());
        tx.commit().await.unwrap();
        let held = store.write_gate().try_enter();
        assert!(held.is_some());
        // And the other way round: the read models wait for the store's writer.
        let waiting = tokio::spawn(async move { read.begin().await.map(|_| ()) });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(held);
        waiting.await.unwrap().unwrap();
    }

    /// On PostgreSQL the database queues its writers: there is no gate.
    #[tokio::test]
    async fn postgres_writes_pass_no_gate() {
        let db = ScratchDb::postgres().await;
        let read = ReadDb::connect(db.url(), 2).await.unwrap();
        let _tx = read.begin().await.unwrap();
        assert!(read.write_turn().await.is_none());
    }
}
