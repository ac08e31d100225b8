//! Scratch databases: a fresh PostgreSQL database or SQLite file for one test, removed when
//! its guard is dropped, also when the test panics.

use std::fmt;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use sqlx::Connection;

/// The PostgreSQL server tests use when `$DATABASE_URL` does not name one.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Every scratch PostgreSQL database is named `cg_test_<uuid>`: what a killed test process
/// leaves behind is easy to find and drop.
pub const SCRATCH_PREFIX: &str = "cg_test_";

/// How long dropping a scratch database may take before the guard gives up on it.
const DROP_TIMEOUT: Duration = Duration::from_secs(30);

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Both backends, PostgreSQL first.
    pub const ALL: [Backend; 2] = [Backend::Postgres, Backend::Sqlite];

    /// `"sqlite"` or `"postgres"`, as the event store's `backend()` names it.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The PostgreSQL server of the tests: `$DATABASE_URL` when it is a `postgres` URL, else
/// [`DEFAULT_DATABASE_URL`]. Scratch databases are created next to the database it names.
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.into())
}

/// `url` with its database name replaced by `name`; user, host, port and query parameters
/// are kept, and a URL without a database gets one.
///
/// ```
/// use test_support::with_database;
/// assert_eq!(
///     with_database("postgres://u:p@h:5432/db?sslmode=disable", "x"),
///     "postgres://u:p@h:5432/x?sslmode=disable"
/// );
/// ```
pub fn with_database(url: &str, name: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let (query_start, query) = url.find('?').map_or((url.len(), ""), |i| (i, &url[i..]));
    let path_start = url[scheme_end..query_start]
        .find('/')
        .map_or(query_start, |i| scheme_end + i);
    format!("{}/{name}{query}", &url[..path_start])
}

/// A fresh database for one test, and a temporary directory beside it.
///
/// SQLite: the file `cg.db` in the directory (created by whoever connects first).
/// PostgreSQL: a database `cg_test_<uuid>` on the server of [`admin_url`]. Dropping the
/// `ScratchDb` drops the database (with `FORCE`, so pools still open do not hold it) and
/// removes the directory, also while a panic unwinds.
#[must_use = "the database is dropped with its guard"]
pub struct ScratchDb {
    backend: Backend,
    url: String,
    // Fields drop in order: the database before the directory.
    postgres: Option<DatabaseGuard>,
    dir: tempfile::TempDir,
}

impl ScratchDb {
    /// A fresh database on `backend`.
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite(),
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// A SQLite file in a fresh temporary directory (nothing is created until a client
    /// connects: the engine's store and the read models create the file).
    pub fn sqlite() -> Self {
        let dir = tempdir();
        let url = format!("sqlite://{}", dir.path().join("cg.db").display());
        Self {
            backend: Backend::Sqlite,
            url,
            postgres: None,
            dir,
        }
    }

    /// A fresh, empty PostgreSQL database. Panics, naming the server, when it cannot be
    /// reached.
    pub async fn postgres() -> Self {
        let guard = DatabaseGuard::create().await;
        Self {
            backend: Backend::Postgres,
            url: guard.url(),
            postgres: Some(guard),
            dir: tempdir(),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL to connect to the database with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A temporary directory of the test's own (a data directory, settings files, logs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The PostgreSQL database's name (`None` on SQLite).
    pub fn name(&self) -> Option<&str> {
        self.postgres.as_ref().map(DatabaseGuard::name)
    }
}

impl fmt::Debug for ScratchDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScratchDb")
            .field("backend", &self.backend)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// Drops a PostgreSQL database (on the server of [`admin_url`]) when it is dropped, also
/// while a panic unwinds: for databases a test creates, or has a program create, by name.
#[must_use = "the database is dropped with its guard"]
#[derive(Debug)]
pub struct DatabaseGuard {
    admin: String,
    name: String,
}

impl DatabaseGuard {
    /// Creates a fresh database `cg_test_<uuid>` and guards it.
    pub async fn create() -> Self {
        let admin = admin_url();
        let name = format!("{SCRATCH_PREFIX}{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL is needed for this test ({admin}): {e}"));
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("create the scratch database {name}: {e}"));
        let _ = conn.close().await;
        Self { admin, name }
    }

    /// Guards the database `name`, which may not exist yet (a program under test creates
    /// it): it is dropped, if it exists then, with the guard.
    pub fn adopt(name: impl Into<String>) -> Self {
        Self {
            admin: admin_url(),
            name: name.into(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL of the guarded database.
    pub fn url(&self) -> String {
        with_database(&self.admin, &self.name)
    }
}

impl Drop for DatabaseGuard {
    fn drop(&mut self) {
        drop_database(&self.admin, &self.name);
    }
}

/// Drops database `name`, waiting (bounded) until it is gone. Runs on a thread of its own
/// with a runtime of its own: `Drop` cannot await, and blocking on the test's runtime from
/// inside it could deadlock (a current-thread runtime would never run the drop). Reports
/// failures on stderr instead of panicking: this runs while panics unwind.
fn drop_database(admin: &str, name: &str) {
    let (admin, name) = (admin.to_owned(), name.to_owned());
    let shown = name.clone();
    let (done, finished) = mpsc::channel::<Result<(), String>>();
    let spawned = std::thread::Builder::new()
        .name(format!("drop {name}"))
        .spawn(move || {
            let outcome = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("a runtime: {e}"))
                .and_then(|runtime| {
                    runtime.block_on(async {
                        let mut conn = sqlx::PgConnection::connect(&admin)
                            .await
                            .map_err(|e| format!("connect to {admin}: {e}"))?;
                        let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                        let dropped = sqlx::query(&drop).execute(&mut conn).await;
                        let _ = conn.close().await;
                        dropped.map(|_| ()).map_err(|e| e.to_string())
                    })
                });
            let _ = done.send(outcome);
        });
    let outcome = match spawned {
        Ok(_) => finished
            .recv_timeout(DROP_TIMEOUT)
            .unwrap_or_else(|_| Err(format!("not done within {DROP_TIMEOUT:?}"))),
        Err(e) => Err(format!("a thread: {e}")),
    };
    if let Err(error) = outcome {
        eprintln!("test-support: could not drop the scratch database {shown}: {error}");
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_urls_are_rewritten() {
        for (url, expected) in [
            (
                "postgres://postgres@127.0.0.1:5432/postgres",
                "postgres://postgres@127.0.0.1:5432/x",
            ),
            (
                "postgres://u:p@h/db?sslmode=disable",
                "postgres://u:p@h/x?sslmode=disable",
            ),
            ("postgresql://h:5432", "postgresql://h:5432/x"),
            (
                "postgresql://h:5432?sslmode=require",
                "postgresql://h:5432/x?sslmode=require",
            ),
            (
                "postgres:///db?host=/var/run/postgresql",
                "postgres:///x?host=/var/run/postgresql",
            ),
        ] {
            assert_eq!(with_database(url, "x"), expected, "{url}");
        }
    }
}
