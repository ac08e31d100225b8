//! The command service: load, decide (pure), append with optimistic concurrency, retry.
//!
//! Every command goes through [`CommandService::execute`]: an idempotency key seen before
//! replays the first answer; otherwise the [`Command`] loads what it needs and returns a
//! [`Decision`]; the decision's events and idempotency record are
//! appended in one transaction. A concurrency conflict re-runs the attempt against the
//! new state (bounded), so no concurrent update is ever lost.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use cqrs_es::{Aggregate, DomainEvent};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::{CommandContext, CommandError, Folds};
use crate::domain::event_parts;
use crate::domain::{
    Autoscaler, Cluster, Diagnosis, Droplet, Job, JobType, ProviderConfig, RateLimitRule,
};
use crate::fold::Loaded;
use crate::policies::Policies;
use crate::store::{
    AppendOutcome, AppendRequest, EventStore, IdempotencyRecord, IdempotencyWrite, NewEvent,
    RecordedEvent, ReplyKind, Snapshot, StoreError, StreamWrite,
};

/// How often a command is re-decided after a concurrency conflict before giving up.
pub const MAX_ATTEMPTS: usize = 16;

/// Events between two snapshots of a stream, by default.
pub const DEFAULT_SNAPSHOT_EVERY: u64 = 100;

/// What one attempt of a command decided.
#[derive(Debug)]
pub struct Decision<T> {
    /// Events per stream, each guarded by the version the decision read.
    pub writes: Vec<StreamWrite>,
    /// The command's answer (serialised into the idempotency record).
    pub value: T,
    /// What kind of answer `value` is (created, accepted, done).
    pub kind: ReplyKind,
    /// The position to report when the command appends nothing (a no-op).
    pub unchanged_position: i64,
}

/// The answer to a command.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply<T> {
    /// The command ran now.
    Fresh {
        value: T,
        kind: ReplyKind,
        position: i64,
    },
    /// The idempotency key was seen before: the first answer.
    Replayed {
        kind: ReplyKind,
        body: Value,
        position: i64,
    },
}

impl<T> Reply<T> {
    /// The log position to report.
    pub fn position(&self) -> i64 {
        match self {
            Self::Fresh { position, .. } | Self::Replayed { position, .. } => *position,
        }
    }

    /// The value of a fresh reply.
    pub fn fresh(self) -> Option<T> {
        match self {
            Self::Fresh { value, .. } => Some(value),
            Self::Replayed { .. } => None,
        }
    }
}

/// Runs commands against the event store.
#[derive(Clone)]
pub struct CommandService {
    store: Arc<dyn EventStore>,
    lanes: Arc<Lanes>,
    folds: Arc<Folds>,
    snapshot_every: u64,
    policies: Arc<Policies>,
}

impl CommandService {
    /// A service over `store`.
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        Self {
            store,
            lanes: Arc::default(),
            folds: Arc::default(),
            snapshot_every: DEFAULT_SNAPSHOT_EVERY,
            policies: Arc::default(),
        }
    }

    /// Snapshots a stream each time it crosses a multiple of `n` events (0: never).
    pub fn with_snapshot_every(mut self, n: u64) -> Self {
        self.snapshot_every = n;
        self
    }

    /// New jobs get their type's `max_attempts` from `policies` (default: the types'
    /// default policies).
    pub fn with_policies(mut self, policies: Policies) -> Self {
        self.policies = Arc::new(policies);
        self
    }

    /// The attempts a new job of `job_type` may make.
    pub fn max_attempts(&self, job_type: JobType) -> u32 {
        self.policies.get(job_type).max_attempts
    }

    /// The job policies new jobs are created under (the runtime runs them by the same).
    pub fn policies(&self) -> &Policies {
        &self.policies
    }

    /// The store commands are appended to.
    pub fn store(&self) -> &Arc<dyn EventStore> {
        &self.store
    }

    /// Runs one command: idempotency check, decide, append, retry on conflict.
    pub async fn execute<C: Command>(
        &self,
        ctx: &CommandContext,
        command: &C,
    ) -> Result<Reply<C::Output>, CommandError> {
        if let Some(idem) = &ctx.idempotency {
            if let Some(record) = self.store.idempotency(&idem.key).await? {
                return replay(record, &idem.fingerprint);
            }
        }
        // After a first conflict, retries on the same stream queue in one lane per stream
        // (in this process) instead of stampeding: each retry then races only with the
        // few first attempts of the moment, not with every other retry.
        let mut lane = None;
        for round in 0..MAX_ATTEMPTS {
            let decision = command.decide(self).await?;
            let writes: Vec<StreamWrite> = decision
                .writes
                .into_iter()
                .filter(|w| !w.events.is_empty())
                .collect();
            if writes.is_empty() {
                return Ok(Reply::Fresh {
                    value: decision.value,
                    kind: decision.kind,
                    position: decision.unchanged_position,
                });
            }
            let idempotency = match &ctx.idempotency {
                Some(idem) => Some(IdempotencyWrite {
                    key: idem.key.clone(),
                    fingerprint: idem.fingerprint.clone(),
                    kind: decision.kind,
                    body: serde_json::to_value(&decision.value)?,
                }),
                None => None,
            };
            if lane.is_none() {
                // A stream another command is retrying on: queue behind it rather than
                // race it, or a steady stream of first attempts could starve the retrier.
                let busy = writes.iter().find_map(|w| {
                    self.lanes
                        .busy(&format!("{}/{}", w.aggregate_type, w.aggregate_id))
                });
                if let Some(busy) = busy {
                    lane = Some(busy.lock_owned().await);
                    continue;
                }
            }
            let request = AppendRequest {
                writes,
                metadata: ctx.metadata(),
                idempotency,
            };
            match self.store.append(request).await {
                Ok(AppendOutcome::Committed(committed)) => {
                    self.snapshot_crossed(&committed.events).await;
                    return Ok(Reply::Fresh {
                        value: decision.value,
                        kind: decision.kind,
                        position: committed.last_position(),
                    });
                }
                Ok(AppendOutcome::Duplicate(record)) => {
                    let fingerprint = ctx
                        .idempotency
                        .as_ref()
                        .map(|i| i.fingerprint.as_str())
                        .unwrap_or("");
                    return replay(record, fingerprint);
                }
                Err(StoreError::Conflict {
                    aggregate_type,
                    aggregate_id,
                    actual,
                    ..
                }) => {
                    tracing::debug!(
                        round,
                        aggregate_type,
                        aggregate_id,
                        "concurrency conflict, deciding again"
                    );
                    self.folds.outdated(&aggregate_type, &aggregate_id, actual);
                    if lane.is_none() {
                        let key = format!("{aggregate_type}/{aggregate_id}");
                        lane = Some(self.lanes.lane(&key).lock_owned().await);
                    } else {
                        backoff(round).await;
                    }
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(CommandError::Contention)
    }

    /// Loads aggregate `A` at the log's head (see [`Folds::load`]).
    pub async fn load<A>(&self, id: &str) -> Result<Loaded<A>, CommandError>
    where
        A: Aggregate + Clone + 'static,
    {
        Ok(self.folds.load(&*self.store, id).await?)
    }
}

/// A command: loads what it needs through the service, then decides (purely).
///
/// `decide` may run several times: after a concurrency conflict it runs again against the
/// new state. Ids of things it creates are chosen when the command is built, so every run
/// decides about the same ids.
pub trait Command: Sync {
    /// The command's answer.
    type Output: Serialize + Send;

    /// Loads and decides.
    fn decide(
        &self,
        service: &CommandService,
    ) -> impl Future<Output = Result<Decision<Self::Output>, CommandError>> + Send;
}

impl CommandService {
    /// Snapshots every stream whose new events crossed a multiple of the interval. Best
    /// effort: a failed snapshot is logged and the next crossing tries again.
    async fn snapshot_crossed(&self, events: &[RecordedEvent]) {
        let n = self.snapshot_every as i64;
        if n == 0 {
            return;
        }
        let mut crossed: Vec<(&str, &str)> = events
            .iter()
            .filter(|e| e.sequence % n == 0)
            .map(|e| (e.aggregate_type.as_str(), e.aggregate_id.as_str()))
            .collect();
        crossed.dedup();
        for (aggregate_type, aggregate_id) in crossed {
            let saved = match aggregate_type {
                "cluster" => self.snapshot::<Cluster>(aggregate_id).await,
                "droplet" => self.snapshot::<Droplet>(aggregate_id).await,
                "job" => self.snapshot::<Job>(aggregate_id).await,
                "diagnosis" => self.snapshot::<Diagnosis>(aggregate_id).await,
                "deployment" => {
                    self.snapshot::<crate::domain::Deployment>(aggregate_id)
                        .await
                }
                "provider" => self.snapshot::<ProviderConfig>(aggregate_id).await,
                "ratelimit_rule" => self.snapshot::<RateLimitRule>(aggregate_id).await,
                "autoscaler" => self.snapshot::<Autoscaler>(aggregate_id).await,
                _ => Ok(()),
            };
            if let Err(error) = saved {
                tracing::warn!(aggregate_type, aggregate_id, %error, "snapshot failed");
            }
        }
    }

    async fn snapshot<A: Aggregate + Clone + 'static>(&self, id: &str) -> Result<(), CommandError> {
        let loaded = self.load::<A>(id).await?;
        let snapshot = Snapshot {
            aggregate_type: A::TYPE.to_owned(),
            aggregate_id: id.to_owned(),
            version: loaded.version as i64,
            position: loaded.last_position,
            state: serde_json::to_string(&loaded)?,
        };
        Ok(self.store.save_snapshot(&snapshot).await?)
    }
}

/// One async mutex per contended stream; entries nobody holds are dropped as new ones come.
#[derive(Default)]
struct Lanes {
    lanes: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Lanes {
    fn lane(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let Ok(mut lanes) = self.lanes.lock() else {
            return Arc::default();
        };
        if lanes.len() > 1024 {
            lanes.retain(|_, lane| Arc::strong_count(lane) > 1);
        }
        Arc::clone(lanes.entry(key.to_owned()).or_default())
    }

    /// The lane of `key` while a command holds it (one is retrying on that stream).
    fn busy(&self, key: &str) -> Option<Arc<tokio::sync::Mutex<()>>> {
        let lane = Arc::clone(self.lanes.lock().ok()?.get(key)?);
        let busy = lane.try_lock().is_err();
        busy.then_some(lane)
    }
}

fn replay<T>(record: IdempotencyRecord, fingerprint: &str) -> Result<Reply<T>, CommandError> {
    if record.fingerprint != fingerprint {
        return Err(CommandError::IdempotencyMismatch(record.key));
    }
    Ok(Reply::Replayed {
        kind: record.kind,
        body: record.body,
        position: record.position,
    })
}

async fn backoff(round: usize) {
    let jitter = u64::from(Uuid::new_v4().as_bytes()[0] % 4);
    let millis = (1u64 << round.min(5)) + jitter;
    tokio::time::sleep(Duration::from_millis(millis)).await;
}

/// Turns decided events into a guarded write on aggregate `A`'s stream.
pub fn stream_write<A: Aggregate>(
    aggregate_id: &str,
    expected_version: u64,
    events: &[A::Event],
    at: DateTime<Utc>,
) -> Result<StreamWrite, CommandError> {
    let events = events
        .iter()
        .map(|event| {
            let (event_type, data) = event_parts(event)?;
            Ok(NewEvent {
                id: Uuid::now_v7(),
                event_type,
                schema_version: event.event_version().parse().unwrap_or(1),
                data,
                recorded_at: at,
            })
        })
        .collect::<Result<Vec<_>, CommandError>>()?;
    Ok(StreamWrite {
        aggregate_type: A::TYPE.to_owned(),
        aggregate_id: aggregate_id.to_owned(),
        expected_version,
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::Lanes;

    #[tokio::test]
    async fn a_lane_is_busy_only_while_held() {
        let lanes = Lanes::default();
        assert!(lanes.busy("cluster/cl_1").is_none(), "no lane yet");
        let held = lanes.lane("cluster/cl_1").lock_owned().await;
        let busy = lanes.busy("cluster/cl_1").expect("held by a retrier");
        assert!(lanes.busy("cluster/cl_2").is_none(), "lanes are per stream");
        drop(held);
        // A command that queued on the busy lane gets it once the retrier is done.
        let queued = tokio::time::timeout(std::time::Duration::from_secs(5), busy.lock_owned())
            .await
            .expect("the lane is free");
        drop(queued);
        assert!(lanes.busy("cluster/cl_1").is_none(), "free again");
    }
}
