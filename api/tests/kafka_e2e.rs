//! End to end against a real Kafka-protocol broker: tansu (installed by scripts/test.sh),
//! the `clustergenie serve` binary with `KAFKA_BROKERS` set, a command stream over HTTP
//! touching every aggregate type, and an external consumer written with another client
//! (scripts/kafka_contract_check.py, kafka-python) that finds every event topic, checks
//! the partitions ClusterGenie created, validates every message against `schemas/events/`,
//! checks the CloudEvents headers, dedupes on `ce_id` and checks each aggregate's
//! sequences.

use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_clustergenie");
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
/// The partitions ClusterGenie is told to create each topic with.
const PARTITIONS: i32 = 3;
/// The event topics, one per aggregate type; the stream below writes to each.
const EVENT_TOPICS: [&str; 5] = [
    "clustergenie.events.cluster.v1",
    "clustergenie.events.droplet.v1",
    "clustergenie.events.job.v1",
    "clustergenie.events.provider.v1",
    "clustergenie.events.ratelimit_rule.v1",
];

/// A child process killed on drop, its output in a log file.
struct Process {
    child: Child,
    log: PathBuf,
}

impl Process {
    fn start(mut command: Command, log: PathBuf) -> Self {
        let out = File::create(&log).expect("create a log");
        let err = out.try_clone().expect("clone the log handle");
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("start {command:?}: {e}"));
        Self { child, log }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
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

/// The tansu binary: `$TANSU`, on the PATH, or in cargo's bin directory.
fn tansu() -> PathBuf {
    if let Some(path) = std::env::var_os("TANSU") {
        return PathBuf::from(path);
    }
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|home| home.join("bin").join("tansu"));
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("tansu"));
    on_path
        .chain(cargo_bin)
        .find(|p| p.is_file())
        .expect("tansu is not installed: scripts/test.sh installs it (cargo install tansu)")
}

fn start_tansu(dir: &Path) -> (Process, String) {
    let port = free_port();
    let url = format!("tcp://127.0.0.1:{port}");
    let mut command = Command::new(tansu());
    command
        .arg("broker")
        .args(["--listener-url", &url, "--advertised-listener-url", &url])
        .args(["--storage-engine", "memory://tansu/"]);
    let process = Process::start(command, dir.join("tansu.log"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "tansu did not listen:\n{}",
            process.log_tail()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (process, format!("127.0.0.1:{port}"))
}

fn start_server(dir: &Path, brokers: &str) -> (Process, String) {
    let port = free_port();
    let mut command = Command::new(BIN);
    command
        .arg("serve")
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--sim-delay-ms", "20"])
        .arg("--data-dir")
        .arg(dir.join("data"))
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CLUSTERGENIE_") {
            command.env_remove(key);
        }
    }
    command
        .env("KAFKA_BROKERS", brokers)
        .env("CLUSTERGENIE_KAFKA_PARTITIONS", PARTITIONS.to_string());
    let process = Process::start(command, dir.join("server.log"));
    (process, format!("http://127.0.0.1:{port}"))
}

async fn wait_healthy(client: &reqwest::Client, base: &str, server: &Process) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = client.get(format!("{base}/healthz")).send().await {
            if response.status().is_success() {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "clustergenie did not become healthy:\n{}",
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn post(client: &reqwest::Client, url: String, body: Value) -> Value {
    let response = client.post(&url).json(&body).send().await.expect("POST");
    let status = response.status();
    let body: Value = response.json().await.expect("JSON answer");
    assert!(status.is_success(), "POST {url}: {status} {body}");
    body
}

async fn put(client: &reqwest::Client, url: String, body: Value) -> Value {
    let response = client.put(&url).json(&body).send().await.expect("PUT");
    let status = response.status();
    let body: Value = response.json().await.expect("JSON answer");
    assert!(status.is_success(), "PUT {url}: {status} {body}");
    body
}

/// A stream of commands touching every aggregate type: a provider registered, a rate-limit
/// rule set, clusters created and renamed, droplets created (with their jobs).
async fn command_stream(client: &reqwest::Client, base: &str) {
    let provider = json!({
        "name": "e2e-edge", "regions": ["nyc1", "fra1"], "price_multiplier": 0.9,
    });
    post(client, format!("{base}/v1/providers"), provider).await;
    let rule = json!({"scope": "user", "rate_per_sec": 50.0, "capacity": 100});
    put(
        client,
        format!("{base}/v1/ratelimits/rules/jobs_create"),
        rule,
    )
    .await;
    for c in 0..4 {
        let cluster = post(
            client,
            format!("{base}/v1/clusters"),
            json!({"name": format!("e2e-{c}"), "region": "nyc1"}),
        )
        .await;
        let id = cluster["id"].as_str().unwrap().to_owned();
        for d in 0..3 {
            let droplet = json!({
                "cluster_id": id, "name": format!("e2e-{c}-{d}"), "region": "nyc1",
                "size": "s-1vcpu-1gb", "image": "ubuntu-22-04-x64",
            });
            post(client, format!("{base}/v1/droplets"), droplet).await;
        }
        let renamed = json!({"name": format!("e2e-{c}-renamed")});
        let response = client
            .patch(format!("{base}/v1/clusters/{id}"))
            .json(&renamed)
            .send()
            .await
            .expect("PATCH");
        assert!(response.status().is_success());
    }
}

/// The head, once the log has been still for a second and the relay has published it.
async fn quiet_and_published(client: &reqwest::Client, base: &str, server: &Process) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut last = (-1, Instant::now());
    loop {
        let head = head(client, base).await;
        let metrics = client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text");
        if head != last.0 {
            last = (head, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(1)
            && metrics.contains("clustergenie_outbox_backlog 0")
        {
            return head;
        }
        assert!(
            Instant::now() < deadline,
            "the relay never caught up:\n{}",
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn head(client: &reqwest::Client, base: &str) -> i64 {
    let mut after = 0;
    loop {
        let page: Value = client
            .get(format!("{base}/v1/events?after={after}&limit=1000"))
            .send()
            .await
            .expect("events")
            .json()
            .await
            .expect("events JSON");
        let next = page["next_after"].as_i64().unwrap_or(after);
        if next == after {
            return after;
        }
        after = next;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_external_consumer_validates_every_published_event() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (broker, brokers) = start_tansu(dir.path());
    let (server, base) = start_server(dir.path(), &brokers);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    wait_healthy(&client, &base, &server).await;
    command_stream(&client, &base).await;
    let head = quiet_and_published(&client, &base, &server).await;
    assert!(
        head >= 2 + 4 * (1 + 3 * 3),
        "a real stream of events ({head})"
    );

    let python = std::env::var("CG_PYTHON").unwrap_or_else(|_| "python3".into());
    let output = Command::new(python)
        .arg(Path::new(ROOT).join("scripts/kafka_contract_check.py"))
        .args(["--brokers", &brokers, "--expect", &head.to_string()])
        .args(["--partitions", &PARTITIONS.to_string()])
        .arg("--schemas")
        .arg(Path::new(ROOT).join("schemas/events"))
        .output()
        .expect("run python3 scripts/kafka_contract_check.py");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the external consumer found violations:\n{stdout}\n{stderr}\nserver:\n{}\nbroker:\n{}",
        server.log_tail(),
        broker.log_tail()
    );
    eprintln!("external consumer:\n{stdout}");
    let summary: Value = serde_json::from_str(&stdout).expect("a JSON summary");
    assert_eq!(summary["events"], head, "{summary}");
    for topic in EVENT_TOPICS {
        assert_eq!(summary["topics"][topic], PARTITIONS, "{topic}: {summary}");
    }
}
