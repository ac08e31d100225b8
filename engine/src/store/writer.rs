//! The batching writer shared by both backends.
//!
//! Commands hand their [`AppendRequest`] to one writer task per process. The task takes
//! every request waiting in its queue (up to `max_batch`) and writes them in one database
//! transaction that holds the log lock: one commit (one fsync) serves many commands, which
//! is what lets a serialised, gap-free log keep up with concurrent writers.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot, watch};

use super::model::{AppendOutcome, AppendRequest};
use super::plan::BatchPlan;
use super::StoreError;

/// A backend's part of the writer: lock, read, plan, write, commit.
#[async_trait]
pub trait BatchBackend: Send + Sync + 'static {
    /// Writes `requests` in one transaction; the plan carries one outcome per request.
    async fn write_batch(&self, requests: &[AppendRequest]) -> Result<BatchPlan, StoreError>;
}

type Reply = oneshot::Sender<Result<AppendOutcome, StoreError>>;

/// Handle to the writer task; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<(AppendRequest, Reply)>,
}

impl Writer {
    /// Starts the writer task. `head` is told every new last position.
    pub fn spawn(
        backend: Arc<dyn BatchBackend>,
        head: Arc<watch::Sender<i64>>,
        max_batch: usize,
    ) -> Self {
        let (queue, rx) = mpsc::channel(max_batch * 4);
        tokio::spawn(run(backend, rx, head, max_batch));
        Self { queue }
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

async fn run(
    backend: Arc<dyn BatchBackend>,
    mut rx: mpsc::Receiver<(AppendRequest, Reply)>,
    head: Arc<watch::Sender<i64>>,
    max_batch: usize,
) {
    let mut batch = Vec::with_capacity(max_batch);
    while rx.recv_many(&mut batch, max_batch).await > 0 {
        let (requests, replies): (Vec<_>, Vec<_>) = std::mem::take(&mut batch).into_iter().unzip();
        match backend.write_batch(&requests).await {
            Ok(plan) => deliver(plan, replies, &head),
            Err(error) if requests.len() == 1 => {
                let _ = replies.into_iter().next().map(|r| r.send(Err(error)));
            }
            Err(error) => {
                // One bad request must not fail its neighbours: write each on its own.
                tracing::warn!(%error, size = requests.len(), "batch failed, retrying one by one");
                for (request, reply) in requests.into_iter().zip(replies) {
                    match backend.write_batch(std::slice::from_ref(&request)).await {
                        Ok(plan) => deliver(plan, vec![reply], &head),
                        Err(error) => {
                            let _ = reply.send(Err(error));
                        }
                    }
                }
            }
        }
    }
}

fn deliver(plan: BatchPlan, replies: Vec<Reply>, head: &watch::Sender<i64>) {
    advance(head, plan.new_head);
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
