//! The batching writer shared by both backends.
//!
//! Commands hand their [`AppendRequest`] to one writer task per process. For each batch
//! the task first takes the log lock (one round trip), and only then collects every request
//! that arrived meanwhile (up to `max_batch`): commands that queue while the previous batch
//! commits or while the lock is being taken all ride in the same transaction. One commit
//! (one fsync) thus serves many commands, which is what lets a serialised, gap-free log
//! keep up with concurrent writers.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot, watch};

use super::model::{AppendOutcome, AppendRequest, RecordedEvent};
use super::plan::BatchPlan;
use super::StoreError;

/// Where a backend gets a batch's requests from, once it holds the lock.
pub trait BatchSource: Send {
    /// Takes in the requests that arrived meanwhile; returns the whole batch.
    fn fill(&mut self) -> &[AppendRequest];
}

/// A backend's part of the writer: lock, fill, read, plan, write, commit.
#[async_trait]
pub trait BatchBackend: Send + Sync + 'static {
    /// Writes the batch in one transaction; the plan has one outcome per request, in the
    /// order `source.fill()` returned them.
    async fn write_batch(&self, source: &mut dyn BatchSource) -> Result<BatchPlan, StoreError>;
}

/// Told the events of each batch this process commits, in log order, before the head moves
/// past them (see [`EventLog::on_commit`](super::EventLog::on_commit)).
pub type CommitSink = Arc<dyn Fn(&[RecordedEvent]) + Send + Sync>;

/// Where the writer task finds the [`CommitSink`], which may be set after it started.
type SinkSlot = Arc<Mutex<Option<CommitSink>>>;

type Reply = oneshot::Sender<Result<AppendOutcome, StoreError>>;
type Queue = mpsc::Receiver<(AppendRequest, Reply)>;

/// Handle to the writer task; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<(AppendRequest, Reply)>,
    sink: SinkSlot,
}

impl Writer {
    /// Starts the writer task. `head` is told every new last position.
    pub fn spawn(
        backend: Arc<dyn BatchBackend>,
        head: Arc<watch::Sender<i64>>,
        max_batch: usize,
    ) -> Self {
        let (queue, rx) = mpsc::channel(max_batch * 4);
        let sink = SinkSlot::default();
        let committed = Committer {
            head,
            sink: Arc::clone(&sink),
        };
        tokio::spawn(run(backend, rx, committed, max_batch));
        Self { queue, sink }
    }

    /// Tells `sink` the events of every batch committed from now on (replacing any sink
    /// set before).
    pub fn on_commit(&self, sink: CommitSink) {
        *self
            .sink
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(sink);
    }

    /// Appends one request, waiting for its commit.
    pub async fn append(&self, request: AppendRequest) -> Result<AppendOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((request, reply))
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        answer.await.map_err(|_| StoreError::WriterStopped)?
    }
}

/// The requests of one batch and where their answers go.
struct Batch<'a> {
    queue: Option<&'a mut Queue>,
    requests: Vec<AppendRequest>,
    replies: Vec<Reply>,
    max: usize,
}

impl BatchSource for Batch<'_> {
    fn fill(&mut self) -> &[AppendRequest] {
        if let Some(queue) = self.queue.as_mut() {
            while self.requests.len() < self.max {
                match queue.try_recv() {
                    Ok((request, reply)) => {
                        self.requests.push(request);
                        self.replies.push(reply);
                    }
                    Err(_) => break,
                }
            }
        }
        &self.requests
    }
}

/// What hears of a committed batch: the sink, then the head.
struct Committer {
    head: Arc<watch::Sender<i64>>,
    sink: SinkSlot,
}

impl Committer {
    fn committed(&self, plan: &BatchPlan) {
        if !plan.events.is_empty() {
            let sink = self
                .sink
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            if let Some(sink) = sink {
                sink(&plan.events);
            }
        }
        advance(&self.head, plan.new_head);
    }
}

async fn run(backend: Arc<dyn BatchBackend>, mut rx: Queue, head: Committer, max_batch: usize) {
    let mut last_size = 1;
    while let Some((request, reply)) = rx.recv().await {
        gather(&rx, last_size).await;
        let mut batch = Batch {
            queue: Some(&mut rx),
            requests: vec![request],
            replies: vec![reply],
            max: max_batch,
        };
        let result = backend.write_batch(&mut batch).await;
        let Batch {
            requests, replies, ..
        } = batch;
        last_size = requests.len();
        match result {
            Ok(plan) => deliver(plan, replies, &head),
            Err(error) if requests.len() == 1 => {
                let _ = replies.into_iter().next().map(|r| r.send(Err(error)));
            }
            Err(error) => {
                // One bad request must not fail its neighbours: write each on its own.
                tracing::warn!(%error, size = requests.len(), "batch failed, retrying one by one");
                for (request, reply) in requests.into_iter().zip(replies) {
                    let mut single = Batch {
                        queue: None,
                        requests: vec![request],
                        replies: vec![reply],
                        max: 1,
                    };
                    let result = backend.write_batch(&mut single).await;
                    match result {
                        Ok(plan) => deliver(plan, single.replies, &head),
                        Err(error) => {
                            let _ = single.replies.pop().map(|r| r.send(Err(error)));
                        }
                    }
                }
            }
        }
    }
}

/// Group commit: when the last batch carried several commands, their callers are about to
/// send the next ones; yield a few times so that they can, instead of committing a batch
/// of one and making the rest wait a whole round.
async fn gather(rx: &Queue, last_size: usize) {
    for _ in 0..16 {
        if rx.len() + 1 >= last_size {
            return;
        }
        tokio::task::yield_now().await;
    }
}

fn deliver(plan: BatchPlan, replies: Vec<Reply>, head: &Committer) {
    head.committed(&plan);
    for (outcome, reply) in plan.outcomes.into_iter().zip(replies) {
        let _ = reply.send(outcome);
    }
}

/// Moves a head watch forward (never back).
pub fn advance(head: &watch::Sender<i64>, position: i64) {
    head.send_if_modified(|h| {
        let moved = position > *h;
        if moved {
            *h = position;
        }
        moved
    });
}
