//! The in-process cache within a size budget: many more records than the budget holds,
//! the held bytes stay within it, the least recently used records are dropped (a miss,
//! answered from SQL, never "not found"), recently read ones stay, and the folds of
//! records that were dropped stay right: an aggregate is refolded from the log when its
//! next event comes, and a dropped summary stays a miss instead of being rebuilt wrong.

use projections::cache::{record_bytes, Checkpoint, Record, Written};

use super::*;

/// A budget far below what the workloads write.
const BUDGET: usize = 64 * 1024;

/// Hits and misses seen while checking every entity.
#[derive(Debug, Default)]
struct Seen {
    hits: usize,
    misses: usize,
}

impl Seen {
    /// A lookup that is either a hit equal to `sql` or a miss, and `sql` exists.
    #[track_caller]
    fn check<T: PartialEq + std::fmt::Debug>(
        &mut self,
        lookup: Lookup<Option<T>>,
        sql: Option<T>,
        what: &str,
    ) {
        match lookup {
            Lookup::Hit(cached) => {
                assert_eq!(cached, sql, "{what}");
                self.hits += 1;
            }
            Lookup::Fallback(Fallback::Miss) => self.misses += 1,
            Lookup::Fallback(why) => panic!("{what}: expected a hit or a miss, got {why:?}"),
        }
    }
}

/// Waits until SQL and the cache reached the head, then checks every entity: each read
/// is a hit equal to SQL or a miss (SQL has it: a miss is not "not found"), every fold
/// held equals a fresh one, and the cache holds no more than its budget.
async fn assert_bounded(fx: &Fixture, reads: &CacheReads) -> Seen {
    let (_, at) = reach_head(fx, reads).await;
    let (store, cache) = (&*fx.store, reads.cache());
    let mut seen = Seen::default();
    for id in &fx.ids("rm_clusters").await {
        let sql = fx.read.cluster(id).await.expect("sql");
        seen.check(reads.cluster(id, at).await.expect("cache"), sql, id);
        let sql = fx.read.cluster_summary(id).await.expect("sql summary");
        seen.check(reads.summary(id, at).await.expect("cache"), sql, id);
        let fold = load::<Cluster>(store, id, None).await.expect("fold");
        assert_state_if_held(cache, Kind::Cluster, id, &fold).await;
    }
    for id in &fx.ids("rm_droplets").await {
        let sql = fx.read.droplet(id).await.expect("sql");
        assert!(sql.is_some(), "droplet {id} is in SQL");
        seen.check(reads.droplet(id, at).await.expect("cache"), sql, id);
        let fold = load::<Droplet>(store, id, None).await.expect("fold");
        assert_state_if_held(cache, Kind::Droplet, id, &fold).await;
    }
    for id in &fx.ids("rm_jobs").await {
        let sql = fx.read.job(id).await.expect("sql");
        assert!(sql.is_some(), "job {id} is in SQL");
        seen.check(reads.job(id, at).await.expect("cache"), sql, id);
        let fold = load::<Job>(store, id, None).await.expect("fold");
        assert_state_if_held(cache, Kind::Job, id, &fold).await;
    }
    let usage = cache.usage().expect("the in-process cache counts");
    assert!(usage.bytes <= BUDGET as u64, "{usage:?}");
    assert_eq!(usage.budget_bytes, BUDGET as u64);
    seen
}

/// Two mixed workloads far past the budget: the second one's events land on records the
/// first one's filling evicted, which must be refolded (or, for summaries, left misses)
/// without the cache ever being found inconsistent and healed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bounded_memory_cache_stays_within_budget_and_equals_sql() {
    let (store, db) = store_on(Backend::Sqlite).await;
    let fx = Fixture::new(store, db.url()).await;
    let cache = Arc::new(MemoryCache::with_budget(BUDGET));
    let handle = fx.runner(cache.clone());
    let reads = CacheReads::new(cache.clone(), handle.clone());
    let service = CommandService::new(Arc::clone(&fx.store));
    let mut known = Known::default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..40 {
        create_cluster(&service, &mut known, &mut rng).await;
    }
    workload(&service, &mut known, &mut rng, 250).await;
    let first = assert_bounded(&fx, &reads).await;
    assert!(first.hits > 0 && first.misses > 0, "{first:?}");
    let evicted = cache.usage().expect("usage").evictions;
    assert!(
        evicted > 100,
        "the workload overflows the budget: {evicted}"
    );

    workload(&service, &mut known, &mut rng, 300).await;
    let second = assert_bounded(&fx, &reads).await;
    assert!(second.hits > 0 && second.misses > 0, "{second:?}");
    assert_rich(&fx).await;
    let status = handle.status();
    assert_eq!(
        status.heals, 0,
        "evictions are not inconsistencies: {status:?}"
    );
    fx.stop.send(true).expect("stop");
}

/// Creates a cluster and waits until the cache reflects it.
async fn create_and_wait(fx: &Fixture, service: &CommandService, handle: &CacheHandle) {
    let mut known = Known::default();
    create_cluster(service, &mut known, &mut Rng(7)).await;
    let head = fx.store.head().await.expect("head");
    assert!(handle.wait_for(DEADLINE, caught_up(head)).await);
}

/// A droplet whose record was evicted while its cluster's summary was kept (read after
/// every write) is refolded from the log by its next event: the summary then counts the
/// droplet's new status, as SQL does, and the droplet's record equals a fresh fold.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_evicted_droplet_is_refolded_and_its_summary_stays_right() {
    let (store, db) = store_on(Backend::Sqlite).await;
    let fx = Fixture::new(store, db.url()).await;
    let cache = Arc::new(MemoryCache::with_budget(BUDGET));
    let handle = fx.runner(cache.clone());
    let reads = CacheReads::new(cache.clone(), handle.clone());
    let service = CommandService::new(Arc::clone(&fx.store));
    let ctx = CommandContext::new("cache-test");
    let work = WorkContext {
        worker: "cache-test".into(),
        sim_delay: Duration::ZERO,
        providers: Arc::new(Providers::new(SimSpeed::INSTANT, 3)),
        policies: Arc::new(Policies::default()),
    };
    let mut known = Known::default();
    create_cluster(&service, &mut known, &mut Rng(3)).await;
    let cluster = known.clusters[0].clone();
    let input = DropletInput {
        cluster_id: &cluster,
        name: "node",
        region: REGIONS[0],
        size: SIZES[0],
        image: "ubuntu-22-04-x64",
        provider: None,
    };
    let command = CreateDroplet::parse(input, ctx.trace_id()).expect("valid droplet");
    service.execute(&ctx, &command).await.expect("droplet");
    let droplet = command.id.to_string();
    run_job(&service, command.job_id.as_ref(), &work)
        .await
        .expect("provisioned");

    // Fill the cache many times over, reading the summary after each write.
    for _ in 0..120 {
        create_and_wait(&fx, &service, &handle).await;
        let seen = Bounds {
            min_position: 0,
            sql_position: handle.position(),
        };
        let summary = reads.summary(&cluster, seen).await.expect("cache");
        assert!(matches!(summary, Lookup::Hit(Some(_))), "{summary:?}");
    }
    let key = RecordKey::new(Kind::Droplet, droplet.clone());
    let held = cache
        .states(std::slice::from_ref(&key))
        .await
        .expect("states");
    assert_eq!(held, vec![None], "the droplet record was evicted");

    // Its next events (a power-off job) refold it.
    let off = ActOnDroplet::new(
        &droplet,
        DropletAction::Power(PowerAction::Off),
        ctx.trace_id(),
        None,
    );
    let reply = service.execute(&ctx, &off).await.expect("power off");
    let job = reply.fresh().expect("a new job").job.id;
    run_job(&service, &job, &work).await.expect("powered off");
    assert_bounded(&fx, &reads).await;
    let at = Bounds {
        min_position: fx.store.head().await.expect("head"),
        sql_position: fx.runtime.position(),
    };
    let summary = hit(reads.summary(&cluster, at).await.expect("cache"), "summary");
    let sql = fx
        .read
        .cluster_summary(&cluster)
        .await
        .expect("sql summary");
    assert_eq!(summary, sql);
    let by_status = &summary.expect("live").droplets_by_status;
    assert_eq!(by_status.get("off"), Some(&1), "{by_status:?}");
    let fold = load::<Droplet>(&*fx.store, &droplet, None)
        .await
        .expect("fold");
    assert_state(reads.cache(), Kind::Droplet, &droplet, &fold).await;
    assert_eq!(handle.status().heals, 0);
    fx.stop.send(true).expect("stop");
}

fn record(position: i64) -> Record {
    Record {
        position,
        view: format!("\"view {position}\""),
        state: "{}".into(),
    }
}

/// Without a runner: writes far past the budget keep the held bytes within it, a record
/// read between writes stays, the oldest are dropped and read as misses, and an evicted
/// key is not filled again by an older write.
#[tokio::test]
async fn the_least_recently_used_records_go_and_a_read_one_stays() {
    let cache = MemoryCache::with_budget(BUDGET);
    let checkpoint = cache.begin(&Checkpoint::fresh("log")).await.expect("begin");
    let key = |i: i64| RecordKey::new(Kind::Job, format!("job_{i:05}"));
    let kept = RecordKey::new(Kind::Cluster, "cl_kept");
    let write = |records: Vec<(RecordKey, Record)>, to: i64| {
        let (cache, epoch) = (&cache, checkpoint.epoch.clone());
        async move {
            cache
                .write(&epoch, &records, Some(to))
                .await
                .expect("write")
        }
    };
    assert_eq!(
        write(vec![(kept.clone(), record(1))], 1).await,
        Written::Applied
    );
    let per_record = record_bytes(&key(2), &record(2));
    let count = 4 * BUDGET / per_record;
    for i in 2..count as i64 {
        write(vec![(key(i), record(i))], i).await;
        let views = cache
            .views(std::slice::from_ref(&kept))
            .await
            .expect("views");
        assert!(
            views.views[0].is_some(),
            "the record read after every write stays"
        );
        let usage = cache.usage().expect("usage");
        assert!(usage.bytes <= BUDGET as u64, "{usage:?}");
    }
    let usage = cache.usage().expect("usage");
    assert!(usage.records < count as u64 / 2, "{usage:?}");
    assert!(usage.evictions > count as u64 / 2, "{usage:?}");
    let last = count as i64 - 1;
    let views = cache.views(&[key(2), key(last)]).await.expect("views");
    assert_eq!(views.views[0], None, "the oldest record was dropped");
    assert!(views.views[1].is_some(), "the newest record stays");
    // An older fold of an evicted key (another writer behind the checkpoint) is refused.
    write(vec![(key(2), record(3))], last).await;
    let views = cache.views(&[key(2)]).await.expect("views");
    assert_eq!(
        views.views[0], None,
        "an evicted key is not filled from an older fold"
    );
}
