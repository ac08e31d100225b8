//! `clustergenie bench jobs`: jobs per second through the job runtime.
//!
//! `--jobs` provision jobs (droplets created through the command service, spread over 20
//! clusters) are run by the runtime's worker pool (`--clients` workers, default first
//! value 4) with a zero-latency simulated provider, on a scratch PostgreSQL database and
//! on a temporary SQLite file. The floor, in the same run: the same number of no-op tasks
//! pushed through a plain tokio worker pool (a bounded channel and as many workers), which
//! is all scheduling costs. Printed: jobs/s of each, the ratio, and the events each job
//! wrote (job and droplet events, with the creation).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use engine::commands::{
    CommandContext, CommandService, CreateCluster, CreateDroplet, DropletInput,
};
use engine::executor::{Executor, ExecutorOptions};
use engine::provider::{Providers, SimSpeed};
use engine::store::{self, EventStore, TailedStore};
use tokio::sync::{mpsc, watch};

/// Clusters the droplets are spread over.
const CLUSTERS: usize = 20;

/// One run of the runtime.
struct Run {
    backend: &'static str,
    jobs: usize,
    took: Duration,
    events: i64,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.jobs as f64 / self.took.as_secs_f64()
    }
}

/// Measures on the scratch PostgreSQL database `url`, then on SQLite, then the floor.
pub async fn measure(url: String, jobs: usize, workers: usize) -> anyhow::Result<()> {
    println!("# bench jobs: {jobs} provision jobs, {workers} workers, zero-latency provider");
    let floor = plain_pool(jobs, workers).await;
    let postgres = through_runtime("postgres", &url, jobs, workers).await?;
    let dir = tempfile::tempdir().context("a temporary directory")?;
    let sqlite_url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let sqlite = through_runtime("sqlite", &sqlite_url, jobs, workers).await?;
    let floor_rate = jobs as f64 / floor.as_secs_f64();
    println!("| contender | jobs/s | vs plain pool | events per job |");
    println!("|---|---|---|---|");
    println!("| plain tokio pool (no-op tasks) | {floor_rate:.0} | 1.00x | 0 |");
    for run in [&postgres, &sqlite] {
        println!(
            "| runtime on {} | {:.1} | {:.5}x | {:.2} |",
            run.backend,
            run.per_second(),
            run.per_second() / floor_rate,
            run.events as f64 / run.jobs as f64,
        );
    }
    Ok(())
}

/// Creates the droplets (and their provision jobs) with no worker running, then starts
/// the pool and waits until every job has ended.
async fn through_runtime(
    backend: &'static str,
    url: &str,
    jobs: usize,
    workers: usize,
) -> anyhow::Result<Run> {
    let store = store::connect(url, 16).await?;
    store.migrate().await?;
    let store: Arc<dyn EventStore> = TailedStore::wrap(store).await?;
    let service = CommandService::new(Arc::clone(&store));
    let ctx = CommandContext::new("bench");
    let mut clusters = Vec::new();
    for i in 0..CLUSTERS {
        let command = CreateCluster::parse(&format!("bench-{i}"), "fra1", None)?;
        let created = service.execute(&ctx, &command).await?;
        clusters.push(created.fresh().context("a fresh cluster")?.id);
    }
    for i in 0..jobs {
        let input = DropletInput {
            cluster_id: &clusters[i % CLUSTERS],
            name: "node",
            region: "fra1",
            size: "s-1vcpu-1gb",
            image: "ubuntu-22-04-x64",
            provider: None,
        };
        let command = CreateDroplet::parse(input, ctx.trace_id())?;
        service.execute(&ctx, &command).await?;
    }
    let before = store.head().await?;
    let options = ExecutorOptions {
        workers,
        queue: jobs.max(1),
        sim_delay: Duration::ZERO,
        name: "bench".into(),
        ..ExecutorOptions::default()
    };
    let took = run_to_end(service, options, Duration::from_secs(600)).await?;
    // Each job's share: its creation events (droplet.requested, job.created, the
    // cluster's attachment) and what the runtime wrote.
    let events = store.head().await? - CLUSTERS as i64;
    println!(
        "runtime on {backend}: {jobs} jobs in {:.2} s ({} events written by the runtime)",
        took.as_secs_f64(),
        store.head().await? - before
    );
    Ok(Run {
        backend,
        jobs,
        took,
        events,
    })
}

/// `jobs` no-op tasks through a bounded channel and `workers` tokio workers.
async fn plain_pool(jobs: usize, workers: usize) -> Duration {
    let started = Instant::now();
    let (tx, rx) = mpsc::channel::<usize>(jobs.max(1));
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let (done_tx, mut done) = mpsc::unbounded_channel::<usize>();
    let handles: Vec<_> = (0..workers.max(1))
        .map(|_| {
            let rx = Arc::clone(&rx);
            let done_tx = done_tx.clone();
            tokio::spawn(async move {
                while let Some(job) = async { rx.lock().await.recv().await }.await {
                    let _ = done_tx.send(std::hint::black_box(job));
                }
            })
        })
        .collect();
    for job in 0..jobs {
        let _ = tx.send(job).await;
    }
    for _ in 0..jobs {
        let _ = done.recv().await;
    }
    let took = started.elapsed();
    drop(tx);
    futures::future::join_all(handles).await;
    took
}

/// Runs `service`'s unfinished jobs with a zero-latency provider until every one has ended
/// (at most `limit`), then stops the executor; answers how long they took.
pub(crate) async fn run_to_end(
    service: CommandService,
    options: ExecutorOptions,
    limit: Duration,
) -> anyhow::Result<Duration> {
    let (stop, shutdown) = watch::channel(false);
    let providers = Arc::new(Providers::new(SimSpeed::INSTANT, 42));
    let started = Instant::now();
    let (executor, handles) = Executor::start(service, providers, options, shutdown);
    let mut seen_work = false;
    loop {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let stats = executor.stats();
        let busy = stats.unfinished + stats.active_workers + stats.queue_length;
        seen_work |= busy > 0;
        if seen_work && busy == 0 {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < limit,
            "the jobs did not finish within {limit:?}"
        );
    }
    let took = started.elapsed();
    let _ = stop.send(true);
    futures::future::join_all(handles).await;
    Ok(took)
}
