//! The bulk fill of a rebuild's shadow tables, on SQLite and PostgreSQL:
//! - written out many times (a tiny memory bound), it still equals the live models;
//! - a fill whose checkpoint another writer moved writes nothing and says so;
//! - an event a projection cannot fold hands the rebuild over to the batch path, which
//!   parks it, and the rebuild completes.

mod common;

use std::sync::Arc;

use chrono::Utc;
use common::{generate, quiet, Stores};
use engine::store::{AppendOutcome, AppendRequest, EventMetadata, NewEvent, StreamWrite};
use projections::bulk::{self, FillPlan, Filled};
use projections::runtime::Applier;
use projections::{rebuild, replay, Projection, RebuildState, RuntimeOptions, Target};
use test_support::on_both_backends;

fn projection(name: &str) -> Arc<dyn Projection> {
    projections::all()
        .into_iter()
        .find(|p| p.name() == name)
        .unwrap()
}

/// The rows of `projection`'s tables in `target`.
async fn rows(backend: &Stores, projection: &dyn Projection, target: &Target) -> Vec<String> {
    let mut all = Vec::new();
    for table in projection.tables() {
        let rows = replay::rows(&backend.db, table, target).await.unwrap();
        all.push(format!("{}: {rows:?}", table.name));
    }
    all
}

fn shadow_plan(from: i64, hold: usize) -> FillPlan {
    FillPlan {
        target: Target::Shadow,
        from,
        to: None,
        checkpoints: true,
        hold,
    }
}

async fn written_out_often_equals_live(backend: &Stores) {
    let running = backend.runtime().await;
    generate(&backend.store, 3_000, 4, 5).await;
    let head = quiet(&*backend.store).await;
    running.catch_up(&*backend.store).await;
    for name in ["clusters", "droplets", "jobs"] {
        let projection = projection(name);
        assert!(!rebuild::begin(&backend.db, &*projection).await.unwrap());
        let seen = std::sync::Mutex::new(Vec::new());
        let report = |position: i64| seen.lock().unwrap().push(position);
        let filled = bulk::fill(
            Arc::clone(&backend.store),
            &backend.db,
            std::slice::from_ref(&projection),
            &shadow_plan(0, 25),
            &report,
        )
        .await
        .unwrap();
        assert_eq!(filled, Filled::Done(head), "{name}");
        assert_eq!(seen.lock().unwrap().last(), Some(&head), "{name}: progress");
        let shadow = rows(backend, &*projection, &Target::Shadow).await;
        let live = rows(backend, &*projection, &Target::Live).await;
        assert!(
            shadow == live,
            "{name}: the shadow differs from the live tables"
        );
        let checkpoint =
            projections::runtime::load_checkpoint(&backend.db, &Target::Shadow.checkpoint(name))
                .await
                .unwrap();
        assert_eq!(checkpoint, head, "{name}: checkpoint written with the rows");
    }
    running.stop().await;
}
on_both_backends!(written_out_often, super::written_out_often_equals_live);

async fn contended_fill_writes_nothing(backend: &Stores) {
    let running = backend.runtime().await;
    generate(&backend.store, 1_500, 4, 9).await;
    quiet(&*backend.store).await;
    running.catch_up(&*backend.store).await;
    let projection = projection("jobs");
    assert!(!rebuild::begin(&backend.db, &*projection).await.unwrap());
    // Another writer (another process resuming the same rebuild) moves the checkpoint.
    let applier = Applier {
        db: backend.db.clone(),
        projection: Arc::clone(&projection),
        target: Target::Shadow,
        options: RuntimeOptions::default(),
    };
    let (_, partial) = applier
        .step(&*backend.store, 0, 400, &|_: String| {})
        .await
        .unwrap();
    let before = rows(backend, &*projection, &Target::Shadow).await;
    let filled = bulk::fill(
        Arc::clone(&backend.store),
        &backend.db,
        std::slice::from_ref(&projection),
        &shadow_plan(0, bulk::HOLD),
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(filled, Filled::Contended);
    assert_eq!(rows(backend, &*projection, &Target::Shadow).await, before);
    let checkpoint =
        projections::runtime::load_checkpoint(&backend.db, &Target::Shadow.checkpoint("jobs"))
            .await
            .unwrap();
    assert_eq!(checkpoint, partial, "the other writer's checkpoint stands");
    running.stop().await;
}
on_both_backends!(contended_fill, super::contended_fill_writes_nothing);

async fn unfoldable_event_is_parked_by_the_batch_path(backend: &Stores) {
    let running = backend.runtime().await;
    generate(&backend.store, 1_000, 4, 13).await;
    // A droplet event whose data the droplet aggregate cannot read.
    let garbage = AppendRequest {
        writes: vec![StreamWrite {
            aggregate_type: "droplet".into(),
            aggregate_id: "dr_garbage".into(),
            expected_version: 0,
            events: vec![NewEvent {
                id: uuid::Uuid::now_v7(),
                event_type: "droplet.requested".into(),
                schema_version: 1,
                data: serde_json::json!({"name": 42}),
                recorded_at: Utc::now(),
            }],
        }],
        metadata: EventMetadata::default(),
        idempotency: None,
    };
    let AppendOutcome::Committed(bad) = backend.store.append(garbage).await.unwrap() else {
        panic!("a new stream has no idempotency key to replay");
    };
    generate(&backend.store, 1_400, 4, 14).await;
    let head = quiet(&*backend.store).await;
    running.catch_up(&*backend.store).await;
    let live = rows(backend, &*projection("droplets"), &Target::Live).await;
    running.runtime.rebuild("droplets").await.unwrap();
    running.runtime.rebuild_finished("droplets").await;
    let status = rebuild::status(&backend.db, "droplets")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (status.status, status.position),
        (RebuildState::Completed, head)
    );
    assert_eq!(
        rows(backend, &*projection("droplets"), &Target::Live).await,
        live
    );
    let parked = running.runtime.dead_letters(None).await.unwrap();
    let positions: Vec<i64> = parked.iter().map(|d| d.position).collect();
    assert_eq!(positions, [bad.last_position()], "{parked:#?}");
    running.stop().await;
}
on_both_backends!(
    unfoldable_event,
    super::unfoldable_event_is_parked_by_the_batch_path
);
