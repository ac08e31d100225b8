//! Keeping [`Providers`] in step with the `provider` events of the log, so a provider
//! registered through any process is usable by every process.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Providers;
use crate::domain::{event_from_parts, ProviderEvent};
use crate::store::{EventFilter, EventStore, StoreError};

/// How often the follower looks for events other processes appended.
const POLL: Duration = Duration::from_millis(500);

/// Applies every `provider` event after position `after` to `providers`; returns the
/// position of the last one (or `after`). An event that does not read is skipped with a
/// warning (it cannot have been appended through the command service).
pub async fn catch_up(
    store: &dyn EventStore,
    providers: &Providers,
    mut after: i64,
) -> Result<i64, StoreError> {
    let filter = EventFilter {
        aggregate_type: Some("provider".into()),
        ..Default::default()
    };
    loop {
        let batch = store.read_all(after, 500, &filter).await?;
        let Some(last) = batch.last() else {
            return Ok(after);
        };
        after = last.position;
        for event in batch {
            match event_from_parts::<ProviderEvent>(&event.event_type, event.data) {
                Ok(event) => providers.apply(event.spec().clone()),
                Err(error) => tracing::warn!(
                    position = event.position, %error, "unreadable provider event skipped"
                ),
            }
        }
    }
}

/// Follows the log after `after` until `shutdown` turns true: catches up whenever this
/// process appends and every half second (for other processes' appends).
pub fn follow(
    store: Arc<dyn EventStore>,
    providers: Arc<Providers>,
    mut after: i64,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut head = store.watch_head();
        while !*shutdown.borrow() {
            match catch_up(&*store, &providers, after).await {
                Ok(position) => after = position,
                Err(error) => tracing::warn!(%error, "provider follower could not read the log"),
            }
            tokio::select! {
                _ = head.changed() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => {}
            }
        }
    })
}
