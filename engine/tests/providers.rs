//! The provider configuration through the command service, and the registry following the
//! log: a provider registered by any process becomes usable by a registry that catches up
//! or follows, and every live droplet counts against its provider's capacity there. On
//! PostgreSQL and SQLite.

mod common;

use std::sync::Arc;
use std::time::Duration;

use engine::commands::{
    ActOnDroplet, CommandContext, CommandErrorKind, CommandService, CreateCluster, CreateDroplet,
    DropletAction, DropletInput, ProviderInput, RegisterProvider, Reply, ReplyKind,
};
use engine::domain::Latency;
use engine::executor::work::{run_to_end, WorkContext};
use engine::policies::Policies;
use engine::provider::{sync, Provider, Providers, SimSpeed};
use engine::store::{EventFilter, EventStore};
use test_support::{eventually, on_both_backends, DEADLINE};
use tokio::sync::watch;

fn input(capacity: u32) -> ProviderInput {
    ProviderInput {
        name: "edge".into(),
        display_name: Some("Edge".into()),
        regions: vec!["fra1".into(), "lon1".into()],
        sizes: Some(vec!["s-1vcpu-1gb".into()]),
        price_multiplier: Some(0.8),
        capacity_per_region: Some(capacity),
        latency: Some(Latency::default()),
    }
}

async fn register(service: &CommandService, capacity: u32) -> (ReplyKind, i64) {
    let command = RegisterProvider::parse(input(capacity)).expect("valid");
    match service
        .execute(&CommandContext::new("tester"), &command)
        .await
        .expect("registered")
    {
        Reply::Fresh { kind, position, .. } => (kind, position),
        Reply::Replayed { .. } => panic!("no idempotency key was sent"),
    }
}

async fn provider_event_types(store: &dyn EventStore) -> Vec<String> {
    let filter = EventFilter {
        aggregate_type: Some("provider".into()),
        ..Default::default()
    };
    let events = store.read_all(0, 100, &filter).await.expect("read");
    events.into_iter().map(|e| e.event_type).collect()
}

async fn registration_is_recorded_once_per_change(store: Arc<dyn EventStore>) {
    let service = CommandService::new(Arc::clone(&store));
    let (kind, first) = register(&service, 4).await;
    assert_eq!(kind, ReplyKind::Created);
    let (kind, same) = register(&service, 4).await;
    assert_eq!(
        (kind, same),
        (ReplyKind::Done, first),
        "the same configuration is a no-op"
    );
    let (kind, _) = register(&service, 9).await;
    assert_eq!(kind, ReplyKind::Done);
    assert_eq!(
        provider_event_types(&*store).await,
        ["provider.registered", "provider.updated"]
    );
    let invalid = RegisterProvider::parse(ProviderInput {
        regions: vec![],
        price_multiplier: Some(-1.0),
        ..input(4)
    })
    .expect_err("invalid");
    assert_eq!(invalid.kind(), CommandErrorKind::Invalid);
    let fields: Vec<&str> = invalid.fields().into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["regions", "price_multiplier"]);
}
on_both_backends!(
    registration_is_recorded,
    super::registration_is_recorded_once_per_change
);

async fn registries_catch_up_and_follow_the_log(store: Arc<dyn EventStore>) {
    let service = CommandService::new(Arc::clone(&store));
    let (_, position) = register(&service, 4).await;
    // A process starting now folds the log.
    let providers = Arc::new(Providers::new(SimSpeed::INSTANT, 1));
    assert!(providers.get("edge").is_err());
    let mut seen = sync::Synced::default();
    sync::catch_up(&*store, &providers, &mut seen)
        .await
        .expect("catch up");
    assert_eq!(seen.providers, position);
    let edge = providers.get("edge").expect("registered through the log");
    assert_eq!(edge.spec().capacity_per_region, 4);
    assert_eq!(
        edge.quote(&"fra1".parse().unwrap(), &"s-1vcpu-1gb".parse().unwrap())
            .expect("quote")
            .available,
        4
    );

    // A running process follows later registrations.
    let (stop, shutdown) = watch::channel(false);
    let follower = sync::follow(Arc::clone(&store), Arc::clone(&providers), seen, shutdown);
    register(&service, 9).await;
    eventually(
        DEADLINE,
        "the follower applies provider.updated",
        || async {
            providers
                .get("edge")
                .expect("edge")
                .spec()
                .capacity_per_region
                == 9
        },
    )
    .await;
    stop.send(true).expect("stop");
    follower.await.expect("follower ends");
}
on_both_backends!(
    registries_follow_the_log,
    super::registries_catch_up_and_follow_the_log
);

fn system() -> CommandContext {
    CommandContext::new("tester")
}

/// Waits until `providers` counts `live` droplets at simcloud.
async fn wait_for_live(providers: &Providers, live: usize) {
    let what = format!("the registry counts {live} live droplet(s)");
    eventually(DEADLINE, what, || async {
        let counted = providers
            .get("simcloud")
            .expect("simcloud")
            .usage()
            .live_instances;
        if counted == live {
            Ok(())
        } else {
            Err(format!("{counted} counted"))
        }
    })
    .await;
}

async fn registries_count_the_droplets_the_log_says_are_live(store: Arc<dyn EventStore>) {
    let service = CommandService::new(Arc::clone(&store));
    // One process runs the jobs; another only follows the log.
    let work = WorkContext {
        worker: "runner".into(),
        sim_delay: Duration::ZERO,
        providers: Arc::new(Providers::new(SimSpeed::INSTANT, 1)),
        policies: Arc::new(Policies::default()),
    };
    let follower_registry = Arc::new(Providers::new(SimSpeed::INSTANT, 1));
    let (stop, shutdown) = watch::channel(false);
    let follower = sync::follow(
        Arc::clone(&store),
        Arc::clone(&follower_registry),
        sync::Synced::default(),
        shutdown,
    );
    let cluster = CreateCluster::parse("counted", "nyc1", None).unwrap();
    service.execute(&system(), &cluster).await.unwrap();
    let input = DropletInput {
        cluster_id: cluster.id.as_str(),
        name: "counted-1",
        region: "nyc1",
        size: "s-1vcpu-1gb",
        image: "ubuntu-22-04-x64",
        provider: None,
    };
    let create = CreateDroplet::parse(input, system().trace_id()).unwrap();
    service.execute(&system(), &create).await.unwrap();
    run_to_end(&service, create.job_id.as_str(), &work)
        .await
        .unwrap();
    wait_for_live(&follower_registry, 1).await;
    let nyc1 = "nyc1".parse().unwrap();
    let size = "s-1vcpu-1gb".parse().unwrap();
    let simcloud = follower_registry.get("simcloud").unwrap();
    assert_eq!(simcloud.quote(&nyc1, &size).unwrap().available, 49);

    // A process starting now counts it too.
    let restarted = Providers::new(SimSpeed::INSTANT, 1);
    let mut synced = sync::Synced::default();
    sync::catch_up(&*store, &restarted, &mut synced)
        .await
        .unwrap();
    assert_eq!(synced.live.running(), 1);
    wait_for_live(&restarted, 1).await;

    // Its destroy frees the slot everywhere.
    let destroy = ActOnDroplet::new(
        create.id.as_str(),
        DropletAction::Destroy,
        system().trace_id(),
        None,
    );
    service.execute(&system(), &destroy).await.unwrap();
    run_to_end(&service, destroy.job_id.as_str(), &work)
        .await
        .unwrap();
    wait_for_live(&follower_registry, 0).await;
    sync::catch_up(&*store, &restarted, &mut synced)
        .await
        .unwrap();
    assert_eq!(synced.live.running(), 0);
    wait_for_live(&restarted, 0).await;
    stop.send(true).expect("stop");
    follower.await.expect("follower ends");
}
on_both_backends!(
    live_droplets_are_counted,
    super::registries_count_the_droplets_the_log_says_are_live
);
