//! PostgreSQL: the live worker analyses a read model's tables as they grow, so the planner
//! knows their size before autovacuum does (a list's bounded count stays an ordered index
//! scan that stops early).

mod common;

use common::{generate, Stores};
use projections::runtime::SAMPLE_TARGET;
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
    // A sample's analysis: its histogram has at most SAMPLE_TARGET + 1 bounds (the
    // database's default target, 100, would give up to 101), unless autovacuum analysed
    // the table meanwhile.
    let row = sqlx::query(
        "SELECT COALESCE(array_length(CAST(histogram_bounds AS TEXT)::text[], 1), 0) AS n, \
         (SELECT last_autoanalyze IS NOT NULL FROM pg_stat_user_tables \
          WHERE relname = 'rm_clusters') AS auto \
         FROM pg_stats WHERE tablename = 'rm_clusters' AND attname = 'created_at'",
    )
    .fetch_one(stores.db.pool())
    .await
    .unwrap();
    let bounds: i32 = row.try_get("n").unwrap();
    let by_autovacuum: bool = row.try_get("auto").unwrap();
    let most = i32::try_from(SAMPLE_TARGET).unwrap() + 1;
    assert!(bounds > 1, "a histogram of created_at: {bounds} bounds");
    assert!(
        bounds <= most || by_autovacuum,
        "a sample of {SAMPLE_TARGET}: {bounds} histogram bounds"
    );
    running.stop().await;
}
