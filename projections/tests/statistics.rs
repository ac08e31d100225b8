//! PostgreSQL: the live worker analyses a read model's tables as they grow, so the planner
//! knows their size before autovacuum does (a list's bounded count stays an ordered index
//! scan that stops early).

mod common;

use common::{generate, Stores};
use sqlx::Row;
use test_support::{eventually, Backend, Fixture, DEADLINE};

/// When `rm_clusters` was last analysed by hand (`ANALYZE`, not autovacuum), as text.
async fn last_analyze(stores: &Stores) -> Option<String> {
    let row = sqlx::query(
        "SELECT CAST(last_analyze AS TEXT) AS at FROM pg_stat_user_tables \
         WHERE relname = 'rm_clusters'",
    )
    .fetch_one(stores.db.pool())
    .await
    .unwrap();
    row.try_get::<Option<String>, _>("at").unwrap()
}

#[tokio::test]
async fn growing_tables_are_analysed_by_the_live_worker() {
    let stores = Stores::open(Backend::Postgres).await;
    assert_eq!(last_analyze(&stores).await, None, "nothing analysed it yet");
    let running = stores.runtime().await;
    // About a third of the generated events are cluster events: well above the first
    // analysis at 1,000 rows written.
    generate(&stores.store, 4_000, 8, 7).await;
    running.catch_up(&*stores.store).await;
    eventually(DEADLINE, "rm_clusters analysed", || async {
        last_analyze(&stores).await.is_some()
    })
    .await;
    running.stop().await;
}
