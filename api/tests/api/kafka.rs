//! Kafka through the real server, on librdkafka's mock cluster: the relay publishes what
//! the API records, and the command topic runs commands like HTTP does.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use engine::kafka::{KafkaConfig, COMMANDS_TOPIC, COMMAND_RESULTS_TOPIC};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{DefaultProducerContext, FutureProducer, FutureRecord};
use serde_json::{json, Value};
use test_support::eventually;

use crate::common::{run_configured, str_of, Backend, TestApp};

type Mock = MockCluster<'static, DefaultProducerContext>;

fn mock_kafka() -> (Mock, KafkaConfig) {
    let mock = MockCluster::new(1).expect("mock cluster");
    for topic in engine::kafka::topics::all_topics() {
        mock.create_topic(&topic, 3, 1).expect("topic");
    }
    let config = KafkaConfig {
        partitions: 3,
        create_topics: false,
        ..KafkaConfig::new(mock.bootstrap_servers())
    };
    (mock, config)
}

/// Runs `body` against a server on `backend` that uses a fresh mock broker; the body gets
/// the broker's configuration too (to produce and consume beside the server).
async fn run_on_kafka<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(TestApp, KafkaConfig) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (_mock, config) = mock_kafka();
    let kafka = config.clone();
    run_configured(
        backend,
        move |s| s.kafka = kafka,
        move |app| body(app, config),
    )
    .await;
}

fn consumer(config: &KafkaConfig, topic: &str) -> StreamConsumer {
    let consumer: StreamConsumer = config
        .client_config()
        .set("group.id", format!("test-{}", uuid::Uuid::new_v4()))
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    consumer
}

/// A header of a message, as text.
fn header(message: &impl Message, name: &str) -> Option<String> {
    message
        .headers()
        .and_then(|h| h.iter().find(|h| h.key == name))
        .and_then(|h| h.value)
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// Sends one message on the command topic; `None` headers are left out.
async fn send(
    producer: &FutureProducer,
    key: &str,
    headers: &[(&str, Option<&str>)],
    value: &[u8],
) {
    let headers = headers.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).fold(
        OwnedHeaders::new(),
        |h, (key, value)| {
            h.insert(Header {
                key,
                value: Some(value),
            })
        },
    );
    let record = FutureRecord::to(COMMANDS_TOPIC)
        .key(key)
        .payload(value)
        .headers(headers);
    producer
        .send(record, Duration::from_secs(10))
        .await
        .expect("send a command");
}

async fn command(producer: &FutureProducer, ce_id: &str, ce_type: &str, value: Value) {
    let headers = [
        ("ce_specversion", Some("1.0")),
        ("ce_id", Some(ce_id)),
        ("ce_source", Some("billing")),
        ("ce_type", Some(ce_type)),
    ];
    send(producer, ce_id, &headers, value.to_string().as_bytes()).await;
}

/// Reads results until each of `ids` was answered as often as it was sent (at most 60 s);
/// by command id, every answer in arrival order.
async fn results(consumer: &StreamConsumer, ids: &[&str]) -> HashMap<String, Vec<Value>> {
    let wanted = |id: &str| ids.iter().filter(|i| **i == id).count();
    results_until(consumer, |seen| {
        ids.iter()
            .all(|id| seen.get(*id).map_or(0, Vec::len) >= wanted(id))
    })
    .await
}

/// Reads results until `done` says so (at most 60 s).
async fn results_until(
    consumer: &StreamConsumer,
    done: impl Fn(&HashMap<String, Vec<Value>>) -> bool,
) -> HashMap<String, Vec<Value>> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen: HashMap<String, Vec<Value>> = HashMap::new();
    while !done(&seen) {
        let left = deadline.saturating_duration_since(Instant::now());
        let message = tokio::time::timeout(left, consumer.recv())
            .await
            .unwrap_or_else(|_| panic!("results missing; got {seen:?}"))
            .expect("consume");
        let ce_type = header(&message, "ce_type");
        assert_eq!(
            ce_type.as_deref(),
            Some("io.clustergenie.command.result.v1")
        );
        let outcome: Value = serde_json::from_slice(message.payload().unwrap()).unwrap();
        let key = String::from_utf8_lossy(message.key().unwrap()).into_owned();
        assert_eq!(
            outcome["command_id"],
            key.as_str(),
            "results are keyed by command id"
        );
        seen.entry(key).or_default().push(outcome);
    }
    seen
}

async fn commands_on_kafka(backend: Backend) {
    run_on_kafka(backend, commands_body).await;
}

async fn commands_body(app: TestApp, config: KafkaConfig) {
    let producer: FutureProducer = config.client_config().create().expect("producer");
    let answers = consumer(&config, COMMAND_RESULTS_TOPIC);
    let create = "io.clustergenie.cluster.create.v1";
    for _sent_twice in 0..2 {
        let web = json!({"name": "kafka-web", "region": "nyc1"});
        command(&producer, "c-1", create, web).await;
    }
    send(&producer, "junk", &[("ce_type", Some(create))], b"{}").await;
    command(&producer, "c-2", create, json!({"name": "x"})).await;
    send(
        &producer,
        "c-3",
        &[("ce_id", Some("c-3")), ("ce_type", Some(create))],
        b"\xff{",
    )
    .await;
    command(
        &producer,
        "c-4",
        "io.clustergenie.cluster.explode.v1",
        json!({}),
    )
    .await;
    command(
        &producer,
        "c-5",
        create,
        json!({"name": "kafka-api", "region": "fra1"}),
    )
    .await;
    let ids = ["c-1", "c-1", "c-2", "c-3", "c-4", "c-5"];
    let without_id = |k: &String| k.starts_with("clustergenie.commands.v1/");
    let seen = results_until(&answers, |seen| {
        seen.keys().any(without_id)
            && ids.iter().all(|id| {
                seen.get(*id).map_or(0, Vec::len) >= ids.iter().filter(|i| *i == id).count()
            })
    })
    .await;
    let (_, junk) = seen.iter().find(|(k, _)| without_id(k)).unwrap();
    assert_eq!(junk[0]["status"], 400, "a command without ce_id: {junk:?}");
    assert!(junk[0]["problem"]["detail"]
        .as_str()
        .unwrap()
        .contains("ce_id"));

    let first = &seen["c-1"][0];
    assert_eq!(first["accepted"], true, "{first}");
    assert_eq!(first["status"], 201);
    assert_eq!(first["replayed"], false);
    assert!(first["position"].as_i64().unwrap() > 0);
    let cluster_id = first["body"]["id"].as_str().unwrap().to_owned();
    for rejected in ["c-2", "c-3", "c-4"] {
        let outcome = &seen[rejected][0];
        assert_eq!(outcome["accepted"], false, "{outcome}");
        assert!(outcome["status"].as_u64().unwrap() / 100 == 4, "{outcome}");
        assert!(outcome["problem"]["detail"].is_string(), "{outcome}");
    }
    assert_eq!(
        seen["c-5"][0]["accepted"], true,
        "the consumer kept going: {:?}",
        seen["c-5"]
    );

    // The duplicate was answered with the first answer, and nothing was done twice.
    let again = &seen["c-1"][1];
    assert_eq!(again["replayed"], true, "{again}");
    assert_eq!(again["position"], first["position"]);
    assert_eq!(again["body"]["id"], cluster_id.as_str());
    let listed = app
        .get("/v1/clusters?search=kafka-web&min_position=2")
        .await
        .body;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");

    // Commands on a resource carry its id (and the version, as If-Match).
    let update = "io.clustergenie.cluster.update.v1";
    let rename = json!({"id": cluster_id, "name": "kafka-web-2", "expected_version": 99});
    command(&producer, "c-6", update, rename).await;
    let rename = json!({"id": cluster_id, "name": "kafka-web-2", "expected_version": 1});
    command(&producer, "c-7", update, rename).await;
    let seen = results(&answers, &["c-6", "c-7"]).await;
    assert_eq!(seen["c-6"][0]["status"], 412, "{:?}", seen["c-6"]);
    assert_eq!(seen["c-7"][0]["accepted"], true, "{:?}", seen["c-7"]);
    assert_eq!(seen["c-7"][0]["body"]["name"], "kafka-web-2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_on_kafka_sqlite() {
    commands_on_kafka(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_on_kafka_postgres() {
    commands_on_kafka(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_publishes_what_it_records() {
    run_on_kafka(Backend::Sqlite, |app, config| async move {
        let events = consumer(&config, "clustergenie.events.cluster.v1");
        let created = app
            .post(
                "/v1/clusters",
                &json!({"name": "published", "region": "nyc1"}),
            )
            .await
            .body;
        let id = created["id"].as_str().unwrap().to_owned();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = tokio::time::timeout(left, events.recv())
                .await
                .expect("cluster.created on Kafka")
                .expect("consume");
            let header = |name: &str| header(&message, name);
            if header("ce_subject").as_deref() == Some(id.as_str()) {
                assert_eq!(
                    header("ce_type").unwrap(),
                    "io.clustergenie.cluster.created.v1"
                );
                let data: Value = serde_json::from_slice(message.payload().unwrap()).unwrap();
                assert_eq!(data["name"], "published");
                break;
            }
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let metrics = app.get("/metrics").await.text;
            if metrics.contains("clustergenie_outbox_backlog 0")
                && metrics.contains("clustergenie_kafka_relay_leader 1")
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "backlog never drained:\n{metrics}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
}

/// Polls `path` until `done` holds for a 200 answer, at most `within` (Kafka reconnects
/// with backoff: slower than the usual deadline).
async fn poll_long(app: &TestApp, path: &str, within: Duration, done: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + within;
    loop {
        let answer = app.get(path).await;
        if answer.status == 200 && done(&answer.body) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{path}: last answer {} {}",
            answer.status,
            answer.text
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The broker is down when the server starts: it starts anyway (workers on), takes
/// commands, reports the worker group as joining and runs no job; once the broker is
/// back, it joins, runs the waiting job and drains the backlog.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_starts_and_takes_commands_while_kafka_is_down() {
    let (mock, config) = mock_kafka();
    mock.broker_down(1).expect("broker down");
    // The mock cluster stays on this task (it is not `Send`); the body asks for the broker.
    let (up, wanted) = tokio::sync::oneshot::channel::<()>();
    let broker_back = async {
        if wanted.await.is_ok() {
            mock.broker_up(1).expect("broker up");
        }
    };
    let server = run_configured(
        Backend::Sqlite,
        move |s| s.kafka = config,
        move |app| async move {
            let cluster = app.create_cluster("while-down").await;
            let created = app.create_droplet(str_of(&cluster["id"]), "d-1").await;
            let job_path = format!("/v1/jobs/{}", str_of(&created["job"]["id"]));
            let ready = app.get("/readyz").await.expect(200).clone();
            let workers = &ready["checks"]["workers"];
            assert_eq!(workers["status"], "joining", "{ready}");
            assert_eq!(workers["backend"], "kafka-group", "{ready}");
            assert_eq!(
                app.metric("clustergenie_kafka_worker_group_joined ").await,
                0.0
            );
            // The worker group tried to reach the broker and reported that it could not.
            eventually(
                test_support::DEADLINE,
                "the worker group reports the broker down",
                || async {
                    let ready = app.get("/readyz").await.body;
                    ready["checks"]["workers"]["last_error"].is_string()
                },
            )
            .await;
            let job = app.get(&job_path).await.expect(200).clone();
            assert_eq!(
                job["status"], "pending",
                "no job runs outside the group: {job}"
            );
            assert!(app.metric("clustergenie_outbox_backlog ").await > 0.0);

            up.send(()).expect("broker back");
            let within = Duration::from_secs(60);
            poll_long(&app, &job_path, within, |j| j["status"] == "succeeded").await;
            poll_long(&app, "/readyz", within, |r| {
                r["checks"]["workers"]["status"] == "ok"
            })
            .await;
            assert_eq!(
                app.metric("clustergenie_kafka_worker_group_joined ").await,
                1.0
            );
            let deadline = Instant::now() + within;
            while app.metric("clustergenie_outbox_backlog ").await > 0.0 {
                assert!(Instant::now() < deadline, "the backlog never drained");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        },
    );
    tokio::join!(server, broker_back);
}

/// Headers no command may carry (a 2 MB `ce_id`, a 2 MB `ce_type`, a control character in
/// `ce_id`) are rejected with their echo cut short, and the consumer goes on: the next
/// command is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_headers_are_rejected_and_the_partition_moves_on() {
    run_on_kafka(Backend::Sqlite, |app, config| async move {
        let _serving = app;
        let producer: FutureProducer = config
            .client_config()
            .set("message.max.bytes", "10000000")
            .create()
            .expect("producer");
        let answers = consumer(&config, COMMAND_RESULTS_TOPIC);
        let create = "io.clustergenie.cluster.create.v1";
        let value = json!({"name": "after-junk", "region": "nyc1"}).to_string();
        let huge_id = "x".repeat(2 << 20);
        let huge_type = "t".repeat(2 << 20);
        let headers = [("ce_id", Some(huge_id.as_str())), ("ce_type", Some(create))];
        send(&producer, "big-id", &headers, value.as_bytes()).await;
        let headers = [
            ("ce_id", Some("c-big-type")),
            ("ce_type", Some(huge_type.as_str())),
        ];
        send(&producer, "big-type", &headers, value.as_bytes()).await;
        command(
            &producer,
            "c-\u{1}",
            create,
            json!({"name": "ctl", "region": "nyc1"}),
        )
        .await;
        command(
            &producer,
            "c-after",
            create,
            json!({"name": "after-junk", "region": "nyc1"}),
        )
        .await;
        let clipped = "x".repeat(255);
        let ids = [clipped.as_str(), "c-big-type", "c-\u{1}", "c-after"];
        let seen = results(&answers, &ids).await;
        let big = &seen[clipped.as_str()][0];
        assert_eq!(big["status"], 400, "{big}");
        let detail = big["problem"]["detail"].as_str().unwrap();
        assert!(
            detail.contains("ce_id") && detail.contains("255"),
            "{detail}"
        );
        assert_eq!(big["command_type"], create);
        let big_type = &seen["c-big-type"][0];
        assert_eq!(big_type["status"], 400, "{big_type}");
        assert_eq!(big_type["command_type"].as_str().unwrap().len(), 255);
        assert_eq!(seen["c-\u{1}"][0]["status"], 400, "{:?}", seen["c-\u{1}"]);
        assert_eq!(
            seen["c-after"][0]["accepted"], true,
            "{:?}",
            seen["c-after"]
        );
    })
    .await;
}
