//! Workers scaled out by a Kafka consumer group, on librdkafka's mock cluster: two job
//! runtimes on one event store divide the jobs by the group's partition assignment; when
//! one stops mid-job, the other takes its partitions, times out its lost attempts and
//! retries them; every job ends exactly once.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::commands::{CommandContext, CommandService, CreateCluster, CreateJob};
use engine::executor::{Executor, ExecutorOptions};
use engine::kafka::group::{self, partition_of};
use engine::kafka::KafkaConfig;
use engine::policies::{Policies, PolicyPatch};
use engine::provider::{Providers, SimSpeed};
use engine::store::{EventFilter, EventStore};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{DefaultProducerContext, FutureProducer, FutureRecord};
use test_support::{eventually, on_both_backends, DEADLINE};
use tokio::sync::watch;

const PARTITIONS: i32 = 6;

/// The events that end a job, one of which each job gets exactly once.
const TERMINAL: [&str; 4] = [
    "job.succeeded",
    "job.failed",
    "job.timed_out",
    "job.cancelled",
];

fn mock() -> (MockCluster<'static, DefaultProducerContext>, KafkaConfig) {
    let mock = MockCluster::new(1).expect("mock cluster");
    mock.create_topic("clustergenie.events.job.v1", PARTITIONS, 1)
        .expect("topic");
    let config = KafkaConfig {
        partitions: PARTITIONS,
        create_topics: false,
        ..KafkaConfig::new(mock.bootstrap_servers())
    };
    (mock, config)
}

/// The relay's producer puts a job's events on the partition the group's ownership
/// computes for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_producer_places_keys_where_ownership_looks() {
    let (_mock, config) = mock();
    let producer: FutureProducer = config.producer_config().create().expect("producer");
    for i in 0..20 {
        let key = format!("job_{i:032x}");
        let record = FutureRecord::to("clustergenie.events.job.v1")
            .key(&key)
            .payload("{}");
        let delivered = producer
            .send(record, Duration::from_secs(10))
            .await
            .expect("delivered");
        assert_eq!(delivered.partition, partition_of(&key, PARTITIONS), "{key}");
    }
}

/// A runtime of its own (as a worker process would run it) in the group.
async fn worker(
    service: &CommandService,
    config: &KafkaConfig,
    name: &str,
    shutdown: watch::Receiver<bool>,
) -> (Arc<group::WorkerGroup>, Vec<tokio::task::JoinHandle<()>>) {
    let (ownership, membership) =
        group::join(config, "test.workers", shutdown.clone()).expect("join the group");
    let mut patches = BTreeMap::new();
    patches.insert(
        "monitor".to_owned(),
        PolicyPatch {
            heartbeat_timeout_ms: Some(900),
            initial_interval_ms: Some(10),
            ..PolicyPatch::default()
        },
    );
    let options = ExecutorOptions {
        workers: 2,
        queue: 100,
        // Long enough for jobs to be running when a worker stops.
        sim_delay: Duration::from_millis(400),
        name: name.into(),
        policies: Policies::patched(&patches).expect("policies"),
    };
    let providers = Arc::new(Providers::new(SimSpeed::INSTANT, 1));
    let (_executor, mut handles) = Executor::start_owning(
        service.clone(),
        providers,
        options,
        Arc::clone(&ownership) as _,
        shutdown,
    );
    handles.push(membership);
    (ownership, handles)
}

/// Waits (bounded) until both members hold partitions, all of them between the two.
/// Creates a cluster and `n` monitor jobs on it; their ids.
async fn create_jobs(service: &CommandService, n: usize) -> Vec<String> {
    let ctx = CommandContext::new("group-test");
    let cluster = CreateCluster::parse("jobs", "fra1", None).expect("cluster");
    let cluster_id = service
        .execute(&ctx, &cluster)
        .await
        .expect("create")
        .fresh()
        .expect("fresh")
        .id;
    let mut jobs = Vec::new();
    for _ in 0..n {
        let job = CreateJob::parse("monitor", &cluster_id, None, ctx.trace_id()).expect("job");
        jobs.push(job.id.to_string());
        service.execute(&ctx, &job).await.expect("create the job");
    }
    jobs
}

async fn wait_for_split(a: &group::WorkerGroup, b: &group::WorkerGroup) {
    let started = Instant::now();
    loop {
        let (mine, theirs) = (a.assigned(), b.assigned());
        if !mine.is_empty() && !theirs.is_empty() && mine.len() + theirs.len() == 6 {
            assert!(mine.is_disjoint(&theirs));
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no split: {mine:?} {theirs:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn two_workers_share_the_jobs_and_survive_one_stopping(store: Arc<dyn EventStore>) {
    let (_mock, config) = mock();
    let service = CommandService::new(Arc::clone(&store));
    let (stop_a, shutdown_a) = watch::channel(false);
    let (stop_b, shutdown_b) = watch::channel(false);
    let (group_a, handles_a) = worker(&service, &config, "a", shutdown_a).await;
    let (group_b, handles_b) = worker(&service, &config, "b", shutdown_b).await;
    wait_for_split(&group_a, &group_b).await;

    let jobs = create_jobs(&service, 30).await;
    // Stop worker a while its attempts run: b takes its partitions and its jobs.
    eventually(DEADLINE, "worker a runs an attempt", || async {
        let log = store
            .read_all(0, 100_000, &EventFilter::default())
            .await
            .expect("read");
        let ended: BTreeSet<&str> = log
            .iter()
            .filter(|e| TERMINAL.contains(&e.event_type.as_str()))
            .map(|e| e.aggregate_id.as_str())
            .collect();
        log.iter().any(|e| {
            e.event_type == "job.started"
                && e.data["worker"].as_str().and_then(|w| w.split('-').next()) == Some("a")
                && !ended.contains(e.aggregate_id.as_str())
        })
    })
    .await;
    let _ = stop_a.send(true);
    futures::future::join_all(handles_a).await;

    let started = Instant::now();
    let log = loop {
        let log = store
            .read_all(0, 100_000, &EventFilter::default())
            .await
            .expect("read");
        let ended: BTreeSet<&str> = log
            .iter()
            .filter(|e| TERMINAL.contains(&e.event_type.as_str()))
            .map(|e| e.aggregate_id.as_str())
            .collect();
        if jobs.iter().all(|j| ended.contains(j.as_str())) {
            break log;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "{} of {} jobs ended",
            ended.len(),
            jobs.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = stop_b.send(true);
    futures::future::join_all(handles_b).await;

    // Every end counts, whatever its kind: a job that succeeded and also failed or timed
    // out for good ended twice.
    let mut ends: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut workers = BTreeSet::new();
    for event in &log {
        if event.event_type == "job.started" {
            let worker = event.data["worker"].as_str().unwrap_or_default();
            workers.insert(worker.split('-').next().unwrap_or_default().to_owned());
        }
        if TERMINAL.contains(&event.event_type.as_str()) {
            ends.entry(event.aggregate_id.as_str())
                .or_default()
                .push(event.event_type.as_str());
        }
    }
    assert!(
        ends.values().all(|kinds| kinds.len() == 1),
        "a job ended twice: {ends:?}"
    );
    let lost = log
        .iter()
        .filter(|e| e.event_type == "job.retry_scheduled")
        .filter(|e| {
            e.data["error"]
                .as_str()
                .is_some_and(|m| m.ends_with("timed out"))
        })
        .count();
    assert!(
        lost > 0,
        "worker a stopped with no attempt running: the test proves little"
    );
    assert_eq!(ends.len(), jobs.len(), "every job ended");
    assert!(
        ends.values().all(|kinds| kinds == &["job.succeeded"]),
        "every job succeeded: {ends:?}"
    );
    assert_eq!(workers, BTreeSet::from(["a".to_owned(), "b".to_owned()]));
}
on_both_backends!(
    two_workers,
    super::two_workers_share_the_jobs_and_survive_one_stopping
);

/// A worker whose broker is down at start: joining returns at once, commands are taken,
/// no job runs while the group cannot be reached (the failure is reported); once the
/// broker is back, the worker joins and runs the jobs that waited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_started_while_kafka_is_down_runs_the_jobs_once_it_is_back() {
    let (store, _dir) = common::sqlite_store().await;
    let (mock, config) = mock();
    mock.broker_down(1).expect("broker down");
    let service = CommandService::new(Arc::clone(&store));
    let (stop, shutdown) = watch::channel(false);
    let (group, handles) = tokio::time::timeout(
        Duration::from_secs(5),
        worker(&service, &config, "a", shutdown),
    )
    .await
    .expect("joining does not wait for the broker");
    let jobs = create_jobs(&service, 5).await;
    let started = Instant::now();
    while group.last_error().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no failure reported"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!group.is_joined());
    let read = || async {
        store
            .read_all(0, 100_000, &EventFilter::default())
            .await
            .expect("read")
    };
    let log = read().await;
    assert!(
        log.iter().all(|e| e.event_type != "job.started"),
        "a job ran outside the group"
    );

    mock.broker_up(1).expect("broker up");
    let started = Instant::now();
    loop {
        let log = read().await;
        let succeeded: BTreeSet<&str> = log
            .iter()
            .filter(|e| e.event_type == "job.succeeded")
            .map(|e| e.aggregate_id.as_str())
            .collect();
        if jobs.iter().all(|j| succeeded.contains(j.as_str())) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{} of {} jobs succeeded after the broker came back",
            succeeded.len(),
            jobs.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = read().await;
    let ends = log
        .iter()
        .filter(|e| TERMINAL.contains(&e.event_type.as_str()))
        .count();
    assert_eq!(ends, jobs.len(), "each job ended once");
    assert!(group.is_joined() && group.last_error().is_none());
    assert_eq!(group.partitions(), PARTITIONS);
    let _ = stop.send(true);
    futures::future::join_all(handles).await;
}
