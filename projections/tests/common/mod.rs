//! Shared set-up of the read-side tests: a fresh store and read-model database on SQLite or
//! PostgreSQL (a scratch database from `test_support`), a generator of mixed commands (with the job executor carrying jobs through
//! their lifecycle), and a snapshot of every read-model table.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use engine::commands::{
    ActOnDroplet, CancelJob, CommandContext, CommandService, CreateCluster, CreateDroplet,
    CreateJob, DeleteCluster, DropletAction, DropletInput, UpdateCluster,
};
use engine::domain::values::ProviderName;
use engine::domain::{PowerAction, Size};
use engine::executor::{Executor, ExecutorOptions};
use engine::store::EventStore;
use projections::replay;
use projections::{ProjectionRuntime, ReadDb, RuntimeOptions, Target};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use test_support::{Backend, ScratchDb};
use tokio::sync::watch;

/// A fresh event store and read-model database on one backend; the scratch database goes
/// with it. The projections' tests' [`test_support::Fixture`].
pub struct Stores {
    pub store: Arc<dyn EventStore>,
    pub db: ReadDb,
    pub url: String,
    scratch: ScratchDb,
}

impl test_support::Fixture for Stores {
    type Arg<'a> = &'a Stores;

    async fn open(backend: Backend) -> Self {
        let scratch = ScratchDb::new(backend).await;
        let url = scratch.url().to_owned();
        let store = engine::store::connect(&url, 8).await.unwrap();
        store.migrate().await.unwrap();
        let db = ReadDb::connect(&url, 8).await.unwrap();
        db.migrate().await.unwrap();
        Self {
            store,
            db,
            url,
            scratch,
        }
    }

    fn arg(&self) -> &Self {
        self
    }
}

/// What `test_support::on_both_backends!` opens for these tests.
pub type Fixture = Stores;

impl Stores {
    /// A projection runtime over all projections, started.
    pub async fn runtime(&self) -> Running {
        let runtime = Arc::new(ProjectionRuntime::new(
            Arc::clone(&self.store),
            self.db.clone(),
            projections::all(),
            RuntimeOptions {
                poll_interval: Duration::from_millis(50),
                ..RuntimeOptions::default()
            },
        ));
        let (stop, shutdown) = watch::channel(false);
        let tasks = runtime.start(shutdown).await.unwrap();
        Running {
            runtime,
            stop,
            tasks,
        }
    }
}

/// A started runtime and what stops it.
pub struct Running {
    pub runtime: Arc<ProjectionRuntime>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Waits until every projection reached the head.
    pub async fn catch_up(&self, store: &dyn EventStore) {
        let head = store.head().await.unwrap();
        self.runtime
            .wait_for(head, Duration::from_secs(120))
            .await
            .expect("projections catch up");
    }

    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            task.await.unwrap();
        }
    }
}

/// Waits (bounded) until the log's head has not moved for half a second: jobs started by
/// a generator may still be finishing after it returns.
pub async fn quiet(store: &dyn EventStore) -> i64 {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut last = store.head().await.unwrap();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = store.head().await.unwrap();
        if now == last {
            return now;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the log never went quiet"
        );
        last = now;
    }
}

/// Every read-model table, row by row, every column as text.
pub async fn snapshot(
    db: &ReadDb,
    target: &Target,
) -> BTreeMap<String, BTreeMap<String, Vec<Option<String>>>> {
    let mut all = BTreeMap::new();
    for projection in projections::all() {
        for table in projection.tables() {
            let rows = replay::rows(db, table, target).await.unwrap();
            all.insert(table.name.to_owned(), rows);
        }
    }
    all
}

/// Runs `tasks` clients issuing random commands (seeded) until the log holds at least
/// `events` events, with the job executor carrying the jobs they start.
pub async fn generate(store: &Arc<dyn EventStore>, events: i64, tasks: usize, seed: u64) {
    let service = CommandService::new(Arc::clone(store));
    let (stop, shutdown) = watch::channel(false);
    let options = ExecutorOptions {
        workers: 4,
        queue: 1_000,
        sim_delay: Duration::ZERO,
        name: "test".into(),
        ..ExecutorOptions::default()
    };
    let (_executor, handles) = Executor::start_instant(service.clone(), options, shutdown);
    let clients: Vec<_> = (0..tasks)
        .map(|task| {
            let service = service.clone();
            let store = Arc::clone(store);
            tokio::spawn(async move {
                let mut client = Client::new(seed + task as u64);
                while store.head().await.unwrap() < events {
                    for _ in 0..20 {
                        client.step(&service).await;
                    }
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    let _ = stop.send(true);
    for handle in handles {
        let _ = handle.await;
    }
}

/// One client's random walk over its own clusters and droplets.
struct Client {
    rng: StdRng,
    clusters: Vec<String>,
    droplets: Vec<String>,
    jobs: Vec<String>,
}

const SIZES: [&str; 3] = ["s-1vcpu-1gb", "s-2vcpu-2gb", "s-2vcpu-4gb"];

impl Client {
    fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            clusters: Vec::new(),
            droplets: Vec::new(),
            jobs: Vec::new(),
        }
    }

    fn pick(&mut self, of: &[String]) -> Option<String> {
        (!of.is_empty()).then(|| of[self.rng.gen_range(0..of.len())].clone())
    }

    /// One random command; domain refusals are part of the mix and ignored.
    async fn step(&mut self, service: &CommandService) {
        let ctx = CommandContext::new("generator");
        let roll = self.rng.gen_range(0..100);
        let cluster = self.pick(&self.clusters.clone());
        let droplet = self.pick(&self.droplets.clone());
        match (roll, cluster, droplet) {
            (0..=9, _, _) | (_, None, _) => {
                let name = format!("c-{}", self.rng.gen_range(0..1_000_000));
                let command = CreateCluster::parse(&name, "nyc1", None).unwrap();
                if let Ok(reply) = service.execute(&ctx, &command).await {
                    if let Some(view) = reply.fresh() {
                        self.clusters.push(view.id);
                    }
                }
            }
            (10..=24, Some(cluster), _) => {
                let name = format!("r-{}", self.rng.gen_range(0..1_000_000));
                let command = UpdateCluster::parse(&cluster, Some(&name), None, None).unwrap();
                let _ = service.execute(&ctx, &command).await;
            }
            (25..=59, Some(cluster), _) => {
                let size = SIZES[self.rng.gen_range(0..SIZES.len())];
                let input = DropletInput {
                    cluster_id: &cluster,
                    name: "web",
                    region: "nyc1",
                    size,
                    image: "ubuntu-22-04-x64",
                    provider: None,
                };
                let command = CreateDroplet::parse(input, ctx.trace_id()).unwrap();
                if let Ok(reply) = service.execute(&ctx, &command).await {
                    if let Some(created) = reply.fresh() {
                        self.droplets.push(created.droplet.id);
                    }
                }
            }
            (60..=79, _, Some(droplet)) => {
                let action = match self.rng.gen_range(0..5) {
                    0 => DropletAction::Resize(Size::parse(SIZES[2]).unwrap()),
                    1 => DropletAction::Power(PowerAction::Off),
                    2 => DropletAction::Power(PowerAction::On),
                    3 => DropletAction::Migrate(ProviderName::parse("nimbus").unwrap()),
                    _ => DropletAction::Destroy,
                };
                let command = ActOnDroplet::new(&droplet, action, ctx.trace_id(), None);
                let _ = service.execute(&ctx, &command).await;
            }
            (80..=91, Some(cluster), _) => {
                let kind = ["diagnose", "monitor", "scale_up"][self.rng.gen_range(0..3)];
                let command = CreateJob::parse(kind, &cluster, None, ctx.trace_id()).unwrap();
                if let Ok(reply) = service.execute(&ctx, &command).await {
                    if let Some(started) = reply.fresh() {
                        self.jobs.push(started.job.id);
                    }
                }
            }
            (92..=96, _, _) => {
                if let Some(job) = self.pick(&self.jobs.clone()) {
                    let cancel = CancelJob {
                        id: job,
                        reason: None,
                    };
                    let _ = service.execute(&ctx, &cancel).await;
                }
            }
            (_, Some(cluster), _) => {
                let delete = DeleteCluster {
                    id: cluster,
                    if_match: None,
                };
                let _ = service.execute(&ctx, &delete).await;
            }
        }
    }
}
