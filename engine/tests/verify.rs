//! Tamper evidence on the stored log: editing or deleting one stored event makes `verify`
//! fail at exactly that event, on PostgreSQL and SQLite.

mod common;

use std::sync::Arc;

use engine::commands::{CommandContext, CommandService, CreateCluster, UpdateCluster};
use engine::store::{verify, BrokenReason, EventStore};

/// Three clusters, each renamed twice: 9 events in 3 streams.
async fn fill(store: &Arc<dyn EventStore>) {
    let service = CommandService::new(Arc::clone(store));
    let ctx = CommandContext::new("tester");
    for n in 0..3 {
        let created = service
            .execute(
                &ctx,
                &CreateCluster::parse(&format!("c{n}"), "nyc1", None).unwrap(),
            )
            .await
            .unwrap()
            .fresh()
            .unwrap();
        for round in 0..2 {
            let name = format!("c{n}-r{round}");
            let rename = UpdateCluster::parse(&created.id, Some(&name), None, None).unwrap();
            service.execute(&ctx, &rename).await.unwrap();
        }
    }
}

async fn intact(store: &Arc<dyn EventStore>) {
    let report = verify(&**store, |_| {}).await.unwrap();
    assert_eq!(
        (report.events_checked, report.streams, report.head),
        (9, 3, 9)
    );
    assert_eq!(report.first_broken, None);
}

async fn check_edit(store: &Arc<dyn EventStore>) {
    let report = verify(&**store, |_| {}).await.unwrap();
    let broken = report.first_broken.expect("the edit is found");
    assert_eq!(broken.position, 5);
    assert!(
        matches!(broken.reason, BrokenReason::HashMismatch { .. }),
        "{broken}"
    );
    assert_eq!(report.events_checked, 4);
}

async fn check_delete(store: &Arc<dyn EventStore>) {
    let report = verify(&**store, |_| {}).await.unwrap();
    let broken = report.first_broken.expect("the removal is found");
    assert_eq!(broken.position, 3);
    assert_eq!(
        broken.reason,
        BrokenReason::PositionGap {
            expected: 2,
            found: 3
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_edit_and_delete_are_found() {
    let (pool, _db) = common::postgres_pool().await;
    let store = common::postgres_store(pool.clone()).await;
    fill(&store).await;
    intact(&store).await;
    sqlx::query(
        "UPDATE cg_events SET data = jsonb_set(data, '{name}', '\"evil\"') WHERE position = 5",
    )
    .execute(&pool)
    .await
    .unwrap();
    check_edit(&store).await;
    sqlx::query("DELETE FROM cg_events WHERE position = 2")
        .execute(&pool)
        .await
        .unwrap();
    check_delete(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_edit_and_delete_are_found() {
    let (store, db) = common::sqlite_store().await;
    fill(&store).await;
    intact(&store).await;
    let pool = sqlx::SqlitePool::connect(db.url()).await.unwrap();
    sqlx::query("UPDATE cg_events SET data = json_set(data, '$.name', 'evil') WHERE position = 5")
        .execute(&pool)
        .await
        .unwrap();
    check_edit(&store).await;
    sqlx::query("DELETE FROM cg_events WHERE position = 2")
        .execute(&pool)
        .await
        .unwrap();
    check_delete(&store).await;
}
