//! Keeping [`Providers`] in step with the log: the `provider` events, so a provider
//! registered through any process is usable by every process, and the `droplet` events, so
//! each provider counts every droplet the log says it runs (see [`LiveDroplets`]), also
//! after a restart and those other processes created.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{LiveDroplets, Providers};
use crate::domain::{event_from_parts, DropletEvent, ProviderEvent};
use crate::store::{EventFilter, EventStore, RecordedEvent, StoreError};

/// How often the follower looks for events other processes appended.
const POLL: Duration = Duration::from_millis(500);

/// Events read per page.
const PAGE: i64 = 1000;

/// How far a registry has followed the log.
#[derive(Debug, Default)]
pub struct Synced {
    /// The position of the last `provider` event applied.
    pub providers: i64,
    /// The position of the last `droplet` event folded.
    pub droplets: i64,
    /// The live droplets folded so far.
    pub live: LiveDroplets,
}

/// Applies every `provider` event after `synced.providers`, then folds every `droplet` event
/// after `synced.droplets` into the providers (provider events first, so a droplet's
/// provider is known when it is adopted). An event that does not read is skipped with a
/// warning (it cannot have been appended through the command service).
pub async fn catch_up(
    store: &dyn EventStore,
    providers: &Providers,
    synced: &mut Synced,
) -> Result<(), StoreError> {
    synced.providers =
        read_after(
            store,
            "provider",
            synced.providers,
            |event| match event_from_parts::<ProviderEvent>(&event.event_type, event.data) {
                Ok(event) => providers.apply(event.spec().clone()),
                Err(error) => unreadable(event.position, &error),
            },
        )
        .await?;
    let live = &mut synced.live;
    synced.droplets = read_after(
        store,
        "droplet",
        synced.droplets,
        |event| match event_from_parts::<DropletEvent>(&event.event_type, event.data) {
            Ok(folded) => live.apply(providers, &event.aggregate_id, folded),
            Err(error) => unreadable(event.position, &error),
        },
    )
    .await?;
    Ok(())
}

/// Calls `each` with every event of `aggregate_type` after position `after`; answers the
/// position read up to: the last event's, or the head known before the last read (every
/// event up to it was visible to that read), so that the next call starts near the head
/// even when the type has no recent event.
async fn read_after(
    store: &dyn EventStore,
    aggregate_type: &str,
    mut after: i64,
    mut each: impl FnMut(RecordedEvent),
) -> Result<i64, StoreError> {
    let filter = EventFilter {
        aggregate_type: Some(aggregate_type.into()),
        ..Default::default()
    };
    loop {
        let seen = *store.watch_head().borrow();
        let batch = store.read_all(after, PAGE, &filter).await?;
        let Some(last) = batch.last() else {
            return Ok(after.max(seen));
        };
        after = last.position;
        batch.into_iter().for_each(&mut each);
    }
}

fn unreadable(position: i64, error: &serde_json::Error) {
    tracing::warn!(position, %error, "unreadable event skipped by the provider registry");
}

/// Follows the log from `synced` until `shutdown` turns true: catches up whenever this
/// process appends and every half second (for other processes' appends).
pub fn follow(
    store: Arc<dyn EventStore>,
    providers: Arc<Providers>,
    mut synced: Synced,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut head = store.watch_head();
        while !*shutdown.borrow() {
            if let Err(error) = catch_up(&*store, &providers, &mut synced).await {
                tracing::warn!(%error, "provider follower could not read the log");
            }
            tokio::select! {
                _ = head.changed() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => {}
            }
        }
    })
}
