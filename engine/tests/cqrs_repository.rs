//! cqrs-es's `CqrsFramework` running on our event store through `StoreRepository`.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use cqrs_es::persist::{
    PersistedEventRepository, PersistedEventStore, PersistenceError, SerializedEvent,
};
use cqrs_es::CqrsFramework;
use engine::domain::{Cluster, ClusterCommand, ClusterId, ClusterName, Region};
use engine::store::{EventFilter, EventStore, StoreRepository};
use serde_json::json;
use test_support::on_both_backends;

async fn framework_appends_to_the_log(store: Arc<dyn EventStore>) {
    let repo = StoreRepository::new(Arc::clone(&store));
    let store_of_cqrs = PersistedEventStore::<_, Cluster>::new_event_store(repo.clone());
    let cqrs = CqrsFramework::new(store_of_cqrs, vec![], ());
    let id = ClusterId::new();
    let metadata = HashMap::from([("actor".to_owned(), "cqrs".to_owned())]);
    cqrs.execute_with_metadata(
        id.as_str(),
        ClusterCommand::CreateCluster {
            id: id.clone(),
            name: ClusterName::parse("alpha").unwrap(),
            region: Region::parse("nyc1").unwrap(),
            provider: None,
        },
        metadata.clone(),
    )
    .await
    .unwrap();
    // A second command loads the aggregate back through the repository.
    let rename = ClusterCommand::RenameCluster {
        name: ClusterName::parse("beta").unwrap(),
    };
    cqrs.execute_with_metadata(id.as_str(), rename.clone(), metadata)
        .await
        .unwrap();
    // Renaming to the current name decides nothing: the loaded state knows the new name.
    cqrs.execute(id.as_str(), rename).await.unwrap();

    let log = store
        .read_all(0, 100, &EventFilter::default())
        .await
        .unwrap();
    let summary: Vec<_> = log
        .iter()
        .map(|e| (e.position, e.sequence, e.event_type.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![(1, 1, "cluster.created"), (2, 2, "cluster.renamed")]
    );
    assert_eq!(log[1].data, json!({ "name": "beta" }));
    assert_eq!(log[0].metadata.actor, "cqrs");
    assert_eq!(
        log[1].hash,
        engine::store::plan::chain_hash(&log[0].hash, &log[1])
    );

    // The repository reads back what cqrs-es expects, and refuses a stale sequence.
    let events = repo.get_events::<Cluster>(id.as_str()).await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[1].payload,
        json!({ "type": "cluster.renamed", "data": { "name": "beta" } })
    );
    let stale = SerializedEvent {
        sequence: 2,
        ..events[1].clone()
    };
    let refused = repo.persist::<Cluster>(&[stale], None).await.unwrap_err();
    assert!(
        matches!(refused, PersistenceError::OptimisticLockError),
        "{refused:?}"
    );
    assert_eq!(
        repo.get_last_events::<Cluster>(id.as_str(), 1)
            .await
            .unwrap()
            .len(),
        1
    );
}
on_both_backends!(cqrs_framework, super::framework_appends_to_the_log);
