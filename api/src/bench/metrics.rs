//! `clustergenie bench metrics`: metric samples in and a day's series out.
//!
//! 1. Ingest: `--samples` samples (default 100,000) for one cluster and its droplets,
//!    posted to `POST /v1/metrics` in batches of 500 by `--clients` clients (first value,
//!    default 4) over HTTP with keep-alive, against a server started in this process on a
//!    scratch PostgreSQL database; the baseline, in the same run: the same rows as raw
//!    multi-row `INSERT`s of 500 into `cg_metric_samples` straight through a pool, by as
//!    many clients. Printed: samples/s of each and the ratio (target 0.5x or better).
//! 2. Series: `--series-samples` samples (default 1,000,000) spread over the last 24 hours
//!    of another cluster, loaded straight into the tables (samples and rollups, batches of
//!    10,000 through the store's one-statement insert); then `--queries` (default 200)
//!    `GET /v1/metrics?step=300` of that day, one at a time. Printed: p50 and p99 (target
//!    p99 at most 50 ms).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use engine::domain::ClusterId;
use engine::metrics::{MetricSample, MetricType, MetricsStore, PgMetricsStore};
use serde_json::{json, Value};

use crate::settings::Settings;
use crate::startup::Application;

/// Samples per request (and per baseline statement).
const BATCH: usize = 500;

/// Droplets of the ingest cluster.
const DROPLETS: usize = 10;

/// The sizes of a run.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub samples: usize,
    pub series_samples: usize,
    pub queries: usize,
    pub clients: usize,
}

/// Runs both measurements on the scratch PostgreSQL database `url`.
pub async fn measure(url: String, sizes: Sizes) -> anyhow::Result<()> {
    println!(
        "# bench metrics: {} samples in batches of {BATCH} by {} clients; series of a day over {} samples",
        sizes.samples, sizes.clients, sizes.series_samples
    );
    let settings = Settings {
        listen: "127.0.0.1:0".parse()?,
        database_url: Some(url.clone()),
        workers: false,
        ratelimit_enabled: false,
        log_format: "json".into(),
        ..Settings::default()
    };
    let app = Application::build(settings)
        .await
        .context("start the server")?;
    let base = format!("http://{}", app.address());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(sizes.clients + 2)
        .timeout(Duration::from_secs(60))
        .build()?;
    let outcome = run_both(&http, &base, &url, sizes).await;
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(15), server).await;
    outcome
}

async fn run_both(
    http: &reqwest::Client,
    base: &str,
    url: &str,
    sizes: Sizes,
) -> anyhow::Result<()> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(sizes.clients as u32 + 2)
        .connect(url)
        .await?;
    let (cluster, droplets) = fleet(http, base).await?;
    let bodies = batches(&cluster, &droplets, sizes.samples);
    let through_http = ingest_http(http, base, &bodies, sizes.clients).await?;
    let raw = ingest_raw(&pool, &bodies, sizes.clients).await?;
    let rate = |took: Duration| sizes.samples as f64 / took.as_secs_f64();
    println!("| contender | samples/s | vs raw INSERT |");
    println!("|---|---|---|");
    println!(
        "| raw multi-row INSERT of {BATCH} | {:.0} | 1.00x |",
        rate(raw)
    );
    println!(
        "| POST /v1/metrics ({BATCH} a request) | {:.0} | {:.2}x |",
        rate(through_http),
        rate(through_http) / rate(raw)
    );
    let series_cluster = ClusterId::new();
    let store = PgMetricsStore::new(pool);
    let loaded = load_day(&store, &series_cluster, sizes.series_samples).await?;
    println!(
        "loaded {} samples (and rollups) in {:.1} s",
        sizes.series_samples,
        loaded.as_secs_f64()
    );
    let mut took = query_day(http, base, &series_cluster, sizes.queries).await?;
    took.sort();
    let pick = |q: f64| took[((took.len() - 1) as f64 * q).round() as usize];
    println!("| series of 24 h, step 300 s | p50 | p99 |");
    println!("|---|---|---|");
    println!(
        "| {} samples | {:.1} ms | {:.1} ms |",
        sizes.series_samples,
        pick(0.5).as_secs_f64() * 1000.0,
        pick(0.99).as_secs_f64() * 1000.0
    );
    store.pool().close().await;
    Ok(())
}

/// A cluster and its droplets, made through the API and waited for in the read models.
async fn fleet(http: &reqwest::Client, base: &str) -> anyhow::Result<(String, Vec<String>)> {
    let post = |path: &str, body: Value| {
        let request = http.post(format!("{base}{path}")).json(&body);
        async move {
            let answer: Value = request.send().await?.error_for_status()?.json().await?;
            anyhow::Ok(answer)
        }
    };
    let cluster = post("/v1/clusters", json!({"name": "bench", "region": "fra1"})).await?;
    let cluster_id = cluster["id"].as_str().context("cluster id")?.to_owned();
    let mut droplets = Vec::new();
    let mut position = 0;
    for i in 0..DROPLETS {
        let body = json!({"cluster_id": cluster_id, "name": format!("bench-{i}"),
            "region": "fra1", "size": "s-1vcpu-1gb", "image": "ubuntu-22-04-x64"});
        let created = post("/v1/droplets", body).await?;
        droplets.push(
            created["droplet"]["id"]
                .as_str()
                .context("droplet id")?
                .to_owned(),
        );
        position = created["position"].as_i64().unwrap_or(position);
    }
    http.get(format!("{base}/v1/droplets?min_position={position}"))
        .send()
        .await?
        .error_for_status()?;
    Ok((cluster_id, droplets))
}

/// The samples as request bodies of [`BATCH`], over the last half hour.
fn batches(cluster: &str, droplets: &[String], samples: usize) -> Vec<Value> {
    let now = Utc::now();
    let all: Vec<Value> = (0..samples)
        .map(|i| {
            let kind = MetricType::ALL[i % 4];
            let at = now - chrono::Duration::milliseconds((i % 1_800_000) as i64);
            json!({"cluster_id": cluster, "droplet_id": droplets[i % droplets.len()],
                "type": kind.as_str(), "value": (i % 100) as f64, "timestamp": at.to_rfc3339()})
        })
        .collect();
    all.chunks(BATCH)
        .map(|chunk| json!({ "samples": chunk }))
        .collect()
}

/// Runs `work(i)` for every `i` below `count`, `clients` at a time; how long it took.
async fn spread<F, Fut>(count: usize, clients: usize, work: F) -> anyhow::Result<Duration>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let work = Arc::new(work);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let (work, next) = (Arc::clone(&work), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= count {
                    return anyhow::Ok(());
                }
                work(i).await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(started.elapsed())
}

async fn ingest_http(
    http: &reqwest::Client,
    base: &str,
    bodies: &[Value],
    clients: usize,
) -> anyhow::Result<Duration> {
    let bodies: Arc<Vec<Vec<u8>>> =
        Arc::new(bodies.iter().map(|b| b.to_string().into_bytes()).collect());
    let (http, url) = (http.clone(), format!("{base}/v1/metrics"));
    let count = bodies.len();
    spread(count, clients, move |i| {
        let request = http
            .post(&url)
            .header("content-type", "application/json")
            .body(bodies[i].clone());
        async move {
            let response = request.send().await?;
            let status = response.status();
            anyhow::ensure!(
                status.as_u16() == 202,
                "POST /v1/metrics: {status}: {}",
                response.text().await?
            );
            Ok(())
        }
    })
    .await
}

async fn ingest_raw(
    pool: &sqlx::PgPool,
    bodies: &[Value],
    clients: usize,
) -> anyhow::Result<Duration> {
    let statements: Vec<(String, Vec<Value>)> = bodies
        .iter()
        .map(|body| {
            let samples = body["samples"].as_array().cloned().unwrap_or_default();
            let values: Vec<String> = (0..samples.len())
                .map(|r| {
                    let n = r * 5;
                    format!("(${}, ${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4, n + 5)
                })
                .collect();
            let sql = format!(
                "INSERT INTO cg_metric_samples (cluster_id, droplet_id, metric_type, value, ts) VALUES {}",
                values.join(", ")
            );
            (sql, samples)
        })
        .collect();
    let (statements, pool) = (Arc::new(statements), pool.clone());
    spread(statements.len(), clients, move |i| {
        let (statements, pool) = (Arc::clone(&statements), pool.clone());
        async move {
            let (sql, samples) = &statements[i];
            let mut query = sqlx::query(sql);
            for s in samples {
                let at: DateTime<Utc> = serde_json::from_value(s["timestamp"].clone())?;
                query = query
                    .bind(s["cluster_id"].as_str().unwrap_or_default().to_owned())
                    .bind(s["droplet_id"].as_str().map(str::to_owned))
                    .bind(s["type"].as_str().unwrap_or_default().to_owned())
                    .bind(s["value"].as_f64().unwrap_or_default())
                    .bind(at.timestamp_micros());
            }
            query.execute(&pool).await?;
            Ok(())
        }
    })
    .await
}

/// Loads `count` samples of `cluster` spread evenly over the last 24 hours.
async fn load_day(
    store: &PgMetricsStore,
    cluster: &ClusterId,
    count: usize,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let now = Utc::now();
    let spacing = 86_400_000_000 / count.max(1) as i64;
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..count {
        batch.push(MetricSample {
            cluster_id: cluster.clone(),
            droplet_id: None,
            metric_type: MetricType::ALL[i % 4],
            value: (i % 100) as f64,
            timestamp: now - chrono::Duration::microseconds(spacing * i as i64),
        });
        if batch.len() == 10_000 || i + 1 == count {
            store.insert(&batch).await?;
            batch.clear();
        }
    }
    Ok(started.elapsed())
}

async fn query_day(
    http: &reqwest::Client,
    base: &str,
    cluster: &ClusterId,
    queries: usize,
) -> anyhow::Result<Vec<Duration>> {
    let since = (Utc::now() - chrono::Duration::hours(24))
        .to_rfc3339()
        .replace('+', "%2B");
    let url = format!("{base}/v1/metrics?cluster_id={cluster}&type=cpu&step=300&since={since}");
    let mut took = Vec::with_capacity(queries);
    for _ in 0..queries.max(1) {
        let started = Instant::now();
        let response = http.get(&url).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        anyhow::ensure!(status.is_success(), "GET series: {status}");
        took.push(started.elapsed());
        anyhow::ensure!(!body.is_empty(), "an empty series answer");
    }
    Ok(took)
}
