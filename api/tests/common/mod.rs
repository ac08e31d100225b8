//! Harness of the API integration tests: a real `Application` on `127.0.0.1:0` over a
//! scratch database from `test_support` (SQLite in a temporary directory, or a fresh
//! PostgreSQL database dropped afterwards, also when the test panics), an HTTP client, and
//! helpers that poll with bounded deadlines.

#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use api::settings::Settings;
use api::startup::Application;
use engine::ratelimit::{Clock, SystemClock};
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use test_support::{eventually, ScratchDb};
use tokio::sync::{oneshot, Semaphore};
use tokio::task::JoinHandle;

/// How long any wait of a test may take.
pub const DEADLINE: Duration = Duration::from_secs(15);

/// How long one whole test may take before it is failed.
const TEST_DEADLINE: Duration = Duration::from_secs(120);

/// PostgreSQL tests running at once (each holds a pool of a few connections).
static PG_SLOTS: Semaphore = Semaphore::const_new(4);

/// Which database the application runs on.
pub use test_support::Backend;

/// A running application and a client for it; dropping it stops the application.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    /// The settings it was built with (to start another application on its database).
    pub settings: Settings,
    /// The state its routes were built with (to build the router again, e.g. for its
    /// route table).
    pub state: api::state::AppState,
    _guard: oneshot::Sender<()>,
}

/// What is left to clean up once the test body is done: the server, then the database
/// (which goes when this is dropped, finished or not).
pub struct Teardown {
    server: JoinHandle<()>,
    _db: ScratchDb,
}

/// `api_test!(name);` above `async fn name(app: TestApp)` generates the tests
/// `name::sqlite` and `name::postgres`, each running the function against a fresh
/// application on that backend. `api_test!(name, |s: &mut Settings| ...);` changes the
/// test's settings first.
macro_rules! api_test {
    ($name:ident $(, $configure:expr)? $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[allow(unused_variables)]
            fn configure(settings: &mut api::settings::Settings) {
                $( ($configure)(settings); )?
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::common::run($crate::common::Backend::Sqlite, configure, super::$name)
                    .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::common::run($crate::common::Backend::Postgres, configure, super::$name)
                    .await;
            }
        }
    };
}

/// Runs `body` against a fresh application on `backend`, then stops it and removes its
/// database, also when the body panics.
pub async fn run<F, Fut>(backend: Backend, configure: fn(&mut Settings), body: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    run_configured(backend, configure, body).await;
}

/// [`run`] with settings changed by a closure (which may carry values of the test, such
/// as the address of a server it started).
pub async fn run_configured<C, F, Fut>(backend: Backend, configure: C, body: F)
where
    C: FnOnce(&mut Settings),
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    run_with_clock(backend, Arc::new(SystemClock), configure, body).await;
}

/// [`run_configured`] with the rate limiter telling time by `clock`.
pub async fn run_with_clock<C, F, Fut>(
    backend: Backend,
    clock: Arc<dyn Clock>,
    configure: C,
    body: F,
) where
    C: FnOnce(&mut Settings),
    F: FnOnce(TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    init_tracing();
    let _slot = match backend {
        Backend::Postgres => Some(PG_SLOTS.acquire().await.expect("semaphore")),
        Backend::Sqlite => None,
    };
    let (app, teardown) = spawn_app(backend, configure, clock).await;
    let outcome = tokio::time::timeout(TEST_DEADLINE, tokio::spawn(body(app))).await;
    teardown.finish().await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(error)) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Ok(Err(error)) => panic!("test task failed: {error}"),
        Err(_) => panic!("test did not finish within {TEST_DEADLINE:?}"),
    }
}

/// Builds and starts an application on a fresh database of `backend`, with the test
/// settings changed by `configure` and its rate limiter telling time by `clock`. The
/// caller finishes the [`Teardown`] (see [`Teardown::finish`]); [`run`] does it all.
pub async fn spawn_app(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
    clock: Arc<dyn Clock>,
) -> (TestApp, Teardown) {
    let db = ScratchDb::new(backend).await;
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().expect("address"),
        data_dir: db.dir().to_path_buf(),
        database_url: Some(db.url().to_owned()),
        database_max_connections: 5,
        workers: true,
        worker_count: 2,
        worker_queue: 100,
        sim_delay_ms: 50,
        // Provider latencies of seconds become tens of milliseconds.
        sim_speed: 100.0,
        // Tests send many commands as one user; the rate-limit tests turn this on.
        ratelimit_enabled: false,
        ..Settings::default()
    };
    configure(&mut settings);
    let (app, server) = start(settings, backend, clock).await;
    (app, Teardown { server, _db: db })
}

/// Builds and serves an application with `settings`.
async fn start(
    settings: Settings,
    backend: Backend,
    clock: Arc<dyn Clock>,
) -> (TestApp, JoinHandle<()>) {
    let application = Application::build_with_clock(settings.clone(), clock)
        .await
        .expect("build the application");
    let address = format!("http://{}", application.address());
    let state = application.state().clone();
    let (guard, stop) = oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until(async move {
        let _ = stop.await;
    }));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client");
    let app = TestApp {
        address,
        client,
        backend,
        settings,
        state,
        _guard: guard,
    };
    (app, server)
}

impl TestApp {
    /// Stops this application (its workers leave running attempts behind, as a crash
    /// would) and starts another on the same database with the settings changed by
    /// `configure`; the new one stops when dropped.
    pub async fn restart(self, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = self.settings.clone();
        let (backend, client) = (self.backend, self.client.clone());
        let health = format!("{}/healthz", self.address);
        drop(self);
        // Stopped when it no longer answers.
        eventually(DEADLINE, "the application stops", || async {
            client.get(&health).send().await.is_err()
        })
        .await;
        settings.listen = "127.0.0.1:0".parse().expect("address");
        configure(&mut settings);
        let (app, _server) = start(settings, backend, Arc::new(SystemClock)).await;
        app
    }
}

impl Teardown {
    /// Stops the server (bounded), then drops its database.
    pub async fn finish(self) {
        let _ = tokio::time::timeout(DEADLINE, self.server).await;
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// An answer: status, headers and the body (as JSON when it is JSON, else `Null`).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Answer {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Panics (showing the body) unless the status is `status`; returns the body.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(
            self.status, status,
            "expected {status}, got {} with body {}",
            self.status, self.text
        );
        &self.body
    }

    /// Panics unless this is an `application/problem+json` answer with `status` and the
    /// fields every problem has; returns the body.
    #[track_caller]
    pub fn problem(&self, status: u16) -> &Value {
        self.expect(status);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        let body = &self.body;
        let kind = body["type"].as_str().unwrap_or_default();
        assert!(kind.starts_with("urn:clustergenie:problem:"), "{body}");
        assert!(
            !body["title"].as_str().unwrap_or_default().is_empty(),
            "{body}"
        );
        assert_eq!(body["status"], json!(status), "{body}");
        assert!(
            !body["detail"].as_str().unwrap_or_default().is_empty(),
            "{body}"
        );
        body
    }

    /// Like [`Answer::problem`], and the `errors` map names `field`.
    #[track_caller]
    pub fn field_problem(&self, status: u16, field: &str) -> &Value {
        let body = self.problem(status);
        assert!(
            body["errors"][field]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "errors should name {field}: {body}"
        );
        body
    }
}

impl TestApp {
    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A request to `path`.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// Sends a request and reads the whole answer.
    pub async fn send(&self, request: RequestBuilder) -> Answer {
        let response = request.send().await.expect("request failed");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("read the body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            text,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.request(Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(self.request(Method::POST, path).json(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Answer {
        self.send(self.request(Method::PATCH, path).json(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(self.request(Method::DELETE, path)).await
    }

    /// Sends a raw body as `application/json`.
    pub async fn send_raw(&self, method: Method, path: &str, body: impl Into<String>) -> Answer {
        let request = self
            .request(method, path)
            .header("content-type", "application/json")
            .body(body.into());
        self.send(request).await
    }

    /// Sends `head` (a request line and headers, no body) over a plain TCP connection and
    /// reads one answer: for requests the server must judge on their headers alone, such as
    /// one announcing a body over the limit (a client still sending that body may see the
    /// connection closed before it reads the answer).
    pub async fn send_head(&self, head: &str) -> Answer {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let address = self.address.trim_start_matches("http://");
        let exchange = async {
            let mut stream = tokio::net::TcpStream::connect(address).await?;
            stream.write_all(head.as_bytes()).await?;
            let mut received = Vec::new();
            let mut buffer = [0u8; 8192];
            loop {
                let n = stream.read(&mut buffer).await?;
                received.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&received).into_owned();
                if let Some((headers, body)) = text.split_once("\r\n\r\n") {
                    let length = headers
                        .lines()
                        .find_map(|l| {
                            let (name, value) = l.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if body.len() >= length || n == 0 {
                        return Ok::<_, std::io::Error>(text);
                    }
                } else if n == 0 {
                    return Ok(text);
                }
            }
        };
        let text = tokio::time::timeout(DEADLINE, exchange)
            .await
            .expect("an answer in time")
            .expect("a TCP exchange");
        let (head, body) = text.split_once("\r\n\r\n").expect("a complete answer");
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        let mut headers = HeaderMap::new();
        for line in lines {
            if let Some((name, value)) = line.split_once(':') {
                headers.insert(
                    reqwest::header::HeaderName::from_bytes(name.trim().as_bytes()).expect("name"),
                    value.trim().parse().expect("value"),
                );
            }
        }
        Answer {
            status,
            headers,
            text: body.to_owned(),
            body: serde_json::from_str(body).unwrap_or(Value::Null),
        }
    }

    /// Creates a cluster in `nyc1`; returns the answer's body (with `position`).
    pub async fn create_cluster(&self, name: &str) -> Value {
        self.post("/v1/clusters", &json!({ "name": name, "region": "nyc1" }))
            .await
            .expect(201)
            .clone()
    }

    /// Creates a droplet in `cluster_id`; returns `{droplet, job, position}`.
    pub async fn create_droplet(&self, cluster_id: &str, name: &str) -> Value {
        let body = json!({
            "cluster_id": cluster_id,
            "name": name,
            "region": "nyc1",
            "size": "s-1vcpu-1gb",
            "image": "ubuntu-22-04-x64",
        });
        self.post("/v1/droplets", &body).await.expect(202).clone()
    }

    /// Creates a droplet and waits until it is active; returns the droplet.
    pub async fn active_droplet(&self, cluster_id: &str, name: &str) -> Value {
        let created = self.create_droplet(cluster_id, name).await;
        self.wait_for_job(str_of(&created["job"]["id"]), "succeeded")
            .await;
        self.wait_for_droplet(str_of(&created["droplet"]["id"]), "active")
            .await
    }

    /// Polls `path` until `done` holds for a 200 answer (at most [`DEADLINE`]).
    pub async fn poll(&self, path: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        eventually(DEADLINE, format!("{path} becomes {what}"), || async {
            let answer = self.get(path).await;
            if answer.status == 200 && done(&answer.body) {
                Ok(answer.body)
            } else {
                Err(format!("answer {} {}", answer.status, answer.text))
            }
        })
        .await
    }

    /// Waits until job `id` has `status`; returns the job.
    pub async fn wait_for_job(&self, id: &str, status: &str) -> Value {
        self.poll(&format!("/v1/jobs/{id}"), status, |job| {
            job["status"] == status
        })
        .await
    }

    /// Waits until droplet `id` has `status`; returns the droplet.
    pub async fn wait_for_droplet(&self, id: &str, status: &str) -> Value {
        self.poll(&format!("/v1/droplets/{id}"), status, |d| {
            d["status"] == status
        })
        .await
    }

    /// Reads a resource after the read models reached `position`.
    pub async fn get_at(&self, path: &str, position: &Value) -> Value {
        let sep = if path.contains('?') { '&' } else { '?' };
        let position = position.as_i64().expect("a position");
        self.get(&format!("{path}{sep}min_position={position}"))
            .await
            .expect(200)
            .clone()
    }

    /// The position of the log's last event (read a model at it with [`TestApp::get_at`]
    /// when it may lag another model just waited on).
    pub async fn head(&self) -> Value {
        let events = self.all_events().await;
        events.last().expect("events")["position"].clone()
    }

    /// Every event of the log, in order.
    pub async fn all_events(&self) -> Vec<Value> {
        let mut events = Vec::new();
        let mut after = 0;
        loop {
            let page = self
                .get(&format!("/v1/events?after={after}&limit=1000"))
                .await
                .expect(200)
                .clone();
            let items = page["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                return events;
            }
            after = page["next_after"].as_i64().expect("next_after");
            events.extend(items);
        }
    }

    /// The value of a series in `/metrics`, named with its labels and the space after
    /// them (0 when it has not been counted yet).
    pub async fn metric(&self, series: &str) -> f64 {
        let text = self.get("/metrics").await.text;
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or(0.0)
    }

    /// The events of one aggregate, in order.
    pub async fn stream(&self, aggregate_type: &str, id: &str) -> Vec<Value> {
        self.get(&format!("/v1/streams/{aggregate_type}/{id}"))
            .await
            .expect(200)["items"]
            .as_array()
            .cloned()
            .expect("items")
    }
}

/// A JSON string value, or a panic naming the value.
#[track_caller]
pub fn str_of(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, got {value}"))
}

/// The `items` of a list answer.
#[track_caller]
pub fn items(list: &Value) -> &Vec<Value> {
    list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("expected items in {list}"))
}

/// The `field` of every item of a list answer, as text.
pub fn field_of_items(list: &Value, field: &str) -> Vec<String> {
    items(list)
        .iter()
        .map(|item| item[field].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A well-formed id that names nothing.
pub fn unknown_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}
