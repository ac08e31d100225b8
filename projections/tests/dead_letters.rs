//! A projection that cannot apply an event retries it with backoff, parks it as a dead
//! letter with the checkpoint past it, and moves on; a retry after the cause is gone
//! applies it. A database error is retried, never parked. On SQLite and PostgreSQL.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use engine::store::{
    AppendRequest, EventMetadata, EventStore, NewEvent, RecordedEvent, StreamWrite,
};
use projections::read_models::TableDef;
use projections::{Projection, ProjectionError, ProjectionRuntime, ReadDb, RuntimeOptions, Target};
use sqlx::AnyConnection;
use test_support::{eventually, Backend, ScratchDb, DEADLINE};
use tokio::sync::watch;

/// Counts the events it applies; refuses position `poison` while `refuse` is set, and
/// answers a database error while `offline` is set (counting those answers).
struct Flaky {
    poison: i64,
    refuse: AtomicBool,
    offline: AtomicBool,
    offline_answers: AtomicU32,
}

#[async_trait]
impl Projection for Flaky {
    fn name(&self) -> &'static str {
        "flaky"
    }

    fn tables(&self) -> &'static [TableDef] {
        &[]
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        events: &[RecordedEvent],
        _: &Target,
    ) -> Result<(), ProjectionError> {
        if self.offline.load(Ordering::SeqCst) {
            self.offline_answers.fetch_add(1, Ordering::SeqCst);
            return Err(ProjectionError::Database(sqlx::Error::PoolTimedOut));
        }
        for event in events {
            if event.position == self.poison && self.refuse.load(Ordering::SeqCst) {
                return Err(ProjectionError::Rejected("cannot apply this one".into()));
            }
            sqlx::query("INSERT INTO flaky_seen (position) VALUES ($1)")
                .bind(event.position)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}

async fn append(store: &dyn EventStore, n: usize) {
    for i in 0..n {
        let request = AppendRequest {
            writes: vec![StreamWrite {
                aggregate_type: "cluster".into(),
                aggregate_id: format!("cl_{i}_{}", uuid::Uuid::new_v4().simple()),
                expected_version: 0,
                events: vec![NewEvent {
                    id: uuid::Uuid::now_v7(),
                    event_type: "cluster.created".into(),
                    schema_version: 1,
                    data: serde_json::json!({}),
                    recorded_at: Utc::now(),
                }],
            }],
            metadata: EventMetadata::default(),
            idempotency: None,
        };
        store.append(request).await.unwrap();
    }
}

async fn seen(db: &ReadDb) -> Vec<i64> {
    sqlx::query_scalar("SELECT position FROM flaky_seen ORDER BY position")
        .fetch_all(db.pool())
        .await
        .unwrap()
}

async fn poison_is_parked_then_retried(store: Arc<dyn EventStore>, url: &str) {
    let db = ReadDb::connect(url, 4).await.unwrap();
    db.migrate().await.unwrap();
    sqlx::query("CREATE TABLE flaky_seen (position BIGINT PRIMARY KEY)")
        .execute(db.pool())
        .await
        .unwrap();
    let flaky = Arc::new(Flaky {
        poison: 3,
        refuse: AtomicBool::new(true),
        offline: AtomicBool::new(false),
        offline_answers: AtomicU32::new(0),
    });
    let options = RuntimeOptions {
        max_attempts: 3,
        retry_initial: Duration::from_millis(5),
        retry_max: Duration::from_millis(20),
        poll_interval: Duration::from_millis(20),
        ..RuntimeOptions::default()
    };
    let max_attempts = options.max_attempts;
    let runtime =
        ProjectionRuntime::new(Arc::clone(&store), db.clone(), vec![flaky.clone()], options);
    let (stop, shutdown) = watch::channel(false);
    let tasks = runtime.start(shutdown).await.unwrap();

    append(&*store, 5).await;
    runtime
        .wait_for(5, Duration::from_secs(10))
        .await
        .expect("the projection moves past the poison");
    assert_eq!(seen(&db).await, vec![1, 2, 4, 5]);
    let letters = runtime.dead_letters(Some("flaky")).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!((letters[0].position, letters[0].attempts), (3, 3));
    assert!(
        letters[0].error.contains("cannot apply this one"),
        "{}",
        letters[0].error
    );
    let status = runtime.statuses().await.unwrap();
    assert_eq!((status[0].position, status[0].parked), (5, 1));
    assert_eq!((status[0].lag, status[0].lag_seconds), (0, 0.0));
    assert!(status[0].events_per_second > 0.0, "{:?}", status[0]);

    // A retry while the cause remains keeps the letter, with one more attempt.
    let failed = runtime.retry_dead_letter(&letters[0].id).await.unwrap();
    assert!(failed.is_some());
    assert_eq!(runtime.dead_letters(None).await.unwrap()[0].attempts, 4);
    // Once the cause is gone, the retry applies it and the letter is gone.
    flaky.refuse.store(false, Ordering::SeqCst);
    assert_eq!(
        runtime.retry_dead_letter(&letters[0].id).await.unwrap(),
        None
    );
    assert!(runtime.dead_letters(None).await.unwrap().is_empty());
    assert_eq!(seen(&db).await, vec![1, 2, 3, 4, 5]);
    assert!(matches!(
        runtime.retry_dead_letter("dl_unknown").await,
        Err(ProjectionError::UnknownDeadLetter(_))
    ));

    // The database going away is retried, never parked: the projection has tried the new
    // events more often than a refused event is tried before it is parked, and holds.
    flaky.offline.store(true, Ordering::SeqCst);
    append(&*store, 2).await;
    eventually(
        DEADLINE,
        "the projection retries past max_attempts",
        || async { flaky.offline_answers.load(Ordering::SeqCst) > max_attempts },
    )
    .await;
    assert_eq!(runtime.statuses().await.unwrap()[0].position, 5);
    assert!(runtime.dead_letters(None).await.unwrap().is_empty());
    flaky.offline.store(false, Ordering::SeqCst);
    runtime
        .wait_for(7, Duration::from_secs(10))
        .await
        .expect("catches up once back");
    // The positive control: the status that stood at 5 shows the catch-up.
    assert_eq!(runtime.statuses().await.unwrap()[0].position, 7);
    assert!(runtime.dead_letters(None).await.unwrap().is_empty());

    stop.send(true).unwrap();
    for task in tasks {
        task.await.unwrap();
    }
}

async fn on(backend: Backend) {
    let db = ScratchDb::new(backend).await;
    let store = engine::store::connect(db.url(), 4).await.unwrap();
    store.migrate().await.unwrap();
    poison_is_parked_then_retried(store, db.url()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_parks_and_retries() {
    on(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_parks_and_retries() {
    on(Backend::Postgres).await;
}
