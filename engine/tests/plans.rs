//! Reading the log costs what is read, not what is stored: every statement that reads
//! `cg_events` by position, stream, type, actor or correlation id, forward or back, is an
//! index scan, also as a generic plan (the plan a prepared statement falls back to, which
//! cannot know that `position > $1` selects only the newest rows); a read by actor or
//! correlation id alone walks the index made for it. Checked with tens of thousands of
//! events stored.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use engine::store::{
    sql, AppendOutcome, AppendRequest, EventFilter, EventLog, EventMetadata, EventStore, NewEvent,
    PgEventStore, SqliteEventStore, StreamWrite,
};
use serde_json::json;
use sqlx::Row;
use uuid::Uuid;

/// Events stored before the plans are looked at.
const STORED: usize = 20_000;
/// Streams they are spread over (three aggregate types).
const STREAMS: usize = 2_000;

/// Streams per append: each append is one request, with its own correlation id.
const PER_REQUEST: usize = 20;
/// Actors the requests are spread over.
const ACTORS: usize = 10;

/// Appends [`STORED`] events, a batch of streams at a time, each batch one request of
/// one of [`ACTORS`] actors with a correlation id of its own (`req-N`).
async fn fill(store: &dyn EventStore) {
    let per_stream = STORED / STREAMS;
    for chunk in 0..STREAMS / PER_REQUEST {
        let writes = (0..PER_REQUEST)
            .map(|i| {
                let n = chunk * PER_REQUEST + i;
                StreamWrite {
                    aggregate_type: ["cluster", "droplet", "job"][n % 3].into(),
                    aggregate_id: format!("s-{n}"),
                    expected_version: 0,
                    events: (0..per_stream).map(|k| event(n, k)).collect(),
                }
            })
            .collect();
        let request = AppendRequest {
            writes,
            metadata: EventMetadata {
                actor: format!("user-{}", chunk % ACTORS),
                correlation_id: format!("req-{chunk}"),
                ..EventMetadata::default()
            },
            idempotency: None,
        };
        let outcome = store.append(request).await.expect("append");
        assert!(matches!(outcome, AppendOutcome::Committed(_)));
    }
    assert_eq!(store.head().await.unwrap(), STORED as i64);
}

fn event(stream: usize, k: usize) -> NewEvent {
    NewEvent {
        id: Uuid::now_v7(),
        event_type: format!("thing.step_{}", k % 4),
        schema_version: 1,
        data: json!({ "stream": stream, "k": k }),
        recorded_at: Utc::now(),
    }
}

/// Every filter combination `read_all` and `read_before` are asked for.
fn filters() -> Vec<EventFilter> {
    let mut all = Vec::new();
    for aggregate_type in [None, Some("job")] {
        for aggregate_id in [None, Some("s-7")] {
            for event_type in [None, Some("thing.step_1")] {
                for actor in [None, Some("user-3")] {
                    for correlation_id in [None, Some("req-42")] {
                        all.push(EventFilter {
                            aggregate_type: aggregate_type.map(Into::into),
                            aggregate_id: aggregate_id.map(Into::into),
                            event_type: event_type.map(Into::into),
                            actor: actor.map(Into::into),
                            correlation_id: correlation_id.map(Into::into),
                        });
                    }
                }
            }
        }
    }
    all
}

/// The index a read with `filter` must walk, when one is made for it: a read by
/// correlation id, else by actor, walks that metadata index (one that walked the log's
/// primary key, filtering as it goes, would cost what lies between the position and the
/// matches, not what it returns; see `sql::read_all`), unless an aggregate id narrows it
/// to one aggregate, whose index may serve it as well.
fn index_for(filter: &EventFilter) -> Option<&'static str> {
    if filter.aggregate_id.is_some() {
        None
    } else if filter.correlation_id.is_some() {
        Some("cg_events_correlation_idx")
    } else if filter.actor.is_some() {
        Some("cg_events_actor_idx")
    } else {
        None
    }
}

/// A statement readers of the log run, with example arguments (text), near the head, and
/// the index its plan must name, if one.
struct Shape {
    statement: String,
    args: Vec<String>,
    index: Option<&'static str>,
}

/// The statements readers of the log run on a backend: forward after a position near the
/// head and back from the head's end, with every filter combination.
fn statements(dialect: sql::Dialect) -> Vec<Shape> {
    let after = (STORED - 10).to_string();
    let before = (STORED + 1).to_string();
    let mut all = Vec::new();
    for f in filters() {
        let forward = sql::read_all(&f, dialect);
        let back = sql::read_before(&f, dialect);
        for (statement, from) in [(forward, &after), (back, &before)] {
            let mut args = vec![from.clone()];
            args.extend(sql::filter_values(&f).map(str::to_owned));
            args.push("500".into());
            all.push(Shape {
                statement,
                args,
                index: index_for(&f),
            });
        }
    }
    all.push(Shape {
        statement: sql::READ_FOR_FOLDING.into(),
        args: vec![after.clone(), "500".into()],
        index: None,
    });
    all.push(Shape {
        statement: sql::READ_STREAM_AFTER.into(),
        args: vec!["job".into(), "s-7".into(), "0".into(), i64::MAX.to_string()],
        index: None,
    });
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_reads_are_index_scans_as_generic_plans() {
    let (pool, _db) = common::postgres_pool().await;
    let store = PgEventStore::from_pool(pool.clone());
    store.migrate().await.unwrap();
    fill(&store).await;
    sqlx::query("ANALYZE cg_events")
        .execute(&pool)
        .await
        .unwrap();
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query("SET plan_cache_mode = force_generic_plan")
        .execute(&mut *conn)
        .await
        .unwrap();
    let mut shapes = statements(sql::Dialect::Postgres);
    shapes.push(Shape {
        statement: engine::store::postgres::READ_FOR_PUBLISHING.into(),
        args: vec![(STORED - 10).to_string(), "500".into()],
        index: None,
    });
    for (i, shape) in shapes.iter().enumerate() {
        let Shape {
            statement,
            args,
            index,
        } = shape;
        let plan = generic_plan(&mut conn, &format!("shape_{i}"), statement, args).await;
        assert!(
            !plan.contains("Seq Scan"),
            "a generic plan scans the log:\n{statement}\n{plan}"
        );
        assert!(plan.contains("Index"), "{statement}\n{plan}");
        if let Some(index) = index {
            assert!(
                plan.contains(index),
                "not through {index}:\n{statement}\n{plan}"
            );
        }
    }
}

/// The generic plan of `statement` run with `args` (as text literals).
async fn generic_plan(
    conn: &mut sqlx::PgConnection,
    name: &str,
    statement: &str,
    args: &[String],
) -> String {
    sqlx::query(&format!("PREPARE {name} AS {statement}"))
        .execute(&mut *conn)
        .await
        .unwrap();
    let literals: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    sqlx::query(&format!(
        "EXPLAIN (FORMAT TEXT) EXECUTE {name}({})",
        literals.join(", ")
    ))
    .fetch_all(&mut *conn)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect::<Vec<_>>()
    .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_reads_search_an_index() {
    let db = test_support::ScratchDb::sqlite();
    let store = SqliteEventStore::connect(db.url(), 4).await.unwrap();
    store.migrate().await.unwrap();
    fill(&store).await;
    sqlx::query("ANALYZE").execute(store.pool()).await.unwrap();
    for Shape {
        statement,
        args,
        index,
    } in statements(sql::Dialect::Sqlite)
    {
        let explain = format!("EXPLAIN QUERY PLAN {statement}");
        let mut query = sqlx::query(&explain);
        for arg in &args {
            query = match arg.parse::<i64>() {
                Ok(n) => query.bind(n),
                Err(_) => query.bind(arg.clone()),
            };
        }
        let plan: Vec<String> = query
            .fetch_all(store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>("detail"))
            .collect();
        let scans: Vec<&String> = plan
            .iter()
            .filter(|d| d.starts_with("SCAN cg_events"))
            .collect();
        assert!(scans.is_empty(), "{statement} scans the log: {plan:?}");
        assert!(
            plan.iter().any(|d| d.starts_with("SEARCH cg_events")),
            "{statement}: {plan:?}"
        );
        if let Some(index) = index {
            assert!(
                plan.iter().any(|d| d.contains(index)),
                "not through {index}: {statement}: {plan:?}"
            );
        }
    }
}

/// Readers near the head are answered from the tail: one read of the store per new page
/// however many readers, none while nothing is appended, and the same events as the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_shares_reads_and_is_idle_when_nothing_happens() {
    let (pool, _db) = common::postgres_pool().await;
    let inner = common::postgres_store(pool.clone()).await;
    fill(&*inner).await;
    let tail = engine::store::TailedStore::wrap(Arc::clone(&inner))
        .await
        .unwrap();
    let head = STORED as i64;
    // At the head: no read at all, however often asked.
    for _ in 0..100 {
        assert!(tail
            .read_all(head, 500, &EventFilter::default())
            .await
            .unwrap()
            .is_empty());
    }
    assert_eq!(tail.queries(), 0);
    // New events from another process (a second store on the same database, whose
    // commits this one learns of by notification): eight readers at the old head share
    // one read.
    let other = common::postgres_store(pool.clone()).await;
    fill_more(&*other, 5, "more").await;
    let mut known = inner.watch_head();
    tokio::time::timeout(Duration::from_secs(10), known.wait_for(|h| *h >= head + 5))
        .await
        .expect("the other store's commit is notified")
        .unwrap();
    let readers = (0..8).map(|_| {
        let tail = Arc::clone(&tail);
        tokio::spawn(async move { tail.read_all(head, 500, &EventFilter::default()).await })
    });
    let expected = inner
        .read_all(head, 500, &EventFilter::default())
        .await
        .unwrap();
    assert_eq!(expected.len(), 5);
    for reader in readers {
        assert_eq!(reader.await.unwrap().unwrap(), expected);
    }
    assert_eq!(tail.queries(), 1);
    // Filtered reads from the tail match the store's.
    for filter in filters().iter().filter(|f| f.aggregate_id.is_none()) {
        assert_eq!(
            tail.read_all(head - 3, 500, filter).await.unwrap(),
            inner.read_all(head - 3, 500, filter).await.unwrap(),
            "{filter:?}"
        );
    }
    // Far behind the tail: the store answers, the same.
    assert_eq!(
        tail.read_all(10, 50, &EventFilter::default())
            .await
            .unwrap(),
        inner
            .read_all(10, 50, &EventFilter::default())
            .await
            .unwrap()
    );
}

/// The events this process appends are held as they commit: readers at the head, and
/// loads of a stream from a known position, find them without reading the store, and
/// find what the store holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_holds_this_process_commits_without_reading_them() {
    let (pool, _db) = common::postgres_pool().await;
    let inner = common::postgres_store(pool).await;
    fill(&*inner).await;
    let tail = engine::store::TailedStore::wrap(Arc::clone(&inner))
        .await
        .unwrap();
    let head = STORED as i64;
    fill_more(&*tail, 3, "mine").await;
    fill_more(&*tail, 2, "mine").await;
    let held = tail
        .read_all(head, 500, &EventFilter::default())
        .await
        .unwrap();
    let stream = tail
        .read_stream_since("job", "mine", 1, head + 1)
        .await
        .unwrap();
    assert_eq!(tail.queries(), 0, "nothing was read back");
    let stored = inner
        .read_all(head, 500, &EventFilter::default())
        .await
        .unwrap();
    assert_eq!(stored.len(), 5);
    assert_eq!(held, stored);
    assert_eq!(
        stream,
        inner
            .read_stream_after("job", "mine", 1, None)
            .await
            .unwrap()
    );
    assert_eq!(stream.len(), 4);
    // A position before the events held: the store answers, the same.
    assert_eq!(
        tail.read_stream_since("cluster", "s-3", 2, 3)
            .await
            .unwrap(),
        inner
            .read_stream_after("cluster", "s-3", 2, None)
            .await
            .unwrap()
    );
}

async fn fill_more(store: &dyn EventStore, events: usize, stream: &str) {
    let version = store
        .read_stream_after("job", stream, 0, None)
        .await
        .unwrap()
        .len() as u64;
    let request = AppendRequest {
        writes: vec![StreamWrite {
            aggregate_type: "job".into(),
            aggregate_id: stream.into(),
            expected_version: version,
            events: (0..events).map(|k| event(0, k)).collect(),
        }],
        metadata: EventMetadata::default(),
        idempotency: None,
    };
    store.append(request).await.unwrap();
}

/// After another process appends more than the tail holds, the tail starts again at the
/// head: the readers that catch up through the store are then answered from memory again,
/// and this process's next commits are held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tail_starts_again_at_the_head_after_a_long_burst_elsewhere() {
    let (pool, _db) = common::postgres_pool().await;
    let inner = common::postgres_store(pool.clone()).await;
    let options = engine::store::TailOptions {
        capacity: 100,
        page: 1000,
        refresh: Duration::from_secs(30),
    };
    let tail = engine::store::TailedStore::with_options(Arc::clone(&inner), options)
        .await
        .unwrap();
    let other = common::postgres_store(pool).await;
    fill_more(&*other, 500, "elsewhere").await;
    let mut known = inner.watch_head();
    tokio::time::timeout(Duration::from_secs(10), known.wait_for(|h| *h >= 500))
        .await
        .expect("the other store's commit is notified")
        .unwrap();
    // Far behind what is held: read from the store (and the tail starts at the head).
    let caught_up = tail
        .read_all(0, 1000, &EventFilter::default())
        .await
        .unwrap();
    assert_eq!(caught_up.len(), 500);
    let reads = tail.queries();
    // This process's next commit is held and answered without a read.
    fill_more(&*tail, 2, "here").await;
    let held = tail
        .read_all(500, 10, &EventFilter::default())
        .await
        .unwrap();
    assert_eq!(held.len(), 2);
    assert_eq!(tail.queries(), reads, "answered from memory");
    assert_eq!(
        held,
        inner
            .read_all(500, 10, &EventFilter::default())
            .await
            .unwrap()
    );
}
