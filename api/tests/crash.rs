//! Crash safety of the real binary: `clustergenie serve` is killed with SIGKILL while
//! clients send commands and while jobs run, then restarted on the same database. Every
//! acknowledged command must be in the log, the log must stay gap-free, unfinished jobs
//! must be carried to an end, and the read models must converge to a fresh fold of the log.
//!
//! Runs against SQLite (a temporary `--data-dir`) and PostgreSQL (a fresh database on
//! `$DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::domain::{Cluster, Droplet, Job};
use engine::fold::Loaded;
use engine::store::{EventFilter, RecordedEvent};
use engine::views::{ClusterView, DropletView, JobView};
use reqwest::{Client, Method};
use serde_json::{json, Value};
use sqlx::Connection;
use test_support::{eventually, with_database, ScratchDb, DEADLINE};

const BIN: &str = env!("CARGO_BIN_EXE_clustergenie");
/// Concurrent HTTP clients.
const CLIENTS: usize = 6;
/// How long the clients send commands before the kill.
const LOAD_TIME: Duration = Duration::from_millis(1500);
const TERMINAL: [&str; 4] = ["succeeded", "failed", "cancelled", "timed_out"];
/// Droplets created at once at the start of each round: their provision jobs are still
/// running or waiting when the kill comes.
const BURST: usize = 200;
/// The server's settings file: provisions take 150-300 ms (sim speed 20), so the burst
/// keeps the four workers busy for about ten seconds and a kill catches most of it
/// unfinished; a queue that holds the burst; and attempts lost with a killed worker are
/// timed out after a second of silence instead of thirty (every job type).
fn settings() -> String {
    let mut text = String::from("sim_speed = 20.0\nworker_queue = 400\n");
    for job_type in engine::domain::JobType::ALL {
        text.push_str(&format!(
            "[job_policies.{job_type}]\nheartbeat_timeout_ms = 1000\ninitial_interval_ms = 50\n"
        ));
    }
    text
}

// ---------------------------------------------------------------------------------------
// The database and the child process
// ---------------------------------------------------------------------------------------

/// Where the server keeps its data; a PostgreSQL database is dropped with it.
enum Database {
    Sqlite { data_dir: PathBuf },
    Postgres(ScratchDb),
}

impl Database {
    async fn postgres() -> Self {
        Self::Postgres(ScratchDb::postgres().await)
    }

    /// The URL the event store is at (for reading the log directly).
    fn store_url(&self) -> String {
        match self {
            Self::Sqlite { data_dir } => {
                format!("sqlite://{}", data_dir.join("clustergenie.db").display())
            }
            Self::Postgres(db) => db.url().to_owned(),
        }
    }
}

/// A running `clustergenie serve`; killed (SIGKILL) and reaped on drop.
struct Server {
    child: Option<Child>,
    base: String,
    log: PathBuf,
}

impl Server {
    fn start(db: &Database, work_dir: &Path, round: usize) -> Self {
        let port = free_port();
        let log = work_dir.join(format!("server-{round}.log"));
        let out = File::create(&log).expect("create the server log");
        let err = out.try_clone().expect("clone the log handle");
        let settings_file = work_dir.join("crash.toml");
        std::fs::write(&settings_file, settings()).expect("write the settings file");
        let mut command = Command::new(BIN);
        command
            .arg("--config")
            .arg(&settings_file)
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--sim-delay-ms")
            .arg("20");
        match db {
            Database::Sqlite { data_dir } => command.arg("--data-dir").arg(data_dir),
            Database::Postgres(db) => command.arg("--database-url").arg(db.url()),
        };
        // Nothing from the test's environment or working directory may configure the
        // server: no DATABASE_URL, no REDIS_URL, no CLUSTERGENIE_*, no clustergenie.toml.
        command.env_remove("DATABASE_URL");
        // Nor the suite's Redis: two crash servers (one per backend, running at once) must
        // not share one cache key space.
        command.env_remove("REDIS_URL");
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("CLUSTERGENIE_") {
                command.env_remove(key);
            }
        }
        // The clients send commands as one user, far faster than the default job rule
        // allows; rate limiting has its own tests.
        command.env("CLUSTERGENIE_RATELIMIT_ENABLED", "false");
        command
            .current_dir(work_dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = command.spawn().expect("start clustergenie");
        Self {
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// Waits (bounded) until `/healthz` answers.
    async fn wait_healthy(&mut self, client: &Client) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("clustergenie exited early ({status}):\n{}", self.log_tail());
                }
            }
            let url = format!("{}/healthz", self.base);
            if let Ok(response) = client.get(&url).send().await {
                if response.status().is_success() {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "clustergenie did not become healthy within 60 s:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL, then reap.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then wait (bounded) for a clean exit.
    fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("server running");
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().expect("wait for clustergenie") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "clustergenie did not stop within 30 s of SIGTERM:\n{}",
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("local address").port()
}

// ---------------------------------------------------------------------------------------
// The clients
// ---------------------------------------------------------------------------------------

/// One command request, replayable with its idempotency key.
#[derive(Debug, Clone)]
struct Request {
    key: String,
    method: Method,
    path: String,
    body: Option<Value>,
}

/// A request and what became of it.
#[derive(Debug, Clone)]
struct Acked {
    request: Request,
    status: u16,
    body: Value,
    position: i64,
}

#[derive(Debug, Default)]
struct ClientLog {
    acked: Vec<Acked>,
    /// Requests whose outcome is unknown (the connection broke).
    unknown: Vec<Request>,
    rejected: usize,
}

enum Sent {
    Answered(u16, Value),
    Broken,
}

async fn send(client: &Client, base: &str, request: &Request) -> Sent {
    let mut builder = client
        .request(request.method.clone(), format!("{base}{}", request.path))
        .header("idempotency-key", &request.key)
        .header("x-user-id", "crash-test");
    if let Some(body) = &request.body {
        builder = builder.json(body);
    }
    match builder.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            match response.json::<Value>().await {
                Ok(body) => Sent::Answered(status, body),
                Err(_) => Sent::Broken,
            }
        }
        Err(_) => Sent::Broken,
    }
}

/// A tiny deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Sends a stream of commands until `stop` or until the server is gone.
async fn client_loop(
    client: Client,
    base: String,
    id: usize,
    round: usize,
    stop: Arc<AtomicBool>,
) -> ClientLog {
    let mut log = ClientLog::default();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((id as u64 + 1) << 32 | round as u64));
    let mut clusters: Vec<String> = Vec::new();
    let mut droplets: Vec<String> = Vec::new();
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let key = format!("r{round}-c{id}-{i}");
        let pick = |rng: &mut Rng, list: &[String]| list[rng.below(list.len())].clone();
        let roll = rng.below(20);
        let (method, path, body) = if clusters.is_empty() || roll == 0 {
            let region = ["nyc1", "lon1", "fra1"][rng.below(3)];
            (
                Method::POST,
                "/v1/clusters".to_owned(),
                Some(json!({ "name": format!("c{id}-{round}-{i}"), "region": region })),
            )
        } else if roll <= 7 {
            let cluster = pick(&mut rng, &clusters);
            let size = ["s-1vcpu-1gb", "s-2vcpu-2gb"][rng.below(2)];
            (
                Method::POST,
                "/v1/droplets".to_owned(),
                Some(json!({
                    "cluster_id": cluster, "name": format!("d{i}"), "region": "fra1",
                    "size": size, "image": "ubuntu-22-04-x64",
                })),
            )
        } else if roll <= 9 {
            let cluster = pick(&mut rng, &clusters);
            (
                Method::PATCH,
                format!("/v1/clusters/{cluster}"),
                Some(json!({ "name": format!("renamed-{id}-{round}-{i}") })),
            )
        } else if roll <= 11 {
            let cluster = pick(&mut rng, &clusters);
            let (job_type, parameters) = match rng.below(4) {
                0 => ("scale_up", json!({ "count": 2 })),
                1 => ("scale_down", json!({})),
                2 => ("monitor", json!({})),
                _ => ("diagnose", json!({})),
            };
            (
                Method::POST,
                "/v1/jobs".to_owned(),
                Some(json!({ "type": job_type, "cluster_id": cluster, "parameters": parameters })),
            )
        } else if roll <= 16 && !droplets.is_empty() {
            let droplet = pick(&mut rng, &droplets);
            match rng.below(4) {
                0 => (Method::DELETE, format!("/v1/droplets/{droplet}"), None),
                1 => (
                    Method::POST,
                    format!("/v1/droplets/{droplet}/power"),
                    Some(json!({ "action": (["off", "on", "restart"][rng.below(3)]) })),
                ),
                _ => (
                    Method::POST,
                    format!("/v1/droplets/{droplet}/resize"),
                    Some(json!({ "size": (["s-1vcpu-2gb", "s-2vcpu-4gb"][rng.below(2)]) })),
                ),
            }
        } else {
            let cluster = pick(&mut rng, &clusters);
            (Method::DELETE, format!("/v1/clusters/{cluster}"), None)
        };
        let request = Request {
            key,
            method,
            path,
            body,
        };
        match send(&client, &base, &request).await {
            Sent::Answered(status, body) if (200..300).contains(&status) => {
                let position = body["position"].as_i64().unwrap_or_else(|| {
                    panic!("{request:?} answered {status} without a position: {body}")
                });
                if request.path == "/v1/clusters" {
                    clusters.push(body["id"].as_str().unwrap_or_default().to_owned());
                } else if request.path == "/v1/droplets" {
                    droplets.push(
                        body["droplet"]["id"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                    );
                } else if request.method == Method::DELETE
                    && request.path.starts_with("/v1/clusters/")
                {
                    clusters.retain(|c| !request.path.ends_with(c.as_str()));
                }
                log.acked.push(Acked {
                    request,
                    status,
                    body,
                    position,
                });
            }
            // Back-pressure: the job queue is full and nothing was recorded; a client
            // retries later.
            Sent::Answered(503, body) if queue_full(&body) => {
                log.rejected += 1;
            }
            Sent::Answered(status, body) => {
                assert!(
                    status < 500,
                    "{request:?} failed with {status} while the server was up: {body}"
                );
                log.rejected += 1;
            }
            Sent::Broken => {
                log.unknown.push(request);
                // The server is gone (it was killed): stop.
                return log;
            }
        }
    }
    log
}

/// Runs the clients for `LOAD_TIME`, then (if `kill`) kills the server while they are
/// still sending.
async fn load(
    client: &Client,
    server: &mut Server,
    round: usize,
    kill: bool,
) -> (Vec<Acked>, Vec<Request>, usize) {
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|id| {
            tokio::spawn(client_loop(
                client.clone(),
                server.base.clone(),
                id,
                round,
                Arc::clone(&stop),
            ))
        })
        .collect();
    tokio::time::sleep(LOAD_TIME).await;
    if kill {
        server.kill();
    } else {
        stop.store(true, Ordering::Relaxed);
    }
    let mut acked = Vec::new();
    let mut unknown = Vec::new();
    let mut rejected = 0;
    for task in tasks {
        let log = tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("a client did not stop within 60 s")
            .expect("a client panicked");
        acked.extend(log.acked);
        unknown.extend(log.unknown);
        rejected += log.rejected;
    }
    stop.store(true, Ordering::Relaxed);
    (acked, unknown, rejected)
}

/// Creates a cluster and [`BURST`] droplets in it, eight requests at a time.
async fn burst(client: &Client, base: &str, round: usize) -> Vec<Acked> {
    use futures::StreamExt;
    let cluster = Request {
        key: format!("r{round}-burst-cluster"),
        method: Method::POST,
        path: "/v1/clusters".into(),
        body: Some(json!({ "name": format!("burst-{round}"), "region": "fra1" })),
    };
    let answered = |request: Request, sent: Sent| match sent {
        Sent::Answered(status, body) if (200..300).contains(&status) => {
            let position = body["position"].as_i64().expect("position");
            Acked {
                request,
                status,
                body,
                position,
            }
        }
        Sent::Answered(status, body) => panic!("{request:?}: {status} {body}"),
        Sent::Broken => panic!("{request:?}: the connection broke"),
    };
    let sent = send(client, base, &cluster).await;
    let cluster = answered(cluster, sent);
    let cluster_id = cluster.body["id"].as_str().expect("cluster id").to_owned();
    let droplets: Vec<Acked> = futures::stream::iter(0..BURST)
        .map(|i| {
            let request = Request {
                key: format!("r{round}-burst-{i}"),
                method: Method::POST,
                path: "/v1/droplets".into(),
                body: Some(json!({
                    "cluster_id": cluster_id, "name": format!("b{i}"), "region": "fra1",
                    "size": "s-1vcpu-1gb", "image": "ubuntu-22-04-x64",
                })),
            };
            async move {
                // A full job queue is back-pressure: wait for room, as the clients do.
                let sent = send_when_queue_has_room(client, base, &request).await;
                answered(request, sent)
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    std::iter::once(cluster).chain(droplets).collect()
}

/// Sends the requests whose outcome is unknown again, with their keys: each runs at most
/// once in all.
async fn retry_unknown(client: &Client, base: &str, unknown: &[Request]) -> Vec<Acked> {
    let mut acked = Vec::new();
    for request in unknown {
        match send_when_queue_has_room(client, base, request).await {
            Sent::Answered(status, body) if (200..300).contains(&status) => {
                let position = body["position"].as_i64().expect("position");
                acked.push(Acked {
                    request: request.clone(),
                    status,
                    body,
                    position,
                });
            }
            Sent::Answered(status, body) => {
                assert!(status < 500, "retry of {request:?}: {status} {body}");
            }
            Sent::Broken => {
                panic!("retry of {request:?}: the restarted server broke the connection")
            }
        }
    }
    acked
}

/// Whether a `503` is the job queue's back-pressure (nothing was recorded).
fn queue_full(body: &Value) -> bool {
    body["detail"]
        .as_str()
        .is_some_and(|d| d.contains("queue is full"))
}

/// [`send`], again after a pause while the server answers that its job queue is full (a
/// `503` that recorded nothing), as a client honouring `Retry-After` does (at most a minute).
async fn send_when_queue_has_room(client: &Client, base: &str, request: &Request) -> Sent {
    for _ in 0..600 {
        match send(client, base, request).await {
            Sent::Answered(503, body) if queue_full(&body) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => return other,
        }
    }
    panic!("retry of {request:?}: the job queue stayed full for a minute")
}

// ---------------------------------------------------------------------------------------
// Reading and checking
// ---------------------------------------------------------------------------------------

/// The whole log, read directly from the store.
async fn read_log(url: &str) -> Vec<RecordedEvent> {
    let store = engine::store::connect(url, 2)
        .await
        .expect("open the store");
    let mut all: Vec<RecordedEvent> = Vec::new();
    loop {
        let after = all.last().map_or(0, |e| e.position);
        let page = store
            .read_all(after, 1000, &EventFilter::default())
            .await
            .expect("read the log");
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

/// The whole log, read through `GET /v1/events`.
async fn read_log_http(client: &Client, base: &str) -> Vec<RecordedEvent> {
    let mut all: Vec<RecordedEvent> = Vec::new();
    loop {
        let after = all.last().map_or(0, |e| e.position);
        let page: Value = get_json(
            client,
            &format!("{base}/v1/events?after={after}&limit=1000"),
        )
        .await;
        let items: Vec<RecordedEvent> =
            serde_json::from_value(page["items"].clone()).expect("events page");
        if items.is_empty() {
            return all;
        }
        all.extend(items);
    }
}

async fn get(client: &Client, url: &str) -> (u16, Value) {
    let response = client
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get_json(client: &Client, url: &str) -> Value {
    let (status, body) = get(client, url).await;
    assert_eq!(status, 200, "GET {url}: {body}");
    body
}

type StreamKey = (String, String);

/// Positions exactly 1..N, every stream contiguous from 1, hashes chained.
fn check_log_shape(log: &[RecordedEvent]) -> BTreeMap<StreamKey, Vec<RecordedEvent>> {
    let mut streams: BTreeMap<StreamKey, Vec<RecordedEvent>> = BTreeMap::new();
    for (i, event) in log.iter().enumerate() {
        assert_eq!(
            event.position,
            i as i64 + 1,
            "the log has a gap before index {i}"
        );
        let stream = streams
            .entry((event.aggregate_type.clone(), event.aggregate_id.clone()))
            .or_default();
        assert_eq!(
            event.sequence,
            stream.len() as i64 + 1,
            "stream {}/{} is not contiguous at position {}",
            event.aggregate_type,
            event.aggregate_id,
            event.position
        );
        let previous = stream.last().map_or("", |e| e.hash.as_str());
        assert_eq!(
            event.hash,
            engine::store::plan::chain_hash(previous, event),
            "hash chain broken at position {}",
            event.position
        );
        stream.push(event.clone());
    }
    streams
}

/// The events an acknowledged answer promises, as (offset from its position, aggregate
/// type, aggregate id, event type).
fn promised(ack: &Acked) -> Vec<(i64, &'static str, String, &'static str)> {
    let r = &ack.request;
    let b = &ack.body;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let segments: Vec<&str> = r.path.trim_start_matches('/').split('/').collect();
    match (r.method.as_str(), segments.as_slice()) {
        ("POST", ["v1", "clusters"]) => vec![(0, "cluster", text(&b["id"]), "cluster.created")],
        ("PATCH", ["v1", "clusters", id]) => {
            vec![(0, "cluster", (*id).to_owned(), "cluster.renamed")]
        }
        ("DELETE", ["v1", "clusters", id]) => {
            vec![(0, "cluster", (*id).to_owned(), "cluster.deleted")]
        }
        ("POST", ["v1", "droplets"]) => vec![
            (0, "job", text(&b["job"]["id"]), "job.created"),
            (
                -1,
                "droplet",
                text(&b["droplet"]["id"]),
                "droplet.requested",
            ),
            (
                -2,
                "cluster",
                text(&b["droplet"]["cluster_id"]),
                "cluster.droplet_attached",
            ),
        ],
        ("POST", ["v1", "jobs"]) => vec![(0, "job", text(&b["job"]["id"]), "job.created")],
        (method, ["v1", "droplets", id, ..]) => {
            let requested = match (method, segments.get(3)) {
                ("DELETE", None) => "droplet.destroy_requested",
                ("POST", Some(&"power")) => "droplet.power_requested",
                ("POST", Some(&"resize")) => "droplet.resize_requested",
                other => panic!("unexpected droplet request {other:?}"),
            };
            vec![
                (0, "job", text(&b["job"]["id"]), "job.created"),
                (-1, "droplet", (*id).to_owned(), requested),
            ]
        }
        other => panic!("unexpected request {other:?}"),
    }
}

fn check_acknowledged(log: &[RecordedEvent], acked: &[Acked]) {
    for ack in acked {
        for (offset, aggregate_type, aggregate_id, event_type) in promised(ack) {
            let position = ack.position + offset;
            let event = usize::try_from(position - 1)
                .ok()
                .and_then(|i| log.get(i))
                .unwrap_or_else(|| {
                    panic!(
                        "acknowledged {:?} at {} is missing from the log",
                        ack.request, ack.position
                    )
                });
            assert_eq!(
                (
                    event.aggregate_type.as_str(),
                    event.aggregate_id.as_str(),
                    event.event_type.as_str()
                ),
                (aggregate_type, aggregate_id.as_str(), event_type),
                "acknowledged {:?} (position {}): wrong event at {position}",
                ack.request,
                ack.position
            );
            assert_eq!(
                event.metadata.idempotency_key.as_deref(),
                Some(ack.request.key.as_str()),
                "the event at {position} does not carry the request's key"
            );
        }
        if ack.request.method == Method::PATCH {
            let event = &log[usize::try_from(ack.position - 1).unwrap()];
            assert_eq!(
                event.data["name"],
                ack.request.body.as_ref().unwrap()["name"]
            );
        }
    }
}

/// Each idempotency key's events are one append (one contiguous run, one request).
fn check_each_key_ran_once(log: &[RecordedEvent], acked: &[Acked]) {
    let mut by_key: HashMap<&str, Vec<&RecordedEvent>> = HashMap::new();
    for event in log {
        if let Some(key) = event.metadata.idempotency_key.as_deref() {
            by_key.entry(key).or_default().push(event);
        }
    }
    for (key, events) in &by_key {
        let first = events[0].position;
        for (i, event) in events.iter().enumerate() {
            assert_eq!(
                event.position,
                first + i as i64,
                "key {key} appended twice (position {})",
                event.position
            );
            assert_eq!(
                event.metadata.correlation_id, events[0].metadata.correlation_id,
                "key {key} ran twice"
            );
        }
    }
    for ack in acked {
        let events = by_key
            .get(ack.request.key.as_str())
            .unwrap_or_else(|| panic!("acknowledged key {} appended nothing", ack.request.key));
        assert_eq!(
            events.last().unwrap().position,
            ack.position,
            "{:?}",
            ack.request
        );
    }
}

fn fold_jobs(streams: &BTreeMap<StreamKey, Vec<RecordedEvent>>) -> BTreeMap<String, Loaded<Job>> {
    streams
        .iter()
        .filter(|((t, _), _)| t == "job")
        .map(|((_, id), events)| (id.clone(), Loaded::<Job>::fold(events).expect("fold job")))
        .collect()
}

fn unfinished(jobs: &BTreeMap<String, Loaded<Job>>) -> BTreeSet<String> {
    jobs.iter()
        .filter(|(_, j)| !TERMINAL.contains(&j.state.status.as_str()))
        .map(|(id, _)| id.clone())
        .collect()
}

/// Waits (bounded) until every job in the log is finished; returns the quiet log.
async fn wait_for_jobs(url: &str, server: &Server) -> Vec<RecordedEvent> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let log = read_log(url).await;
        let streams = check_log_shape(&log);
        let open = unfinished(&fold_jobs(&streams));
        if open.is_empty() {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "{} job(s) still unfinished after 120 s, e.g. {:?}:\n{}",
            open.len(),
            open.iter().next(),
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits (bounded) until every projection has reached `head` with no lag.
async fn wait_for_projections(client: &Client, server: &Server, head: i64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let body = get_json(client, &format!("{}/v1/projections", server.base)).await;
        let items = body["items"].as_array().cloned().unwrap_or_default();
        let caught_up = !items.is_empty()
            && items
                .iter()
                .all(|p| p["lag"] == 0 && p["position"].as_i64() == Some(head));
        if caught_up {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "projections did not catch up with {head} within 60 s: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Compares an API answer with the view of a fresh fold, field by field (prices within
/// float round-trip precision).
fn assert_same_view(what: &str, got: &Value, expected: &Value) {
    let (Some(got), Some(expected)) = (got.as_object(), expected.as_object()) else {
        panic!("{what}: not objects: {got} vs {expected}");
    };
    let keys: BTreeSet<&String> = got.keys().chain(expected.keys()).collect();
    for key in keys {
        let (g, e) = (&got.get(key), &expected.get(key));
        let same = match (g, e) {
            (Some(Value::Number(g)), Some(Value::Number(e))) if key == "price_hourly" => {
                (g.as_f64().unwrap() - e.as_f64().unwrap()).abs() < 1e-9
            }
            _ => g == e,
        };
        assert!(
            same,
            "{what}: field {key} is {g:?} in the read model, {e:?} in a fresh fold"
        );
    }
}

async fn check_read_models(
    client: &Client,
    base: &str,
    streams: &BTreeMap<StreamKey, Vec<RecordedEvent>>,
) -> (usize, usize, usize) {
    let mut clusters: HashMap<&str, Loaded<Cluster>> = HashMap::new();
    for ((t, id), events) in streams {
        if t == "cluster" {
            clusters.insert(id, Loaded::<Cluster>::fold(events).expect("fold cluster"));
        }
    }
    let mut counts = (0, 0, 0);
    for ((aggregate_type, id), events) in streams {
        let url = format!("{base}/v1/{aggregate_type}s/{id}");
        let (status, body) = get(client, &url).await;
        let what = format!("{aggregate_type} {id}");
        match aggregate_type.as_str() {
            "cluster" => {
                let folded = &clusters[id.as_str()];
                counts.0 += 1;
                if folded.state.deleted {
                    assert_eq!(status, 404, "deleted {what} is still served: {body}");
                    continue;
                }
                assert_eq!(status, 200, "{what}: {body}");
                let expected = serde_json::to_value(ClusterView::from_loaded(folded)).unwrap();
                assert_same_view(&what, &body, &expected);
            }
            "droplet" => {
                counts.1 += 1;
                let folded = Loaded::<Droplet>::fold(events).expect("fold droplet");
                let cluster_id = folded
                    .state
                    .cluster_id
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap();
                let cluster_name = clusters[cluster_id.as_str()]
                    .state
                    .name
                    .as_ref()
                    .map(ToString::to_string);
                assert_eq!(status, 200, "{what}: {body}");
                let expected =
                    serde_json::to_value(DropletView::from_loaded(&folded, cluster_name)).unwrap();
                assert_same_view(&what, &body, &expected);
            }
            "job" => {
                counts.2 += 1;
                let folded = Loaded::<Job>::fold(events).expect("fold job");
                assert_eq!(status, 200, "{what}: {body}");
                let expected = serde_json::to_value(JobView::from_loaded(&folded)).unwrap();
                assert_same_view(&what, &body, &expected);
            }
            other => panic!("unexpected aggregate type {other}"),
        }
    }
    counts
}

// ---------------------------------------------------------------------------------------
// The scenario
// ---------------------------------------------------------------------------------------

async fn crash_and_recover(db: Database, work_dir: &Path) {
    let began = Instant::now();
    let backend = match db {
        Database::Sqlite { .. } => "sqlite",
        Database::Postgres(_) => "postgres",
    };
    let url = db.store_url();
    let client = Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut acked: Vec<Acked> = Vec::new();
    let mut unknown: Vec<Request> = Vec::new();
    let mut rejected = 0;
    let mut open_at_kill = BTreeSet::new();
    // Log head right after the last kill, and in-flight requests found to have committed
    // before it (their answer was lost with the process).
    let mut head_at_kill = 0;
    let mut committed_unanswered = 0;

    // Two rounds of load, each ended by SIGKILL; the second also kills the jobs that
    // were being recovered from the first.
    for round in 1..=2 {
        let mut server = Server::start(&db, work_dir, round);
        server.wait_healthy(&client).await;
        let retried = retry_unknown(&client, &server.base, &std::mem::take(&mut unknown)).await;
        committed_unanswered += retried
            .iter()
            .filter(|a| a.position <= head_at_kill)
            .count();
        acked.extend(retried);
        acked.extend(burst(&client, &server.base, round).await);
        let (a, u, r) = load(&client, &mut server, round, true).await;
        eprintln!(
            "[{backend}] round {round}: {} acknowledged, {} in flight at the kill, {r} rejected",
            a.len(),
            u.len()
        );
        assert!(
            !a.is_empty(),
            "round {round}: nothing was acknowledged before the kill"
        );
        acked.extend(a);
        unknown.extend(u);
        rejected += r;
        drop(server);
        // What the kill left behind.
        let log = read_log(&url).await;
        let streams = check_log_shape(&log);
        check_acknowledged(&log, &acked);
        let open = unfinished(&fold_jobs(&streams));
        eprintln!(
            "[{backend}] round {round}: log head {} at the kill, {} unfinished job(s)",
            log.len(),
            open.len()
        );
        open_at_kill.extend(open);
        head_at_kill = log.len() as i64;
    }
    assert!(
        open_at_kill.len() >= BURST / 2,
        "only {} job(s) were caught unfinished by the kills: the test proves little about \
         recovery",
        open_at_kill.len()
    );

    // Restart for good.
    let mut server = Server::start(&db, work_dir, 3);
    server.wait_healthy(&client).await;
    let retried = retry_unknown(&client, &server.base, &unknown).await;
    committed_unanswered += retried
        .iter()
        .filter(|a| a.position <= head_at_kill)
        .count();
    acked.extend(retried);

    // Replays of acknowledged commands give the first answer (the key survived the crash).
    for ack in acked.iter().step_by(3) {
        match send(&client, &server.base, &ack.request).await {
            Sent::Answered(status, body) => {
                assert_eq!(status, ack.status, "replay of {:?}", ack.request);
                assert_eq!(body, ack.body, "replay of {:?}", ack.request);
            }
            Sent::Broken => panic!("replay of {:?}: connection broke", ack.request),
        }
    }

    let log = wait_for_jobs(&url, &server).await;
    let streams = check_log_shape(&log);
    check_acknowledged(&log, &acked);
    check_each_key_ran_once(&log, &acked);
    let http_log = read_log_http(&client, &server.base).await;
    assert_eq!(
        http_log.len(),
        log.len(),
        "GET /v1/events does not page through the log"
    );
    for (h, d) in http_log.iter().zip(&log) {
        assert_eq!((h.position, h.id, &h.data), (d.position, d.id, &d.data));
    }

    // Every job caught unfinished by a kill ended, and no droplet was provisioned twice.
    let jobs = fold_jobs(&streams);
    for id in &open_at_kill {
        let status = jobs[id].state.status.as_str();
        assert!(TERMINAL.contains(&status), "job {id} is {status}");
    }
    for ((t, id), events) in &streams {
        if t == "job" {
            let ends = events
                .iter()
                .filter(|e| TERMINAL.contains(&e.event_type.trim_start_matches("job.")))
                .count();
            assert_eq!(ends, 1, "job {id} ended {ends} times");
        }
    }
    let recovered = log
        .iter()
        .filter(|e| e.event_type == "job.retry_scheduled")
        .count();
    for ((t, id), events) in &streams {
        if t == "droplet" {
            let provisioned = events
                .iter()
                .filter(|e| e.event_type == "droplet.provisioned")
                .count();
            assert!(
                provisioned <= 1,
                "droplet {id} was provisioned {provisioned} times"
            );
        }
    }

    // The read models converge to a fresh fold of the log.
    let head = log.len() as i64;
    wait_for_projections(&client, &server, head).await;
    let (clusters, droplets, jobs) = check_read_models(&client, &server.base, &streams).await;
    // Nothing moved while we compared.
    assert_eq!(
        read_log(&url).await.len(),
        log.len(),
        "the log moved during the comparison"
    );
    eprintln!(
        "[{backend}] after restart: {head} events; {} acknowledged commands all present; \
         {rejected} rejected; {committed_unanswered} in-flight request(s) had committed before \
         a kill and were replayed on retry; {} job(s) caught unfinished by a kill all ended ({recovered} lost \
         attempt(s) retried); read models equal a fresh fold for {clusters} clusters, \
         {droplets} droplets, {jobs} jobs; {:.1?}",
        acked.len(),
        open_at_kill.len(),
        began.elapsed()
    );
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_survives_sigkill() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Database::Sqlite {
        data_dir: dir.path().join("data"),
    };
    crash_and_recover(db, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_survives_sigkill() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Database::postgres().await;
    crash_and_recover(db, dir.path()).await;
}

/// SIGTERM: in-flight commands finish (every acknowledged one is in the log), the process
/// exits with success, and the projections' checkpoints are persisted at the head.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_gracefully() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Database::Sqlite {
        data_dir: dir.path().join("data"),
    };
    let client = Client::new();
    let mut server = Server::start(&db, dir.path(), 0);
    server.wait_healthy(&client).await;
    let base = server.base.clone();
    let answered = Arc::new(AtomicUsize::new(0));
    let senders: Vec<_> = (0..4)
        .map(|n| {
            let (client, base) = (client.clone(), base.clone());
            let answered = Arc::clone(&answered);
            tokio::spawn(async move {
                let mut acked = Vec::new();
                for i in 0..400 {
                    let body = json!({ "name": format!("c{n}-{i}"), "region": "nyc1" });
                    match client
                        .post(format!("{base}/v1/clusters"))
                        .json(&body)
                        .send()
                        .await
                    {
                        Ok(r) if r.status().as_u16() == 201 => {
                            let answer: Value = r.json().await.expect("json answer");
                            acked.push(answer["id"].as_str().unwrap_or_default().to_owned());
                            answered.fetch_add(1, Ordering::SeqCst);
                        }
                        // Refused or cut off by the shutdown: not acknowledged.
                        _ => break,
                    }
                }
                acked
            })
        })
        .collect();
    // The shutdown comes while the clients are busy sending.
    eventually(DEADLINE, "the server acknowledges commands", || async {
        answered.load(Ordering::SeqCst) >= 20
    })
    .await;
    let status = server.terminate();
    assert!(
        status.success(),
        "exit status {status}:\n{}",
        server.log_tail()
    );
    let mut acked = Vec::new();
    for sender in senders {
        acked.extend(sender.await.expect("sender task"));
    }
    assert!(
        !acked.is_empty(),
        "some commands were acknowledged before the shutdown"
    );
    let log = read_log(&db.store_url()).await;
    let created: BTreeSet<&str> = log
        .iter()
        .filter(|e| e.event_type == "cluster.created")
        .map(|e| e.aggregate_id.as_str())
        .collect();
    for id in &acked {
        assert!(
            created.contains(id.as_str()),
            "acknowledged cluster {id} is not in the log"
        );
    }
    let head = log.last().map_or(0, |e| e.position);
    let mut conn = sqlx::SqliteConnection::connect(&db.store_url())
        .await
        .expect("open sqlite");
    let checkpoints: Vec<(String, i64)> =
        sqlx::query_as("SELECT projection, position FROM rm_checkpoints ORDER BY projection")
            .fetch_all(&mut conn)
            .await
            .expect("read checkpoints");
    assert_eq!(
        checkpoints.len(),
        projections::all().len(),
        "{checkpoints:?}"
    );
    for (projection, position) in checkpoints {
        assert_eq!(
            position, head,
            "projection {projection} stopped behind the head"
        );
    }
}

#[test]
fn database_urls_are_rewritten() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgresql://h:5432", "x"),
        "postgresql://h:5432/x"
    );
}
