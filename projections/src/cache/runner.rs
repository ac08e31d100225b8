//! The cache runner: a task that tails the event log into a [`ReadCache`].
//!
//! Each step reads the cache's own checkpoint first. If it is missing (Redis flushed or
//! restarted empty), the runner opens a new generation at position 0 and heals the cache
//! from the whole log; if it belongs to another generation or went back, the runner
//! follows it; if it follows another event log (a Redis and key prefix shared by two
//! deployments, or a database recreated under a kept Redis), the runner starts a
//! generation of its own log (and warns). It then folds the next batch (see [`super::fold`]) and writes it with the
//! new checkpoint, guarded by the generation. It wakes on the store's head watch or
//! every `poll_interval`, so an idle runner still notices a flush.
//!
//! [`CacheHandle::ready`] is true only while the cache answers and has caught up with the
//! log head at least once since the runner (re)started, healed or recovered from an
//! error. On an error the runner is not ready, backs off and retries. Several processes
//! may run a runner against one Redis: writes are idempotent and never go backwards.

use std::sync::Arc;
use std::time::Duration;

use engine::store::{EventFilter, EventStore};
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::backend::{Checkpoint, ReadCache, Written};
use super::error::error_chain;
use super::fold::fold_batch;
use super::CacheError;

/// Tuning of the runner.
#[derive(Debug, Clone)]
pub struct CacheRunnerOptions {
    pub batch_size: i64,
    /// How often to look at the log and the cache when nothing wakes the runner.
    pub poll_interval: Duration,
    /// Pause after the first error; doubles up to `retry_max`.
    pub retry_initial: Duration,
    pub retry_max: Duration,
}

impl Default for CacheRunnerOptions {
    fn default() -> Self {
        Self {
            batch_size: 500,
            poll_interval: Duration::from_millis(500),
            retry_initial: Duration::from_millis(100),
            retry_max: Duration::from_secs(5),
        }
    }
}

/// Where the runner is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheState {
    /// Not started yet.
    Starting,
    /// Filling the cache up to the log head (first start, after a flush or an outage).
    Healing,
    /// Caught up once; answers may come from the cache.
    Ok,
    /// The last attempt failed; retrying.
    Down,
    /// Stopped with the application.
    Stopped,
}

impl CacheState {
    /// The name `/readyz` shows.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Healing => "healing",
            Self::Ok => "ok",
            Self::Down => "down",
            Self::Stopped => "stopped",
        }
    }
}

/// What the runner publishes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CacheStatus {
    pub state: CacheState,
    /// The cache's checkpoint as the runner last saw it.
    pub position: i64,
    /// The generation the runner works in.
    #[serde(skip)]
    pub epoch: Option<String>,
    /// Times the runner started over from position 0 or from another generation.
    pub heals: u64,
    pub last_error: Option<String>,
}

/// A cheap handle on a runner's status.
#[derive(Debug, Clone)]
pub struct CacheHandle {
    status: watch::Receiver<CacheStatus>,
}

impl CacheHandle {
    /// True while answers may be read from the cache.
    pub fn ready(&self) -> bool {
        self.status.borrow().state == CacheState::Ok
    }

    /// The cache's checkpoint as the runner last saw it.
    pub fn position(&self) -> i64 {
        self.status.borrow().position
    }

    /// The generation the runner works in.
    pub fn epoch(&self) -> Option<String> {
        self.status.borrow().epoch.clone()
    }

    /// The current status.
    pub fn status(&self) -> CacheStatus {
        self.status.borrow().clone()
    }

    /// Waits (at most `timeout`) until `done` holds for the status; returns whether it did.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        done: impl FnMut(&CacheStatus) -> bool,
    ) -> bool {
        let mut status = self.status.clone();
        let reached = tokio::time::timeout(timeout, status.wait_for(done))
            .await
            .is_ok_and(|r| r.is_ok());
        reached
    }
}

/// Tails the log into a cache.
pub struct CacheRunner {
    store: Arc<dyn EventStore>,
    cache: Arc<dyn ReadCache>,
    options: CacheRunnerOptions,
    status: watch::Sender<CacheStatus>,
    /// The generation and position this runner works in.
    cursor: Option<Checkpoint>,
    caught_up: bool,
    /// The id of the log's first event, once there is one.
    log: Option<String>,
}

/// What one step did.
enum Step {
    CaughtUp,
    Applied,
    StartedOver,
    Again,
}

impl CacheRunner {
    /// A runner from `store` into `cache`.
    pub fn new(
        store: Arc<dyn EventStore>,
        cache: Arc<dyn ReadCache>,
        options: CacheRunnerOptions,
    ) -> Self {
        let (status, _) = watch::channel(CacheStatus {
            state: CacheState::Starting,
            position: 0,
            epoch: None,
            heals: 0,
            last_error: None,
        });
        Self {
            store,
            cache,
            options,
            status,
            cursor: None,
            caught_up: false,
            log: None,
        }
    }

    /// A handle on this runner's status.
    pub fn handle(&self) -> CacheHandle {
        CacheHandle {
            status: self.status.subscribe(),
        }
    }

    /// Runs the runner on its own task until `shutdown` turns true.
    pub fn spawn(self, shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(self.run(shutdown))
    }

    /// Runs until `shutdown` turns true.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut head = self.store.watch_head();
        let mut failures = 0u32;
        while !*shutdown.borrow() {
            match self.step().await {
                Ok(Step::CaughtUp) => {
                    failures = 0;
                    tokio::select! {
                        _ = head.changed() => {}
                        _ = tokio::time::sleep(self.options.poll_interval) => {}
                        _ = shutdown.changed() => {}
                    }
                }
                Ok(Step::Applied | Step::StartedOver | Step::Again) => failures = 0,
                Err(error) => {
                    failures += 1;
                    self.failed(&error, failures).await;
                    let pause = self.pause(failures);
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = shutdown.changed() => {}
                    }
                }
            }
        }
        self.status.send_modify(|s| s.state = CacheState::Stopped);
    }

    fn pause(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
        (self.options.retry_initial * factor).min(self.options.retry_max)
    }

    /// Marks the runner down; a cache found inconsistent gets a new generation.
    async fn failed(&mut self, error: &CacheError, failures: u32) {
        let text = error_chain(error);
        tracing::warn!(backend = self.cache.backend(), error = %text, failures, "cache runner failed; retrying");
        self.caught_up = false;
        self.status.send_modify(|s| {
            s.state = CacheState::Down;
            s.last_error = Some(text);
        });
        if matches!(error, CacheError::Inconsistent(_)) {
            self.cursor = None;
            self.status.send_modify(|s| s.heals += 1);
            let log = self.log.clone().unwrap_or_default();
            if let Err(error) = self.cache.reset(&Checkpoint::fresh(&log)).await {
                tracing::warn!(error = %error_chain(&error), "could not reset the cache");
            }
        }
    }

    /// Checks the cache's checkpoint, then applies the next batch.
    async fn step(&mut self) -> Result<Step, CacheError> {
        let checkpoint = self.sync_checkpoint().await?;
        let events = self
            .store
            .read_all(
                checkpoint.position,
                self.options.batch_size,
                &EventFilter::default(),
            )
            .await?;
        let Some(last) = events.last().map(|e| e.position) else {
            self.caught_up = true;
            self.publish(checkpoint.position, None);
            return Ok(Step::CaughtUp);
        };
        if self.log.is_none() {
            // The log got its first events since the checkpoint was read: claim the
            // cache for it before writing anything.
            return Ok(Step::Again);
        }
        let records = fold_batch(&*self.cache, &*self.store, &events).await?;
        match self
            .cache
            .write(&checkpoint.epoch, &records, Some(last))
            .await?
        {
            Written::Applied => {
                self.cursor = Some(Checkpoint {
                    position: last,
                    ..checkpoint
                });
                self.publish(last, None);
                Ok(Step::Applied)
            }
            Written::Lost => {
                tracing::info!(
                    backend = self.cache.backend(),
                    "the cache changed generation under the runner; starting over"
                );
                self.cursor = None;
                self.caught_up = false;
                self.status.send_modify(|s| s.heals += 1);
                Ok(Step::StartedOver)
            }
        }
    }

    /// The generation and position to continue from: the runner's own while the cache
    /// still holds them (or is further on), else whatever the cache has now (a new
    /// generation at 0 if it has nothing), which means healing.
    async fn sync_checkpoint(&mut self) -> Result<Checkpoint, CacheError> {
        let log = self.log_identity().await?;
        let mut current = match self.cache.checkpoint().await? {
            Some(current) => current,
            None => self.cache.begin(&Checkpoint::fresh(&log)).await?,
        };
        if current.log != log {
            current = self.adopt_log(current, &log).await?;
        }
        let continues = self
            .cursor
            .as_ref()
            .is_some_and(|mine| mine.epoch == current.epoch && mine.position <= current.position);
        if !continues {
            if self.cursor.is_some() {
                tracing::info!(
                    backend = self.cache.backend(),
                    position = current.position,
                    "the cache lost its data or changed generation; healing from the log"
                );
                self.status.send_modify(|s| s.heals += 1);
            }
            self.caught_up = false;
        }
        self.cursor = Some(current.clone());
        Ok(current)
    }

    /// Makes the cache's checkpoint this log's: a generation opened while the log was
    /// still empty is claimed as it is; a generation of another log (two deployments
    /// sharing one Redis and key prefix, or a database recreated under a kept Redis) is
    /// replaced by a new one, healed from this log.
    async fn adopt_log(
        &mut self,
        current: Checkpoint,
        log: &str,
    ) -> Result<Checkpoint, CacheError> {
        let adopted = if current.log.is_empty() && current.position == 0 {
            Checkpoint {
                log: log.to_owned(),
                ..current
            }
        } else {
            tracing::warn!(
                backend = self.cache.backend(),
                "the cache follows another event log (two deployments sharing one Redis and \
                 key prefix, or a recreated database); starting a generation of this log"
            );
            Checkpoint::fresh(log)
        };
        self.cache.reset(&adopted).await?;
        Ok(adopted)
    }

    /// The id of the log's first event ("" while the log is empty).
    async fn log_identity(&mut self) -> Result<String, CacheError> {
        if let Some(log) = &self.log {
            return Ok(log.clone());
        }
        let first = self.store.read_all(0, 1, &EventFilter::default()).await?;
        let log = first.first().map(|e| e.id.to_string());
        self.log.clone_from(&log);
        Ok(log.unwrap_or_default())
    }

    fn publish(&self, position: i64, error: Option<String>) {
        let state = if self.caught_up {
            CacheState::Ok
        } else {
            CacheState::Healing
        };
        let epoch = self.cursor.as_ref().map(|c| c.epoch.clone());
        self.status.send_if_modified(|s| {
            let next = CacheStatus {
                state,
                position,
                epoch,
                heals: s.heals,
                last_error: error.clone(),
            };
            let changed = *s != next;
            *s = next;
            changed
        });
    }
}
