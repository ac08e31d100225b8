//! The bounded worker pool, and the follower that feeds it from the log and keeps the
//! durable timers (retries due, lost attempts).

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::Utc;
use serde::Serialize;
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::JoinHandle;

use super::book::{JobBook, Signal};
use super::ownership::{AllJobs, Ownership};
use super::steps::{AttemptEnd, FinishJob};
use super::work::{run_attempt, Ran, WorkContext};
use crate::commands::{CommandContext, CommandService};
use crate::domain::{JobStatus, JobType};
use crate::policies::Policies;
use crate::provider::{Providers, SimSpeed};
use crate::store::{EventFilter, StoreError};

/// Pool size, pacing and policies.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// Concurrent jobs (`CLUSTERGENIE_WORKER_COUNT`, default 4).
    pub workers: usize,
    /// Jobs waiting for a worker (`CLUSTERGENIE_WORKER_QUEUE`, default 100).
    pub queue: usize,
    /// Simulated time of cluster-wide jobs (diagnose, monitor).
    pub sim_delay: Duration,
    /// This process's worker name (recorded in `job.started`, with the worker's number).
    pub name: String,
    /// Retry policies per job type.
    pub policies: Policies,
}

impl Default for ExecutorOptions {
    fn default() -> Self {
        Self {
            workers: 4,
            queue: 100,
            sim_delay: Duration::from_millis(1500),
            name: "worker".into(),
            policies: Policies::default(),
        }
    }
}

/// What `GET /v1/workers` shows.
#[derive(Debug, Clone, Default, Serialize, PartialEq, utoipa::ToSchema)]
pub struct WorkerStats {
    pub worker_count: usize,
    pub active_workers: usize,
    pub queue_length: usize,
    pub queue_capacity: usize,
    pub queued_ids: Vec<String>,
    /// Jobs running here now.
    pub active_ids: Vec<String>,
    /// Unfinished jobs in the log (waiting, backing off, or running anywhere).
    pub unfinished: usize,
}

/// An attempt that ended here, for the job metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub job_type: JobType,
    /// The job's status after the attempt (`queued` when a retry was scheduled).
    pub status: JobStatus,
    pub took: Duration,
}

/// Most finished attempts kept for the metrics between two scrapes.
const FINISHED_KEPT: usize = 10_000;

#[derive(Default)]
struct Shared {
    queued: VecDeque<String>,
    /// The same ids, to answer "is it here" without a walk.
    queued_set: HashSet<String>,
    /// Jobs running here, with the switch that cancels their attempt.
    active: BTreeMap<String, watch::Sender<bool>>,
    unfinished: usize,
    finished: VecDeque<Finished>,
}

impl Shared {
    /// The shared state, also after a panic elsewhere left the lock poisoned (every update
    /// of it is a few field writes, so what a panic leaves is still worth counting).
    fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
        shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn holds(&self, id: &str) -> bool {
        self.active.contains_key(id) || self.queued_set.contains(id)
    }
}

/// The running executor.
#[derive(Clone)]
pub struct Executor {
    shared: Arc<Mutex<Shared>>,
    options: ExecutorOptions,
}

impl Executor {
    /// Starts the follower and `options.workers` workers; they stop when `shutdown`
    /// turns true (an attempt cut short is timed out as lost and retried).
    pub fn start(
        service: CommandService,
        providers: Arc<Providers>,
        options: ExecutorOptions,
        shutdown: watch::Receiver<bool>,
    ) -> (Self, Vec<JoinHandle<()>>) {
        Self::start_owning(service, providers, options, Arc::new(AllJobs), shutdown)
    }

    /// [`Executor::start`], starting and timing out only the jobs `ownership` gives this
    /// process (see [`crate::kafka::group`]).
    pub fn start_owning(
        service: CommandService,
        providers: Arc<Providers>,
        options: ExecutorOptions,
        ownership: Arc<dyn Ownership>,
        shutdown: watch::Receiver<bool>,
    ) -> (Self, Vec<JoinHandle<()>>) {
        let (tx, rx) = mpsc::channel::<String>(options.queue.max(1));
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let executor = Self {
            shared: Arc::default(),
            options: options.clone(),
        };
        let freed = Arc::new(Notify::new());
        let policies = Arc::new(options.policies.clone());
        let mut handles = Vec::new();
        for n in 0..options.workers.max(1) {
            let work = WorkContext {
                worker: format!("{}-{n}", options.name),
                sim_delay: options.sim_delay,
                providers: Arc::clone(&providers),
                policies: Arc::clone(&policies),
            };
            let worker = Worker {
                service: service.clone(),
                rx: Arc::clone(&rx),
                shared: Arc::clone(&executor.shared),
                freed: Arc::clone(&freed),
                work,
            };
            handles.push(tokio::spawn(worker.run(shutdown.clone())));
        }
        let follower = Follower {
            service,
            tx,
            shared: Arc::clone(&executor.shared),
            freed,
            policies,
            ownership,
        };
        handles.push(tokio::spawn(follower.run(shutdown)));
        (executor, handles)
    }

    /// A pool for tests and tools: providers without latency and the default options
    /// changed by `options`.
    pub fn start_instant(
        service: CommandService,
        options: ExecutorOptions,
        shutdown: watch::Receiver<bool>,
    ) -> (Self, Vec<JoinHandle<()>>) {
        let providers = Arc::new(Providers::new(SimSpeed::INSTANT, 42));
        Self::start(service, providers, options, shutdown)
    }

    /// Whether the queue holds as many jobs as it may (new ones would wait in the log).
    pub fn is_full(&self) -> bool {
        // Asked by every command that starts a job: no copy of the queue's ids.
        let queued = Shared::lock(&self.shared).queued.len();
        queued >= self.options.queue.max(1)
    }

    /// The pool's current numbers.
    pub fn stats(&self) -> WorkerStats {
        let (queued, active, unfinished) = {
            let s = Shared::lock(&self.shared);
            let active: Vec<String> = s.active.keys().cloned().collect();
            (s.queued.clone(), active, s.unfinished)
        };
        WorkerStats {
            worker_count: self.options.workers.max(1),
            active_workers: active.len(),
            queue_length: queued.len(),
            queue_capacity: self.options.queue.max(1),
            queued_ids: queued.into_iter().collect(),
            active_ids: active,
            unfinished,
        }
    }

    /// The retry policies in force.
    pub fn policies(&self) -> &Policies {
        &self.options.policies
    }

    /// The attempts that ended here since the last call (at most the last 10 000).
    pub fn take_finished(&self) -> Vec<Finished> {
        Shared::lock(&self.shared).finished.drain(..).collect()
    }
}

struct Worker {
    service: CommandService,
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<String>>>,
    shared: Arc<Mutex<Shared>>,
    freed: Arc<Notify>,
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
            let (cancel_tx, cancel) = watch::channel(false);
            {
                let mut shared = Shared::lock(&self.shared);
                shared.queued.retain(|id| *id != job_id);
                shared.queued_set.remove(&job_id);
                shared.active.insert(job_id.clone(), cancel_tx);
            }
            self.freed.notify_one();
            let ran = tokio::select! {
                ran = run_attempt(&self.service, &job_id, &self.work, cancel) => Some(ran),
                _ = shutdown.wait_for(|s| *s) => None,
            };
            {
                let mut shared = Shared::lock(&self.shared);
                shared.active.remove(&job_id);
                if let Some(Ok(Ran::Ended {
                    job_type: Some(job_type),
                    status,
                    took,
                })) = &ran
                {
                    if shared.finished.len() >= FINISHED_KEPT {
                        shared.finished.pop_front();
                    }
                    shared.finished.push_back(Finished {
                        job_type: *job_type,
                        status: *status,
                        took: *took,
                    });
                }
            }
            self.freed.notify_one();
            match ran {
                None => return,
                Some(Err(error)) => {
                    tracing::warn!(job_id, %error, "job attempt could not be recorded; the runtime will pick the job up again");
                }
                Some(Ok(_)) => {}
            }
        }
    }
}

/// Follows job events into the [`JobBook`], hands the pool every job that may start
/// (pending, or queued with its backoff over), times out attempts whose worker went
/// silent, and passes cancel requests to the attempts running here.
struct Follower {
    service: CommandService,
    tx: mpsc::Sender<String>,
    shared: Arc<Mutex<Shared>>,
    freed: Arc<Notify>,
    policies: Arc<Policies>,
    ownership: Arc<dyn Ownership>,
}

/// Events read per batch.
const BATCH: i64 = 1000;

impl Follower {
    async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let store = Arc::clone(self.service.store());
        let mut head = store.watch_head();
        let filter = EventFilter {
            aggregate_type: Some("job".into()),
            ..Default::default()
        };
        let mut cursor = 0;
        let mut book = JobBook::default();
        while !*shutdown.borrow() {
            // Every event up to the head seen before the read is visible to it: once the
            // read comes back short, the cursor may move there even without a job event.
            let seen = *head.borrow();
            let batch = match store.read_all(cursor, BATCH, &filter).await {
                Ok(batch) => batch,
                Err(error) => {
                    self.pause(&error, &mut shutdown).await;
                    continue;
                }
            };
            for event in &batch {
                cursor = event.position;
                if let Some(Signal::Cancel(id)) = book.apply(event) {
                    self.cancel(&id);
                }
            }
            if batch.len() as i64 == BATCH {
                continue; // catching up
            }
            cursor = cursor.max(seen);
            {
                let mut shared = Shared::lock(&self.shared);
                shared.unfinished = book.len();
            }
            let now = Utc::now();
            self.time_out_lost(&book, now).await;
            self.submit_ready(&book, now);
            let wait = book
                .next_timer(now, &self.policies)
                .and_then(|at| (at - now).to_std().ok())
                .map_or(Duration::from_secs(1), |d| d.min(Duration::from_secs(1)));
            tokio::select! {
                _ = head.changed() => {}
                () = self.freed.notified() => {}
                _ = tokio::time::sleep(wait + Duration::from_millis(1)) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Hands the pool the jobs that may start, oldest first, while the queue has room.
    fn submit_ready(&self, book: &JobBook, now: chrono::DateTime<Utc>) {
        let mut shared = Shared::lock(&self.shared);
        for id in book.ready(now) {
            if shared.holds(id) || !self.ownership.owns(id) {
                continue;
            }
            match self.tx.try_send(id.to_owned()) {
                Ok(()) => {
                    shared.queued.push_back(id.to_owned());
                    shared.queued_set.insert(id.to_owned());
                }
                Err(_) => return, // full: the rest waits in the log
            }
        }
    }

    /// Times out running attempts nothing was heard of for their heartbeat timeout
    /// (their worker died or lost the store), unless they run here.
    async fn time_out_lost(&self, book: &JobBook, now: chrono::DateTime<Utc>) {
        for (job_id, attempt) in book.lost(now, &self.policies) {
            let here = Shared::lock(&self.shared).active.contains_key(&job_id);
            if here || !self.ownership.owns(&job_id) {
                continue;
            }
            let policy = self.policies.of(book.get(&job_id).and_then(|t| t.job_type));
            let timed_out = FinishJob {
                job_id: job_id.clone(),
                attempt,
                outcome: AttemptEnd::TimedOut {
                    retry_delay_ms: policy.timeout_retry_delay_ms(attempt),
                },
            };
            tracing::info!(
                job_id,
                attempt,
                "attempt lost (no heartbeat); timing it out"
            );
            let ctx = CommandContext::system();
            if let Err(error) = self.service.execute(&ctx, &timed_out).await {
                tracing::warn!(job_id, attempt, %error, "could not time out a lost attempt");
            }
        }
    }

    fn cancel(&self, job_id: &str) {
        if let Some(switch) = Shared::lock(&self.shared).active.get(job_id) {
            let _ = switch.send(true);
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
