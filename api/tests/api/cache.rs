//! The cache read models in Redis: GETs answer from the cache; with Redis killed they
//! keep answering 200 from SQL with the right data; once Redis is back (empty), the cache
//! heals from the log and answers again, equal to what SQL answered. The Redis is a
//! private `redis-server` on a free port, started, killed and restarted by the test.

use std::process::Stdio;
use std::time::{Duration, Instant};

use projections::cache::{ReadCache, RedisCache, RedisOptions};
use serde_json::{json, Value};
use tokio::process::{Child, Command};

use crate::common::*;

/// A `redis-server` of this test's own, without persistence.
struct PrivateRedis {
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut redis = Self { port, child: None };
        redis.restart().await;
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (empty) and waits until it accepts connections.
    async fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server must be installed for this test");
        self.child = Some(child);
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(started.elapsed() < DEADLINE, "redis-server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills the server; its data is gone.
    async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("kill redis-server");
        }
    }
}

fn hits(resource: &str) -> String {
    format!("clustergenie_cache_hits_total{{resource=\"{resource}\"}} ")
}

/// Fallbacks of `resource` for any reason.
async fn fallbacks(app: &TestApp, resource: &str) -> u64 {
    let text = app.get("/metrics").await.text;
    let prefix = "clustergenie_cache_fallbacks_total{";
    text.lines()
        .filter(|line| line.starts_with(prefix))
        .filter(|line| line.contains(&format!("resource=\"{resource}\"")))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// Polls `/readyz` until the cache check satisfies `done`; returns the body.
async fn wait_for_cache(app: &TestApp, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let body = app.get("/readyz").await.expect(200).clone();
        if done(&body["checks"]["cache"]) {
            return body;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "the cache did not become {what} within {DEADLINE:?}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The four cached reads of one cluster, one droplet and one job, at `position`.
async fn reads(app: &TestApp, ids: &[&str; 3], position: &Value) -> [Value; 4] {
    let [cluster, droplet, job] = ids;
    [
        app.get_at(&format!("/v1/clusters/{cluster}"), position)
            .await,
        app.get_at(&format!("/v1/clusters/{cluster}/summary"), position)
            .await,
        app.get_at(&format!("/v1/droplets/{droplet}"), position)
            .await,
        app.get_at(&format!("/v1/jobs/{job}"), position).await,
    ]
}

/// Hit counters of cluster, summary, droplet and job.
async fn all_hits(app: &TestApp) -> [f64; 4] {
    [
        app.metric(&hits("cluster")).await,
        app.metric(&hits("summary")).await,
        app.metric(&hits("droplet")).await,
        app.metric(&hits("job")).await,
    ]
}

async fn redis_outage(app: TestApp, mut redis: PrivateRedis, prefix: String) {
    // Some history: two droplets active, one job done.
    let cluster = app.create_cluster("cached").await;
    let cluster_id = str_of(&cluster["id"]).to_owned();
    let first = app.active_droplet(&cluster_id, "one").await;
    app.active_droplet(&cluster_id, "two").await;
    let job = app
        .post(
            "/v1/jobs",
            &json!({ "type": "diagnose", "cluster_id": cluster_id }),
        )
        .await
        .expect(202)
        .clone();
    let job_id = str_of(&job["job"]["id"]).to_owned();
    app.wait_for_job(&job_id, "succeeded").await;
    let ids = [cluster_id.as_str(), str_of(&first["id"]), job_id.as_str()];

    // Redis answers: the GETs come from the cache.
    let body = wait_for_cache(&app, "ok", |c| c["status"] == "ok").await;
    assert_eq!(body["checks"]["cache"]["backend"], "redis", "{body}");
    assert_eq!(body["degraded"], false, "{body}");
    let position = app.head().await;
    let before = all_hits(&app).await;
    let cached = reads(&app, &ids, &position).await;
    let after = all_hits(&app).await;
    for (i, (b, a)) in before.iter().zip(after).enumerate() {
        assert_eq!(
            a,
            b + 1.0,
            "read {i} should be a cache hit: {before:?} -> {after:?}"
        );
    }
    let summary = &cached[1];
    assert_eq!(summary["cluster_id"], cluster_id.as_str(), "{summary}");
    assert_eq!(summary["name"], "cached");
    assert_eq!(summary["droplet_count"], 2);
    assert_eq!(summary["droplets_by_status"], json!({ "active": 2 }));
    assert_eq!(summary["last_job"]["id"], job_id.as_str(), "{summary}");
    assert_eq!(summary["last_job"]["status"], "succeeded");
    assert_eq!(summary["last_job"]["progress"], 100);
    assert_eq!(cached[2]["cluster_name"], "cached", "{}", cached[2]);

    // Redis dies: GETs keep answering, from SQL, with the new writes in them.
    redis.kill().await;
    let renamed = app
        .patch(
            &format!("/v1/clusters/{cluster_id}"),
            &json!({ "name": "renamed" }),
        )
        .await
        .expect(200)
        .clone();
    let cluster_fallbacks = fallbacks(&app, "cluster").await;
    let got = app
        .get_at(&format!("/v1/clusters/{cluster_id}"), &renamed["position"])
        .await;
    assert_eq!(got["name"], "renamed", "{got}");
    assert!(fallbacks(&app, "cluster").await > cluster_fallbacks);
    let body = wait_for_cache(&app, "down", |c| c["status"] == "down").await;
    assert_eq!(body["status"], "ready", "the API still serves: {body}");
    assert_eq!(body["degraded"], true, "{body}");
    let third = app.create_droplet(&cluster_id, "three").await;
    app.wait_for_job(str_of(&third["job"]["id"]), "succeeded")
        .await;
    let position = app.head().await;
    let before = all_hits(&app).await;
    let from_sql = reads(&app, &ids, &position).await;
    assert_eq!(all_hits(&app).await, before, "no hit while Redis is down");
    assert_eq!(from_sql[0]["name"], "renamed");
    assert_eq!(from_sql[1]["name"], "renamed");
    assert_eq!(from_sql[1]["droplet_count"], 3);
    assert_eq!(from_sql[1]["droplets_by_status"], json!({ "active": 3 }));
    assert_eq!(from_sql[2]["cluster_name"], "renamed");
    let summary_sql = app
        .get(&format!("/v1/clusters/{cluster_id}/summary"))
        .await
        .expect(200)
        .clone();
    assert_eq!(summary_sql, from_sql[1]);

    // Redis comes back empty: the cache heals from the log and answers what SQL did.
    redis.restart().await;
    let body = wait_for_cache(&app, "healed", |c| {
        c["status"] == "ok" && c["heals"].as_u64() >= Some(1)
    })
    .await;
    assert_eq!(body["degraded"], false, "{body}");
    let before = all_hits(&app).await;
    let healed = reads(&app, &ids, &position).await;
    let after = all_hits(&app).await;
    for (i, (b, a)) in before.iter().zip(after).enumerate() {
        assert_eq!(a, b + 1.0, "read {i} should be a cache hit after the heal");
    }
    assert_eq!(
        healed, from_sql,
        "the healed cache answers what SQL answered"
    );
    let direct = RedisCache::open(
        &redis.url(),
        RedisOptions {
            prefix,
            ..RedisOptions::default()
        },
    )
    .expect("redis url");
    let checkpoint = direct
        .checkpoint()
        .await
        .expect("checkpoint")
        .expect("some");
    assert!(checkpoint.position >= position.as_i64().expect("position"));
    redis.kill().await;
}

async fn run_outage(backend: Backend) {
    let redis = PrivateRedis::start().await;
    let url = redis.url();
    let prefix = format!("cgapi:{}:", uuid::Uuid::new_v4().simple());
    let key_prefix = prefix.clone();
    run_configured(
        backend,
        move |settings| {
            settings.redis_url = Some(url);
            settings.cache_key_prefix = key_prefix;
        },
        move |app| redis_outage(app, redis, prefix),
    )
    .await;
}

mod redis_down_then_back {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run_outage(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        run_outage(Backend::Postgres).await;
    }
}

api_test!(summary_of_a_cluster_from_the_in_memory_cache);
async fn summary_of_a_cluster_from_the_in_memory_cache(app: TestApp) {
    let cluster = app.create_cluster("summed").await;
    let id = str_of(&cluster["id"]).to_owned();
    let created = app.create_droplet(&id, "one").await;
    let job_id = str_of(&created["job"]["id"]).to_owned();
    app.wait_for_job(&job_id, "succeeded").await;
    let position = app.head().await;
    let body = wait_for_cache(&app, "ok", |c| c["status"] == "ok").await;
    assert_eq!(body["checks"]["cache"]["backend"], "in-memory", "{body}");
    let before = app.metric(&hits("summary")).await;
    let summary = app
        .get_at(&format!("/v1/clusters/{id}/summary"), &position)
        .await;
    assert_eq!(app.metric(&hits("summary")).await, before + 1.0);
    assert_eq!(
        summary,
        json!({
            "cluster_id": id,
            "name": "summed",
            "status": "healthy",
            "droplet_count": 1,
            "droplets_by_status": { "active": 1 },
            "last_job": { "id": job_id, "type": "provision", "status": "succeeded", "progress": 100 },
            "position": position,
        })
    );
    app.get(&format!("/v1/clusters/{}/summary", unknown_id("cl")))
        .await
        .problem(404);
    app.get(&format!("/v1/clusters/{id}/summary?as_of=1"))
        .await
        .field_problem(400, "as_of");
    app.get(&format!("/v1/clusters/{id}/summary?min_position=x"))
        .await
        .field_problem(400, "min_position");
}

api_test!(
    a_tiny_in_memory_cache_answers_every_get,
    |s: &mut api::settings::Settings| {
        // 20 KiB: a dozen clusters' records.
        s.cache_memory_budget_mb = 20.0 / 1024.0;
    }
);
async fn a_tiny_in_memory_cache_answers_every_get(app: TestApp) {
    let mut clusters = Vec::new();
    for i in 0..60 {
        let name = format!("tiny-{i}");
        let created = app.create_cluster(&name).await;
        clusters.push((str_of(&created["id"]).to_owned(), name));
    }
    let position = app.head().await;
    let body = wait_for_cache(&app, "at the head", |c| {
        c["status"] == "ok" && c["position"].as_i64() >= position.as_i64()
    })
    .await;
    let cache = &body["checks"]["cache"];
    assert_eq!(cache["backend"], "in-memory", "{body}");
    assert_eq!(cache["budget_bytes"], 20 * 1024, "{body}");
    assert!(
        cache["bytes"].as_u64() <= cache["budget_bytes"].as_u64(),
        "{body}"
    );
    assert!(cache["evictions"].as_u64() > Some(0), "{body}");
    assert!(cache["records"].as_u64() > Some(0), "{body}");
    let (hits_before, misses_before) = (
        app.metric(&hits("cluster")).await,
        fallbacks(&app, "cluster").await,
    );
    for (id, name) in &clusters {
        let cluster = app.get_at(&format!("/v1/clusters/{id}"), &position).await;
        assert_eq!(
            (&cluster["id"], &cluster["name"]),
            (&json!(id), &json!(name))
        );
        let path = format!("/v1/clusters/{id}/summary");
        let summary = app.get_at(&path, &position).await;
        assert_eq!(summary["name"], name.as_str(), "{summary}");
    }
    // The oldest clusters were evicted (answered from SQL), the newest were not.
    assert!(fallbacks(&app, "cluster").await > misses_before);
    assert!(app.metric(&hits("cluster")).await > hits_before);
    let text = app.get("/metrics").await.text;
    assert!(text.contains("clustergenie_cache_records "), "{text}");
    let bytes = app.metric("clustergenie_cache_bytes ").await;
    assert!(bytes > 0.0 && bytes <= 20.0 * 1024.0, "{bytes}");
}
