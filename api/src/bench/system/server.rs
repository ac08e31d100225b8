//! The server under measurement: `clustergenie serve` as a child process of this very
//! executable, on 127.0.0.1 at a free port, so that its memory can be read from
//! `/proc/<pid>/status` and its CPU is not the load generator's.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use projections::cache::RedisOptions;
use projections::RedisCache;
use serde_json::Value;
use tokio::process::{Child, Command};

/// How long the server may take to answer `/healthz` after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(300);

/// How long projections, cache and jobs may take to catch up with the log.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(3_600);

/// A running `clustergenie serve`.
pub struct Server {
    child: Child,
    pid: u32,
    /// The prefix of its keys in Redis, when the environment names one.
    key_prefix: String,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The HTTP client every request of the bench goes through (keep-alive).
    pub http: reqwest::Client,
}

impl Server {
    /// Starts `serve` on `database_url` (working directory and log in `dir`), with a
    /// zero-latency simulated provider, and waits until it answers.
    pub async fn start(database_url: &str, dir: &Path, clients: usize) -> anyhow::Result<Self> {
        let port = free_port()?;
        let key_prefix = format!("cg:bench:{port}:");
        let log = std::fs::File::create(dir.join("server.log")).context("the server log")?;
        let exe = std::env::current_exe().context("the path of this executable")?;
        let child = Command::new(exe)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--database-url", database_url])
            .args(["--sim-speed", "0", "--sim-delay-ms", "0"])
            .current_dir(dir)
            .env("RUST_LOG", "warn")
            // Keys of its own in a Redis the environment names: every size's server runs
            // at once, and two logs' caches under one prefix would heal each other away.
            .env("CLUSTERGENIE_CACHE_KEY_PREFIX", &key_prefix)
            .env(
                "CLUSTERGENIE_RATELIMIT_KEY_PREFIX",
                format!("{key_prefix}ratelimit:"),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .context("start clustergenie serve")?;
        let pid = child.id().context("the server's pid")?;
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(clients.max(1) + 4)
            .timeout(Duration::from_secs(60))
            .build()?;
        let mut server = Self {
            child,
            pid,
            key_prefix,
            base: format!("http://127.0.0.1:{port}"),
            http,
        };
        server.wait_healthy(dir).await?;
        Ok(server)
    }

    async fn wait_healthy(&mut self, dir: &Path) -> anyhow::Result<()> {
        let started = Instant::now();
        let url = format!("{}/healthz", self.base);
        loop {
            if let Some(status) = self.child.try_wait()? {
                let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                anyhow::bail!("the server exited ({status}) before answering:\n{log}");
            }
            if let Ok(response) = self.http.get(&url).send().await {
                if response.status().is_success() {
                    return Ok(());
                }
            }
            anyhow::ensure!(
                started.elapsed() < START_TIMEOUT,
                "the server did not answer within {START_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// GET `path` as JSON.
    pub async fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        let status = response.status();
        let body = response.text().await?;
        anyhow::ensure!(status.is_success(), "GET {path}: {status}: {body}");
        Ok(serde_json::from_str(&body)?)
    }

    /// Waits until every projection and the cache are at the log's head and no job is
    /// waiting or running.
    pub async fn wait_caught_up(&self) -> anyhow::Result<()> {
        let started = Instant::now();
        while !self.caught_up().await? {
            anyhow::ensure!(
                started.elapsed() < CATCH_UP_TIMEOUT,
                "the server did not catch up within {CATCH_UP_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    }

    async fn caught_up(&self) -> anyhow::Result<bool> {
        let projections = self.get_json("/v1/projections").await?;
        let items = projections["items"].as_array().cloned().unwrap_or_default();
        let head = items
            .iter()
            .filter_map(|p| Some(p["position"].as_i64()? + p["lag"].as_i64()?))
            .max()
            .unwrap_or(0);
        if items.iter().any(|p| p["lag"].as_i64() != Some(0)) {
            return Ok(false);
        }
        let ready = self.get_json("/readyz").await?;
        let cache = &ready["checks"]["cache"];
        if cache["status"] != "ok" || cache["position"].as_i64().unwrap_or(0) < head {
            return Ok(false);
        }
        let workers = self.get_json("/v1/workers").await?;
        let busy = ["unfinished", "active_workers", "queue_length"]
            .iter()
            .map(|field| workers[field].as_u64().unwrap_or(0))
            .sum::<u64>();
        Ok(busy == 0)
    }

    /// The server's resident memory in bytes (`VmRSS`), where `/proc` tells it: its own
    /// memory and the pages of files it maps (the SQLite file, on SQLite).
    pub fn rss_bytes(&self) -> Option<u64> {
        self.status_bytes("VmRSS:")
    }

    /// The server's own resident memory in bytes (`RssAnon`: heap and stacks, without the
    /// mapped files' pages, which are the kernel's file cache).
    pub fn anon_bytes(&self) -> Option<u64> {
        self.status_bytes("RssAnon:")
    }

    /// A `kB` field of `/proc/<pid>/status`, in bytes.
    fn status_bytes(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        let line = status.lines().find(|l| l.starts_with(field))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// Stops the server: SIGTERM (so that it persists its checkpoints), then SIGKILL if it
    /// has not exited within 20 s; then deletes its cache's keys from the Redis the
    /// environment names, if any (its rate limiter's expire by themselves).
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await;
        match tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await {
            Ok(status) => {
                status?;
            }
            Err(_) => {
                self.child.kill().await?;
            }
        }
        self.flush_redis().await
    }

    async fn flush_redis(&self) -> anyhow::Result<()> {
        // As the server's settings read it (the prefixed name wins).
        let url = ["CLUSTERGENIE_REDIS_URL", "REDIS_URL"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|url| !url.is_empty()));
        let Some(url) = url else {
            return Ok(());
        };
        let options = RedisOptions {
            prefix: self.key_prefix.clone(),
            ..RedisOptions::default()
        };
        let cache = RedisCache::open(&url, options).context("the server's Redis")?;
        cache
            .flush()
            .await
            .context("delete the server's keys from Redis")?;
        Ok(())
    }
}

/// A port free on 127.0.0.1 now (the OS's pick for port 0).
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("find a free port")?;
    Ok(listener.local_addr()?.port())
}
