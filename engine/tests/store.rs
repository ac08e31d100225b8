//! Event store tests, each run against PostgreSQL and SQLite.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use engine::store::{
    AppendOutcome, AppendRequest, EventFilter, EventMetadata, EventStore, FoldingEvent,
    IdempotencyWrite, NewEvent, ReplyKind, StoreError, StreamWrite,
};
use serde_json::json;
use test_support::{eventually, on_both_backends, DEADLINE};
use uuid::Uuid;

fn event(n: usize) -> NewEvent {
    NewEvent {
        id: Uuid::now_v7(),
        event_type: "test.happened".into(),
        schema_version: 1,
        data: json!({ "n": n, "text": "ünïcode ✓" }),
        recorded_at: Utc::now(),
    }
}

fn request(stream: &str, expected: u64, events: usize) -> AppendRequest {
    AppendRequest {
        writes: vec![StreamWrite {
            aggregate_type: "test".into(),
            aggregate_id: stream.into(),
            expected_version: expected,
            events: (0..events).map(event).collect(),
        }],
        metadata: EventMetadata {
            actor: "tester".into(),
            correlation_id: "corr".into(),
            causation_id: "cause".into(),
            traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into(),
            idempotency_key: None,
        },
        idempotency: None,
    }
}

async fn append_ok(store: &dyn EventStore, req: AppendRequest) -> i64 {
    match store.append(req).await.expect("append") {
        AppendOutcome::Committed(c) => c.last_position(),
        other => panic!("expected a commit, got {other:?}"),
    }
}

/// Appends one event to `stream`, re-reading the version after each conflict.
async fn append_with_retry(store: &dyn EventStore, stream: &str) -> i64 {
    loop {
        let version = store.read_stream("test", stream, None).await.unwrap().len() as u64;
        match store.append(request(stream, version, 1)).await {
            Ok(AppendOutcome::Committed(c)) => return c.last_position(),
            Ok(other) => panic!("unexpected {other:?}"),
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => panic!("append failed: {}", engine::error_chain(&e)),
        }
    }
}

/// Every stream's sequences in `all` are 1, 2, 3…
fn assert_streams_contiguous(all: &[engine::store::RecordedEvent]) {
    let mut per_stream: HashMap<&str, Vec<i64>> = HashMap::new();
    for e in all {
        per_stream
            .entry(&e.aggregate_id)
            .or_default()
            .push(e.sequence);
    }
    for (stream, seqs) in per_stream {
        assert_eq!(
            seqs,
            (1..=seqs.len() as i64).collect::<Vec<_>>(),
            "stream {stream}"
        );
    }
}

async fn round_trip(store: Arc<dyn EventStore>) {
    assert_eq!(store.head().await.unwrap(), 0);
    let req = request("a", 0, 3);
    let sent = req.writes[0].events.clone();
    assert_eq!(append_ok(&*store, req).await, 3);
    assert_eq!(append_ok(&*store, request("b", 0, 1)).await, 4);
    let all = store
        .read_all(0, 100, &EventFilter::default())
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|e| e.position).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    let a = store.read_stream("test", "a", None).await.unwrap();
    assert_eq!(
        a.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    for (stored, sent) in a.iter().zip(&sent) {
        assert_eq!(stored.id, sent.id);
        assert_eq!(stored.data, sent.data);
        assert_eq!(stored.metadata.actor, "tester");
        assert_eq!(stored.metadata.traceparent.len(), 55);
        assert!(
            (stored.recorded_at - sent.recorded_at)
                .num_microseconds()
                .unwrap()
                .abs()
                < 1
        );
    }
    // Hashes chain within a stream.
    assert_eq!(
        a[1].hash,
        engine::store::plan::chain_hash(&a[0].hash, &a[1])
    );
    assert_eq!(
        store.read_stream("test", "a", Some(2)).await.unwrap().len(),
        2
    );
    let filter = EventFilter {
        aggregate_id: Some("b".into()),
        ..Default::default()
    };
    assert_eq!(store.read_all(0, 100, &filter).await.unwrap().len(), 1);
    assert_eq!(
        store.read_all(2, 1, &EventFilter::default()).await.unwrap()[0].position,
        3
    );
    assert_eq!(store.head().await.unwrap(), 4);
    assert_eq!(*store.watch_head().borrow(), 4);
    let at = all[3].recorded_at;
    assert_eq!(store.position_at(at).await.unwrap(), 4);
}
on_both_backends!(appends_and_reads_back, super::round_trip);

/// `request` for another actor and correlation id.
fn request_by(
    stream: &str,
    expected: u64,
    events: usize,
    actor: &str,
    corr: &str,
) -> AppendRequest {
    let mut req = request(stream, expected, events);
    req.metadata.actor = actor.into();
    req.metadata.correlation_id = corr.into();
    req
}

/// Reads by actor and correlation id (across streams), forward and back from a position,
/// alone and with the other filters; the tailed store answers as the store does.
async fn reads_by_metadata_and_back(store: Arc<dyn EventStore>) {
    // Wrapped first, the tail holds the events as they commit and answers from memory.
    let tailed: Arc<dyn EventStore> = engine::store::TailedStore::wrap(Arc::clone(&store))
        .await
        .unwrap();
    append_ok(&*store, request_by("a", 0, 2, "ann", "c1")).await; // 1, 2
    append_ok(&*store, request_by("b", 0, 1, "bob", "c2")).await; // 3
    append_ok(&*store, request_by("b", 1, 1, "ann", "c1")).await; // 4
    append_ok(&*store, request_by("c", 0, 2, "ann", "c3")).await; // 5, 6
    let positions = |events: Vec<engine::store::RecordedEvent>| -> Vec<i64> {
        events.iter().map(|e| e.position).collect()
    };
    let by = |actor: Option<&str>, corr: Option<&str>, id: Option<&str>| EventFilter {
        aggregate_id: id.map(Into::into),
        actor: actor.map(Into::into),
        correlation_id: corr.map(Into::into),
        ..EventFilter::default()
    };
    for store in [&store, &tailed] {
        let forward = |after, limit, filter: EventFilter| {
            let store = Arc::clone(store);
            async move { positions(store.read_all(after, limit, &filter).await.unwrap()) }
        };
        let back = |before, limit, filter: EventFilter| {
            let store = Arc::clone(store);
            async move { positions(store.read_before(before, limit, &filter).await.unwrap()) }
        };
        assert_eq!(forward(0, 100, by(None, Some("c1"), None)).await, [1, 2, 4]);
        assert_eq!(forward(2, 100, by(None, Some("c1"), None)).await, [4]);
        assert_eq!(forward(0, 100, by(Some("bob"), None, None)).await, [3]);
        assert_eq!(forward(0, 2, by(Some("ann"), None, None)).await, [1, 2]);
        assert_eq!(
            forward(0, 100, by(Some("ann"), Some("c1"), Some("b"))).await,
            [4]
        );
        assert_eq!(
            forward(0, 100, by(Some("bob"), Some("c1"), None)).await,
            Vec::<i64>::new()
        );
        assert_eq!(
            forward(0, 100, by(None, Some("nope"), None)).await,
            Vec::<i64>::new()
        );

        assert_eq!(
            back(i64::MAX, 100, EventFilter::default()).await,
            [6, 5, 4, 3, 2, 1]
        );
        assert_eq!(back(i64::MAX, 2, EventFilter::default()).await, [6, 5]);
        assert_eq!(back(5, 2, EventFilter::default()).await, [4, 3]);
        assert_eq!(back(1, 10, EventFilter::default()).await, Vec::<i64>::new());
        assert_eq!(
            back(i64::MAX, 100, by(None, Some("c1"), None)).await,
            [4, 2, 1]
        );
        assert_eq!(back(4, 1, by(None, Some("c1"), None)).await, [2]);
        assert_eq!(
            back(6, 100, by(Some("ann"), None, None)).await,
            [5, 4, 2, 1]
        );
        let jobs = EventFilter {
            aggregate_type: Some("test".into()),
            event_type: Some("test.happened".into()),
            ..by(Some("ann"), Some("c3"), Some("c"))
        };
        assert_eq!(back(i64::MAX, 100, jobs.clone()).await, [6, 5]);
        assert_eq!(forward(0, 100, jobs).await, [5, 6]);
    }
}
on_both_backends!(
    metadata_filters_and_reading_back,
    super::reads_by_metadata_and_back
);

/// What the relay reads is the log as `read_all` gives it: same events, same order, the
/// same `data` (as text) and trace context.
async fn read_for_publishing_matches_read_all(store: Arc<dyn EventStore>) {
    append_ok(&*store, request("a", 0, 3)).await;
    let mut plain = request("b", 0, 2);
    plain.metadata.traceparent = String::new();
    append_ok(&*store, plain).await;
    let all = store
        .read_all(1, 100, &EventFilter::default())
        .await
        .unwrap();
    let published = store.read_for_publishing(1, 3).await.unwrap();
    assert_eq!(published.len(), 3);
    for (event, out) in all.iter().zip(&published) {
        assert_eq!(
            (out.id, out.position, out.sequence, out.schema_version),
            (
                event.id,
                event.position,
                event.sequence,
                event.schema_version
            )
        );
        assert_eq!(
            (&out.aggregate_type, &out.aggregate_id, &out.event_type),
            (
                &event.aggregate_type,
                &event.aggregate_id,
                &event.event_type
            )
        );
        assert_eq!(out.recorded_at, event.recorded_at);
        let data: serde_json::Value = serde_json::from_str(&out.data).unwrap();
        assert_eq!(data, event.data);
        assert_eq!(out.traceparent, event.metadata.traceparent);
    }
    assert_eq!(published[2].traceparent, "", "no trace context: empty");
    assert_eq!(store.read_for_publishing(4, 10).await.unwrap().len(), 1);
}
on_both_backends!(
    publishing_reads,
    super::read_for_publishing_matches_read_all
);

async fn read_for_folding_matches_read_all(store: Arc<dyn EventStore>) {
    append_ok(&*store, request("a", 0, 3)).await;
    append_ok(&*store, request("b", 0, 2)).await;
    let all = store
        .read_all(1, 100, &EventFilter::default())
        .await
        .unwrap();
    let folding = store.read_for_folding(1, 3).await.unwrap();
    assert_eq!(folding.len(), 3);
    for (event, out) in all.iter().zip(&folding) {
        // What a fold reads is the same, the data as JSON text.
        let data: serde_json::Value = serde_json::from_str(&out.data).unwrap();
        assert_eq!(data, event.data);
        let mut expected = FoldingEvent::from(event);
        expected.data = out.data.clone();
        assert_eq!(out, &expected);
    }
    assert_eq!(folding[0].position, 2);
    assert_eq!(store.read_for_folding(4, 10).await.unwrap().len(), 1);
    assert!(store.read_for_folding(5, 10).await.unwrap().is_empty());
}
on_both_backends!(folding_reads, super::read_for_folding_matches_read_all);

async fn stale_version_is_a_conflict(store: Arc<dyn EventStore>) {
    append_ok(&*store, request("a", 0, 2)).await;
    let err = store.append(request("a", 1, 1)).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                expected: 1,
                actual: 2,
                ..
            }
        ),
        "unexpected {err:?}"
    );
    // A conflicting multi-stream request writes nothing at all.
    let mut both = request("b", 0, 1);
    both.writes.push(request("a", 0, 1).writes.remove(0));
    assert!(matches!(
        store.append(both).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(store
        .read_stream("test", "b", None)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.head().await.unwrap(), 2);
}
on_both_backends!(conflicts, super::stale_version_is_a_conflict);

async fn idempotency_is_atomic_with_the_events(store: Arc<dyn EventStore>) {
    let keyed = |stream: &str, fingerprint: &str| {
        let mut req = request(stream, 0, 1);
        req.idempotency = Some(IdempotencyWrite {
            key: "key-1".into(),
            fingerprint: fingerprint.into(),
            kind: ReplyKind::Created,
            body: json!({"id": stream}),
        });
        req
    };
    append_ok(&*store, keyed("a", "f1")).await;
    match store.append(keyed("b", "f1")).await.unwrap() {
        AppendOutcome::Duplicate(record) => {
            assert_eq!(record.position, 1);
            assert_eq!(record.kind, ReplyKind::Created);
            assert_eq!(record.body, json!({"id": "a"}));
        }
        other => panic!("expected duplicate, got {other:?}"),
    }
    assert!(matches!(
        store.append(keyed("c", "f2")).await,
        Err(StoreError::IdempotencyMismatch { .. })
    ));
    assert_eq!(
        store.head().await.unwrap(),
        1,
        "neither repeat appended anything"
    );
    assert_eq!(
        store
            .idempotency("key-1")
            .await
            .unwrap()
            .unwrap()
            .fingerprint,
        "f1"
    );
    assert!(store.idempotency("nope").await.unwrap().is_none());
}
on_both_backends!(idempotency, super::idempotency_is_atomic_with_the_events);

/// The fixture with its database at hand, for tests that write rows as earlier versions did.
struct WithDb(common::Fixture);

impl test_support::Fixture for WithDb {
    type Arg<'a> = &'a common::Fixture;

    async fn open(backend: test_support::Backend) -> Self {
        Self(<common::Fixture as test_support::Fixture>::open(backend).await)
    }

    fn arg(&self) -> &common::Fixture {
        &self.0
    }
}

/// Writes an idempotency row straight into the table, as earlier versions stored it.
async fn insert_raw_record(fixture: &common::Fixture, key: &str, code: i32) {
    let sql = "INSERT INTO cg_idempotency (key, fingerprint, status, body, position) \
               VALUES ($1, 'f', $2, $3, 0)";
    let url = fixture.db.url();
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url)
            .await
            .expect("connect sqlite");
        let query = sqlx::query(sql).bind(key).bind(i64::from(code));
        query
            .bind(r#"{"id":"x"}"#)
            .execute(&pool)
            .await
            .expect("insert");
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("connect postgres");
        let query = sqlx::query(sql).bind(key).bind(code);
        query
            .bind(json!({"id": "x"}))
            .execute(&pool)
            .await
            .expect("insert");
        pool.close().await;
    }
}

async fn records_of_earlier_versions_replay_with_their_kind(fixture: &common::Fixture) {
    for (key, code, kind) in [
        ("created", 201, ReplyKind::Created),
        ("accepted", 202, ReplyKind::Accepted),
        ("done", 200, ReplyKind::Done),
    ] {
        insert_raw_record(fixture, key, code).await;
        let record = fixture.store.idempotency(key).await.unwrap().expect(key);
        assert_eq!(
            (record.kind, record.body),
            (kind, json!({"id": "x"})),
            "{key}"
        );
    }
    // A number no version ever stored is an error, never answered as something else.
    insert_raw_record(fixture, "strange", 299).await;
    let error = fixture.store.idempotency("strange").await.unwrap_err();
    assert!(
        matches!(error, StoreError::UnknownReplyKind(299)),
        "{error:?}"
    );
}
on_both_backends!(
    earlier_idempotency_records,
    super::records_of_earlier_versions_replay_with_their_kind,
    fixture = super::WithDb,
);

/// Tails the log from 0 in pages of `page` until position `total`; returns every position
/// seen, in the order seen.
async fn tail(store: Arc<dyn EventStore>, total: i64, page: i64) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut after = 0;
    while after < total {
        let batch = store
            .read_all(after, page, &EventFilter::default())
            .await
            .unwrap();
        for e in &batch {
            seen.push(e.position);
            after = e.position;
        }
        if batch.is_empty() {
            tokio::task::yield_now().await;
        }
    }
    seen
}

/// 8 writers append while a reader tails from 0: the reader must see every position
/// exactly once and in order, never skipping one that commits late.
async fn tail_while_writing(store: Arc<dyn EventStore>) {
    const WRITERS: usize = 8;
    const PER_WRITER: usize = 60;
    let total = (WRITERS * PER_WRITER) as i64;
    let reader = tokio::spawn(tail(Arc::clone(&store), total, 7));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for i in 0..PER_WRITER {
                    // Half the writers share a stream to force conflicts and retries.
                    let stream = if w % 2 == 0 {
                        "shared".to_owned()
                    } else {
                        format!("w{w}-{i}")
                    };
                    append_with_retry(&*store, &stream).await;
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let seen = reader.await.unwrap();
    assert_eq!(seen, (1..=total).collect::<Vec<_>>());
}
on_both_backends!(tailing, super::tail_while_writing);

/// 32 tasks x 50 appends, on one stream and on many: positions are exactly 1..N, every
/// stream's sequences are contiguous and every acknowledged append is in the log.
async fn concurrent_writers(store: Arc<dyn EventStore>) {
    const TASKS: usize = 32;
    const EACH: usize = 50;
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut acked = Vec::new();
                for i in 0..EACH {
                    let stream = if i % 2 == 0 {
                        "hot".to_owned()
                    } else {
                        format!("s{t}")
                    };
                    acked.push(append_with_retry(&*store, &stream).await);
                }
                acked
            })
        })
        .collect();
    let mut acked = Vec::new();
    for t in tasks {
        acked.extend(t.await.unwrap());
    }
    let all = store
        .read_all(0, 100_000, &EventFilter::default())
        .await
        .unwrap();
    let n = (TASKS * EACH) as i64;
    assert_eq!(
        all.iter().map(|e| e.position).collect::<Vec<_>>(),
        (1..=n).collect::<Vec<_>>()
    );
    acked.sort_unstable();
    assert_eq!(
        acked,
        (1..=n).collect::<Vec<_>>(),
        "every acknowledged position is distinct"
    );
    assert_streams_contiguous(&all);
}
on_both_backends!(concurrency, super::concurrent_writers);

/// Two store instances (two processes' writers) on one PostgreSQL database still produce
/// one gap-free log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_share_one_postgres_log() {
    let (pool, _db) = common::postgres_pool().await;
    let first = common::postgres_store(pool.clone()).await;
    let second: Arc<dyn EventStore> = Arc::new(engine::store::PgEventStore::from_pool(pool));
    let mut watch = second.watch_head();
    let tasks: Vec<_> = (0..16)
        .map(|t| {
            let store = if t % 2 == 0 {
                Arc::clone(&first)
            } else {
                Arc::clone(&second)
            };
            tokio::spawn(async move {
                for _ in 0..25 {
                    append_with_retry(&*store, "shared").await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let all = first
        .read_all(0, 10_000, &EventFilter::default())
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|e| e.position).collect::<Vec<_>>(),
        (1..=400).collect::<Vec<_>>()
    );
    // The second process learns the head through LISTEN/NOTIFY or its own commits.
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        watch.wait_for(|h| *h == 400),
    )
    .await
    .expect("head notification")
    .unwrap();
}

/// The log is the outbox: a relay's backlog is every event after its acknowledged
/// position, which only moves forward and is kept per relay.
async fn relay_positions_mark_what_was_published(store: Arc<dyn EventStore>) {
    append_ok(&*store, request("a", 0, 3)).await;
    assert_eq!(store.relay_position("kafka").await.unwrap(), 0);
    store.acknowledge("kafka", 2).await.unwrap();
    store.acknowledge("kafka", 1).await.unwrap(); // a late, older acknowledgement
    assert_eq!(store.relay_position("kafka").await.unwrap(), 2);
    assert_eq!(store.relay_position("other").await.unwrap(), 0);
    let backlog = store
        .read_all(
            store.relay_position("kafka").await.unwrap(),
            100,
            &EventFilter::default(),
        )
        .await
        .unwrap();
    assert_eq!(backlog.iter().map(|e| e.position).collect::<Vec<_>>(), [3]);
    store.acknowledge("kafka", 3).await.unwrap();
    assert_eq!(store.relay_position("kafka").await.unwrap(), 3);
}
on_both_backends!(
    relay_positions,
    super::relay_positions_mark_what_was_published
);

/// The tailing guarantee across processes: two store instances (two processes' writers,
/// each with its own fast path and head cache) append to one PostgreSQL log, colliding on
/// positions, while a reader tails it: it sees every position once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tailing_holds_across_two_postgres_writers() {
    let (pool, _db) = common::postgres_pool().await;
    const TASKS: usize = 12;
    const PER_TASK: usize = 40;
    let total = (TASKS * PER_TASK) as i64;
    let first = common::postgres_store(pool.clone()).await;
    let second: Arc<dyn EventStore> =
        Arc::new(engine::store::PgEventStore::from_pool(pool.clone()));
    let third: Arc<dyn EventStore> = Arc::new(engine::store::PgEventStore::from_pool(pool));
    let reader = tokio::spawn(tail(third, total, 5));
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let store = if t % 2 == 0 {
                Arc::clone(&first)
            } else {
                Arc::clone(&second)
            };
            tokio::spawn(async move {
                for i in 0..PER_TASK {
                    append_with_retry(&*store, &format!("t{t}-{i}")).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let seen = tokio::time::timeout(std::time::Duration::from_secs(60), reader)
        .await
        .expect("the reader reaches the end")
        .unwrap();
    assert_eq!(seen, (1..=total).collect::<Vec<_>>());
}

/// A fast-path append never lands between a slow writer's read of the head and its
/// write: it yields to the holder of the log's advisory lock and queues behind it, so the
/// slow writer's position is still free when it writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_append_yields_to_a_writer_holding_the_log() {
    use engine::store::postgres::append::LOG_LOCK;
    let (pool, _db) = common::postgres_pool().await;
    let store = common::postgres_store(pool.clone()).await;
    // This store's own commit makes its head cache exact: its next append is a fast one.
    assert_eq!(append_ok(&*store, request("fast", 0, 1)).await, 1);

    // Another process's slow writer: it holds the lock and has read the head.
    let mut slow = pool.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOG_LOCK)
        .execute(&mut *slow)
        .await
        .unwrap();
    let head: i64 = sqlx::query_scalar("SELECT MAX(position) FROM cg_events")
        .fetch_one(&mut *slow)
        .await
        .unwrap();
    assert_eq!(head, 1);
    let appending = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { append_ok(&*store, request("fast", 1, 1)).await })
    };
    // The append queues on the lock instead of taking position 2.
    eventually(DEADLINE, "the fast append waits for the log's lock", || {
        let pool = pool.clone();
        async move {
            let waiting: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND wait_event = 'advisory'",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            let written: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cg_events")
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(written, 1, "the fast append wrote while the log was held");
            waiting == 1
        }
    })
    .await;
    sqlx::query(
        "INSERT INTO cg_events (position, id, aggregate_type, aggregate_id, sequence, \
         event_type, schema_version, recorded_at, data, metadata, hash) \
         VALUES ($1, $2, 'test', 'slow', 1, 'test.happened', 1, now(), '{}', $3, 'h')",
    )
    .bind(head + 1)
    .bind(Uuid::now_v7())
    .bind(serde_json::to_value(request("slow", 0, 1).metadata).unwrap())
    .execute(&mut *slow)
    .await
    .expect("the slow writer's position is free");
    slow.commit().await.unwrap();

    let position = tokio::time::timeout(DEADLINE, appending)
        .await
        .expect("the fast append goes on once the lock is free")
        .unwrap();
    assert_eq!(position, 3);
    let all = store
        .read_all(0, 10, &EventFilter::default())
        .await
        .unwrap();
    let streams: Vec<_> = all
        .iter()
        .map(|e| (e.position, e.aggregate_id.as_str()))
        .collect();
    assert_eq!(streams, vec![(1, "fast"), (2, "slow"), (3, "fast")]);
}

async fn leases_have_one_holder(store: Arc<dyn EventStore>) {
    let ttl = Duration::from_millis(400);
    assert!(store.acquire_lease("relay", "a", ttl).await.unwrap());
    assert!(
        !store.acquire_lease("relay", "b", ttl).await.unwrap(),
        "held by a"
    );
    assert!(
        store.acquire_lease("other", "b", ttl).await.unwrap(),
        "leases are per name"
    );
    assert!(
        store.acquire_lease("relay", "a", ttl).await.unwrap(),
        "a renews"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        store.acquire_lease("relay", "b", ttl).await.unwrap(),
        "expired: b takes it"
    );
    assert!(
        !store.acquire_lease("relay", "a", ttl).await.unwrap(),
        "a lost it"
    );
    store.release_lease("relay", "a").await.unwrap();
    assert!(
        !store.acquire_lease("relay", "a", ttl).await.unwrap(),
        "only the holder releases"
    );
    store.release_lease("relay", "b").await.unwrap();
    assert!(
        store.acquire_lease("relay", "a", ttl).await.unwrap(),
        "released: free at once"
    );
}
on_both_backends!(leases, super::leases_have_one_holder);

/// Appends abandoned part-way (the caller gives up: a timeout, a client gone) leave a
/// consistent log and a healthy store: the appends after them go through, positions and
/// sequences are contiguous and every hash chain holds. (A version of the writer that let a
/// lone caller write its own request failed this: a write cut short mid-statement handed
/// its pooled connection back in an aborted transaction.)
async fn abandoned_appends_leave_a_consistent_log(store: Arc<dyn EventStore>) {
    for i in 0..200u64 {
        let stream = format!("a{}", i % 5);
        let version = store
            .read_stream("test", &stream, None)
            .await
            .unwrap()
            .len() as u64;
        let cut = Duration::from_micros((i * 37) % 1_500);
        // Committed, refused or abandoned: any outcome is fine, none may corrupt the log.
        let _ = tokio::time::timeout(cut, store.append(request(&stream, version, 1))).await;
    }
    let mut acked = Vec::new();
    for i in 0..25 {
        acked.push(append_with_retry(&*store, &format!("a{}", i % 5)).await);
    }
    let all = store
        .read_all(0, 100_000, &EventFilter::default())
        .await
        .unwrap();
    let n = all.len() as i64;
    assert_eq!(
        all.iter().map(|e| e.position).collect::<Vec<_>>(),
        (1..=n).collect::<Vec<_>>()
    );
    assert!(acked.iter().all(|p| all.iter().any(|e| e.position == *p)));
    assert_streams_contiguous(&all);
    let report = engine::store::verify(&*store, |_| {}).await.unwrap();
    assert_eq!(
        report.first_broken, None,
        "every stream's hash chain holds: {report:?}"
    );
}
on_both_backends!(abandoned, super::abandoned_appends_leave_a_consistent_log);

/// Every SQLite connection the engine opens, the log's and the side tables' alike, reads
/// the file through a memory map of the configured size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_connections_read_through_a_memory_map() {
    use engine::store::side_pool::{open_side_pool, SidePool, SQLITE_MMAP_BYTES};
    use engine::store::SqliteEventStore;
    let db = test_support::ScratchDb::new(test_support::Backend::Sqlite).await;
    let store = SqliteEventStore::connect(db.url(), 3).await.unwrap();
    let side = open_side_pool(
        db.url(),
        3,
        sqlx::sqlite::SqliteSynchronous::Normal,
        "a test",
    )
    .await
    .unwrap();
    let SidePool::Sqlite(side) = side else {
        panic!("a SQLite URL opens a SQLite pool");
    };
    let expected = i64::try_from(SQLITE_MMAP_BYTES).unwrap();
    assert!(expected > 0);
    for pool in [store.pool(), &side] {
        // Several connections at once, so that each one is checked, not one reused.
        let mut held = Vec::new();
        for _ in 0..3 {
            let mut conn = pool.acquire().await.unwrap();
            let mmap: i64 = sqlx::query_scalar("PRAGMA mmap_size")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            assert_eq!(mmap, expected);
            held.push(conn);
        }
    }
}
