//! The projection runtime: one task per projection tails the global log from its stored
//! checkpoint and applies each batch of events to its read model together with the new
//! checkpoint in one transaction. Restarting resumes at the checkpoint; handlers skip what
//! a row already reflects (its `last_position`), so replays are harmless.

use std::collections::BTreeMap;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use engine::store::{EventFilter, EventStore, RecordedEvent};
use serde::Serialize;
use sqlx::AnyConnection;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::dead_letters::{self, DeadLetter};
use crate::{ProjectionError, ReadDb};

/// A read model fed by the log.
#[async_trait]
pub trait Projection: Send + Sync + 'static {
    /// Stable id; names the checkpoint row.
    fn name(&self) -> &'static str;
    /// Applies one event (called for every event; ignore the ones you do not need).
    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError>;
}

/// What `GET /v1/projections` shows about one projection.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProjectionStatus {
    pub name: String,
    pub position: i64,
    pub lag: i64,
    pub status: String,
    pub last_error: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Age of the oldest event not yet applied (0 when caught up).
    pub lag_seconds: f64,
    /// Events applied per second over the last ten seconds.
    pub events_per_second: f64,
    /// Events parked as dead letters.
    pub parked: i64,
}

/// Tuning of the runtime.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    pub batch_size: i64,
    /// How often to look for new events when no notification arrives.
    pub poll_interval: Duration,
    /// Tries of an event that fails to apply before it is parked.
    pub max_attempts: u32,
    /// Pause before the second try; doubles up to `retry_max`.
    pub retry_initial: Duration,
    pub retry_max: Duration,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            batch_size: 500,
            poll_interval: Duration::from_millis(500),
            max_attempts: 5,
            retry_initial: Duration::from_millis(100),
            retry_max: Duration::from_secs(5),
        }
    }
}

struct Entry {
    projection: Arc<dyn Projection>,
    position: watch::Sender<i64>,
    status: RwLock<(String, Option<String>, Option<DateTime<Utc>>)>,
    /// (when, position) of recent progress, for the events/s rate.
    progress: Mutex<VecDeque<(Instant, i64)>>,
}

/// How far back the events/s rate looks.
const RATE_WINDOW: Duration = Duration::from_secs(10);

impl Entry {
    /// Publishes a new position and remembers when it was reached.
    fn advance(&self, position: i64) {
        self.position.send_replace(position);
        if let Ok(mut progress) = self.progress.lock() {
            let now = Instant::now();
            progress.push_back((now, position));
            while progress
                .front()
                .is_some_and(|(at, _)| now.duration_since(*at) > RATE_WINDOW)
            {
                progress.pop_front();
            }
        }
    }

    /// Events applied per second over the last [`RATE_WINDOW`].
    fn rate(&self) -> f64 {
        let Ok(progress) = self.progress.lock() else {
            return 0.0;
        };
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
                    status: RwLock::new(("starting".into(), None, None)),
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
        }
    }

    /// Starts one task per projection; once `shutdown` turns true they catch up with the
    /// head and stop, with their checkpoints persisted.
    pub async fn start(
        &self,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Vec<JoinHandle<()>>, ProjectionError> {
        let mut handles = Vec::new();
        for entry in self.entries.values() {
            let checkpoint = load_checkpoint(&self.db, entry.projection.name()).await?;
            entry.position.send_replace(checkpoint);
            let worker = Worker {
                store: Arc::clone(&self.store),
                db: self.db.clone(),
                entry: Arc::clone(entry),
                options: self.options.clone(),
            };
            handles.push(tokio::spawn(worker.run(shutdown.clone())));
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
            let (status, last_error, updated_at) =
                entry.status.read().map(|s| s.clone()).unwrap_or_default();
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
                status,
                last_error,
                updated_at,
                parked: dead_letters::count(&self.db, name).await?,
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
        match entry.projection.apply(&mut tx, &event).await {
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
}

struct Worker {
    store: Arc<dyn EventStore>,
    db: ReadDb,
    entry: Arc<Entry>,
    options: RuntimeOptions,
}

impl Worker {
    async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut head = self.store.watch_head();
        let mut failures = 0u32;
        while !*shutdown.borrow() {
            match self.step().await {
                Ok(0) => {
                    self.set_status("running", None);
                    failures = 0;
                    tokio::select! {
                        _ = head.changed() => {}
                        _ = tokio::time::sleep(self.options.poll_interval) => {}
                        _ = shutdown.changed() => {}
                    }
                }
                Ok(_) => failures = 0,
                Err(error) => {
                    failures += 1;
                    let name = self.entry.projection.name();
                    tracing::warn!(projection = name, error = %error_chain(&error), failures, "projection batch failed; retrying");
                    self.set_status("retrying", Some(error_chain(&error)));
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
        self.set_status("stopped", None);
    }

    /// Applies the next batch; returns how many events it covered.
    async fn step(&self) -> Result<usize, ProjectionError> {
        let from = *self.entry.position.borrow();
        let events = self
            .store
            .read_all(from, self.options.batch_size, &EventFilter::default())
            .await?;
        let Some(last) = events.last().map(|e| e.position) else {
            return Ok(0);
        };
        match self.apply_batch(&events, last).await {
            Ok(()) => {}
            // One event cannot be applied: go event by event, retrying and parking it.
            Err(error) if is_poison(&error) => self.apply_one_by_one(&events).await?,
            Err(error) => return Err(error),
        }
        self.entry.advance(last);
        self.set_status("running", None);
        Ok(events.len())
    }

    /// The whole batch and its checkpoint in one transaction.
    async fn apply_batch(
        &self,
        events: &[RecordedEvent],
        last: i64,
    ) -> Result<(), ProjectionError> {
        let mut tx = self.db.begin().await?;
        for event in events {
            self.entry.projection.apply(&mut tx, event).await?;
        }
        save_checkpoint(&mut tx, self.entry.projection.name(), last).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Each event with its checkpoint in its own transaction; an event that keeps failing
    /// is retried with backoff, then parked together with the checkpoint past it.
    async fn apply_one_by_one(&self, events: &[RecordedEvent]) -> Result<(), ProjectionError> {
        let name = self.entry.projection.name();
        for event in events {
            let mut pause = self.options.retry_initial;
            let mut attempt = 1;
            loop {
                match self
                    .apply_batch(std::slice::from_ref(event), event.position)
                    .await
                {
                    Ok(()) => break,
                    Err(error) if is_poison(&error) && attempt >= self.options.max_attempts => {
                        let text = error_chain(&error);
                        tracing::error!(projection = name, position = event.position, event_type = %event.event_type, attempts = attempt, error = %text, "event parked as a dead letter");
                        let mut tx = self.db.begin().await?;
                        dead_letters::park(&mut tx, name, event, &text, attempt).await?;
                        save_checkpoint(&mut tx, name, event.position).await?;
                        tx.commit().await?;
                        break;
                    }
                    Err(error) if is_poison(&error) => {
                        self.set_status("retrying", Some(error_chain(&error)));
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(self.options.retry_max);
                        attempt += 1;
                    }
                    Err(error) => return Err(error),
                }
            }
            self.entry.advance(event.position);
        }
        Ok(())
    }

    fn set_status(&self, status: &str, error: Option<String>) {
        if let Ok(mut s) = self.entry.status.write() {
            let keep_error = error.is_none() && status != "running";
            let last_error = if keep_error { s.1.clone() } else { error };
            *s = (status.to_owned(), last_error, Some(Utc::now()));
        }
    }
}

async fn load_checkpoint(db: &ReadDb, name: &str) -> Result<i64, ProjectionError> {
    let position: Option<i64> =
        sqlx::query_scalar("SELECT position FROM rm_checkpoints WHERE projection = $1")
            .bind(name)
            .fetch_optional(db.pool())
            .await?;
    Ok(position.unwrap_or(0))
}

async fn save_checkpoint(
    conn: &mut AnyConnection,
    name: &str,
    position: i64,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "INSERT INTO rm_checkpoints (projection, position, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (projection) DO UPDATE SET position = excluded.position, \
         updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(position)
    .bind(engine::store::format_time(Utc::now()))
    .execute(conn)
    .await?;
    Ok(())
}

/// An error of applying one particular event (it will fail again the same way), as
/// opposed to the database being unavailable.
fn is_poison(error: &ProjectionError) -> bool {
    matches!(
        error,
        ProjectionError::Fold(_) | ProjectionError::Json(_) | ProjectionError::Rejected(_)
    )
}

/// The error and all its sources, joined by ": ".
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
