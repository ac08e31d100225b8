//! The bounded worker pool and the follower that feeds it from the log.

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::work::{run_job, WorkContext};
use crate::commands::CommandService;
use crate::store::{EventFilter, RecordedEvent, StoreError};

/// Pool size and pacing.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// Concurrent jobs (`CLUSTERGENIE_WORKER_COUNT`, default 4).
    pub workers: usize,
    /// Jobs waiting for a worker (`CLUSTERGENIE_WORKER_QUEUE`, default 100).
    pub queue: usize,
    /// Simulated provider time per job.
    pub sim_delay: Duration,
    /// This process's worker name (recorded in `job.started`).
    pub name: String,
}

impl Default for ExecutorOptions {
    fn default() -> Self {
        Self {
            workers: 4,
            queue: 100,
            sim_delay: Duration::from_millis(1500),
            name: "worker".into(),
        }
    }
}

/// What `GET /v1/workers` shows.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct WorkerStats {
    pub worker_count: usize,
    pub active_workers: usize,
    pub queue_length: usize,
    pub queue_capacity: usize,
    pub queued_ids: Vec<String>,
}

#[derive(Default)]
struct Shared {
    queued: VecDeque<String>,
    active: usize,
}

/// The running executor.
#[derive(Clone)]
pub struct Executor {
    shared: Arc<Mutex<Shared>>,
    options: ExecutorOptions,
}

impl Executor {
    /// Starts the follower and `options.workers` workers; they stop when `shutdown`
    /// turns true (a job cut short is resumed as a new attempt after restart).
    pub fn start(
        service: CommandService,
        options: ExecutorOptions,
        shutdown: watch::Receiver<bool>,
    ) -> (Self, Vec<JoinHandle<()>>) {
        let (tx, rx) = mpsc::channel::<String>(options.queue.max(1));
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let executor = Self {
            shared: Arc::default(),
            options: options.clone(),
        };
        let mut handles = Vec::new();
        for n in 0..options.workers.max(1) {
            let work = WorkContext {
                worker: format!("{}-{n}", options.name),
                sim_delay: options.sim_delay,
            };
            let worker = Worker {
                service: service.clone(),
                rx: Arc::clone(&rx),
                shared: Arc::clone(&executor.shared),
                work,
            };
            handles.push(tokio::spawn(worker.run(shutdown.clone())));
        }
        let follower = Follower {
            service,
            tx,
            shared: Arc::clone(&executor.shared),
        };
        handles.push(tokio::spawn(follower.run(shutdown)));
        (executor, handles)
    }

    /// Whether the queue holds as many jobs as it may (new ones would wait in the log).
    pub fn is_full(&self) -> bool {
        let stats = self.stats();
        stats.queue_length >= stats.queue_capacity
    }

    /// The pool's current numbers.
    pub fn stats(&self) -> WorkerStats {
        let shared = self
            .shared
            .lock()
            .map(|s| (s.queued.clone(), s.active))
            .unwrap_or_default();
        WorkerStats {
            worker_count: self.options.workers.max(1),
            active_workers: shared.1,
            queue_length: shared.0.len(),
            queue_capacity: self.options.queue.max(1),
            queued_ids: shared.0.into_iter().collect(),
        }
    }
}

struct Worker {
    service: CommandService,
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<String>>>,
    shared: Arc<Mutex<Shared>>,
    work: WorkContext,
}

impl Worker {
    async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            let next = tokio::select! {
                next = async { self.rx.lock().await.recv().await } => next,
                _ = shutdown.wait_for(|s| *s) => None,
            };
            let Some(job_id) = next else { return };
            self.track(&job_id, true);
            tokio::select! {
                result = run_job(&self.service, &job_id, &self.work) => {
                    if let Err(error) = result {
                        tracing::warn!(job_id, %error, "job step failed; it will be picked up again after a restart");
                    }
                }
                _ = shutdown.wait_for(|s| *s) => {
                    self.track(&job_id, false);
                    return;
                }
            }
            self.track(&job_id, false);
        }
    }

    fn track(&self, job_id: &str, starting: bool) {
        if let Ok(mut shared) = self.shared.lock() {
            if starting {
                shared.queued.retain(|id| id != job_id);
                shared.active += 1;
            } else {
                shared.active = shared.active.saturating_sub(1);
            }
        }
    }
}

/// Follows job events: at start it finds every unfinished job in the log, then hands each
/// newly created job to the pool.
struct Follower {
    service: CommandService,
    tx: mpsc::Sender<String>,
    shared: Arc<Mutex<Shared>>,
}

impl Follower {
    async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let store = std::sync::Arc::clone(self.service.store());
        let mut head = store.watch_head();
        let filter = EventFilter {
            aggregate_type: Some("job".into()),
            ..Default::default()
        };
        let mut cursor = 0;
        let mut unfinished = BTreeSet::new();
        let mut caught_up = false;
        while !*shutdown.borrow() {
            let batch = match store.read_all(cursor, 1000, &filter).await {
                Ok(batch) => batch,
                Err(error) => {
                    self.pause(&error, &mut shutdown).await;
                    continue;
                }
            };
            for event in &batch {
                cursor = event.position;
                track_unfinished(&mut unfinished, event);
            }
            if batch.is_empty() {
                caught_up = true;
            }
            if caught_up {
                // Each job is created once, so each id is handed over once.
                for id in std::mem::take(&mut unfinished) {
                    if !self.submit(id, &mut shutdown).await {
                        return;
                    }
                }
            }
            if batch.is_empty() {
                tokio::select! {
                    _ = head.changed() => {}
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }

    async fn submit(&self, job_id: String, shutdown: &mut watch::Receiver<bool>) -> bool {
        if let Ok(mut shared) = self.shared.lock() {
            shared.queued.push_back(job_id.clone());
        }
        tokio::select! {
            sent = self.tx.send(job_id) => sent.is_ok(),
            _ = shutdown.wait_for(|s| *s) => false,
        }
    }

    async fn pause(&self, error: &StoreError, shutdown: &mut watch::Receiver<bool>) {
        tracing::warn!(%error, "job follower could not read the log; retrying");
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => {}
        }
    }
}

fn track_unfinished(unfinished: &mut BTreeSet<String>, event: &RecordedEvent) {
    match event.event_type.as_str() {
        "job.created" => {
            unfinished.insert(event.aggregate_id.clone());
        }
        "job.succeeded" | "job.failed" | "job.cancelled" | "job.timed_out" => {
            unfinished.remove(&event.aggregate_id);
        }
        _ => {}
    }
}
