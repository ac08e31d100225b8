//! The log: `/v1/events` (paging by position, filters), `/v1/streams/{type}/{id}`, and the
//! live tail `/v1/events/stream` (Server-Sent Events, resumable).

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::*;

/// One Server-Sent Events message.
#[derive(Debug, Clone, Default)]
struct Message {
    id: Option<String>,
    event: Option<String>,
    data: String,
}

impl Message {
    fn json(&self) -> Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("data is not JSON ({e}): {self:?}"))
    }
}

/// Reads an SSE response until `count` messages came, within [`DEADLINE`].
struct SseReader {
    response: reqwest::Response,
    buffer: String,
}

impl SseReader {
    async fn open(app: &TestApp, request: reqwest::RequestBuilder) -> Self {
        let response = request.send().await.expect("open the stream");
        assert_eq!(response.status().as_u16(), 200);
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert_eq!(content_type, "text/event-stream", "{}", app.address);
        Self {
            response,
            buffer: String::new(),
        }
    }

    async fn next(&mut self, count: usize) -> Vec<Message> {
        let started = Instant::now();
        let mut messages = Vec::new();
        while messages.len() < count {
            // Complete messages end with a blank line.
            while let Some(end) = self.buffer.find("\n\n") {
                let raw: String = self.buffer.drain(..end + 2).collect();
                if let Some(message) = parse(&raw) {
                    messages.push(message);
                }
            }
            if messages.len() >= count {
                break;
            }
            let left = DEADLINE.saturating_sub(started.elapsed());
            let chunk = tokio::time::timeout(left, self.response.chunk())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "only {} of {count} messages in time: {messages:?}",
                        messages.len()
                    )
                })
                .expect("read the stream")
                .expect("the stream ended");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
        messages
    }

    /// Nothing more arrives within `wait`.
    async fn assert_quiet(&mut self, wait: Duration) {
        if let Ok(chunk) = tokio::time::timeout(wait, self.response.chunk()).await {
            let chunk = chunk.expect("read the stream").unwrap_or_default();
            let text = String::from_utf8_lossy(&chunk);
            assert!(
                text.lines().all(|l| l.is_empty() || l.starts_with(':')),
                "unexpected message: {text}"
            );
        }
    }
}

/// Parses one message; None for a comment-only block (a heartbeat).
fn parse(raw: &str) -> Option<Message> {
    let mut message = Message::default();
    let mut fields = 0;
    for line in raw.lines() {
        if line.is_empty() || line.starts_with(':') {
            continue;
        }
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        fields += 1;
        match name {
            "id" => message.id = Some(value.to_owned()),
            "event" => message.event = Some(value.to_owned()),
            "data" => {
                if !message.data.is_empty() {
                    message.data.push('\n');
                }
                message.data.push_str(value);
            }
            _ => {}
        }
    }
    (fields > 0).then_some(message)
}

/// Checks that `message` carries `event` consistently in its `id`, `event` and `data`.
#[track_caller]
fn check_message(message: &Message) -> Value {
    let data = message.json();
    let id = message.id.as_deref().expect("an id: line");
    assert_eq!(id, data["position"].to_string(), "{message:?}");
    assert_eq!(
        message.event.as_deref(),
        data["type"].as_str(),
        "{message:?}"
    );
    data
}

api_test!(the_log_pages_by_position);
async fn the_log_pages_by_position(app: TestApp) {
    let a = app.create_cluster("one").await;
    let b = app.create_cluster("two").await;
    let a_id = str_of(&a["id"]);
    let b_id = str_of(&b["id"]);
    app.patch(&format!("/v1/clusters/{a_id}"), &json!({ "name": "uno" }))
        .await
        .expect(200);
    let last = app
        .patch(
            &format!("/v1/clusters/{b_id}"),
            &json!({ "region": "lon1" }),
        )
        .await;
    let head = last.expect(200)["position"].as_i64().unwrap();
    assert_eq!(head, 4);

    let all = app.get("/v1/events").await;
    let all = all.expect(200).clone();
    let positions: Vec<i64> = items(&all)
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, [1, 2, 3, 4]);
    assert_eq!(all["next_after"], 4);
    let first = &items(&all)[0];
    assert_eq!(first["aggregate_type"], "cluster");
    assert_eq!(first["aggregate_id"], a_id);
    assert_eq!(first["sequence"], 1);
    assert_eq!(first["type"], "cluster.created");
    assert_eq!(first["schema_version"], 1);
    assert_eq!(first["data"]["name"], "one");
    assert_eq!(first["data"]["region"], "nyc1");
    assert!(
        uuid::Uuid::parse_str(str_of(&first["id"])).is_ok(),
        "{first}"
    );
    assert!(chrono::DateTime::parse_from_rfc3339(str_of(&first["recorded_at"])).is_ok());
    for key in ["actor", "correlation_id", "causation_id", "traceparent"] {
        assert!(first["metadata"][key].is_string(), "{key}: {first}");
    }
    assert!(first.get("hash").is_none(), "{first}");

    let page = app.get("/v1/events?limit=2").await;
    let page = page.expect(200).clone();
    assert_eq!(items(&page).len(), 2);
    assert_eq!(page["next_after"], 2);
    let page = app.get("/v1/events?after=2&limit=2").await;
    let page = page.expect(200).clone();
    let positions: Vec<i64> = items(&page)
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, [3, 4]);
    assert_eq!(page["next_after"], 4);
    let page = app.get("/v1/events?after=4").await;
    let page = page.expect(200);
    assert!(items(page).is_empty());
    assert_eq!(page["next_after"], 4, "an empty page stays where it was");
    let page = app.get("/v1/events?after=1000").await;
    assert_eq!(page.expect(200)["next_after"], 1000);
}

api_test!(the_log_filters);
async fn the_log_filters(app: TestApp) {
    let a = app.create_cluster("one").await;
    let a_id = str_of(&a["id"]);
    let b = app.create_cluster("two").await;
    let b_id = str_of(&b["id"]);
    app.patch(&format!("/v1/clusters/{a_id}"), &json!({ "name": "uno" }))
        .await
        .expect(200);
    app.patch(&format!("/v1/clusters/{b_id}"), &json!({ "name": "dos" }))
        .await
        .expect(200);
    let droplet = app.create_droplet(b_id, "d").await;
    app.wait_for_job(str_of(&droplet["job"]["id"]), "succeeded")
        .await;
    let droplet_id = str_of(&droplet["droplet"]["id"]);

    let types = |page: &Value| -> Vec<String> {
        items(page)
            .iter()
            .map(|e| str_of(&e["type"]).to_owned())
            .collect()
    };
    let page = app.get("/v1/events?aggregate_type=droplet").await;
    assert_eq!(
        types(page.expect(200)),
        ["droplet.requested", "droplet.provisioned"]
    );
    let page = app.get(&format!("/v1/events?aggregate_id={a_id}")).await;
    assert_eq!(
        types(page.expect(200)),
        ["cluster.created", "cluster.renamed"]
    );
    let page = app.get("/v1/events?type=cluster.renamed").await;
    let page = page.expect(200).clone();
    assert_eq!(field_of_items(&page, "aggregate_id"), [a_id, b_id]);
    let page = app
        .get(&format!(
            "/v1/events?type=cluster.renamed&aggregate_id={b_id}"
        ))
        .await;
    assert_eq!(field_of_items(page.expect(200), "aggregate_id"), [b_id]);
    let page = app
        .get(&format!(
            "/v1/events?aggregate_type=cluster&aggregate_id={droplet_id}"
        ))
        .await;
    assert!(items(page.expect(200)).is_empty());
    let page = app.get("/v1/events?type=nothing.happened").await;
    assert!(items(page.expect(200)).is_empty());

    // Paging through a filter: next_after continues after the last event read.
    let page = app.get("/v1/events?aggregate_type=job&limit=1").await;
    let page = page.expect(200).clone();
    assert_eq!(types(&page), ["job.created"]);
    let next = page["next_after"].as_i64().unwrap();
    assert_eq!(next, items(&page)[0]["position"].as_i64().unwrap());
    let rest = app
        .get(&format!("/v1/events?aggregate_type=job&after={next}"))
        .await;
    let rest = rest.expect(200).clone();
    assert!(
        items(&rest).iter().all(|e| e["aggregate_type"] == "job"),
        "{rest}"
    );
    assert_eq!(
        types(&rest).last().map(String::as_str),
        Some("job.succeeded")
    );
}

api_test!(one_stream_in_order);
async fn one_stream_in_order(app: TestApp) {
    let cluster = app.create_cluster("streamed").await;
    let id = str_of(&cluster["id"]);
    for name in ["b", "c"] {
        app.patch(&format!("/v1/clusters/{id}"), &json!({ "name": name }))
            .await
            .expect(200);
    }
    app.create_cluster("other").await;
    let answer = app.get(&format!("/v1/streams/cluster/{id}")).await;
    let stream = answer.expect(200);
    assert_eq!(stream["aggregate_type"], "cluster");
    assert_eq!(stream["aggregate_id"], id);
    assert_eq!(stream["version"], 3);
    let events = items(stream);
    let sequences: Vec<i64> = events
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(sequences, [1, 2, 3]);
    assert!(events.iter().all(|e| e["aggregate_id"] == id));
    let names: Vec<&str> = events[1..]
        .iter()
        .map(|e| str_of(&e["data"]["name"]))
        .collect();
    assert_eq!(names, ["b", "c"]);
    let positions: Vec<i64> = events
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");

    let droplet = app.create_droplet(id, "d").await;
    let job_id = str_of(&droplet["job"]["id"]);
    app.wait_for_job(job_id, "succeeded").await;
    let job = app.get(&format!("/v1/streams/job/{job_id}")).await;
    let job = job.expect(200);
    let types: Vec<&str> = items(job).iter().map(|e| str_of(&e["type"])).collect();
    assert_eq!(types.first(), Some(&"job.created"));
    assert_eq!(types.last(), Some(&"job.succeeded"));
    assert!(types.contains(&"job.started"), "{types:?}");
    assert_eq!(job["version"], types.len());
}

api_test!(live_tail_starts_at_the_head_and_resumes);
async fn live_tail_starts_at_the_head_and_resumes(app: TestApp) {
    // Events from before the connection are not sent.
    let before = app.create_cluster("before").await;
    let mut live = SseReader::open(&app, app.request(Method::GET, "/v1/events/stream")).await;
    let cluster = app.create_cluster("live").await;
    let id = str_of(&cluster["id"]);
    let renamed = app
        .patch(&format!("/v1/clusters/{id}"), &json!({ "name": "alive" }))
        .await;
    let renamed = renamed.expect(200).clone();
    let messages = live.next(2).await;
    let first = check_message(&messages[0]);
    assert_eq!(first["type"], "cluster.created");
    assert_eq!(first["aggregate_id"], id);
    assert_eq!(first["position"], cluster["position"]);
    assert_eq!(first["data"]["name"], "live");
    assert!(first["metadata"]["actor"].is_string(), "{first}");
    let second = check_message(&messages[1]);
    assert_eq!(second["type"], "cluster.renamed");
    assert_eq!(second["position"], renamed["position"]);
    assert!(before["position"].as_i64() < first["position"].as_i64());
    drop(live);

    // Resuming after the first message sends only what came later.
    let last_seen = messages[0].id.clone().unwrap();
    let request = app
        .request(Method::GET, "/v1/events/stream")
        .header("last-event-id", &last_seen);
    let mut resumed = SseReader::open(&app, request).await;
    let again = resumed.next(1).await;
    let event = check_message(&again[0]);
    assert_eq!(event["position"], renamed["position"]);
    assert_eq!(event["type"], "cluster.renamed");
    let third = app.create_cluster("third").await;
    let next = resumed.next(1).await;
    assert_eq!(check_message(&next[0])["position"], third["position"]);
    drop(resumed);

    // ?after=0 replays the whole log, in order.
    let mut replay =
        SseReader::open(&app, app.request(Method::GET, "/v1/events/stream?after=0")).await;
    let all = replay.next(4).await;
    let positions: Vec<i64> = all
        .iter()
        .map(|m| check_message(m)["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, [1, 2, 3, 4]);
    // Last-Event-ID wins over ?after=.
    let request = app
        .request(Method::GET, "/v1/events/stream?after=0")
        .header("last-event-id", "3");
    let mut resumed = SseReader::open(&app, request).await;
    let from_header = resumed.next(1).await;
    assert_eq!(from_header[0].id.as_deref(), Some("4"));
    resumed.assert_quiet(Duration::from_millis(300)).await;
}

api_test!(live_tail_filters);
async fn live_tail_filters(app: TestApp) {
    let cluster = app.create_cluster("filtered").await;
    let cluster_id = str_of(&cluster["id"]);
    let request = app.request(Method::GET, "/v1/events/stream?aggregate_type=droplet");
    let mut droplets = SseReader::open(&app, request).await;
    let request = app.request(Method::GET, "/v1/events/stream?type=job.succeeded");
    let mut successes = SseReader::open(&app, request).await;
    app.patch(
        &format!("/v1/clusters/{cluster_id}"),
        &json!({ "name": "renamed" }),
    )
    .await
    .expect(200);
    let created = app.create_droplet(cluster_id, "d").await;
    let droplet_id = str_of(&created["droplet"]["id"]);
    let job_id = str_of(&created["job"]["id"]);
    let messages = droplets.next(2).await;
    let types: Vec<String> = messages
        .iter()
        .map(|m| check_message(m)["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types, ["droplet.requested", "droplet.provisioned"]);
    assert!(messages
        .iter()
        .all(|m| m.json()["aggregate_id"] == droplet_id));
    let done = successes.next(1).await;
    let done = check_message(&done[0]);
    assert_eq!(done["aggregate_id"], job_id);
    assert_eq!(done["type"], "job.succeeded");
    droplets.assert_quiet(Duration::from_millis(300)).await;
}

/// About 12 MB of events through the API: jobs whose parameters carry 500 kB each, more
/// than socket and server buffers hold for a client that does not read.
async fn fill_log(app: &TestApp) {
    let cluster = app.create_cluster("big").await;
    let blob = "x".repeat(500_000);
    for _ in 0..24 {
        let body = json!({
            "type": "diagnose",
            "cluster_id": cluster["id"],
            "parameters": { "blob": blob },
        });
        app.post("/v1/jobs", &body).await.expect(202);
    }
}

/// Decodes an HTTP/1.1 chunked body (as far as it goes).
fn dechunk(mut raw: &[u8]) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    while let Some(end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&raw[..end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
            .expect("a chunk size line");
        if size == 0 {
            return (body, true);
        }
        let start = end + 2;
        body.extend_from_slice(&raw[start..start + size]);
        raw = &raw[start + size + 2..];
    }
    (body, false)
}

api_test!(slow_client_is_let_go, |s: &mut api::settings::Settings| {
    s.sse_slow_client_ms = 300;
});
async fn slow_client_is_let_go(app: TestApp) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    fill_log(&app).await;
    // A client with a tiny receive buffer that asks for the whole log and does not read.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut slow = socket
        .connect(app.address.trim_start_matches("http://").parse().unwrap())
        .await
        .unwrap();
    slow.write_all(
        b"GET /v1/events/stream?after=0 HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    // The server keeps answering everybody else meanwhile.
    for i in 0..5 {
        let started = Instant::now();
        app.create_cluster(&format!("meanwhile-{i}")).await;
        app.get("/healthz").await.expect(200);
        assert!(started.elapsed() < Duration::from_secs(5), "held back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The tail gives up on it once the buffers are full (a loaded machine may take a while
    // to serialise ~12 MB in a debug build); reading before that would let it catch up.
    let slow_clients = "clustergenie_live_tail_slow_clients_total ";
    let waited = Instant::now();
    while app.metric(slow_clients).await < 1.0 {
        assert!(
            waited.elapsed() < Duration::from_secs(90),
            "the server never gave up on the slow client"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // What it reads is a prefix of the log, a disconnect naming the last event sent, and
    // the end of the stream.
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), slow.read_to_end(&mut raw))
        .await
        .expect("the server ends the stream")
        .unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    assert!(raw.starts_with(b"HTTP/1.1 200"));
    let (body, complete) = dechunk(&raw[split + 4..]);
    assert!(complete, "the chunked body ends properly");
    let text = String::from_utf8(body).unwrap();
    let messages: Vec<Message> = text.split("\n\n").filter_map(parse).collect();
    let (farewell, events) = messages.split_last().expect("messages");
    assert_eq!(
        farewell.event.as_deref(),
        Some("disconnect"),
        "{farewell:?}"
    );
    let positions: Vec<i64> = events
        .iter()
        .map(|m| check_message(m)["position"].as_i64().unwrap())
        .collect();
    let last = *positions.last().expect("some events came first");
    assert_eq!(
        positions,
        (1..=last).collect::<Vec<_>>(),
        "in order, none lost"
    );
    assert_eq!(farewell.json()["last_event_id"], last.to_string());
    let later = app.get(&format!("/v1/events?after={last}&limit=1")).await;
    assert!(
        !later.expect(200)["items"].as_array().unwrap().is_empty(),
        "the client was let go before the end of the log"
    );
    // Resuming from the last event id continues right after it: nothing twice, no gap.
    let request = app
        .request(Method::GET, "/v1/events/stream")
        .header("last-event-id", last.to_string());
    let mut resumed = SseReader::open(&app, request).await;
    let next = resumed.next(1).await;
    assert_eq!(check_message(&next[0])["position"], last + 1);
    assert_eq!(
        app.metric("clustergenie_live_tails_open ").await,
        1.0,
        "the slow client's tail ended, the resumed one is served"
    );
}

api_test!(filtered_log_pages_through);
async fn filtered_log_pages_through(app: TestApp) {
    for name in ["a", "b", "c"] {
        let cluster = app.create_cluster(name).await;
        let id = str_of(&cluster["id"]);
        app.patch(&format!("/v1/clusters/{id}"), &json!({ "region": "sfo3" }))
            .await
            .expect(200);
    }
    let all = app.all_events().await;
    for filter in [
        "aggregate_type=cluster",
        "type=cluster.moved",
        "type=cluster.created",
    ] {
        let (key, value) = filter.split_once('=').unwrap();
        let field = if key == "type" { "type" } else { key };
        let wanted: Vec<_> = all
            .iter()
            .filter(|e| e[field] == value)
            .map(|e| e["position"].clone())
            .collect();
        let (mut seen, mut after) = (Vec::new(), 0);
        loop {
            let page = app
                .get(&format!("/v1/events?{filter}&limit=2&after={after}"))
                .await
                .expect(200)
                .clone();
            if items(&page).is_empty() {
                break;
            }
            seen.extend(items(&page).iter().map(|e| e["position"].clone()));
            after = page["next_after"].as_i64().unwrap();
        }
        assert_eq!(seen, wanted, "{filter}");
    }
}

/// On shutdown every live tail ends with a `disconnect` event (reason `shutdown`, the last
/// position it sent, a reconnection hint) and the server stops at once, although its
/// clients keep their streams open and would read for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_live_tails_instead_of_waiting_for_them() {
    let db = test_support::ScratchDb::new(Backend::Sqlite).await;
    let settings = api::settings::Settings {
        listen: "127.0.0.1:0".parse().expect("address"),
        data_dir: db.dir().to_path_buf(),
        database_url: Some(db.url().to_owned()),
        workers: false,
        // Far beyond the test's deadline: stopping in time is not the grace running out.
        shutdown_grace_ms: 3_600_000,
        ..Default::default()
    };
    let application = api::startup::Application::build(settings)
        .await
        .expect("build the application");
    let base = format!("http://{}", application.address());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until(async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{base}/v1/clusters"))
        .json(&json!({ "name": "before-shutdown", "region": "nyc1" }))
        .send()
        .await
        .expect("create a cluster");
    assert_eq!(created.status().as_u16(), 201);
    let mut streams = Vec::new();
    for _ in 0..2 {
        let response = client
            .get(format!("{base}/v1/events/stream?after=0"))
            .send()
            .await
            .expect("open the stream");
        let mut reader = SseReader {
            response,
            buffer: String::new(),
        };
        // The control: the stream is live and has sent the log so far.
        let first = reader.next(1).await;
        assert_eq!(check_message(&first[0])["type"], "cluster.created");
        streams.push(reader);
    }

    stop.send(()).expect("the server listens for its stop");
    for mut reader in streams {
        let farewell = reader.next(1).await;
        assert_eq!(
            farewell[0].event.as_deref(),
            Some("disconnect"),
            "{farewell:?}"
        );
        assert_eq!(
            farewell[0].json(),
            json!({ "reason": "shutdown", "last_event_id": "1" })
        );
        let end = tokio::time::timeout(DEADLINE, reader.response.chunk())
            .await
            .expect("the stream ends after its farewell");
        assert!(matches!(end, Ok(None)), "{end:?}");
    }
    tokio::time::timeout(DEADLINE, server)
        .await
        .expect("the server stopped although live tails were open")
        .expect("the server task");
}

/// Posts `body` to `path` as `actor`, with `correlation` as the request id.
async fn post_as(app: &TestApp, path: &str, body: &Value, actor: &str, correlation: &str) -> Value {
    let answer = app
        .send(
            app.request(Method::POST, path)
                .header("x-user-id", actor)
                .header("x-request-id", correlation)
                .json(body),
        )
        .await;
    assert!(
        answer.status == 201 || answer.status == 202,
        "{}",
        answer.text
    );
    answer.body
}

fn positions_of(page: &Value) -> Vec<i64> {
    items(page)
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect()
}

api_test!(the_log_filters_by_actor_and_correlation_id);
async fn the_log_filters_by_actor_and_correlation_id(app: TestApp) {
    let region = json!({ "name": "a", "region": "nyc1" });
    let a = post_as(&app, "/v1/clusters", &region, "ann", "req-a").await;
    let a_id = str_of(&a["id"]).to_owned();
    post_as(
        &app,
        "/v1/clusters",
        &json!({ "name": "b", "region": "nyc1" }),
        "bob",
        "req-b",
    )
    .await;
    let body = json!({
        "cluster_id": a_id, "name": "d", "region": "nyc1",
        "size": "s-1vcpu-1gb", "image": "ubuntu-22-04-x64",
    });
    let droplet = post_as(&app, "/v1/droplets", &body, "ann", "req-d").await;
    app.wait_for_job(str_of(&droplet["job"]["id"]), "succeeded")
        .await;
    let patch = app
        .send(
            app.request(Method::PATCH, &format!("/v1/clusters/{a_id}"))
                .header("x-user-id", "bob")
                .header("x-request-id", "req-p")
                .json(&json!({ "name": "a2" })),
        )
        .await;
    patch.expect(200);
    let all = app.all_events().await;
    let matching = |pred: &dyn Fn(&Value) -> bool| -> Vec<i64> {
        all.iter()
            .filter(|e| pred(e))
            .map(|e| e["position"].as_i64().unwrap())
            .collect()
    };
    let by_ann = matching(&|e| e["metadata"]["actor"] == "ann");
    let of_d = matching(&|e| e["metadata"]["correlation_id"] == "req-d");

    // One request's events, across aggregates.
    let page = app.get("/v1/events?correlation_id=req-d").await;
    let page = page.expect(200).clone();
    assert_eq!(positions_of(&page), of_d);
    let kinds: std::collections::BTreeSet<&str> = items(&page)
        .iter()
        .map(|e| str_of(&e["aggregate_type"]))
        .collect();
    assert!(
        kinds.contains("droplet") && kinds.contains("cluster") && kinds.contains("job"),
        "{kinds:?}"
    );
    assert_eq!(page["next_after"], *of_d.last().unwrap());
    assert!(page.get("next_before").is_none(), "{page}");
    let page = app.get("/v1/events?actor=ann").await;
    assert_eq!(positions_of(page.expect(200)), by_ann);
    assert!(!by_ann.is_empty() && by_ann.len() < all.len());

    // Combined with each other, with the other filters and with `after`.
    let page = app.get("/v1/events?actor=ann&correlation_id=req-d").await;
    assert_eq!(positions_of(page.expect(200)), of_d);
    let page = app.get("/v1/events?actor=bob&correlation_id=req-d").await;
    assert!(items(page.expect(200)).is_empty());
    let page = app
        .get("/v1/events?correlation_id=req-d&aggregate_type=cluster")
        .await;
    let page = page.expect(200).clone();
    let expected = matching(&|e| {
        e["metadata"]["correlation_id"] == "req-d" && e["aggregate_type"] == "cluster"
    });
    assert_eq!(positions_of(&page), expected);
    assert!(field_of_items(&page, "type").contains(&"cluster.droplet_attached".to_owned()));
    let page = app
        .get(&format!("/v1/events?actor=ann&aggregate_id={a_id}"))
        .await;
    let expected = matching(&|e| e["metadata"]["actor"] == "ann" && e["aggregate_id"] == a_id);
    assert_eq!(positions_of(page.expect(200)), expected);
    assert!(expected.len() >= 2, "created and attached: {expected:?}");
    let page = app.get("/v1/events?actor=bob&type=cluster.renamed").await;
    assert_eq!(
        field_of_items(page.expect(200), "aggregate_id"),
        [a_id.as_str()]
    );
    let first = of_d[0];
    let page = app
        .get(&format!("/v1/events?correlation_id=req-d&after={first}"))
        .await;
    assert_eq!(positions_of(page.expect(200)), of_d[1..]);
    // Paging through: next_after continues after the last event read.
    let mut after = 0;
    let mut paged = Vec::new();
    loop {
        let page = app
            .get(&format!(
                "/v1/events?correlation_id=req-d&limit=1&after={after}"
            ))
            .await;
        let page = page.expect(200).clone();
        if items(&page).is_empty() {
            break;
        }
        paged.extend(positions_of(&page));
        after = page["next_after"].as_i64().unwrap();
    }
    assert_eq!(paged, of_d);
    // And back from the newest end.
    let page = app
        .get("/v1/events?correlation_id=req-d&before=9007199254740991")
        .await;
    let page = page.expect(200).clone();
    let mut newest_first = of_d.clone();
    newest_first.reverse();
    assert_eq!(positions_of(&page), newest_first);
    assert_eq!(page["next_before"], first);
    let page = app.get("/v1/events?correlation_id=nobody").await;
    assert!(items(page.expect(200)).is_empty());
}

api_test!(the_log_reads_back_from_a_position);
async fn the_log_reads_back_from_a_position(app: TestApp) {
    for name in ["one", "two", "three", "four", "five"] {
        app.create_cluster(name).await;
    }
    let page = app.get("/v1/events?before=9007199254740991&limit=2").await;
    let page = page.expect(200).clone();
    assert_eq!(positions_of(&page), [5, 4]);
    assert_eq!(page["next_before"], 4);
    assert_eq!(page["next_after"], 5);
    let page = app.get("/v1/events?before=4&limit=2").await;
    let page = page.expect(200).clone();
    assert_eq!(positions_of(&page), [3, 2]);
    assert_eq!(page["next_before"], 2);
    let page = app.get("/v1/events?before=2").await;
    let page = page.expect(200).clone();
    assert_eq!(positions_of(&page), [1]);
    assert_eq!(page["next_before"], 1);
    let page = app.get("/v1/events?before=1").await;
    let page = page.expect(200).clone();
    assert!(items(&page).is_empty());
    assert_eq!(page["next_before"], 1, "nothing older: stays where it was");
    assert_eq!(page["next_after"], 0);
    // With a filter: only the matches, newest first.
    let page = app
        .get("/v1/events?before=5&type=cluster.created&limit=3")
        .await;
    assert_eq!(positions_of(page.expect(200)), [4, 3, 2]);
    // Without `before`, forward as ever.
    let page = app.get("/v1/events?limit=2").await;
    let page = page.expect(200).clone();
    assert_eq!(positions_of(&page), [1, 2]);
    assert!(page.get("next_before").is_none(), "{page}");
}

api_test!(live_tail_follows_one_correlation_id);
async fn live_tail_follows_one_correlation_id(app: TestApp) {
    let cluster = app.create_cluster("traced").await;
    let cluster_id = str_of(&cluster["id"]).to_owned();
    let request = app.request(Method::GET, "/v1/events/stream?correlation_id=req-live");
    let mut traced = SseReader::open(&app, request).await;
    app.create_droplet(&cluster_id, "untraced").await;
    let body = json!({
        "cluster_id": cluster_id, "name": "traced", "region": "nyc1",
        "size": "s-1vcpu-1gb", "image": "ubuntu-22-04-x64",
    });
    post_as(&app, "/v1/droplets", &body, "ann", "req-live").await;
    // The request's three events, across aggregates, and none of the other request's.
    let messages = traced.next(3).await;
    let events: Vec<Value> = messages.iter().map(check_message).collect();
    assert!(
        events
            .iter()
            .all(|e| e["metadata"]["correlation_id"] == "req-live"),
        "{events:?}"
    );
    let kinds: std::collections::BTreeSet<&str> = events
        .iter()
        .map(|e| str_of(&e["aggregate_type"]))
        .collect();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
}
