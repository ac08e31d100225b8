//! The live worker of one projection: follows the log into the live tables.

use std::sync::Arc;
use std::time::Duration;

use engine::store::EventStore;
use tokio::sync::watch;

use super::service::Entry;
use super::{error_chain, Applier};

pub struct Worker {
    pub store: Arc<dyn EventStore>,
    pub applier: Applier,
    pub entry: Arc<Entry>,
}

impl Worker {
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut head = self.store.watch_head();
        let mut failures = 0u32;
        while !*shutdown.borrow() {
            match self.step().await {
                Ok(0) => {
                    self.entry.set_status("running", None);
                    failures = 0;
                    tokio::select! {
                        _ = head.changed() => {}
                        _ = tokio::time::sleep(self.applier.options.poll_interval) => {}
                        _ = shutdown.changed() => {}
                    }
                }
                Ok(_) => failures = 0,
                Err(error) => {
                    failures += 1;
                    let name = self.entry.projection.name();
                    tracing::warn!(projection = name, error = %error_chain(&error), failures, "projection batch failed; retrying");
                    self.entry.set_status("retrying", Some(error_chain(&error)));
                    let pause = Duration::from_millis(100 * 2u64.pow(failures.min(6)));
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }
        }
        // Shutting down: the API has stopped taking commands; bring the read model up to
        // the head before stopping (the caller bounds how long this may take).
        while let Ok(applied) = self.step().await {
            if applied == 0 {
                break;
            }
        }
        self.entry.set_status("stopped", None);
    }

    /// Applies the next batch; returns how many events it read.
    async fn step(&self) -> Result<usize, crate::ProjectionError> {
        let from = *self.entry.position.borrow();
        let entry = Arc::clone(&self.entry);
        let retrying = move |error: String| entry.set_status("retrying", Some(error));
        let (read, position) = self
            .applier
            .step(
                &*self.store,
                from,
                self.applier.options.batch_size,
                &retrying,
            )
            .await?;
        if read > 0 {
            self.entry.advance(position);
            self.entry.set_status("running", None);
        }
        Ok(read)
    }
}
