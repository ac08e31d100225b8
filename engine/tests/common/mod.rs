//! Shared harness of the engine's tests: a fresh, migrated event store on PostgreSQL or
//! SQLite (a scratch database from `test_support`, dropped with the fixture), for
//! `test_support::on_both_backends!` and for tests on one backend.

#![allow(dead_code)]

use std::sync::Arc;

use engine::store::{EventLog, EventStore, PgEventStore};
use test_support::{Backend, ScratchDb};

/// Connections of a test's store.
const CONNECTIONS: u32 = 8;

/// A fresh, migrated event store; the scratch database goes with it.
pub struct Fixture {
    pub store: Arc<dyn EventStore>,
    pub db: ScratchDb,
}

impl test_support::Fixture for Fixture {
    type Arg<'a> = Arc<dyn EventStore>;

    async fn open(backend: Backend) -> Self {
        let db = ScratchDb::new(backend).await;
        let store = engine::store::connect(db.url(), CONNECTIONS)
            .await
            .unwrap_or_else(|e| panic!("open the {backend} store: {e}"));
        store.migrate().await.expect("migrate the store");
        Self { store, db }
    }

    fn arg(&self) -> Arc<dyn EventStore> {
        Arc::clone(&self.store)
    }
}

/// A fresh, migrated SQLite store; keep the scratch database as long as the store.
pub async fn sqlite_store() -> (Arc<dyn EventStore>, ScratchDb) {
    let fixture = <Fixture as test_support::Fixture>::open(Backend::Sqlite).await;
    (fixture.store, fixture.db)
}

/// A pool on a fresh PostgreSQL database, for tests that share it between several stores
/// or query it directly; keep the scratch database as long as the pool.
pub async fn postgres_pool() -> (sqlx::PgPool, ScratchDb) {
    let db = ScratchDb::postgres().await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(10)
        .connect(db.url())
        .await
        .expect("connect to the scratch database");
    (pool, db)
}

/// A migrated PostgreSQL store over `pool` (several stores over one pool act as several
/// processes' writers on one database).
pub async fn postgres_store(pool: sqlx::PgPool) -> Arc<dyn EventStore> {
    let store = PgEventStore::from_pool(pool);
    store.migrate().await.expect("migrate postgres");
    Arc::new(store)
}
