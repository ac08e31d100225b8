//! Workers scaled out by a Kafka consumer group, with the real binary: `clustergenie serve
//! --no-workers` takes the commands, two `clustergenie worker` processes run the jobs as one
//! consumer group (on librdkafka's mock cluster, which this test process hosts on local
//! ports), and one worker is killed with SIGKILL while its attempts run. Every job must end
//! exactly once, no droplet may be provisioned twice, and both workers must have worked.
//!
//! PostgreSQL only (several processes share the database): `$DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`, gets a fresh database for the test.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use engine::store::{EventFilter, EventStore, RecordedEvent};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use serde_json::{json, Value};
use test_support::ScratchDb;

const BIN: &str = env!("CARGO_BIN_EXE_clustergenie");
const DROPLETS: usize = 40;
/// Provisions take 0.6-1.2 s (sim speed 5); a silent attempt is lost after 1 s.
const SETTINGS: &str = "sim_speed = 5.0\nworker_count = 2\nworker_queue = 200\n\
    ratelimit_enabled = false\n\
    [kafka]\ncreate_topics = false\n\
    [job_policies.provision]\nheartbeat_timeout_ms = 1000\ninitial_interval_ms = 50\n";

/// A child process, killed on drop.
struct Process {
    child: Child,
    log: PathBuf,
}

impl Process {
    fn start(args: &[&str], work_dir: &Path, name: &str, env: &[(&str, &str)]) -> Self {
        let log = work_dir.join(format!("{name}.log"));
        let out = File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let mut command = Command::new(BIN);
        command
            .arg("--config")
            .arg(work_dir.join("cg.toml"))
            .args(args);
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().to_string();
            if key.starts_with("CLUSTERGENIE_") || key == "DATABASE_URL" || key == "REDIS_URL" {
                command.env_remove(key);
            }
        }
        command.envs(env.iter().copied());
        let child = command
            .current_dir(work_dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start clustergenie");
        Self { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The partitions of its last assignment, once it had one.
    fn assignment(&self) -> Option<String> {
        self.log()
            .lines()
            .rfind(|l| l.contains("partitions assigned"))
            .map(str::to_owned)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("local address").port()
}

async fn read_log(store: &dyn EventStore) -> Vec<RecordedEvent> {
    store
        .read_all(0, 1_000_000, &EventFilter::default())
        .await
        .expect("read the log")
}

fn ended(log: &[RecordedEvent]) -> BTreeMap<String, usize> {
    let mut ends = BTreeMap::new();
    for event in log {
        if matches!(
            event.event_type.as_str(),
            "job.succeeded" | "job.failed" | "job.timed_out" | "job.cancelled"
        ) {
            *ends.entry(event.aggregate_id.clone()).or_default() += 1;
        }
    }
    ends
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_divide_the_jobs_and_survive_a_kill() {
    let db = ScratchDb::postgres().await;
    scenario(db.url().to_owned()).await;
}

async fn scenario(url: String) {
    let mock = MockCluster::<DefaultProducerContext>::new(1).expect("mock cluster");
    for topic in engine::kafka::topics::all_topics() {
        mock.create_topic(&topic, 6, 1).expect("topic");
    }
    let brokers = mock.bootstrap_servers();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("cg.toml"), SETTINGS).expect("settings");
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("KAFKA_BROKERS", brokers.as_str()),
    ];
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let api = Process::start(
        &["serve", "--no-workers", "--listen", &listen],
        dir.path(),
        "api",
        &env,
    );
    let client = reqwest::Client::new();
    let base = format!("http://{listen}");
    let healthy = |client: &reqwest::Client| {
        let url = format!("{base}/healthz");
        let client = client.clone();
        async move {
            client
                .get(url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
        }
    };
    let started = Instant::now();
    while !healthy(&client).await {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "api: {}",
            api.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let a = Process::start(&["worker"], dir.path(), "worker-a", &env);
    let b = Process::start(&["worker"], dir.path(), "worker-b", &env);
    // Both hold partitions (a worker that joined alone first was rebalanced by then).
    let started = Instant::now();
    loop {
        let holds = |p: &Process| p.assignment().is_some_and(|l| !l.contains("{}"));
        if holds(&a) && holds(&b) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "both workers hold partitions within 60 s; a:\n{}\nb:\n{}",
            a.log(),
            b.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let cluster: Value = client
        .post(format!("{base}/v1/clusters"))
        .json(&json!({ "name": "shared", "region": "fra1" }))
        .send()
        .await
        .expect("create a cluster")
        .json()
        .await
        .expect("json");
    for i in 0..DROPLETS {
        let body = json!({
            "cluster_id": cluster["id"], "name": format!("d{i}"), "region": "fra1",
            "size": "s-1vcpu-1gb", "image": "ubuntu-22-04-x64",
        });
        let answer = client
            .post(format!("{base}/v1/droplets"))
            .json(&body)
            .send()
            .await
            .expect("create a droplet");
        assert_eq!(answer.status().as_u16(), 202);
    }
    // Worker a dies while one of its attempts runs.
    let store = engine::store::connect(&url, 2).await.expect("store");
    let a_pid = format!("-{}-", a.child.id());
    let started = Instant::now();
    loop {
        let log = read_log(&*store).await;
        let ends = ended(&log);
        let running_at_a = log.iter().any(|e| {
            e.event_type == "job.started"
                && e.data["worker"]
                    .as_str()
                    .is_some_and(|w| w.contains(&a_pid))
                && !ends.contains_key(&e.aggregate_id)
        });
        if running_at_a {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "worker a never ran an attempt:\n{}",
            a.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(a);

    let started = Instant::now();
    let log = loop {
        let log = read_log(&*store).await;
        let jobs = log.iter().filter(|e| e.event_type == "job.created").count();
        if jobs == DROPLETS && ended(&log).len() == DROPLETS {
            break log;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "{} of {DROPLETS} jobs ended; worker b:\n{}",
            ended(&log).len(),
            b.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let ends = ended(&log);
    assert!(
        ends.values().all(|n| *n == 1),
        "a job ended twice: {ends:?}"
    );
    let mut provisioned: BTreeMap<&str, usize> = BTreeMap::new();
    let mut workers = BTreeSet::new();
    for event in &log {
        if event.event_type == "droplet.provisioned" {
            *provisioned.entry(event.aggregate_id.as_str()).or_default() += 1;
        }
        if event.event_type == "job.started" {
            let worker = event.data["worker"].as_str().unwrap_or_default();
            // <host>-<pid>-<n>: the process.
            workers.insert(
                worker
                    .rsplit_once('-')
                    .map_or(worker, |(p, _)| p)
                    .to_owned(),
            );
        }
    }
    assert!(provisioned.values().all(|n| *n == 1), "{provisioned:?}");
    assert_eq!(workers.len(), 2, "both workers ran attempts: {workers:?}");
    let lost = log
        .iter()
        .filter(|e| e.event_type == "job.retry_scheduled")
        .count();
    assert!(
        lost > 0,
        "the kill caught no attempt running: the test proves little"
    );
    drop(b);
    drop(api);
}
