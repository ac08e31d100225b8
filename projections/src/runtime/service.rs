//! [`ProjectionRuntime`]: runs the live worker of every projection, answers "have the read
//! models reached position N?", reports status, retries dead letters and runs rebuilds.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use engine::store::{EventFilter, EventStore};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::checkpoint::ensure_checkpoints;
use super::pending_lists::PendingLists;
use super::worker::{Live, Worker};
use super::{error_chain, load_checkpoint, Applier};
use super::{Projection, ProjectionStatus, RuntimeOptions, WorkerState};
use crate::dead_letters::{self, DeadLetter};
use crate::{rebuild, ProjectionError, ReadDb, Target};

pub struct Entry {
    pub projection: Arc<dyn Projection>,
    pub position: watch::Sender<i64>,
    report: RwLock<WorkerReport>,
    /// (when, position) of recent progress, for the events/s rate.
    progress: Mutex<VecDeque<(Instant, i64)>>,
}

/// What the live worker last reported about one projection.
#[derive(Debug, Clone, Default)]
struct WorkerReport {
    state: WorkerState,
    /// Kept until the next success.
    last_error: Option<String>,
    updated_at: Option<DateTime<Utc>>,
}

/// How far back the events/s rate looks.
const RATE_WINDOW: Duration = Duration::from_secs(10);

impl Entry {
    /// Publishes a new position and remembers when it was reached.
    pub fn advance(&self, position: i64) {
        self.position.send_replace(position);
        let mut progress = self.progress.lock().unwrap_or_else(recover);
        let now = Instant::now();
        progress.push_back((now, position));
        while progress
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > RATE_WINDOW)
        {
            progress.pop_front();
        }
    }

    /// Records the worker's status (an error is kept until the next success).
    pub fn set_status(&self, state: WorkerState, error: Option<String>) {
        let mut report = self.report.write().unwrap_or_else(recover);
        let keep_error = error.is_none() && state != WorkerState::Running;
        let last_error = if keep_error {
            report.last_error.take()
        } else {
            error
        };
        *report = WorkerReport {
            state,
            last_error,
            updated_at: Some(Utc::now()),
        };
    }

    /// Events applied per second over the last [`RATE_WINDOW`].
    fn rate(&self) -> f64 {
        let progress = self.progress.lock().unwrap_or_else(recover);
        let (Some((first_at, first)), Some((_, last))) = (progress.front(), progress.back()) else {
            return 0.0;
        };
        let window = first_at.elapsed().as_secs_f64().max(1.0);
        ((last - first) as f64 / window * 10.0).round() / 10.0
    }
}

/// Runs projections and answers "have the read models reached position N?".
pub struct ProjectionRuntime {
    store: Arc<dyn EventStore>,
    db: ReadDb,
    entries: BTreeMap<&'static str, Arc<Entry>>,
    options: RuntimeOptions,
    /// Rebuilds running in this process.
    rebuilds: Arc<Mutex<HashMap<&'static str, JoinHandle<()>>>>,
}

impl ProjectionRuntime {
    /// A runtime for `projections` over `store`, writing into `db`.
    pub fn new(
        store: Arc<dyn EventStore>,
        db: ReadDb,
        projections: Vec<Arc<dyn Projection>>,
        options: RuntimeOptions,
    ) -> Self {
        let entries = projections
            .into_iter()
            .map(|projection| {
                let entry = Entry {
                    projection: Arc::clone(&projection),
                    position: watch::channel(0).0,
                    report: RwLock::default(),
                    progress: Mutex::default(),
                };
                (projection.name(), Arc::new(entry))
            })
            .collect();
        Self {
            store,
            db,
            entries,
            options,
            rebuilds: Arc::default(),
        }
    }

    /// Starts the live worker of every projection (one task: see [`super::worker`]); once
    /// `shutdown` turns true it catches up with the head and stops, with the checkpoints
    /// persisted.
    pub async fn start(
        &self,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Vec<JoinHandle<()>>, ProjectionError> {
        let mut handles = Vec::new();
        let names: Vec<&str> = self.entries.keys().copied().collect();
        ensure_checkpoints(&self.db, &names).await?;
        let mut live = Vec::with_capacity(self.entries.len());
        for entry in self.entries.values() {
            let checkpoint = load_checkpoint(&self.db, entry.projection.name()).await?;
            // The starting point is the rate's first sample, so that the events of the
            // first batch count in it.
            entry.advance(checkpoint);
            let applier = self.applier(entry, Target::Live);
            live.push(Live::new(Arc::clone(entry), applier, checkpoint));
        }
        let searched = self
            .entries
            .values()
            .flat_map(|entry| entry.projection.tables())
            .filter(|table| table.search.is_some())
            .map(|table| table.name)
            .collect();
        let pending = Arc::new(PendingLists::new(searched));
        if !self.db.is_sqlite() {
            let merges = Arc::clone(&pending).run(
                self.db.clone(),
                self.options.search_merge_every,
                shutdown.clone(),
            );
            handles.push(tokio::spawn(merges));
        }
        let worker = Worker {
            store: Arc::clone(&self.store),
            live,
            pending,
        };
        handles.push(tokio::spawn(worker.run(shutdown.clone())));
        for name in rebuild::running(&self.db).await? {
            tracing::info!(projection = %name, "resuming an interrupted rebuild");
            if let Err(error) = self.rebuild(&name).await {
                tracing::warn!(projection = %name, error = %error_chain(&error), "could not resume the rebuild");
            }
        }
        Ok(handles)
    }

    /// Waits until every projection has reached `position`, at most `timeout`.
    pub async fn wait_for(&self, position: i64, timeout: Duration) -> Result<(), ProjectionError> {
        let all = async {
            for entry in self.entries.values() {
                let mut rx = entry.position.subscribe();
                // An error means the runtime is gone: nothing will ever catch up.
                if rx.wait_for(|p| *p >= position).await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(timeout, all)
            .await
            .map_err(|_| ProjectionError::Timeout(timeout, position))
    }

    /// The lowest position every projection has reached.
    pub fn position(&self) -> i64 {
        self.entries
            .values()
            .map(|e| *e.position.borrow())
            .min()
            .unwrap_or(0)
    }

    /// Status of every projection.
    pub async fn statuses(&self) -> Result<Vec<ProjectionStatus>, ProjectionError> {
        let head = self.store.head().await?;
        let mut statuses = Vec::with_capacity(self.entries.len());
        for entry in self.entries.values() {
            let name = entry.projection.name();
            let position = *entry.position.borrow();
            let report = entry.report.read().unwrap_or_else(recover).clone();
            let lag_seconds = if position < head {
                let next = self
                    .store
                    .read_all(position, 1, &EventFilter::default())
                    .await?;
                next.first().map_or(0.0, |e| {
                    let age = Utc::now() - e.recorded_at;
                    (age.num_milliseconds().max(0) as f64 / 100.0).round() / 10.0
                })
            } else {
                0.0
            };
            statuses.push(ProjectionStatus {
                name: name.to_owned(),
                position,
                lag: (head - position).max(0),
                lag_seconds,
                events_per_second: entry.rate(),
                status: report.state,
                last_error: report.last_error,
                updated_at: report.updated_at,
                parked: dead_letters::count(&self.db, name).await?,
                rebuild: rebuild::status(&self.db, name).await?,
            });
        }
        Ok(statuses)
    }

    /// Parked events, of one projection or all.
    pub async fn dead_letters(
        &self,
        projection: Option<&str>,
    ) -> Result<Vec<DeadLetter>, ProjectionError> {
        dead_letters::list(&self.db, projection).await
    }

    /// Applies a parked event again: on success the dead letter is gone (`Ok(None)`), on
    /// failure it stays with the new error (`Ok(Some(error))`).
    pub async fn retry_dead_letter(&self, id: &str) -> Result<Option<String>, ProjectionError> {
        let letter = dead_letters::get(&self.db, id)
            .await?
            .ok_or_else(|| ProjectionError::UnknownDeadLetter(id.to_owned()))?;
        let entry = self
            .entries
            .get(letter.projection.as_str())
            .ok_or_else(|| ProjectionError::UnknownProjection(letter.projection.clone()))?;
        let filter = EventFilter::default();
        let event = self.store.read_all(letter.position - 1, 1, &filter).await?;
        let Some(event) = event.into_iter().find(|e| e.position == letter.position) else {
            return Err(ProjectionError::UnknownDeadLetter(id.to_owned()));
        };
        let mut tx = self.db.begin().await?;
        let events = std::slice::from_ref(&event);
        match entry.projection.apply(&mut tx, events, &Target::Live).await {
            Ok(()) => {
                dead_letters::resolve(&mut tx, id).await?;
                tx.commit().await?;
                Ok(None)
            }
            Err(error) => {
                drop(tx);
                let text = error_chain(&error);
                dead_letters::retry_failed(&self.db, id, &text).await?;
                Ok(Some(text))
            }
        }
    }

    /// Names of the projections.
    pub fn names(&self) -> Vec<&'static str> {
        self.entries.keys().copied().collect()
    }

    /// Starts rebuilding `name` in the background (or resumes its interrupted rebuild).
    /// Fails if a rebuild of it is already running in this process.
    pub async fn rebuild(&self, name: &str) -> Result<(), ProjectionError> {
        let entry = self
            .entries
            .get(name)
            .ok_or_else(|| ProjectionError::UnknownProjection(name.to_owned()))?;
        let key = entry.projection.name();
        let mut running = self.rebuilds.lock().unwrap_or_else(recover);
        if running.get(key).is_some_and(|task| !task.is_finished()) {
            return Err(ProjectionError::RebuildRunning(key.to_owned()));
        }
        let applier = self.applier(entry, Target::Shadow);
        let store = Arc::clone(&self.store);
        let live = Arc::clone(entry);
        let task = tokio::spawn(async move {
            if let Err(error) = rebuild::begin(&applier.db, &*applier.projection).await {
                tracing::error!(projection = key, error = %error_chain(&error), "could not start the rebuild");
                return;
            }
            let progress = |_: i64, _: i64| {};
            if let Ok(swapped) = rebuild::run(store, &applier, &progress).await {
                let current = *live.position.borrow();
                live.advance(swapped.max(current));
            }
        });
        running.insert(key, task);
        Ok(())
    }

    /// Waits for this process's rebuild of `name` to end (tests, CLI).
    pub async fn rebuild_finished(&self, name: &str) {
        let task = self.rebuilds.lock().unwrap_or_else(recover).remove(name);
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    fn applier(&self, entry: &Entry, target: Target) -> Applier {
        Applier {
            db: self.db.clone(),
            projection: Arc::clone(&entry.projection),
            target,
            options: self.options.clone(),
        }
    }
}

/// The value behind a lock a panicking thread held. Every lock here guards a value that
/// each holder replaces whole or changes by one push, pop or insert, so no half-made change
/// can be left behind: the runtime goes on with it (a status report must not fail, nor
/// stop reporting, because one task panicked), and says so.
fn recover<G>(poisoned: PoisonError<G>) -> G {
    tracing::warn!("a projection runtime lock was poisoned by a panic; going on with its value");
    poisoned.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_poisoned_by_a_panic_still_reports_and_records() {
        let projection = crate::all().remove(0);
        let entry = Arc::new(Entry {
            projection,
            position: watch::channel(0).0,
            report: RwLock::default(),
            progress: Mutex::default(),
        });
        let panicking = Arc::clone(&entry);
        let panicked = std::thread::spawn(move || {
            let _report = panicking.report.write().unwrap();
            let _progress = panicking.progress.lock().unwrap();
            panic!("a holder panics");
        })
        .join();
        assert!(panicked.is_err() && entry.report.is_poisoned() && entry.progress.is_poisoned());
        entry.set_status(WorkerState::Retrying, Some("boom".into()));
        entry.set_status(WorkerState::Stopped, None);
        entry.advance(5);
        let report = entry.report.read().unwrap_or_else(recover).clone();
        assert_eq!(report.state, WorkerState::Stopped);
        assert_eq!(
            report.last_error.as_deref(),
            Some("boom"),
            "kept until a success"
        );
        assert_eq!(*entry.position.borrow(), 5);
        assert!(entry.rate() >= 0.0);
    }
}
