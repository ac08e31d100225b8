//! An event stored in an older schema version is read through the upcasters, on
//! PostgreSQL and SQLite, by loads and by bulk folds alike; without a step for it, loading
//! is an error, not a panic.

mod common;

use std::sync::Arc;

use chrono::Utc;
use engine::domain::upcast::Upcasters;
use engine::domain::Cluster;
use engine::fold::{load, load_with, FoldError, Loaded};
use engine::store::{AppendRequest, EventMetadata, EventStore, NewEvent, StreamWrite};
use serde_json::{json, Value};
use test_support::on_both_backends;
use uuid::Uuid;

const ID: &str = "cl_0123456789abcdef0123456789abcdef";

/// Version 0 of `cluster.created` called the name `title` and had no provider.
fn from_v0(mut data: Value) -> Value {
    if let Some(title) = data.as_object_mut().and_then(|m| m.remove("title")) {
        data["name"] = title;
    }
    data["provider"] = Value::Null;
    data
}

async fn old_event_is_upcast_on_read(store: Arc<dyn EventStore>) {
    let stored = NewEvent {
        id: Uuid::now_v7(),
        event_type: "cluster.created".into(),
        schema_version: 0,
        data: json!({ "id": ID, "title": "legacy", "region": "fra1" }),
        recorded_at: Utc::now(),
    };
    let request = AppendRequest {
        writes: vec![StreamWrite {
            aggregate_type: "cluster".into(),
            aggregate_id: ID.into(),
            expected_version: 0,
            events: vec![stored],
        }],
        metadata: EventMetadata::default(),
        idempotency: None,
    };
    store.append(request).await.unwrap();

    let upcasters = Upcasters::default().with_step("cluster.created", 0, from_v0);
    let cluster = load_with::<Cluster>(&*store, ID, None, &upcasters)
        .await
        .unwrap();
    assert_eq!(
        cluster.state.name.as_ref().map(|n| n.as_str()),
        Some("legacy")
    );
    assert_eq!(
        cluster.state.region.as_ref().map(|r| r.as_str()),
        Some("fra1")
    );
    assert_eq!(cluster.version, 1);
    // The stored event is untouched.
    let raw = store.read_stream("cluster", ID, None).await.unwrap();
    assert_eq!(
        (raw[0].schema_version, raw[0].data["title"].as_str()),
        (0, Some("legacy"))
    );

    // This build's standard registry has no step from version 0: a clear error.
    let error = load::<Cluster>(&*store, ID, None).await.unwrap_err();
    assert!(matches!(error, FoldError::Upcast(_)), "{error:?}");

    // A bulk fold reads the data as text and takes the same path for an older version.
    let page = store.read_for_folding(0, 10).await.unwrap();
    assert_eq!(page.len(), 1);
    let mut folded = Loaded::<Cluster>::default();
    folded.apply_folding_with(&upcasters, &page[0]).unwrap();
    assert_eq!(folded.state, cluster.state);
    assert_eq!(
        (folded.version, folded.last_position),
        (cluster.version, cluster.last_position)
    );
    let mut standard = Loaded::<Cluster>::default();
    let error = standard.apply_folding(&page[0]).unwrap_err();
    assert!(matches!(error, FoldError::Upcast(_)), "{error:?}");
}
on_both_backends!(upcasting, super::old_event_is_upcast_on_read);
