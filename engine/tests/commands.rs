//! The command service end to end (load, decide, append, conflict retry, idempotency,
//! `If-Match`), against PostgreSQL and SQLite, plus a property test of random command
//! sequences on SQLite that checks the domain invariants on the resulting log.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use engine::commands::{
    ActOnDroplet, CancelJob, CommandContext, CommandError, CommandService, CreateCluster,
    CreateDroplet, CreateJob, DeleteCluster, DropletAction, DropletInput, Reply, ReplyKind,
    UpdateCluster,
};
use engine::domain::{Cluster, ClusterId, Droplet, DropletId, Job, JobCommand, JobId, PowerAction};
use engine::domain::{Size, ValidationError};
use engine::executor::operations::Operations;
use engine::executor::steps::JobStep;
use engine::executor::work::{run_to_end as run_job, WorkContext};
use engine::fold::Loaded;
use engine::policies::Policies;
use engine::provider::{Providers, SimSpeed};
use engine::store::{EventFilter, EventStore, RecordedEvent};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{TestCaseError, TestRunner};
use serde_json::json;
use test_support::on_both_backends;
use tokio::sync::Barrier;

/// Concurrent client tasks in the concurrency tests.
const TASKS: usize = 32;
/// Commands per task.
const PER_TASK: usize = 50;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn ctx() -> CommandContext {
    CommandContext::new("tester")
}

/// The whole log, paged.
async fn read_log(store: &dyn EventStore) -> Vec<RecordedEvent> {
    let mut all: Vec<RecordedEvent> = Vec::new();
    loop {
        let after = all.last().map_or(0, |e| e.position);
        let page = store
            .read_all(after, 1000, &EventFilter::default())
            .await
            .expect("read the log");
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

type StreamKey = (String, String);

/// Checks the shape of the whole log: positions exactly 1..N, the head is N, every
/// stream's sequences are 1..k in position order and its hashes chain. Returns the log
/// grouped by stream.
async fn check_log(
    store: &dyn EventStore,
) -> (Vec<RecordedEvent>, BTreeMap<StreamKey, Vec<RecordedEvent>>) {
    let log = read_log(store).await;
    for (i, event) in log.iter().enumerate() {
        assert_eq!(
            event.position,
            i as i64 + 1,
            "gap or reordering at index {i}"
        );
    }
    assert_eq!(
        store.head().await.unwrap(),
        log.len() as i64,
        "head != last position"
    );
    let mut streams: BTreeMap<StreamKey, Vec<RecordedEvent>> = BTreeMap::new();
    for event in &log {
        let key = (event.aggregate_type.clone(), event.aggregate_id.clone());
        let stream = streams.entry(key).or_default();
        assert_eq!(
            event.sequence,
            stream.len() as i64 + 1,
            "stream {}/{} is not contiguous at position {}",
            event.aggregate_type,
            event.aggregate_id,
            event.position
        );
        let previous = stream.last().map_or("", |e| e.hash.as_str());
        assert_eq!(
            event.hash,
            engine::store::plan::chain_hash(previous, event),
            "hash chain broken at position {}",
            event.position
        );
        stream.push(event.clone());
    }
    (log, streams)
}

/// What an acknowledged command promised to be in the log.
#[derive(Debug, Clone)]
struct Ack {
    position: i64,
    aggregate_type: &'static str,
    aggregate_id: String,
    event_type: &'static str,
    /// The sequence the answer's `version` says the event has.
    version: u64,
    /// The name a rename set.
    name: String,
}

fn check_acks(log: &[RecordedEvent], acks: &[Ack]) {
    let mut seen = BTreeSet::new();
    for ack in acks {
        assert!(
            seen.insert(ack.position),
            "two commands acknowledged position {}",
            ack.position
        );
        let event = log
            .get(usize::try_from(ack.position - 1).unwrap())
            .unwrap_or_else(|| panic!("acknowledged position {} is not in the log", ack.position));
        assert_eq!(event.aggregate_type, ack.aggregate_type, "{ack:?}");
        assert_eq!(event.aggregate_id, ack.aggregate_id, "{ack:?}");
        assert_eq!(event.event_type, ack.event_type, "{ack:?}");
        assert_eq!(event.sequence as u64, ack.version, "{ack:?}");
        assert_eq!(event.data["name"], ack.name.as_str(), "{ack:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------

/// Runs `PER_TASK` renames of `cluster` from one task; returns the acknowledgements and the
/// number of commands given up with `Contention`.
async fn rename_many(
    service: CommandService,
    cluster: String,
    task: usize,
    start: Arc<Barrier>,
    count: usize,
) -> (Vec<Ack>, usize) {
    start.wait().await;
    let mut acks = Vec::new();
    let mut contention = 0;
    for i in 0..count {
        let name = format!("t{task}-n{i}");
        let command = UpdateCluster::parse(&cluster, Some(&name), None, None).unwrap();
        match service.execute(&ctx(), &command).await {
            Ok(Reply::Fresh {
                value,
                kind,
                position,
            }) => {
                assert_eq!(kind, ReplyKind::Done);
                assert_eq!(value.name, name);
                acks.push(Ack {
                    position,
                    aggregate_type: "cluster",
                    aggregate_id: cluster.clone(),
                    event_type: "cluster.renamed",
                    version: value.version,
                    name,
                });
            }
            Err(CommandError::Contention) => contention += 1,
            other => panic!("rename {name} failed: {other:?}"),
        }
    }
    (acks, contention)
}

async fn create_cluster(service: &CommandService, name: &str) -> (String, Ack) {
    let command = CreateCluster::parse(name, "nyc1", None).unwrap();
    let id = command.id.to_string();
    let reply = service.execute(&ctx(), &command).await.unwrap();
    let Reply::Fresh {
        value, position, ..
    } = reply
    else {
        panic!("expected a fresh reply");
    };
    let ack = Ack {
        position,
        aggregate_type: "cluster",
        aggregate_id: id.clone(),
        event_type: "cluster.created",
        version: value.version,
        name: name.to_owned(),
    };
    (id, ack)
}

/// 32 tasks x 50 renames of ONE cluster: every command appends (unique names), none is
/// lost, the log stays gap-free.
async fn one_aggregate_under_contention(store: Arc<dyn EventStore>) {
    let service = CommandService::new(Arc::clone(&store));
    let (cluster, created) = create_cluster(&service, "contended").await;
    let start = Arc::new(Barrier::new(TASKS));
    let began = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            tokio::spawn(rename_many(
                service.clone(),
                cluster.clone(),
                t,
                Arc::clone(&start),
                PER_TASK,
            ))
        })
        .collect();
    let mut acks = vec![created];
    let mut contention = 0;
    for task in tasks {
        let (a, c) = task.await.unwrap();
        acks.extend(a);
        contention += c;
    }
    let elapsed = began.elapsed();
    eprintln!(
        "[{}] one aggregate: {} commands, {} acknowledged, {} gave up (contention), {:.1?}",
        store.backend(),
        TASKS * PER_TASK,
        acks.len() - 1,
        contention,
        elapsed
    );
    let (log, streams) = check_log(&*store).await;
    check_acks(&log, &acks);
    let renames = log
        .iter()
        .filter(|e| e.event_type == "cluster.renamed")
        .count();
    assert_eq!(
        renames,
        acks.len() - 1,
        "renames in the log != acknowledged renames"
    );
    assert_eq!(renames + contention, TASKS * PER_TASK);
    // Retries queue per stream, so giving up is rare even on one hot aggregate.
    assert!(
        contention * 20 <= TASKS * PER_TASK,
        "{contention} of {} commands gave up",
        TASKS * PER_TASK
    );
    assert_eq!(log.len(), acks.len(), "an unacknowledged command appended");
    assert_eq!(streams.len(), 1);
    // The final fold is the last acknowledged rename.
    let folded = Loaded::<Cluster>::fold(&streams.values().next().unwrap()[..]).unwrap();
    let last = acks.iter().max_by_key(|a| a.position).unwrap();
    assert_eq!(folded.state.name.unwrap().as_str(), last.name);
}
on_both_backends!(one_aggregate, super::one_aggregate_under_contention);

/// 32 tasks, each creating its own cluster and renaming it 49 times.
async fn many_aggregates_concurrently(store: Arc<dyn EventStore>) {
    let service = CommandService::new(Arc::clone(&store));
    let start = Arc::new(Barrier::new(TASKS));
    let began = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let service = service.clone();
            let start = Arc::clone(&start);
            tokio::spawn(async move {
                let (cluster, created) = create_cluster(&service, &format!("own-{t}")).await;
                let (mut acks, contention) =
                    rename_many(service, cluster, t, start, PER_TASK - 1).await;
                acks.push(created);
                (acks, contention)
            })
        })
        .collect();
    let mut acks = Vec::new();
    for task in tasks {
        let (a, contention) = task.await.unwrap();
        assert_eq!(
            contention, 0,
            "no contention is possible on private aggregates"
        );
        acks.extend(a);
    }
    eprintln!(
        "[{}] many aggregates: {} commands acknowledged in {:.1?}",
        store.backend(),
        acks.len(),
        began.elapsed()
    );
    let (log, streams) = check_log(&*store).await;
    assert_eq!(log.len(), TASKS * PER_TASK);
    assert_eq!(acks.len(), TASKS * PER_TASK);
    check_acks(&log, &acks);
    assert_eq!(streams.len(), TASKS);
    for events in streams.values() {
        assert_eq!(events.len(), PER_TASK);
        assert_eq!(events[0].event_type, "cluster.created");
    }
}
on_both_backends!(many_aggregates, super::many_aggregates_concurrently);

// ---------------------------------------------------------------------------------------
// Idempotency and If-Match
// ---------------------------------------------------------------------------------------

async fn idempotency_through_the_service(store: Arc<dyn EventStore>) {
    let service = CommandService::new(Arc::clone(&store));
    let keyed = ctx().with_idempotency("key-1", "fingerprint-1");
    let create = || CreateCluster::parse("idem", "nyc1", None).unwrap();
    let Reply::Fresh {
        value,
        kind,
        position,
    } = service.execute(&keyed, &create()).await.unwrap()
    else {
        panic!("the first call must run");
    };
    assert_eq!((kind, position), (ReplyKind::Created, 1));
    // A retry is a new request object (a new cluster id), as a client retry would build.
    let again = service.execute(&keyed, &create()).await.unwrap();
    assert_eq!(
        again,
        Reply::Replayed {
            kind: ReplyKind::Created,
            body: serde_json::to_value(&value).unwrap(),
            position,
        }
    );
    assert_eq!(store.head().await.unwrap(), 1, "a replay appended");

    // Same key, other request.
    let other = ctx().with_idempotency("key-1", "fingerprint-2");
    let mismatch = service.execute(&other, &create()).await;
    assert!(
        matches!(&mismatch, Err(CommandError::IdempotencyMismatch(k)) if k == "key-1"),
        "{mismatch:?}"
    );
    let rename = UpdateCluster::parse(&value.id, Some("other"), None, None).unwrap();
    let mismatch = service.execute(&other, &rename).await;
    assert!(
        matches!(mismatch, Err(CommandError::IdempotencyMismatch(_))),
        "{mismatch:?}"
    );
    assert_eq!(store.head().await.unwrap(), 1, "a mismatch appended");

    // A droplet's replay names the same droplet and job.
    let droplet_ctx = ctx().with_idempotency("key-droplet", "fp");
    let droplet = |trace: String| {
        CreateDroplet::parse(
            DropletInput {
                cluster_id: &value.id,
                name: "web",
                region: "nyc1",
                size: "s-1vcpu-1gb",
                image: "ubuntu-22-04-x64",
                provider: None,
            },
            trace,
        )
        .unwrap()
    };
    let first = service
        .execute(&droplet_ctx, &droplet(droplet_ctx.trace_id()))
        .await
        .unwrap();
    let first_position = first.position();
    let first = first.fresh().expect("fresh");
    let replay = service
        .execute(&droplet_ctx, &droplet(droplet_ctx.trace_id()))
        .await
        .unwrap();
    let Reply::Replayed { body, position, .. } = replay else {
        panic!("expected a replay");
    };
    assert_eq!(position, first_position);
    assert_eq!(body["droplet"]["id"], first.droplet.id.as_str());
    assert_eq!(body["job"]["id"], first.job.id.as_str());
    assert_eq!(store.head().await.unwrap(), first_position);

    // Eight concurrent calls with one key and one request: exactly one append.
    let head = store.head().await.unwrap();
    let results = concurrently(8, |_| {
        let service = service.clone();
        async move {
            let ctx = ctx().with_idempotency("key-2", "fingerprint");
            service.execute(&ctx, &create()).await
        }
    })
    .await;
    let fresh: Vec<_> = results
        .iter()
        .filter(|r| matches!(r, Ok(Reply::Fresh { .. })))
        .collect();
    assert_eq!(fresh.len(), 1, "{results:?}");
    let winner = fresh[0].as_ref().unwrap();
    let Reply::Fresh {
        value: won,
        position: won_at,
        ..
    } = winner
    else {
        unreachable!()
    };
    for result in &results {
        match result {
            Ok(Reply::Fresh { .. }) => {}
            Ok(Reply::Replayed {
                kind,
                body,
                position,
            }) => {
                assert_eq!((*kind, *position), (ReplyKind::Created, *won_at));
                assert_eq!(body, &serde_json::to_value(won).unwrap());
            }
            Err(e) => panic!("a concurrent duplicate failed: {e:?}"),
        }
    }
    assert_eq!(store.head().await.unwrap(), head + 1);

    // Eight concurrent calls with one key and eight different requests: one runs, the
    // others are mismatches.
    let results = concurrently(8, |i| {
        let service = service.clone();
        async move {
            let ctx = ctx().with_idempotency("key-3", format!("fingerprint-{i}"));
            service.execute(&ctx, &create()).await
        }
    })
    .await;
    let fresh = results
        .iter()
        .filter(|r| matches!(r, Ok(Reply::Fresh { .. })))
        .count();
    let mismatches = results
        .iter()
        .filter(|r| matches!(r, Err(CommandError::IdempotencyMismatch(_))))
        .count();
    assert_eq!((fresh, mismatches), (1, 7), "{results:?}");
    assert_eq!(store.head().await.unwrap(), head + 2);

    let (log, _) = check_log(&*store).await;
    for key in ["key-1", "key-2", "key-3"] {
        let appended = log
            .iter()
            .filter(|e| e.metadata.idempotency_key.as_deref() == Some(key))
            .count();
        assert_eq!(appended, 1, "{key} appended {appended} events");
    }
}
on_both_backends!(idempotency, super::idempotency_through_the_service);

async fn if_match_through_the_service(store: Arc<dyn EventStore>) {
    let service = CommandService::new(Arc::clone(&store));
    let (cluster, _) = create_cluster(&service, "guarded").await;
    let update =
        |name: &str, if_match| UpdateCluster::parse(&cluster, Some(name), None, if_match).unwrap();
    let v2 = service
        .execute(&ctx(), &update("b", Some(1)))
        .await
        .unwrap();
    assert_eq!(v2.fresh().unwrap().version, 2);
    let head = store.head().await.unwrap();
    for stale in [Some(1), Some(0), Some(7)] {
        let result = service.execute(&ctx(), &update("c", stale)).await;
        assert!(
            matches!(result, Err(CommandError::PreconditionFailed { expected, actual: 2 }) if Some(expected) == stale),
            "{result:?}"
        );
    }
    let delete = DeleteCluster {
        id: cluster.clone(),
        if_match: Some(1),
    };
    let result = service.execute(&ctx(), &delete).await;
    assert!(
        matches!(result, Err(CommandError::PreconditionFailed { .. })),
        "{result:?}"
    );

    // On a droplet action, too.
    let droplet = droplet_in(&cluster, "db");
    let droplet_id = droplet.id.to_string();
    service.execute(&ctx(), &droplet).await.unwrap();
    let head_after_droplet = store.head().await.unwrap();
    assert_eq!(head_after_droplet, head + 3);
    let act = ActOnDroplet::new(
        &droplet_id,
        DropletAction::Destroy,
        ctx().trace_id(),
        Some(5),
    );
    let result = service.execute(&ctx(), &act).await;
    assert!(
        matches!(
            result,
            Err(CommandError::PreconditionFailed {
                expected: 5,
                actual: 1
            })
        ),
        "{result:?}"
    );
    assert_eq!(
        store.head().await.unwrap(),
        head_after_droplet,
        "a stale If-Match appended"
    );

    // Eight concurrent updates that all saw version 3: exactly one wins.
    let results = concurrently(8, |i| {
        let service = service.clone();
        let command =
            UpdateCluster::parse(&cluster, Some(&format!("race-{i}")), None, Some(3)).unwrap();
        async move { service.execute(&ctx(), &command).await }
    })
    .await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    let stale = results
        .iter()
        .filter(|r| {
            matches!(
                r,
                Err(CommandError::PreconditionFailed {
                    expected: 3,
                    actual: 4
                })
            )
        })
        .count();
    assert_eq!((won, stale), (1, 7), "{results:?}");
    let (log, _) = check_log(&*store).await;
    assert_eq!(log.len() as i64, head_after_droplet + 1);
}
on_both_backends!(if_match, super::if_match_through_the_service);

/// Regression: cancelling a droplet's job before a worker ran it used to leave the droplet
/// waiting on the cancelled job forever (busy: it could be neither destroyed nor its
/// cluster deleted). The cancellation now records the end of the request on the droplet.
async fn cancel_before_start_releases_the_droplet(store: Arc<dyn EventStore>) {
    let service = CommandService::new(Arc::clone(&store));
    let (cluster, _) = create_cluster(&service, "cancels").await;
    let create = droplet_in(&cluster, "web");
    let droplet_id = create.id.to_string();
    let job_id = create.job_id.to_string();
    service.execute(&ctx(), &create).await.unwrap();
    let cancel = CancelJob {
        id: job_id.clone(),
        reason: None,
    };
    let reply = service.execute(&ctx(), &cancel).await.unwrap();
    assert_eq!(reply.fresh().unwrap().status, "cancelled");
    let droplet = service.load::<Droplet>(&droplet_id).await.unwrap();
    assert_eq!(droplet.state.status.as_str(), "failed");
    assert_eq!(droplet.state.pending_job, None);
    let (log, _) = check_log(&*store).await;
    let last: Vec<_> = log
        .iter()
        .rev()
        .take(3)
        .map(|e| e.event_type.as_str())
        .collect();
    assert_eq!(
        last,
        [
            "job.cancelled",
            "job.cancel_requested",
            "droplet.provisioning_failed"
        ],
        "the droplet's end and the cancellation are one append"
    );
    assert_eq!(log[log.len() - 3].metadata, log[log.len() - 1].metadata);
    // The droplet can be destroyed now; cancelling that destroy before it runs frees the
    // droplet again (droplet.destroy_failed), so its cluster can still be cleaned up.
    let destroy = ActOnDroplet::new(&droplet_id, DropletAction::Destroy, ctx().trace_id(), None);
    let destroy_job = destroy.job_id.to_string();
    service.execute(&ctx(), &destroy).await.unwrap();
    let cancel = CancelJob {
        id: destroy_job,
        reason: None,
    };
    service.execute(&ctx(), &cancel).await.unwrap();
    let droplet = service.load::<Droplet>(&droplet_id).await.unwrap();
    assert_eq!(droplet.state.status.as_str(), "failed");
    assert_eq!(droplet.state.pending_job, None);
    let (log, _) = check_log(&*store).await;
    assert_eq!(log[log.len() - 3].event_type, "droplet.destroy_failed");
}
on_both_backends!(
    cancel_before_start,
    super::cancel_before_start_releases_the_droplet
);

/// A scale-down attempt repeated (its worker was lost after it started the destroy) finds
/// the destroy it started instead of destroying another droplet of the cluster.
async fn a_repeated_scale_down_removes_one_droplet(store: Arc<dyn EventStore>) {
    let service = CommandService::new(Arc::clone(&store));
    let (cluster, _) = create_cluster(&service, "shrinking").await;
    let work = WorkContext {
        worker: "scale-test".into(),
        sim_delay: Duration::ZERO,
        providers: Arc::new(Providers::new(SimSpeed::INSTANT, 1)),
        policies: Arc::new(Policies::default()),
    };
    for name in ["a", "b"] {
        let create = droplet_in(&cluster, name);
        let job_id = create.job_id.to_string();
        service.execute(&ctx(), &create).await.unwrap();
        run_job(&service, &job_id, &work).await.unwrap();
    }
    let scale_down = CreateJob::parse("scale_down", &cluster, None, ctx().trace_id()).unwrap();
    let job_id = scale_down.id.to_string();
    service.execute(&ctx(), &scale_down).await.unwrap();
    let job = service.load::<Job>(&job_id).await.unwrap().state;
    let operations = Operations {
        service: &service,
        providers: &work.providers,
        ctx: &ctx(),
        sim_delay: Duration::ZERO,
    };
    let first = operations.perform(&job).await.unwrap();
    let second = operations.perform(&job).await.unwrap();
    assert_eq!(first, second);
    let destroys = read_log(&*store)
        .await
        .into_iter()
        .filter(|e| e.event_type == "droplet.destroy_requested")
        .count();
    assert_eq!(destroys, 1);
}
on_both_backends!(
    repeated_scale_down,
    super::a_repeated_scale_down_removes_one_droplet
);

/// A droplet request in `cluster` (nyc1, the smallest size).
fn droplet_in(cluster: &str, name: &str) -> CreateDroplet {
    let input = DropletInput {
        cluster_id: cluster,
        name,
        region: "nyc1",
        size: "s-1vcpu-1gb",
        image: "ubuntu-22-04-x64",
        provider: None,
    };
    CreateDroplet::parse(input, ctx().trace_id()).unwrap()
}

/// Runs `n` futures at once (released together by a barrier) and collects their results.
async fn concurrently<F, Fut, T>(n: usize, make: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let barrier = Arc::clone(&barrier);
            let fut = make(i);
            tokio::spawn(async move {
                barrier.wait().await;
                fut.await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(n);
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

// ---------------------------------------------------------------------------------------
// Property test: random command sequences keep the domain invariants in the log
// ---------------------------------------------------------------------------------------

const REGIONS: [&str; 4] = ["nyc1", "lon1", "tor1", "sgp1"];
const PROVIDERS: [&str; 3] = ["simcloud", "nimbus", "stratus"];
const SIZES: [&str; 3] = ["s-1vcpu-1gb", "s-2vcpu-2gb", "c-2"];
const NAMES: [&str; 3] = ["alpha", "beta", "gamma"];
const CLUSTER_JOBS: [&str; 4] = ["scale_up", "scale_down", "diagnose", "monitor"];

/// An existing entity (chosen by index) or one that was never created.
#[derive(Debug, Clone)]
enum Pick {
    Existing(Index),
    Missing,
}

#[derive(Debug, Clone)]
enum Act {
    Destroy,
    Resize(usize),
    Power(PowerAction),
}

#[derive(Debug, Clone)]
enum Op {
    CreateCluster {
        region: usize,
        provider: Option<usize>,
    },
    Rename {
        cluster: Pick,
        name: usize,
    },
    Move {
        cluster: Pick,
        region: usize,
    },
    DeleteCluster {
        cluster: Pick,
    },
    CreateDroplet {
        cluster: Pick,
        region: usize,
        size: usize,
        provider: Option<usize>,
    },
    Act {
        droplet: Pick,
        act: Act,
    },
    CreateJob {
        cluster: Pick,
        job_type: usize,
        count: u64,
    },
    CancelJob {
        job: Pick,
    },
    /// A worker queues and starts the job, then dies (the job stays running).
    StartJob {
        job: Pick,
    },
    /// A worker carries the job to its end (recovering a lost attempt if need be).
    RunJob {
        job: Pick,
    },
    /// Every unfinished job is run to its end.
    RunAllJobs,
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![9 => any::<Index>().prop_map(Pick::Existing), 1 => Just(Pick::Missing)]
}

fn op() -> impl Strategy<Value = Op> {
    let region = 0..REGIONS.len();
    let provider = proptest::option::weighted(0.3, 0..PROVIDERS.len());
    prop_oneof![
        3 => (region.clone(), provider.clone())
            .prop_map(|(region, provider)| Op::CreateCluster { region, provider }),
        2 => (pick(), 0..NAMES.len()).prop_map(|(cluster, name)| Op::Rename { cluster, name }),
        1 => (pick(), region.clone()).prop_map(|(cluster, region)| Op::Move { cluster, region }),
        2 => pick().prop_map(|cluster| Op::DeleteCluster { cluster }),
        5 => (pick(), region, 0..SIZES.len(), provider).prop_map(|(cluster, region, size, provider)| {
            Op::CreateDroplet { cluster, region, size, provider }
        }),
        5 => (pick(), prop_oneof![
            Just(Act::Destroy),
            (0..SIZES.len()).prop_map(Act::Resize),
            prop::sample::select(PowerAction::ALL.to_vec()).prop_map(Act::Power),
        ]).prop_map(|(droplet, act)| Op::Act { droplet, act }),
        2 => (pick(), 0..CLUSTER_JOBS.len(), 1..3u64)
            .prop_map(|(cluster, job_type, count)| Op::CreateJob { cluster, job_type, count }),
        2 => pick().prop_map(|job| Op::CancelJob { job }),
        1 => pick().prop_map(|job| Op::StartJob { job }),
        4 => pick().prop_map(|job| Op::RunJob { job }),
        2 => Just(Op::RunAllJobs),
    ]
}

/// Ids seen in the log so far (the executor creates entities too).
#[derive(Default)]
struct Known {
    cursor: i64,
    clusters: Vec<String>,
    droplets: Vec<String>,
    jobs: Vec<String>,
}

impl Known {
    async fn refresh(&mut self, store: &dyn EventStore) {
        loop {
            let page = store
                .read_all(self.cursor, 1000, &EventFilter::default())
                .await
                .unwrap();
            let Some(last) = page.last() else { return };
            self.cursor = last.position;
            for e in &page {
                match e.event_type.as_str() {
                    "cluster.created" => self.clusters.push(e.aggregate_id.clone()),
                    "droplet.requested" => self.droplets.push(e.aggregate_id.clone()),
                    "job.created" => self.jobs.push(e.aggregate_id.clone()),
                    _ => {}
                }
            }
        }
    }
}

fn resolve(pick: &Pick, known: &[String], fresh: impl FnOnce() -> String) -> String {
    match pick {
        Pick::Existing(index) if !known.is_empty() => index.get(known).clone(),
        _ => fresh(),
    }
}

/// Accepted / rejected counts per operation, over all cases.
type Stats = Mutex<BTreeMap<&'static str, (usize, usize)>>;

fn outcome<T>(result: Result<Reply<T>, CommandError>) -> Result<i64, CommandError> {
    result.map(|reply| reply.position())
}

async fn run_case(ops: Vec<Op>, stats: &Stats) -> Result<(), String> {
    let (store, _dir) = common::sqlite_store().await;
    let service = CommandService::new(Arc::clone(&store));
    let work = WorkContext {
        worker: "prop-worker".into(),
        sim_delay: Duration::ZERO,
        providers: Arc::new(Providers::new(SimSpeed::INSTANT, 7)),
        policies: Arc::new(Policies::default()),
    };
    let mut known = Known::default();
    for (step, op) in ops.iter().enumerate() {
        known.refresh(&*store).await;
        let c = &ctx();
        let trace = c.trace_id();
        let cluster_of = |p: &Pick| resolve(p, &known.clusters, || ClusterId::new().to_string());
        let droplet_of = |p: &Pick| resolve(p, &known.droplets, || DropletId::new().to_string());
        let job_of = |p: &Pick| resolve(p, &known.jobs, || JobId::new().to_string());
        let before = store.head().await.map_err(|e| e.to_string())?;
        let (name, result): (&'static str, Result<i64, CommandError>) = match op {
            Op::CreateCluster { region, provider } => {
                let command =
                    CreateCluster::parse("alpha", REGIONS[*region], provider.map(|p| PROVIDERS[p]))
                        .map_err(|e| e.to_string())?;
                (
                    "create_cluster",
                    outcome(service.execute(c, &command).await),
                )
            }
            Op::Rename { cluster, name } => {
                let command =
                    UpdateCluster::parse(&cluster_of(cluster), Some(NAMES[*name]), None, None)
                        .map_err(|e| e.to_string())?;
                ("rename", outcome(service.execute(c, &command).await))
            }
            Op::Move { cluster, region } => {
                let command =
                    UpdateCluster::parse(&cluster_of(cluster), None, Some(REGIONS[*region]), None)
                        .map_err(|e| e.to_string())?;
                ("move", outcome(service.execute(c, &command).await))
            }
            Op::DeleteCluster { cluster } => {
                let command = DeleteCluster {
                    id: cluster_of(cluster),
                    if_match: None,
                };
                (
                    "delete_cluster",
                    outcome(service.execute(c, &command).await),
                )
            }
            Op::CreateDroplet {
                cluster,
                region,
                size,
                provider,
            } => {
                let cluster_id = cluster_of(cluster);
                let command = CreateDroplet::parse(
                    DropletInput {
                        cluster_id: &cluster_id,
                        name: "node",
                        region: REGIONS[*region],
                        size: SIZES[*size],
                        image: "ubuntu-22-04-x64",
                        provider: provider.map(|p| PROVIDERS[p]),
                    },
                    trace,
                )
                .map_err(|e| e.to_string())?;
                (
                    "create_droplet",
                    outcome(service.execute(c, &command).await),
                )
            }
            Op::Act { droplet, act } => {
                let (name, action) = match act {
                    Act::Destroy => ("destroy", DropletAction::Destroy),
                    Act::Resize(size) => (
                        "resize",
                        DropletAction::Resize(
                            Size::parse(SIZES[*size])
                                .map_err(|e: ValidationError| e.to_string())?,
                        ),
                    ),
                    Act::Power(action) => ("power", DropletAction::Power(*action)),
                };
                let command = ActOnDroplet::new(&droplet_of(droplet), action, trace, None);
                (name, outcome(service.execute(c, &command).await))
            }
            Op::CreateJob {
                cluster,
                job_type,
                count,
            } => {
                let command = CreateJob::parse(
                    CLUSTER_JOBS[*job_type],
                    &cluster_of(cluster),
                    Some(json!({ "count": count })),
                    trace,
                )
                .map_err(|e| e.to_string())?;
                ("create_job", outcome(service.execute(c, &command).await))
            }
            Op::CancelJob { job } => {
                let command = CancelJob {
                    id: job_of(job),
                    reason: Some("property test".into()),
                };
                ("cancel_job", outcome(service.execute(c, &command).await))
            }
            Op::StartJob { job } => {
                let job_id = job_of(job);
                let loaded = service
                    .load::<Job>(&job_id)
                    .await
                    .map_err(|e| e.to_string())?;
                let mut result = Ok(0);
                if loaded.state.status.as_str() == "pending" {
                    let queue = JobStep {
                        job_id: job_id.clone(),
                        command: JobCommand::QueueJob,
                    };
                    result = outcome(service.execute(c, &queue).await);
                }
                if result.is_ok() {
                    let start = JobStep {
                        job_id,
                        command: JobCommand::StartJob {
                            attempt: loaded.state.attempts + 1,
                            worker: "lost-worker".into(),
                        },
                    };
                    result = outcome(service.execute(c, &start).await);
                }
                ("start_job", result)
            }
            Op::RunJob { job } => {
                let job_id = job_of(job);
                run_job(&service, &job_id, &work)
                    .await
                    .map_err(|e| format!("step {step}: running job {job_id} failed: {e:?}"))?;
                continue;
            }
            Op::RunAllJobs => {
                for job_id in unfinished_jobs(&*store).await {
                    run_job(&service, &job_id, &work)
                        .await
                        .map_err(|e| format!("step {step}: running job {job_id} failed: {e:?}"))?;
                }
                continue;
            }
        };
        let after = store.head().await.map_err(|e| e.to_string())?;
        if let Ok(mut stats) = stats.lock() {
            let entry = stats.entry(name).or_default();
            if result.is_ok() {
                entry.0 += 1;
            } else {
                entry.1 += 1;
            }
        }
        match result {
            Err(error) if after != before => {
                return Err(format!(
                    "step {step} {op:?} was rejected ({error}) but appended {} event(s)",
                    after - before
                ))
            }
            Err(CommandError::Store(error)) => {
                return Err(format!("step {step} {op:?}: store failure {error:?}"))
            }
            Ok(position) if after > before && position != after => {
                return Err(format!(
                    "step {step} {op:?} answered position {position}, the log head is {after}"
                ))
            }
            _ => {}
        }
    }
    check_invariants(&*store).await
}

async fn unfinished_jobs(store: &dyn EventStore) -> Vec<String> {
    let mut jobs: BTreeMap<i64, String> = BTreeMap::new();
    let mut open: HashMap<String, i64> = HashMap::new();
    for e in read_log(store)
        .await
        .iter()
        .filter(|e| e.aggregate_type == "job")
    {
        match e.event_type.as_str() {
            "job.created" => {
                open.insert(e.aggregate_id.clone(), e.position);
            }
            t if TERMINAL.contains(&t.trim_start_matches("job.")) => {
                open.remove(&e.aggregate_id);
            }
            _ => {}
        }
    }
    jobs.extend(open.into_iter().map(|(id, at)| (at, id)));
    jobs.into_values().collect()
}

const TERMINAL: [&str; 4] = ["succeeded", "failed", "cancelled", "timed_out"];

#[derive(Default)]
struct ClusterModel {
    deleted: bool,
    attached: BTreeSet<String>,
}

/// The job status a job event may follow, and the status it leads to.
fn job_transition(
    from: Option<&str>,
    event: &str,
    cancel_requested: bool,
) -> Result<&'static str, String> {
    let from = from.unwrap_or("none");
    let open = ["pending", "queued", "running"];
    let to = match (from, event) {
        ("none", "job.created") => "pending",
        ("pending", "job.queued") => "queued",
        ("queued", "job.started") => "running",
        ("running", "job.progressed" | "job.heartbeat") => "running",
        ("running", "job.retry_scheduled") if !cancel_requested => "queued",
        ("running", "job.succeeded") => "succeeded",
        ("running", "job.timed_out") => "timed_out",
        (f, "job.failed") if open.contains(&f) => "failed",
        (f, "job.cancel_requested") if open.contains(&f) => match f {
            "pending" => "pending",
            "queued" => "queued",
            _ => "running",
        },
        (f, "job.cancelled") if open.contains(&f) && cancel_requested => "cancelled",
        _ => return Err(format!("job event {event} is not allowed in status {from}")),
    };
    Ok(to)
}

/// One pass over the log in position order, with a model of every aggregate.
async fn check_invariants(store: &dyn EventStore) -> Result<(), String> {
    let log = read_log(store).await;
    let mut clusters: HashMap<String, ClusterModel> = HashMap::new();
    let mut droplets: HashMap<String, (String, bool)> = HashMap::new();
    // id -> (status, cancel requested, type)
    let mut jobs: HashMap<String, (&'static str, bool, String)> = HashMap::new();
    let mut streams: HashMap<StreamKey, i64> = HashMap::new();
    for (i, e) in log.iter().enumerate() {
        let at = format!(
            "position {} ({} {})",
            e.position, e.event_type, e.aggregate_id
        );
        if e.position != i as i64 + 1 {
            return Err(format!("gap before {at}"));
        }
        let seq = streams
            .entry((e.aggregate_type.clone(), e.aggregate_id.clone()))
            .or_default();
        *seq += 1;
        if e.sequence != *seq {
            return Err(format!("stream not contiguous at {at}"));
        }
        let id = e.aggregate_id.clone();
        match e.aggregate_type.as_str() {
            "cluster" => {
                if e.event_type == "cluster.created" {
                    if clusters.contains_key(&id) {
                        return Err(format!("cluster created twice at {at}"));
                    }
                    clusters.insert(id.clone(), ClusterModel::default());
                    continue;
                }
                let cluster = clusters
                    .get_mut(&id)
                    .ok_or_else(|| format!("event on a cluster never created at {at}"))?;
                if cluster.deleted {
                    return Err(format!("event after cluster.deleted at {at}"));
                }
                let droplet = e.data["droplet_id"].as_str().unwrap_or_default().to_owned();
                match e.event_type.as_str() {
                    "cluster.droplet_attached" => {
                        let newly_attached = cluster.attached.insert(droplet);
                        if !newly_attached {
                            return Err(format!("droplet attached twice at {at}"));
                        }
                    }
                    "cluster.droplet_detached" => {
                        if !cluster.attached.remove(&droplet) {
                            return Err(format!(
                                "detached a droplet that was not attached at {at}"
                            ));
                        }
                        if droplets.get(&droplet).is_none_or(|d| !d.1) {
                            return Err(format!(
                                "detached a droplet that is not destroyed at {at}"
                            ));
                        }
                    }
                    "cluster.deleted" => {
                        if !cluster.attached.is_empty() {
                            return Err(format!(
                                "cluster deleted with {} attached droplet(s) at {at}",
                                cluster.attached.len()
                            ));
                        }
                        cluster.deleted = true;
                    }
                    _ => {}
                }
            }
            "droplet" => {
                if e.event_type == "droplet.requested" {
                    let cluster_id = e.data["cluster_id"].as_str().unwrap_or_default();
                    let cluster = clusters
                        .get(cluster_id)
                        .ok_or_else(|| format!("droplet requested in a missing cluster at {at}"))?;
                    if cluster.deleted {
                        return Err(format!("droplet requested in a deleted cluster at {at}"));
                    }
                    if !cluster.attached.contains(&id) {
                        return Err(format!("droplet requested without being attached at {at}"));
                    }
                    if droplets
                        .insert(id, (cluster_id.to_owned(), false))
                        .is_some()
                    {
                        return Err(format!("droplet requested twice at {at}"));
                    }
                    continue;
                }
                let droplet = droplets
                    .get_mut(&id)
                    .ok_or_else(|| format!("event on a droplet never requested at {at}"))?;
                if droplet.1 {
                    return Err(format!("event after droplet.destroyed at {at}"));
                }
                if e.event_type == "droplet.destroyed" {
                    droplet.1 = true;
                }
            }
            "job" => {
                let (from, cancel, job_type) = jobs.get(&id).map_or_else(
                    || {
                        (
                            None,
                            false,
                            e.data["job_type"].as_str().unwrap_or_default().to_owned(),
                        )
                    },
                    |(s, c, t)| (Some(*s), *c, t.clone()),
                );
                let to = job_transition(from, &e.event_type, cancel)
                    .map_err(|m| format!("{m} at {at}"))?;
                let cancel = cancel || e.event_type == "job.cancel_requested";
                jobs.insert(id, (to, cancel, job_type));
            }
            other => return Err(format!("unknown aggregate type {other} at {at}")),
        }
    }
    // Between commands, a cluster's attached droplets are exactly its live droplets.
    for (cluster_id, cluster) in &clusters {
        let live: BTreeSet<String> = droplets
            .iter()
            .filter(|(_, (c, destroyed))| c == cluster_id && !destroyed)
            .map(|(id, _)| id.clone())
            .collect();
        if live != cluster.attached {
            return Err(format!(
                "cluster {cluster_id} has attached {:?} but live droplets {live:?}",
                cluster.attached
            ));
        }
    }
    // The folds agree with the model, and every droplet's pending job exists.
    for (cluster_id, model) in &clusters {
        let folded = engine::fold::load::<Cluster>(store, cluster_id, None)
            .await
            .map_err(|e| e.to_string())?;
        let attached: BTreeSet<String> = folded
            .state
            .droplets
            .iter()
            .map(ToString::to_string)
            .collect();
        if folded.state.deleted != model.deleted || attached != model.attached {
            return Err(format!(
                "fold of cluster {cluster_id} disagrees with the model"
            ));
        }
    }
    for (droplet_id, (_, destroyed)) in &droplets {
        let folded = engine::fold::load::<Droplet>(store, droplet_id, None)
            .await
            .map_err(|e| e.to_string())?;
        if (folded.state.status.as_str() == "destroyed") != *destroyed {
            return Err(format!(
                "fold of droplet {droplet_id} disagrees with the model"
            ));
        }
        // A droplet never waits on a job that has finished: the job's end (success,
        // failure, cancellation before or while running) is recorded on the droplet with it.
        if let Some(job) = &folded.state.pending_job {
            let (status, _, job_type) = jobs.get(job.as_str()).ok_or_else(|| {
                format!("droplet {droplet_id} waits on job {job} that does not exist")
            })?;
            if TERMINAL.contains(status) {
                return Err(format!(
                    "droplet {droplet_id} is stuck: it waits on {job_type} job {job}, which is {status}"
                ));
            }
        }
    }
    Ok(())
}

#[test]
fn random_command_sequences_keep_the_invariants() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let stats: Stats = Mutex::default();
    // PROPTEST_CASES runs more cases (e.g. 500) when hunting.
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(16);
    let mut runner = TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let began = Instant::now();
    let result = runner.run(&prop::collection::vec(op(), 1..120), |ops| {
        runtime
            .block_on(run_case(ops, &stats))
            .map_err(TestCaseError::fail)
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    eprintln!(
        "property test: {cases} cases in {:.1?}; accepted/rejected per command: {:?}",
        began.elapsed(),
        stats.lock().unwrap()
    );
}

/// Sanity check of the transition table itself.
#[test]
fn job_transition_table() {
    assert_eq!(job_transition(None, "job.created", false), Ok("pending"));
    assert!(job_transition(Some("succeeded"), "job.failed", false).is_err());
    assert!(job_transition(Some("pending"), "job.cancelled", false).is_err());
    assert_eq!(
        job_transition(Some("pending"), "job.cancelled", true),
        Ok("cancelled")
    );
    assert!(job_transition(Some("running"), "job.retry_scheduled", true).is_err());
}

/// Two processes on one PostgreSQL database, each with its tail and its kept folds: a
/// command decided on a fold that the other process has made stale is guarded by the
/// stream's version, decided again on the stored state, and loses nothing; a load after
/// the other process's commit is known finds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_folds_never_lose_another_process_update() {
    let (pool, _db) = common::postgres_pool().await;
    let tailed = |store: Arc<dyn EventStore>| async move {
        let tail = engine::store::TailedStore::wrap(store).await.unwrap();
        CommandService::new(tail as Arc<dyn EventStore>)
    };
    let here_store = common::postgres_store(pool.clone()).await;
    let here = tailed(Arc::clone(&here_store)).await;
    let there = tailed(common::postgres_store(pool).await).await;
    let (cluster, _) = create_cluster(&here, "first").await;
    assert_eq!(here.load::<Cluster>(&cluster).await.unwrap().version, 1);
    // The other process renames it; this one has kept the fold at version 1.
    let rename = |name: &str| UpdateCluster::parse(&cluster, Some(name), None, None).unwrap();
    there.execute(&ctx(), &rename("second")).await.unwrap();
    // Renamed again here, from the stale fold: the append is refused, decided again.
    let reply = here.execute(&ctx(), &rename("third")).await.unwrap();
    assert_eq!(reply.fresh().unwrap().version, 3);
    let loaded = here.load::<Cluster>(&cluster).await.unwrap();
    assert_eq!(loaded.version, 3);
    assert_eq!(loaded.state.name.as_ref().unwrap().to_string(), "third");
    // The other process's next change reaches this one's loads once its commit is known.
    there.execute(&ctx(), &rename("fourth")).await.unwrap();
    let mut known = here_store.watch_head();
    tokio::time::timeout(Duration::from_secs(10), known.wait_for(|h| *h >= 4))
        .await
        .expect("the other process's commit is notified")
        .unwrap();
    let loaded = here.load::<Cluster>(&cluster).await.unwrap();
    assert_eq!(loaded.version, 4);
    assert_eq!(loaded.state.name.as_ref().unwrap().to_string(), "fourth");
}

/// Many droplets created at once in one cluster through a tailed store, each command with
/// its idempotency key: every one is accepted (conflicts on the cluster are decided again
/// on fresh state, never given up on).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_droplets_in_one_cluster_is_accepted() {
    let (store, _dir) = common::sqlite_store().await;
    let tail = engine::store::TailedStore::wrap(store).await.unwrap();
    let service = CommandService::new(tail as Arc<dyn EventStore>);
    let (cluster, _) = create_cluster(&service, "burst").await;
    let results = concurrently(150, |i| {
        let service = service.clone();
        let cluster = cluster.clone();
        async move {
            let mut ctx = ctx();
            ctx.idempotency = Some(engine::commands::Idempotency {
                key: format!("burst-{i}"),
                fingerprint: format!("f-{i}"),
            });
            service
                .execute(&ctx, &droplet_in(&cluster, &format!("b{i}")))
                .await
        }
    })
    .await;
    for result in results {
        result.expect("accepted");
    }
    assert_eq!(
        service.load::<Cluster>(&cluster).await.unwrap().version,
        151
    );
}
