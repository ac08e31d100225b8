//! Shared test harness: run one test body against PostgreSQL (a fresh database per test,
//! from `#[sqlx::test]`) and against SQLite (a fresh file per test).

#![allow(dead_code)]

use std::sync::Arc;

use engine::store::{EventStore, PgEventStore, SqliteEventStore};

/// A fresh, migrated SQLite store in a temporary directory (kept alive by the guard).
pub async fn sqlite_store() -> (Arc<dyn EventStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("events.db").display());
    let store = SqliteEventStore::connect(&url, 8)
        .await
        .expect("open sqlite");
    store.migrate().await.expect("migrate sqlite");
    (Arc::new(store), dir)
}

/// A migrated PostgreSQL store over the pool `#[sqlx::test]` gives a test.
pub async fn postgres_store(pool: sqlx::PgPool) -> Arc<dyn EventStore> {
    let store = PgEventStore::from_pool(pool);
    store.migrate().await.expect("migrate postgres");
    Arc::new(store)
}

/// Generates `<name>::postgres` and `<name>::sqlite` tests running `$body(store)`.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:path) => {
        mod $name {
            #[sqlx::test(migrations = false)]
            async fn postgres(pool: sqlx::PgPool) {
                let store = $crate::common::postgres_store(pool).await;
                $body(store).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let (store, _dir) = $crate::common::sqlite_store().await;
                $body(store).await;
            }
        }
    };
}
