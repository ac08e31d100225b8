//! Snapshots every N events: loading from a snapshot gives exactly the full fold, loading
//! really starts from the snapshot, time travel before the snapshot still folds from the
//! start, and a snapshot that no longer reads is ignored. On PostgreSQL and SQLite.

mod common;

use std::sync::Arc;

use engine::commands::{CommandContext, CommandService, CreateCluster, UpdateCluster};
use engine::domain::Cluster;
use engine::fold::{load, Loaded};
use engine::store::{EventStore, Snapshot};
use test_support::on_both_backends;

fn same(a: &Loaded<Cluster>, b: &Loaded<Cluster>) {
    assert_eq!(
        serde_json::to_value(a).unwrap(),
        serde_json::to_value(b).unwrap()
    );
}

async fn snapshots_do_not_change_what_loads(store: Arc<dyn EventStore>) {
    let service = CommandService::new(Arc::clone(&store)).with_snapshot_every(100);
    let ctx = CommandContext::new("tester");
    let create = CreateCluster::parse("snap", "sgp1", None).unwrap();
    let id = service
        .execute(&ctx, &create)
        .await
        .unwrap()
        .fresh()
        .unwrap()
        .id;
    for n in 1..250 {
        let rename = UpdateCluster::parse(&id, Some(&format!("n{n}")), None, None).unwrap();
        service.execute(&ctx, &rename).await.unwrap();
    }
    let snapshot = store
        .load_snapshot("cluster", &id)
        .await
        .unwrap()
        .expect("a snapshot");
    assert_eq!(snapshot.version, 200);

    let events = store.read_stream("cluster", &id, None).await.unwrap();
    assert_eq!(events.len(), 250);
    let full = Loaded::<Cluster>::fold(&events).unwrap();
    let loaded = load::<Cluster>(&*store, &id, None).await.unwrap();
    same(&loaded, &full);
    assert_eq!(loaded.state.name.as_ref().map(|n| n.as_str()), Some("n249"));

    // Time travel to before the snapshot folds from the start.
    let past = load::<Cluster>(&*store, &id, Some(events[149].position))
        .await
        .unwrap();
    same(&past, &Loaded::<Cluster>::fold(&events[..150]).unwrap());
    assert_eq!(past.version, 150);

    // Loading really starts from the snapshot: a doctored snapshot at the head is taken as
    // it is, with no event after it to fold.
    let mut doctored = serde_json::to_value(&full).unwrap();
    doctored["state"]["region"] = "lon1".into();
    let head = events[249].position;
    let marked = Snapshot {
        version: 250,
        position: head,
        state: doctored.to_string(),
        ..snapshot.clone()
    };
    store.save_snapshot(&marked).await.unwrap();
    let from_snapshot = load::<Cluster>(&*store, &id, None).await.unwrap();
    assert_eq!(
        from_snapshot.state.region.as_ref().map(|r| r.as_str()),
        Some("lon1")
    );

    // A snapshot that no longer reads (the state's shape changed) is ignored. (Snapshot
    // versions only move forward, so this one claims a later version than the stream's.)
    let bogus = Snapshot {
        version: 251,
        position: head,
        state: r#"{"bogus":1}"#.into(),
        ..snapshot
    };
    store.save_snapshot(&bogus).await.unwrap();
    assert_eq!(
        store
            .load_snapshot("cluster", &id)
            .await
            .unwrap()
            .unwrap()
            .version,
        251
    );
    same(&load::<Cluster>(&*store, &id, None).await.unwrap(), &full);
}
on_both_backends!(snapshots, super::snapshots_do_not_change_what_loads);
