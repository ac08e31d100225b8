//! The load of `bench system`: clients issuing one kind of request in a loop for a fixed
//! time, over HTTP with keep-alive connections, or (the baseline) as raw inserts straight
//! into the database. Every loop stops by itself at its deadline.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::server::Server;

/// What one request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer: counted and timed.
    Done,
    /// Any other answer (a 503 when the job queue is full, …): counted apart.
    Refused,
}

/// One request of a load: called with the client's number and its request count so far.
pub type Request = Arc<
    dyn Fn(usize, u64) -> Pin<Box<dyn Future<Output = anyhow::Result<Outcome>> + Send>>
        + Send
        + Sync,
>;

/// What a load measured.
#[derive(Debug, Clone)]
pub struct Figures {
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Answers that were not 2xx.
    pub refused: u64,
}

/// A load's raw measurement: slices of one measurement taken in turns add up.
pub struct Slice {
    histogram: Histogram<u64>,
    refused: u64,
    seconds: f64,
}

impl Slice {
    /// Nothing measured yet.
    pub fn empty() -> anyhow::Result<Self> {
        Ok(Self {
            histogram: Histogram::new(3)?,
            refused: 0,
            seconds: 0.0,
        })
    }

    /// Adds `other`'s requests and time to this one's.
    pub fn add(&mut self, other: Slice) -> anyhow::Result<()> {
        self.histogram.add(other.histogram)?;
        self.refused += other.refused;
        self.seconds += other.seconds;
        Ok(())
    }

    /// Requests answered with a 2xx.
    pub fn done(&self) -> u64 {
        self.histogram.len()
    }

    /// The rates and latencies of every slice added.
    pub fn figures(&self) -> Figures {
        let h = &self.histogram;
        Figures {
            per_second: h.len() as f64 / self.seconds.max(1e-9),
            p50_ms: h.value_at_quantile(0.50) as f64 / 1000.0,
            p99_ms: h.value_at_quantile(0.99) as f64 / 1000.0,
            refused: self.refused,
        }
    }
}

/// Runs `request` from `clients` concurrent tasks for `duration`.
pub async fn drive(request: Request, clients: usize, duration: Duration) -> anyhow::Result<Slice> {
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..clients.max(1))
        .map(|client| {
            let request = Arc::clone(&request);
            tokio::spawn(async move {
                let mut histogram = Histogram::<u64>::new(3)?;
                let (mut n, mut refused) = (0u64, 0u64);
                while Instant::now() < deadline {
                    let began = Instant::now();
                    match request(client, n).await? {
                        Outcome::Done => histogram.record(began.elapsed().as_micros() as u64)?,
                        Outcome::Refused => refused += 1,
                    }
                    n += 1;
                }
                Ok::<_, anyhow::Error>((histogram, refused))
            })
        })
        .collect();
    let mut slice = Slice::empty()?;
    for task in tasks {
        let (histogram, refused) = task.await??;
        slice.histogram.add(histogram)?;
        slice.refused += refused;
    }
    slice.seconds = start.elapsed().as_secs_f64();
    Ok(slice)
}

/// The requests over HTTP, in the order they are measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    CreateCluster,
    CreateDroplet,
    GetCluster,
    ListFirstPage,
    Search,
}

impl Op {
    pub const ALL: [Op; 5] = [
        Op::CreateCluster,
        Op::CreateDroplet,
        Op::GetCluster,
        Op::ListFirstPage,
        Op::Search,
    ];

    /// The name printed in the tables.
    pub fn name(self) -> &'static str {
        match self {
            Op::CreateCluster => "create cluster",
            Op::CreateDroplet => "create droplet",
            Op::GetCluster => "get cluster",
            Op::ListFirstPage => "list page",
            Op::Search => "search",
        }
    }

    /// Whether it writes (the server is let catch up after it).
    pub fn writes(self) -> bool {
        matches!(self, Op::CreateCluster | Op::CreateDroplet)
    }
}

/// Clusters the reads and droplets go to: ids and names, from the first list pages.
pub struct Sample {
    clusters: Vec<(String, String)>,
    /// The newest clusters: the create measurement's own (`sys-<client>-<n>`), the same
    /// names at every log size. A search looks for these, so that every size searches
    /// for the same terms (the loader's names, which only a prefilled log holds, share
    /// most of their trigrams and would make the sizes search for different things).
    newest: Vec<(String, String)>,
}

impl Sample {
    /// Up to 500 clusters, taken from the server's list (sorted by name, then by time).
    pub async fn take(server: &Server) -> anyhow::Result<Self> {
        let mut clusters = Vec::new();
        let mut newest = Vec::new();
        for sort in ["name", "created_at&sort_dir=desc"] {
            let page = server
                .get_json(&format!("/v1/clusters?page_size=250&sort_by={sort}"))
                .await?;
            for item in page["items"].as_array().into_iter().flatten() {
                let (Some(id), Some(name)) = (item["id"].as_str(), item["name"].as_str()) else {
                    continue;
                };
                let cluster = (id.to_owned(), name.to_owned());
                if sort != "name" {
                    newest.push(cluster.clone());
                }
                if !clusters.iter().any(|(known, _)| known == id) {
                    clusters.push(cluster);
                }
            }
        }
        Ok(Self { clusters, newest })
    }

    /// The cluster request `n` of `client` goes to.
    fn pick(&self, client: usize, n: u64) -> Option<&(String, String)> {
        Self::pick_in(&self.clusters, client, n)
    }

    /// The cluster request `n` of `client` searches for, among the newest.
    fn pick_newest(&self, client: usize, n: u64) -> Option<&(String, String)> {
        Self::pick_in(&self.newest, client, n)
    }

    fn pick_in(clusters: &[(String, String)], client: usize, n: u64) -> Option<&(String, String)> {
        let len = clusters.len();
        (len > 0).then(|| &clusters[(client * 7_919 + n as usize * 31) % len])
    }
}

/// The request of `op` against `server`, in slice `slice` of `slices` of a measurement.
/// New clusters are named `sys-<client>-<n>`, the client's requests numbered across the
/// slices (`n = request * slices + slice`): the same names at every log size, none twice,
/// numbers spread as if one slice had made them all (a search's trigrams, digits
/// included, are no more common than that).
pub fn http(
    op: Op,
    server: &Server,
    sample: Arc<Sample>,
    (slice, slices): (usize, usize),
) -> Request {
    let (http, base) = (server.http.clone(), server.base.clone());
    Arc::new(move |client, n| {
        let (http, base, sample) = (http.clone(), base.clone(), Arc::clone(&sample));
        Box::pin(async move {
            let picked = match op {
                Op::Search => sample.pick_newest(client, n).cloned(),
                _ => sample.pick(client, n).cloned(),
            };
            let request = match (op, picked) {
                (Op::CreateCluster, _) => http.post(format!("{base}/v1/clusters")).json(&json!({
                    "name": format!("sys-{client}-{}", n * slices as u64 + slice as u64),
                    "region": "nyc1",
                })),
                (Op::CreateDroplet, Some((id, _))) => {
                    http.post(format!("{base}/v1/droplets")).json(&json!({
                        "cluster_id": id, "name": "web", "region": "nyc1",
                        "size": "s-1vcpu-1gb", "image": "ubuntu-22-04-x64",
                    }))
                }
                (Op::GetCluster, Some((id, _))) => http.get(format!("{base}/v1/clusters/{id}")),
                (Op::ListFirstPage, _) => http.get(format!("{base}/v1/clusters?page_size=50")),
                (Op::Search, Some((_, name))) => http
                    .get(format!("{base}/v1/clusters"))
                    .query(&[("search", name)]),
                (_, None) => anyhow::bail!("no cluster to send {} to", op.name()),
            };
            let response = request.send().await.context(op.name())?;
            let status = response.status();
            let body = response.bytes().await?;
            answered(op, status, &body)
        })
    })
}

fn answered(op: Op, status: StatusCode, body: &[u8]) -> anyhow::Result<Outcome> {
    if status.is_success() {
        return Ok(Outcome::Done);
    }
    if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
        return Ok(Outcome::Refused);
    }
    let body: Value = serde_json::from_slice(body).unwrap_or_default();
    anyhow::bail!("{}: unexpected {status}: {body}", op.name())
}
