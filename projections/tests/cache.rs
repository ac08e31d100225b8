//! The cache read models against the SQL read models and a fresh fold of the log: a few
//! hundred mixed commands, then the cache is flushed while commands keep coming, and it
//! must notice, heal from position 0 and converge again. In memory on SQLite, and in
//! Redis (`REDIS_URL`, default `redis://127.0.0.1:6379`, a random key prefix per test)
//! on SQLite and on PostgreSQL.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use engine::commands::{
    ActOnDroplet, CancelJob, CommandContext, CommandError, CommandService, CreateCluster,
    CreateDroplet, CreateJob, DeleteCluster, DropletAction, DropletInput, UpdateCluster,
};
use engine::domain::{Cluster, Droplet, Job, PowerAction, Size};
use engine::executor::work::{run_to_end as run_job, WorkContext};
use engine::fold::{load, Loaded, ReadForm};
use engine::policies::Policies;
use engine::provider::{Providers, SimSpeed};
use engine::store::EventStore;
use engine::views::{ClusterView, DropletView, JobView};
use projections::cache::{
    Bounds, CacheHandle, CacheReads, CacheRunner, CacheRunnerOptions, CacheState, CacheStatus,
    Fallback, Kind, Lookup, MemoryCache, ReadCache, RecordKey, RedisCache, RedisOptions,
};
use projections::{ProjectionRuntime, ReadDb, ReadModels, RuntimeOptions};
use serde::Serialize;
use serde_json::json;
use test_support::{Backend, ScratchDb};
use tokio::sync::watch;

#[path = "cache/bounded.rs"]
mod bounded;
#[path = "cache/generations.rs"]
mod generations;

/// How long any wait may take.
const DEADLINE: Duration = Duration::from_secs(60);

const REGIONS: [&str; 2] = ["nyc1", "lon1"];
const SIZES: [&str; 3] = ["s-1vcpu-1gb", "s-2vcpu-2gb", "c-2"];
const JOB_TYPES: [&str; 4] = ["scale_up", "scale_down", "diagnose", "monitor"];

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The ids the workload has created.
#[derive(Default, Clone)]
struct Known {
    clusters: Vec<String>,
    droplets: Vec<String>,
    jobs: Vec<String>,
}

/// What one command did: its outcome, or a domain rejection (expected, ignored).
fn accepted<T>(result: Result<T, CommandError>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(CommandError::Store(error)) => panic!("store failure: {error:?}"),
        Err(_) => None,
    }
}

fn pick<'a>(rng: &mut Rng, ids: &'a [String]) -> Option<&'a str> {
    (!ids.is_empty()).then(|| ids[rng.below(ids.len())].as_str())
}

/// Runs `count` mixed commands: clusters, droplets, droplet actions, jobs, cancels, job
/// runs (progress, success), renames and deletes.
async fn workload(service: &CommandService, known: &mut Known, rng: &mut Rng, count: usize) {
    let ctx = CommandContext::new("cache-test");
    let work = WorkContext {
        worker: "cache-test".into(),
        sim_delay: Duration::ZERO,
        providers: Arc::new(Providers::new(SimSpeed::INSTANT, 3)),
        policies: Arc::new(Policies::default()),
    };
    for _ in 0..count {
        let trace = ctx.trace_id();
        match rng.below(20) {
            0..=1 => create_cluster(service, known, rng).await,
            2..=6 => {
                let Some(cluster) = pick(rng, &known.clusters) else {
                    continue;
                };
                let input = DropletInput {
                    cluster_id: cluster,
                    name: "node",
                    region: REGIONS[rng.below(REGIONS.len())],
                    size: SIZES[rng.below(SIZES.len())],
                    image: "ubuntu-22-04-x64",
                    provider: None,
                };
                let command = CreateDroplet::parse(input, trace).expect("valid droplet");
                if accepted(service.execute(&ctx, &command).await).is_some() {
                    known.droplets.push(command.id.to_string());
                    known.jobs.push(command.job_id.to_string());
                }
            }
            7..=9 => {
                let Some(droplet) = pick(rng, &known.droplets) else {
                    continue;
                };
                let action = match rng.below(5) {
                    0 => DropletAction::Destroy,
                    1 => DropletAction::Power(PowerAction::Off),
                    2 => DropletAction::Power(PowerAction::On),
                    3 => DropletAction::Power(PowerAction::Restart),
                    _ => DropletAction::Resize(Size::parse("s-2vcpu-2gb").expect("size")),
                };
                let command = ActOnDroplet::new(droplet, action, trace, None);
                if let Some(reply) = accepted(service.execute(&ctx, &command).await) {
                    if let Some(started) = reply.fresh() {
                        known.jobs.push(started.job.id);
                    }
                }
            }
            10..=11 => {
                let Some(cluster) = pick(rng, &known.clusters) else {
                    continue;
                };
                let kind = JOB_TYPES[rng.below(JOB_TYPES.len())];
                let command = CreateJob::parse(kind, cluster, Some(json!({ "count": 1 })), trace)
                    .expect("valid job");
                if let Some(reply) = accepted(service.execute(&ctx, &command).await) {
                    if let Some(started) = reply.fresh() {
                        known.jobs.push(started.job.id);
                    }
                }
            }
            12 => {
                let Some(job) = pick(rng, &known.jobs) else {
                    continue;
                };
                let command = CancelJob {
                    id: job.to_owned(),
                    reason: Some("cache test".into()),
                };
                accepted(service.execute(&ctx, &command).await);
            }
            13..=16 => {
                let Some(job) = pick(rng, &known.jobs).map(str::to_owned) else {
                    continue;
                };
                accepted(run_job(service, &job, &work).await);
            }
            17..=18 => {
                let Some(cluster) = pick(rng, &known.clusters) else {
                    continue;
                };
                let name = format!("renamed-{}", rng.below(1000));
                let command =
                    UpdateCluster::parse(cluster, Some(&name), None, None).expect("valid rename");
                accepted(service.execute(&ctx, &command).await);
            }
            _ => {
                let Some(cluster) = pick(rng, &known.clusters) else {
                    continue;
                };
                let command = DeleteCluster {
                    id: cluster.to_owned(),
                    if_match: None,
                };
                accepted(service.execute(&ctx, &command).await);
            }
        }
    }
}

async fn create_cluster(service: &CommandService, known: &mut Known, rng: &mut Rng) {
    let ctx = CommandContext::new("cache-test");
    let name = format!("cluster-{}", rng.below(1000));
    let command =
        CreateCluster::parse(&name, REGIONS[rng.below(REGIONS.len())], None).expect("valid");
    if let Some(reply) = accepted(service.execute(&ctx, &command).await) {
        if let Some(cluster) = reply.fresh() {
            known.clusters.push(cluster.id);
        }
    }
}

/// A store and its read models, with the SQL projections running.
struct Fixture {
    store: Arc<dyn EventStore>,
    db: ReadDb,
    read: ReadModels,
    runtime: ProjectionRuntime,
    stop: watch::Sender<bool>,
}

impl Fixture {
    async fn new(store: Arc<dyn EventStore>, url: &str) -> Self {
        let db = ReadDb::connect(url, 4).await.expect("read db");
        db.migrate().await.expect("read-model migrations");
        let options = RuntimeOptions {
            poll_interval: Duration::from_millis(20),
            ..RuntimeOptions::default()
        };
        let runtime =
            ProjectionRuntime::new(Arc::clone(&store), db.clone(), projections::all(), options);
        let (stop, shutdown) = watch::channel(false);
        runtime.start(shutdown).await.expect("start projections");
        Self {
            store,
            read: ReadModels::new(db.clone()),
            db,
            runtime,
            stop,
        }
    }

    fn runner(&self, cache: Arc<dyn ReadCache>) -> CacheHandle {
        let options = CacheRunnerOptions {
            poll_interval: Duration::from_millis(20),
            retry_initial: Duration::from_millis(10),
            retry_max: Duration::from_millis(200),
            batch_size: 97,
        };
        let runner = CacheRunner::new(Arc::clone(&self.store), cache, options);
        let handle = runner.handle();
        runner.spawn(self.stop.subscribe());
        handle
    }

    async fn ids(&self, table: &str) -> Vec<String> {
        sqlx::query_scalar(&format!("SELECT id FROM {table} ORDER BY id"))
            .fetch_all(self.db.pool())
            .await
            .expect("ids")
    }
}

fn as_json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("json")
}

/// A view read from the cache, which must be there.
#[track_caller]
fn hit<T>(lookup: Lookup<T>, what: &str) -> T {
    match lookup {
        Lookup::Hit(value) => value,
        Lookup::Fallback(why) => panic!("{what}: expected a cache hit, got {why:?}"),
    }
}

/// Whether the cache is ready and at `head` or past it.
fn caught_up(head: i64) -> impl Fn(&CacheStatus) -> bool {
    move |s| s.state == CacheState::Ok && s.position >= head
}

/// Waits until SQL and the cache reached the log head; returns the head and the bounds of
/// a read that must see it.
async fn reach_head(fx: &Fixture, reads: &CacheReads) -> (i64, Bounds) {
    let head = fx.store.head().await.expect("head");
    fx.runtime
        .wait_for(head, DEADLINE)
        .await
        .expect("SQL read models reach the head");
    let handle = reads.handle();
    let reached = handle.wait_for(DEADLINE, caught_up(head)).await;
    assert!(reached, "the cache did not converge: {:?}", handle.status());
    let at = Bounds {
        min_position: head,
        sql_position: fx.runtime.position(),
    };
    assert!(at.sql_position >= head);
    (head, at)
}

/// Waits until SQL and the cache reached the head; then every cached view, summary and
/// fold equals the SQL row and a fresh fold of the log. Returns the head.
async fn assert_converged(fx: &Fixture, reads: &CacheReads) -> i64 {
    let (head, at) = reach_head(fx, reads).await;
    let store = &*fx.store;
    let clusters = fx.ids("rm_clusters").await;
    for id in &clusters {
        let fold = load::<Cluster>(store, id, None).await.expect("fold");
        let sql = fx.read.cluster(id).await.expect("sql");
        assert_eq!(
            sql,
            fold.state
                .is_live()
                .then(|| ClusterView::from_loaded(&fold))
        );
        let cached = hit(reads.cluster(id, at).await.expect("cache"), id);
        assert_eq!(cached, sql, "cluster {id}");
        let summary = hit(reads.summary(id, at).await.expect("cache"), id);
        let sql_summary = fx.read.cluster_summary(id).await.expect("sql summary");
        assert_eq!(summary, sql_summary, "summary of {id}");
        assert_state(reads.cache(), Kind::Cluster, id, &fold).await;
    }
    // Never ahead of SQL, never behind what was asked for.
    let cluster = &clusters[0];
    let position = load::<Cluster>(store, cluster, None)
        .await
        .expect("fold")
        .last_position;
    let before = Bounds {
        min_position: 0,
        sql_position: position - 1,
    };
    let ahead = reads.cluster(cluster, before).await.expect("cache");
    assert_eq!(ahead, Lookup::Fallback(Fallback::Ahead));
    let later = Bounds {
        min_position: head + 1,
        ..at
    };
    let behind = reads.cluster(cluster, later).await.expect("cache");
    assert_eq!(behind, Lookup::Fallback(Fallback::Behind));
    let missing = reads.job("job_unknown", at).await.expect("cache");
    assert_eq!(missing, Lookup::Fallback(Fallback::Miss));
    let droplets = fx.ids("rm_droplets").await;
    for id in &droplets {
        let fold = load::<Droplet>(store, id, None).await.expect("fold");
        let cluster_id = fold.state.cluster_id.as_ref().expect("cluster").to_string();
        let cluster = load::<Cluster>(store, &cluster_id, None)
            .await
            .expect("fold");
        let name = cluster.state.name.as_ref().map(ToString::to_string);
        let sql = fx.read.droplet(id).await.expect("sql");
        assert_eq!(sql, Some(DropletView::from_loaded(&fold, name)));
        let cached = hit(reads.droplet(id, at).await.expect("cache"), id);
        assert_eq!(cached, sql, "droplet {id}");
        assert_state(reads.cache(), Kind::Droplet, id, &fold).await;
    }
    let jobs = fx.ids("rm_jobs").await;
    for id in &jobs {
        let fold = load::<Job>(store, id, None).await.expect("fold");
        let sql = fx.read.job(id).await.expect("sql");
        assert_eq!(sql, Some(JobView::from_loaded(&fold)));
        let cached = hit(reads.job(id, at).await.expect("cache"), id);
        assert_eq!(cached, sql, "job {id}");
        assert_state(reads.cache(), Kind::Job, id, &fold).await;
    }
    head
}

/// The fold the cache keeps for a record equals a fresh fold, in its read form.
async fn assert_state<A: Serialize + serde::de::DeserializeOwned + Clone + ReadForm>(
    cache: &Arc<dyn ReadCache>,
    kind: Kind,
    id: &str,
    fold: &Loaded<A>,
) {
    let held = assert_state_if_held(cache, kind, id, fold).await;
    assert!(held, "no {kind:?} record for {id}");
}

/// The fold the cache keeps for a record, if it keeps one, equals a fresh fold in its read
/// form (a cluster's droplets counted); whether it keeps one.
async fn assert_state_if_held<A: Serialize + serde::de::DeserializeOwned + Clone + ReadForm>(
    cache: &Arc<dyn ReadCache>,
    kind: Kind,
    id: &str,
    fold: &Loaded<A>,
) -> bool {
    let held = cache.states(&[RecordKey::new(kind, id)]).await;
    let Some(stored) = held.expect("states").pop().flatten() else {
        return false;
    };
    let state: serde_json::Value = serde_json::from_str(&stored.state).expect("state json");
    let mut read_form = fold.clone();
    read_form.state.to_read_form();
    assert_eq!(state, as_json(&read_form), "{kind:?} {id}");
    assert_eq!(stored.position, fold.last_position, "{kind:?} {id}");
    true
}

/// Checks the workload made something worth comparing.
async fn assert_rich(fx: &Fixture) {
    let count = |sql: &'static str| async move {
        let n: i64 = sqlx::query_scalar(sql)
            .fetch_one(fx.db.pool())
            .await
            .expect("count");
        n
    };
    assert!(count("SELECT COUNT(*) FROM rm_clusters").await >= 5);
    assert!(count("SELECT COUNT(*) FROM rm_droplets").await >= 20);
    assert!(count("SELECT COUNT(*) FROM rm_droplets WHERE status = 'active'").await >= 1);
    assert!(count("SELECT COUNT(*) FROM rm_jobs WHERE status = 'succeeded'").await >= 5);
    assert!(count("SELECT COUNT(*) FROM rm_jobs WHERE status = 'cancelled'").await >= 1);
}

/// The scenario: fill, compare; flush while commands run, see the heal, compare again.
async fn scenario(fx: Fixture, cache: Arc<dyn ReadCache>, flush: impl Future<Output = ()>) {
    let handle = fx.runner(Arc::clone(&cache));
    let reads = CacheReads::new(Arc::clone(&cache), handle.clone());
    let service = CommandService::new(Arc::clone(&fx.store));
    let mut known = Known::default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..6 {
        create_cluster(&service, &mut known, &mut rng).await;
    }
    workload(&service, &mut known, &mut rng, 250).await;
    let first = assert_converged(&fx, &reads).await;
    assert!(
        first > 300,
        "the workload should log hundreds of events, got {first}"
    );
    assert_eq!(handle.status().heals, 0);

    // Flush while a second workload runs: the runner must notice and start over at 0.
    let background = {
        let service = service.clone();
        let mut known = known.clone();
        tokio::spawn(async move {
            let mut rng = Rng(0x2545_f491_4f6c_dd1d);
            workload(&service, &mut known, &mut rng, 200).await;
        })
    };
    let mut head = fx.store.watch_head();
    tokio::time::timeout(DEADLINE, head.wait_for(|h| *h >= first + 50))
        .await
        .expect("the second workload logs events")
        .expect("head watch");
    flush.await;
    let healed = handle.wait_for(DEADLINE, |s| s.heals >= 1).await;
    assert!(
        healed,
        "the runner did not notice the flush: {:?}",
        handle.status()
    );
    tokio::time::timeout(DEADLINE, background)
        .await
        .expect("the second workload finishes")
        .expect("the second workload");
    let second = assert_converged(&fx, &reads).await;
    assert!(second > first + 100, "{first} -> {second}");
    assert_rich(&fx).await;
    fx.stop.send(true).expect("stop");
}

// ---------------------------------------------------------------------------------------
// Backends
// ---------------------------------------------------------------------------------------

/// A fresh, migrated store on `backend`; keep the scratch database as long as the store.
async fn store_on(backend: Backend) -> (Arc<dyn EventStore>, ScratchDb) {
    let db = ScratchDb::new(backend).await;
    let store = engine::store::connect(db.url(), 4).await.expect("store");
    store.migrate().await.expect("migrate");
    (store, db)
}

/// A Redis cache under a prefix of its own.
fn redis_cache() -> Arc<RedisCache> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let options = RedisOptions {
        prefix: format!("cgtest:{}:", uuid::Uuid::new_v4().simple()),
        ..RedisOptions::default()
    };
    Arc::new(RedisCache::open(&url, options).expect("redis url"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_cache_equals_sql_and_heals_after_a_clear() {
    let (store, db) = store_on(Backend::Sqlite).await;
    let fx = Fixture::new(store, db.url()).await;
    let cache = Arc::new(MemoryCache::new());
    let clear = Arc::clone(&cache);
    scenario(fx, cache, async move {
        assert!(!clear.is_empty());
        clear.clear();
    })
    .await;
}

/// A cache left by another event log (a shared Redis and prefix, a recreated database)
/// is not read as this log's: the runner starts a generation of its own log and heals.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cache_of_another_log_is_healed_not_read() {
    let cache: Arc<dyn ReadCache> = Arc::new(MemoryCache::new());
    let (store_a, db_a) = store_on(Backend::Sqlite).await;
    let a = Fixture::new(store_a, db_a.url()).await;
    let handle_a = a.runner(Arc::clone(&cache));
    let reads_a = CacheReads::new(Arc::clone(&cache), handle_a.clone());
    let service = CommandService::new(Arc::clone(&a.store));
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut known = Known::default();
    for _ in 0..3 {
        create_cluster(&service, &mut known, &mut rng).await;
    }
    workload(&service, &mut known, &mut rng, 60).await;
    assert_converged(&a, &reads_a).await;
    a.stop.send(true).expect("stop");
    assert!(
        handle_a
            .wait_for(DEADLINE, |s| s.state == CacheState::Stopped)
            .await
    );
    let taken = reads_a
        .cluster(
            &known.clusters[0],
            Bounds {
                min_position: 0,
                sql_position: i64::MAX,
            },
        )
        .await
        .expect("cache");
    assert_eq!(taken, Lookup::Fallback(Fallback::NotReady));

    let (store_b, db_b) = store_on(Backend::Sqlite).await;
    let b = Fixture::new(store_b, db_b.url()).await;
    let service = CommandService::new(Arc::clone(&b.store));
    let mut known = Known::default();
    for _ in 0..3 {
        create_cluster(&service, &mut known, &mut rng).await;
    }
    workload(&service, &mut known, &mut rng, 60).await;
    let before = cache.checkpoint().await.expect("checkpoint").expect("some");
    let handle_b = b.runner(Arc::clone(&cache));
    let reads_b = CacheReads::new(Arc::clone(&cache), handle_b.clone());
    assert_converged(&b, &reads_b).await;
    let after = cache.checkpoint().await.expect("checkpoint").expect("some");
    let first = b
        .store
        .read_all(0, 1, &engine::store::EventFilter::default())
        .await
        .expect("first event");
    assert_eq!(after.log, first[0].id.to_string());
    assert_ne!(after.log, before.log);
    assert_ne!(after.epoch, before.epoch);
    b.stop.send(true).expect("stop");
}

/// [`scenario`] on a Redis cache of its own, whose keys are deleted afterwards (also when
/// the scenario fails).
async fn on_redis(fx: Fixture) {
    let cache = redis_cache();
    let flush = Arc::clone(&cache);
    let run = tokio::spawn(scenario(fx, cache.clone(), async move {
        assert!(flush.flush().await.expect("flush") > 0);
    }));
    let outcome = run.await;
    cache.flush().await.expect("delete the test's keys");
    if let Err(error) = outcome {
        if error.is_panic() {
            std::panic::resume_unwind(error.into_panic());
        }
        panic!("the scenario did not finish: {error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_cache_equals_sql_and_heals_after_a_flush_on_sqlite() {
    let (store, db) = store_on(Backend::Sqlite).await;
    on_redis(Fixture::new(store, db.url()).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_cache_equals_sql_and_heals_after_a_flush_on_postgres() {
    let (store, db) = store_on(Backend::Postgres).await;
    on_redis(Fixture::new(store, db.url()).await).await;
}
