//! The outbox relay against librdkafka's mock cluster: the real Kafka protocol, in process,
//! with brokers that go down and requests that fail on demand.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use engine::kafka::{KafkaConfig, Relay, RelayOptions, RelayStats};
use engine::store::{
    AppendOutcome, AppendRequest, EventMetadata, EventStore, NewEvent, StreamWrite,
};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use serde_json::json;
use test_support::{eventually, on_both_backends, DEADLINE};
use tokio::sync::watch;
use uuid::Uuid;

const TYPES: [&str; 3] = ["cluster", "droplet", "job"];

type Mock = MockCluster<'static, DefaultProducerContext>;

/// A mock cluster with the event topics (it has no CreateTopics: the relay is told not to
/// create them).
fn mock(brokers: i32) -> (Mock, KafkaConfig) {
    let mock = MockCluster::new(brokers).expect("mock cluster");
    for topic in engine::kafka::topics::all_topics() {
        mock.create_topic(&topic, 3, brokers.min(3)).expect("topic");
    }
    let config = KafkaConfig {
        partitions: 3,
        create_topics: false,
        ..KafkaConfig::new(mock.bootstrap_servers())
    };
    (mock, config)
}

fn options(holder: &str) -> RelayOptions {
    RelayOptions {
        holder: holder.into(),
        lease_ttl: Duration::from_millis(1500),
        idle_poll: Duration::from_millis(50),
        retry_backoff: Duration::from_millis(200),
        ..RelayOptions::default()
    }
}

/// Appends one event to each of `streams` streams (spread over the three aggregate types),
/// `rounds` times; returns the head.
async fn append_rounds(
    store: &dyn EventStore,
    streams: usize,
    rounds: usize,
    first_round: usize,
) -> i64 {
    let mut head = 0;
    for round in first_round..first_round + rounds {
        for stream in 0..streams {
            let request = AppendRequest {
                writes: vec![StreamWrite {
                    aggregate_type: TYPES[stream % TYPES.len()].into(),
                    aggregate_id: format!("agg-{stream}"),
                    expected_version: round as u64,
                    events: vec![NewEvent {
                        id: Uuid::now_v7(),
                        event_type: format!("{}.touched", TYPES[stream % TYPES.len()]),
                        schema_version: 1,
                        data: json!({"round": round}),
                        recorded_at: Utc::now(),
                    }],
                }],
                metadata: EventMetadata {
                    traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into(),
                    ..EventMetadata::default()
                },
                idempotency: None,
            };
            match store.append(request).await.expect("append") {
                AppendOutcome::Committed(c) => head = c.last_position(),
                other => panic!("expected a commit, got {other:?}"),
            }
        }
    }
    head
}

/// One message as an external consumer sees it.
#[derive(Debug, Clone)]
struct Seen {
    topic: String,
    key: String,
    headers: HashMap<String, String>,
    value: serde_json::Value,
}

impl Seen {
    fn position(&self) -> i64 {
        self.headers["cg_position"].parse().unwrap()
    }

    fn sequence(&self) -> i64 {
        self.headers["cg_sequence"].parse().unwrap()
    }
}

/// Reads every event topic until `head` distinct positions arrived (or panics after 60 s).
async fn consume_until(config: &KafkaConfig, head: i64) -> Vec<Seen> {
    let consumer: StreamConsumer = config
        .client_config()
        .set("group.id", format!("test-{}", Uuid::new_v4()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let topics: Vec<String> = TYPES
        .iter()
        .map(|t| engine::kafka::events_topic(t))
        .collect();
    let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
    consumer.subscribe(&topics).expect("subscribe");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    let mut positions = HashSet::new();
    while (positions.len() as i64) < head {
        let left = deadline.saturating_duration_since(Instant::now());
        let message = match tokio::time::timeout(left, consumer.recv()).await {
            Ok(Ok(message)) => message,
            Ok(Err(error)) => panic!("consume: {error}"),
            Err(_) => panic!("only {} of {head} positions arrived", positions.len()),
        };
        let headers = message
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| {
                        let value = h.value.map(|v| String::from_utf8_lossy(v).into_owned());
                        (h.key.to_owned(), value.unwrap_or_default())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let item = Seen {
            topic: message.topic().to_owned(),
            key: String::from_utf8_lossy(message.key().unwrap_or_default()).into_owned(),
            headers,
            value: serde_json::from_slice(message.payload().unwrap_or_default()).unwrap(),
        };
        positions.insert(item.position());
        seen.push(item);
    }
    seen
}

/// Every position 1..=head arrived; after deduplication on `ce_id`, each key's sequences
/// are 1, 2, 3… in arrival order; the envelope matches the log.
async fn assert_complete_and_ordered(store: &dyn EventStore, seen: &[Seen], head: i64) {
    let mut ids = HashSet::new();
    let mut per_key: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for item in seen {
        if ids.insert(item.headers["ce_id"].clone()) {
            per_key
                .entry(item.key.clone())
                .or_default()
                .push(item.sequence());
        }
    }
    let positions: HashSet<i64> = seen.iter().map(Seen::position).collect();
    assert_eq!(
        positions,
        (1..=head).collect(),
        "every position, nothing else"
    );
    for (key, sequences) in &per_key {
        let expected: Vec<i64> = (1..=sequences.len() as i64).collect();
        assert_eq!(sequences, &expected, "per-key order of {key}");
    }
    let logged = store
        .read_all(0, head, &Default::default())
        .await
        .expect("read log");
    let by_id: HashMap<String, &engine::store::RecordedEvent> =
        logged.iter().map(|e| (e.id.to_string(), e)).collect();
    for item in seen {
        let event = by_id[&item.headers["ce_id"]];
        assert_eq!(
            item.topic,
            format!("clustergenie.events.{}.v1", event.aggregate_type)
        );
        assert_eq!(item.key, event.aggregate_id);
        assert_eq!(item.value, event.data);
        assert_eq!(item.headers["ce_specversion"], "1.0");
        assert_eq!(item.headers["ce_source"], "clustergenie");
        assert_eq!(
            item.headers["ce_type"],
            format!("io.clustergenie.{}.v1", event.event_type)
        );
        assert_eq!(item.headers["ce_subject"], event.aggregate_id);
        assert_eq!(item.headers["content-type"], "application/json");
        assert_eq!(item.position(), event.position);
        assert_eq!(item.sequence(), event.sequence);
        assert_eq!(item.headers["traceparent"], event.metadata.traceparent);
    }
}

async fn wait_acknowledged(store: &dyn EventStore, head: i64) {
    eventually(
        DEADLINE,
        format!("the relay acknowledges {head}"),
        || async {
            let position = store.relay_position("kafka").await.unwrap();
            if position >= head {
                Ok(())
            } else {
                Err(format!("acknowledged {position}"))
            }
        },
    )
    .await;
}

fn start(
    store: &Arc<dyn EventStore>,
    config: &KafkaConfig,
    holder: &str,
) -> (
    Arc<RelayStats>,
    watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let relay = Relay::new(Arc::clone(store), config.clone(), options(holder));
    let stats = relay.stats();
    let (stop, stopped) = watch::channel(false);
    (stats, stop, relay.spawn(stopped))
}

async fn publishes_the_log_in_order(store: Arc<dyn EventStore>) {
    let (_mock, config) = mock(3);
    let before = append_rounds(&*store, 12, 5, 0).await;
    let (stats, stop, task) = start(&store, &config, "one");
    let head = append_rounds(&*store, 12, 5, 5).await;
    assert!(head > before);
    let seen = consume_until(&config, head).await;
    assert_complete_and_ordered(&*store, &seen, head).await;
    wait_acknowledged(&*store, head).await;
    assert!(stats.is_leader());
    assert!(stats.published() >= head as u64);
    stop.send(true).unwrap();
    task.await.unwrap();
}
on_both_backends!(publishes_in_order, crate::publishes_the_log_in_order);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_down_for_seconds_delays_but_loses_nothing() {
    let (store, _dir) = common::sqlite_store().await;
    let (mock, config) = mock(1);
    let (stats, stop, task) = start(&store, &config, "one");
    let first = append_rounds(&*store, 9, 3, 0).await;
    wait_acknowledged(&*store, first).await;

    mock.broker_down(1).unwrap();
    let during = append_rounds(&*store, 9, 10, 3).await;
    // The relay has taken the whole backlog in hand: what it acknowledges below is what
    // the broker did, not how far a slow machine got.
    eventually(
        DEADLINE,
        "the relay hands the backlog to the producer",
        || async { stats.handed_over() >= during },
    )
    .await;
    // The outage lasts seconds (librdkafka keeps retrying meanwhile).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stuck = store.relay_position("kafka").await.unwrap();
    assert!(
        stuck < during,
        "the backlog grows while the broker is down ({stuck} of {during})"
    );
    mock.broker_up(1).unwrap();

    let head = append_rounds(&*store, 9, 3, 13).await;
    let seen = consume_until(&config, head).await;
    assert_complete_and_ordered(&*store, &seen, head).await;
    wait_acknowledged(&*store, head).await;
    assert_eq!(stats.failures(), 0, "{:?}", stats.last_error());
    stop.send(true).unwrap();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_errors_are_retried_without_loss_or_reordering() {
    let (store, _dir) = common::sqlite_store().await;
    let (mock, config) = mock(3);
    let retriable = [
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RDKafkaRespErr::RD_KAFKA_RESP_ERR__TRANSPORT,
    ];
    mock.request_errors(RDKafkaApiKey::Produce, &retriable.repeat(5));
    let (_stats, stop, task) = start(&store, &config, "one");
    let head = append_rounds(&*store, 15, 8, 0).await;
    let seen = consume_until(&config, head).await;
    assert_complete_and_ordered(&*store, &seen, head).await;
    wait_acknowledged(&*store, head).await;
    stop.send(true).unwrap();
    task.await.unwrap();
}

async fn a_killed_relay_is_replaced(store: Arc<dyn EventStore>) {
    let (_mock, config) = mock(3);
    let (first, _stop_first, killed) = start(&store, &config, "first");
    let early = append_rounds(&*store, 6, 4, 0).await;
    wait_acknowledged(&*store, early).await;
    let (second, stop, task) = start(&store, &config, "second");
    // The second relay asks for the lease and is refused, more than once.
    eventually(
        DEADLINE,
        "the second relay asks for the lease twice",
        || async {
            assert!(
                first.is_leader() && !second.is_leader(),
                "one publisher at a time"
            );
            second.lease_requests() >= 2
        },
    )
    .await;

    // Killed: no graceful release, its lease runs out.
    killed.abort();
    let head = append_rounds(&*store, 6, 4, 4).await;
    let seen = consume_until(&config, head).await;
    assert_complete_and_ordered(&*store, &seen, head).await;
    wait_acknowledged(&*store, head).await;
    assert!(second.is_leader(), "the survivor took over");
    stop.send(true).unwrap();
    task.await.unwrap();
}
on_both_backends!(killed_relay, crate::a_killed_relay_is_replaced);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_relay_hands_over_at_once_and_the_next_resumes_from_its_position() {
    let (store, _dir) = common::sqlite_store().await;
    let (_mock, config) = mock(1);
    let (first, stop_first, task_first) = start(&store, &config, "first");
    let early = append_rounds(&*store, 4, 5, 0).await;
    wait_acknowledged(&*store, early).await;
    let published_by_first = first.published();
    stop_first.send(true).unwrap();
    task_first.await.unwrap();

    let (second, stop, task) = start(&store, &config, "second");
    let head = append_rounds(&*store, 4, 5, 5).await;
    wait_acknowledged(&*store, head).await;
    assert_eq!(published_by_first, early as u64);
    assert_eq!(
        second.published(),
        (head - early) as u64,
        "resumed after the acknowledged position"
    );
    let seen = consume_until(&config, head).await;
    assert_eq!(
        seen.len() as i64,
        head,
        "a graceful hand-over duplicates nothing"
    );
    stop.send(true).unwrap();
    task.await.unwrap();
}

/// Creating the topics can outlast the lease (here the broker is down, so the admin
/// request waits): the relay renews its lease meanwhile, so no second relay starts
/// publishing beside it, and shutdown does not wait for the creation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lease_is_kept_while_topics_are_created() {
    let (store, _dir) = common::sqlite_store().await;
    let (mock, config) = mock(1);
    let config = KafkaConfig {
        create_topics: true,
        ..config
    };
    mock.broker_down(1).unwrap();
    let (first, stop_first, task_first) = start(&store, &config, "first");
    eventually(
        Duration::from_secs(10),
        "the first relay takes the lease",
        || async { first.is_leader() },
    )
    .await;
    let (second, stop_second, task_second) = start(&store, &config, "second");
    // The second relay asks every third of the lease's lifetime: its thirteenth refusal
    // comes four lifetimes on, long after an unrenewed lease would have run out.
    eventually(
        DEADLINE,
        "the second relay asks for the lease 13 times",
        || async {
            assert!(
                !second.is_leader(),
                "the lease ran out while the first relay created topics"
            );
            second.lease_requests() >= 13
        },
    )
    .await;
    assert!(first.is_leader());
    stop_first.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task_first)
        .await
        .expect("both relays stop at once")
        .unwrap();
    // The positive control: the lease the first gave up, the same observation sees taken.
    eventually(
        DEADLINE,
        "the second relay takes the released lease",
        || async { second.is_leader() },
    )
    .await;
    stop_second.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task_second)
        .await
        .expect("both relays stop at once")
        .unwrap();
}
