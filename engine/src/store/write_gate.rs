//! One writer at a time per SQLite database file, queued in the process rather than in
//! SQLite's busy handler.
//!
//! SQLite lets one connection write a file at a time. In the embedded mode the log's
//! writer, the projections, the job runtime's leases and the side tables all write the same
//! file from their own connections, and a connection that finds the file locked waits in
//! SQLite's default busy handler: it sleeps 1, 2, 5, 10, 15, 20, 25… ms between tries,
//! whether the lock is released 50 µs later or not. Measured on the embedded server, a
//! create-droplet request at one client (its job writing beside the next request) spent
//! most of its 12 ms in those sleeps.
//!
//! Every SQLite write of the process therefore first enters the file's [`WriteGate`]: a
//! fair async mutex, one per database file, found by the file's path whichever pool or URL
//! names it. The next writer wakes the moment the last one commits, in arrival order. The
//! busy timeout stays as the fallback for another process on the same file (a
//! `clustergenie` command run beside the server). On PostgreSQL there is no gate.
//!
//! A write transaction is opened through [`WriteGate::begin`], which enters the gate and
//! returns the transaction with the gate held ([`GatedTx`]) until it commits, rolls back
//! or is dropped: a writer cannot begin without its turn, nor keep the turn past its end.

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Database, Pool, SqlitePool, Transaction};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// Held while writing: the file's gate is closed until it is dropped.
pub type GateGuard = OwnedMutexGuard<()>;

/// The gates of the files this process writes, by path (dropped with their last user).
static GATES: LazyLock<Mutex<HashMap<PathBuf, Weak<AsyncMutex<()>>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The gate of one database file (or none: PostgreSQL, or an in-memory database).
#[derive(Clone, Debug, Default)]
pub struct WriteGate(Option<Arc<AsyncMutex<()>>>);

impl WriteGate {
    /// No gate: [`enter`](Self::enter) returns at once.
    pub fn none() -> Self {
        Self(None)
    }

    /// The gate of the database `url` names: the file's for `sqlite:…`, none otherwise.
    pub fn for_url(url: &str) -> Self {
        if !url.starts_with("sqlite:") {
            return Self::none();
        }
        match SqliteConnectOptions::from_str(url) {
            Ok(options) => Self::for_file(options.get_filename()),
            Err(_) => Self::none(),
        }
    }

    /// The gate of the file `pool` is connected to.
    pub fn for_pool(pool: &SqlitePool) -> Self {
        Self::for_file(pool.connect_options().get_filename())
    }

    /// The gate of the database file `path`: the same for every spelling of the path.
    pub fn for_file(path: &Path) -> Self {
        if path.as_os_str().is_empty() || path == Path::new(":memory:") {
            return Self::none();
        }
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| absolute(path));
        let mut gates = GATES
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        gates.retain(|_, gate| gate.strong_count() > 0);
        if let Some(gate) = gates.get(&key).and_then(Weak::upgrade) {
            return Self(Some(gate));
        }
        let gate = Arc::new(AsyncMutex::new(()));
        gates.insert(key, Arc::downgrade(&gate));
        Self(Some(gate))
    }

    /// Waits for the file's turn to write; the file is this caller's until the guard drops
    /// (`None` when there is no gate).
    pub async fn enter(&self) -> Option<GateGuard> {
        match &self.0 {
            Some(gate) => Some(Arc::clone(gate).lock_owned().await),
            None => None,
        }
    }

    /// Waits for the file's turn, then begins a transaction on `pool` with `statement`
    /// (`BEGIN IMMEDIATE` on SQLite, so that the file's write lock is taken at once); the
    /// turn is the transaction's until it ends.
    pub async fn begin<DB: Database>(
        &self,
        pool: &Pool<DB>,
        statement: &'static str,
    ) -> Result<GatedTx<DB>, sqlx::Error> {
        let turn = self.enter().await;
        let tx = pool.begin_with(statement).await?;
        Ok(GatedTx { tx, _turn: turn })
    }

    /// The guard if the gate is open now, without waiting; `None` if it is closed (or if
    /// there is no gate).
    pub fn try_enter(&self) -> Option<GateGuard> {
        self.0
            .as_ref()
            .and_then(|gate| Arc::clone(gate).try_lock_owned().ok())
    }

    /// True when this is a real gate (a SQLite file).
    pub fn is_gated(&self) -> bool {
        self.0.is_some()
    }
}

/// A write transaction holding its file's gate (if it has one) until it commits, rolls
/// back or is dropped. It dereferences to its connection.
pub struct GatedTx<DB: Database> {
    // Declared first, dropped first: a dropped transaction rolls back before the gate
    // opens.
    tx: Transaction<'static, DB>,
    _turn: Option<GateGuard>,
}

impl<DB: Database> GatedTx<DB> {
    /// Commits, then opens the gate.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    /// Rolls back, then opens the gate.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl<DB: Database> Deref for GatedTx<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        &self.tx
    }
}

impl<DB: Database> DerefMut for GatedTx<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.tx
    }
}

/// `path` made absolute against the working directory (for a file not created yet).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_spelling_of_one_file_shares_one_gate() {
        // Given a database file named two ways
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("one.db");
        std::fs::write(&file, b"").unwrap();
        let by_url = WriteGate::for_url(&format!("sqlite:{}?mode=rwc", file.display()));
        let dotted = dir.path().join(".").join("one.db");
        let by_path = WriteGate::for_file(&dotted);
        // When one holds the gate
        let held = by_url.enter().await;
        assert!(held.is_some());
        // Then the other finds it closed, until it is released
        assert!(by_path.try_enter().is_none());
        drop(held);
        assert!(by_path.try_enter().is_some());
    }

    #[tokio::test]
    async fn other_files_and_postgres_do_not_wait() {
        let dir = tempfile::tempdir().unwrap();
        let a = WriteGate::for_file(&dir.path().join("a.db"));
        let b = WriteGate::for_file(&dir.path().join("b.db"));
        let _held = a.enter().await;
        assert!(b.try_enter().is_some());
        let postgres = WriteGate::for_url("postgres://postgres@127.0.0.1/postgres");
        assert!(!postgres.is_gated());
        assert!(postgres.enter().await.is_none());
    }

    #[tokio::test]
    async fn writers_through_the_gate_never_meet_a_locked_file() {
        // Given two pools on one file that give up at once on a locked file
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}?mode=rwc", dir.path().join("w.db").display());
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .busy_timeout(std::time::Duration::ZERO);
        let open = || {
            sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options.clone())
        };
        let (one, two) = (open().await.unwrap(), open().await.unwrap());
        sqlx::query("CREATE TABLE t (n INTEGER)")
            .execute(&one)
            .await
            .unwrap();
        // When eight tasks write through their pools' gates, each holding the file a while
        let mut tasks = Vec::new();
        for n in 0..8_i64 {
            let pool = if n % 2 == 0 { one.clone() } else { two.clone() };
            tasks.push(tokio::spawn(async move {
                let mut tx = WriteGate::for_pool(&pool)
                    .begin(&pool, "BEGIN IMMEDIATE")
                    .await?;
                sqlx::query("INSERT INTO t (n) VALUES ($1)")
                    .bind(n)
                    .execute(&mut *tx)
                    .await?;
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                tx.commit().await
            }));
        }
        // Then none found the file locked, and every row is there
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&two)
            .await
            .unwrap();
        assert_eq!(rows, 8);
    }
}
