//! Scratch databases go with their guards: after a normal end, after a panic, with pools
//! still open, and on either flavour of tokio runtime (the drop must not wait on the
//! runtime it is called from).

use sqlx::Connection;
use test_support::{admin_url, Backend, DatabaseGuard, ScratchDb};

async fn exists(name: &str) -> bool {
    let mut admin = sqlx::PgConnection::connect(&admin_url()).await.unwrap();
    let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&mut admin)
        .await
        .unwrap();
    found.is_some()
}

/// Opens a pool on `db` and keeps a connection busy in it, as a test's store would.
async fn use_it(db: &ScratchDb) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    // SQLite: nothing creates the file here but this pool.
    let url = match db.backend() {
        Backend::Sqlite => format!("{}?mode=rwc", db.url()),
        Backend::Postgres => db.url().to_owned(),
    };
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(2)
        .connect(&url)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE t (n BIGINT)")
        .execute(&pool)
        .await
        .unwrap();
    pool
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_goes_with_its_guard_while_a_pool_is_open() {
    let db = ScratchDb::postgres().await;
    let name = db.name().unwrap().to_owned();
    assert!(name.starts_with(test_support::db::SCRATCH_PREFIX));
    assert_eq!(db.backend(), Backend::Postgres);
    let pool = use_it(&db).await;
    assert!(exists(&name).await);
    drop(db);
    assert!(!exists(&name).await, "{name} is left behind");
    drop(pool);
}

/// The default `#[tokio::test]` runtime has one thread: a drop that waited on it would
/// hang here.
#[tokio::test]
async fn a_current_thread_runtime_does_not_deadlock_the_drop() {
    let db = ScratchDb::postgres().await;
    let name = db.name().unwrap().to_owned();
    let _pool = use_it(&db).await;
    drop(db);
    assert!(!exists(&name).await, "{name} is left behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_test_leaves_no_database() {
    let (tell, told) = tokio::sync::oneshot::channel();
    let test = tokio::spawn(async move {
        let db = ScratchDb::postgres().await;
        let _pool = use_it(&db).await;
        tell.send(db.name().unwrap().to_owned()).unwrap();
        panic!("the test fails");
    });
    let outcome = test.await;
    assert!(outcome.unwrap_err().is_panic());
    let name = told.await.unwrap();
    assert!(!exists(&name).await, "{name} is left behind");
}

#[tokio::test]
async fn sqlite_goes_with_its_directory() {
    let db = ScratchDb::new(Backend::Sqlite).await;
    let dir = db.dir().to_path_buf();
    assert!(db.url().starts_with("sqlite://"));
    let pool = use_it(&db).await;
    assert!(dir.join("cg.db").exists());
    pool.close().await;
    drop(db);
    assert!(!dir.exists());
}

#[tokio::test]
async fn an_adopted_database_is_dropped_if_it_was_created() {
    let name = format!("cg_test_adopted_{}", uuid::Uuid::new_v4().simple());
    let guard = DatabaseGuard::adopt(&name);
    let mut admin = sqlx::PgConnection::connect(&admin_url()).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .unwrap();
    assert!(guard.url().ends_with(&format!("/{name}")));
    drop(guard);
    assert!(!exists(&name).await);
    // Never created: nothing to drop, nothing fails.
    drop(DatabaseGuard::adopt(format!(
        "cg_test_never_{}",
        uuid::Uuid::new_v4().simple()
    )));
}
