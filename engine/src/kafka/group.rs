//! Workers scaled out by a Kafka consumer group.
//!
//! Every worker process joins the consumer group `<client id>.workers` on the job events
//! topic (`clustergenie.events.job.v1`). The group's partition assignment says which jobs a
//! process takes care of: job `id`'s events go to partition `crc32(id) % partitions` (the
//! relay's producer places keyed messages with librdkafka's `consistent_random`
//! partitioner, pinned in [`KafkaConfig::producer_config`]), and a process starts and times
//! out only the jobs of its partitions. The work itself still comes from the log (the
//! runtime's book), so nothing is lost between a message and its processing, and there are
//! no offsets to get wrong: the group only divides the jobs. When a worker leaves or dies
//! (after the session timeout), its partitions go to the others, which time out its lost
//! attempts once their heartbeats stop and retry them.
//!
//! Joining never holds up start-up: a process whose brokers are down starts anyway, keeps
//! trying in the background and owns no job until it gets through (the jobs wait in the
//! log; processes that are in the group run them).

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::ClientContext;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{events_topic, KafkaConfig, KafkaError};
use crate::executor::ownership::Ownership;

/// The partition of a keyed message, as librdkafka's `consistent` and
/// `consistent_random` partitioners place it: CRC-32 of the key modulo the partitions.
pub fn partition_of(key: &str, partitions: i32) -> i32 {
    let partitions = u32::try_from(partitions.max(1)).unwrap_or(1);
    (crc32fast::hash(key.as_bytes()) % partitions) as i32
}

/// The jobs topic's partitions this process holds, how many the topic has (0 until the
/// process has reached the brokers and joined) and the last failure of getting there.
#[derive(Debug, Default)]
pub struct WorkerGroup {
    assigned: RwLock<BTreeSet<i32>>,
    partitions: AtomicI32,
    last_error: Mutex<Option<String>>,
}

impl WorkerGroup {
    /// The partitions assigned to this process now.
    pub fn assigned(&self) -> BTreeSet<i32> {
        self.assigned
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether the process reached the brokers and subscribed (until then it owns no job:
    /// jobs wait in the log).
    pub fn is_joined(&self) -> bool {
        self.partitions.load(Ordering::Relaxed) > 0
    }

    /// The jobs topic's partition count (0 until joined).
    pub fn partitions(&self) -> i32 {
        self.partitions.load(Ordering::Relaxed)
    }

    /// Why the last attempt to join failed (cleared once joined).
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set(&self, partitions: BTreeSet<i32>) {
        *self
            .assigned
            .write()
            .unwrap_or_else(PoisonError::into_inner) = partitions;
    }

    fn note_error(&self, error: Option<String>) {
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = error;
    }
}

impl Ownership for WorkerGroup {
    fn owns(&self, job_id: &str) -> bool {
        let partitions = self.partitions.load(Ordering::Relaxed);
        partitions > 0
            && self
                .assigned
                .read()
                .is_ok_and(|a| a.contains(&partition_of(job_id, partitions)))
    }
}

/// Follows the group's rebalances into the [`WorkerGroup`].
struct GroupContext {
    group: Arc<WorkerGroup>,
    topic: String,
}

impl ClientContext for GroupContext {}

impl ConsumerContext for GroupContext {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => {
                let mine: BTreeSet<i32> = list
                    .elements_for_topic(&self.topic)
                    .iter()
                    .map(|e| e.partition())
                    .collect();
                tracing::info!(partitions = ?mine, "worker group: partitions assigned");
                self.group.set(mine);
            }
            Rebalance::Revoke(_) => {
                tracing::info!("worker group: partitions revoked");
                self.group.set(BTreeSet::new());
            }
            Rebalance::Error(error) => tracing::warn!(%error, "worker group: rebalance failed"),
        }
    }
}

/// Joins the worker group (`group_id`) on a task, which keeps the assignment current until
/// `shutdown`, then leaves the group (its partitions go to the others at once).
///
/// Returns at once: the brokers may be down. The task keeps trying (creating the topic
/// when configured, then reading its partition count) with backoff, logging each failure,
/// and subscribes once it gets through; until then the group owns no job (see
/// [`WorkerGroup::is_joined`]). Only a configuration librdkafka refuses fails here.
pub fn join(
    config: &KafkaConfig,
    group_id: &str,
    shutdown: watch::Receiver<bool>,
) -> Result<(Arc<WorkerGroup>, JoinHandle<()>), KafkaError> {
    let topic = events_topic("job");
    let group = Arc::new(WorkerGroup::default());
    let context = GroupContext {
        group: Arc::clone(&group),
        topic: topic.clone(),
    };
    let consumer: StreamConsumer<GroupContext> = config
        .client_config()
        .set("group.id", group_id)
        .set("enable.auto.commit", "true")
        .set("auto.offset.reset", "latest")
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "1000")
        .create_with_context(context)?;
    let member = Member {
        consumer: Arc::new(consumer),
        group: Arc::clone(&group),
        config: config.clone(),
        topic,
    };
    Ok((group, tokio::spawn(member.run(shutdown))))
}

/// First wait before trying to join again, and the longest.
const JOIN_BACKOFF: (Duration, Duration) = (Duration::from_millis(500), Duration::from_secs(10));

/// The task of one process in the group.
struct Member {
    consumer: Arc<StreamConsumer<GroupContext>>,
    group: Arc<WorkerGroup>,
    config: KafkaConfig,
    topic: String,
}

impl Member {
    async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let Some(partitions) = self.reach(&mut shutdown).await else {
            return;
        };
        if let Err(error) = self.consumer.subscribe(&[&self.topic]) {
            tracing::error!(%error, "worker group: could not subscribe; this process runs no job");
            self.group.note_error(Some(error.to_string()));
            return;
        }
        self.group.partitions.store(partitions, Ordering::Relaxed);
        self.group.note_error(None);
        tracing::info!(topic = %self.topic, partitions, "worker group: joining");
        // The messages are not needed (the log is the source of work): polling keeps the
        // membership alive and runs the rebalance callbacks.
        loop {
            tokio::select! {
                received = self.consumer.recv() => {
                    if let Err(error) = received {
                        tracing::warn!(%error, "worker group: consumer error");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
        self.consumer.unsubscribe();
    }

    /// Tries until the topic's partition count is known (`None` on shutdown first).
    async fn reach(&self, shutdown: &mut watch::Receiver<bool>) -> Option<i32> {
        let mut wait = JOIN_BACKOFF.0;
        loop {
            let attempt = tokio::select! {
                attempt = self.try_reach() => attempt,
                _ = shutdown.changed() => return None,
            };
            match attempt {
                Ok(partitions) => return Some(partitions),
                Err(error) => {
                    let error = crate::error_chain(&error);
                    tracing::warn!(%error, retry_in = ?wait, "worker group: Kafka not reachable; no job runs here until it is");
                    self.group.note_error(Some(error));
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => return None,
            }
            wait = (wait * 2).min(JOIN_BACKOFF.1);
        }
    }

    async fn try_reach(&self) -> Result<i32, KafkaError> {
        if self.config.create_topics {
            super::ensure_topics(&self.config, std::slice::from_ref(&self.topic)).await?;
        }
        topic_partitions(&self.consumer, &self.topic).await
    }
}

/// The topic's partition count, from the brokers' metadata.
async fn topic_partitions(
    consumer: &Arc<StreamConsumer<GroupContext>>,
    topic: &str,
) -> Result<i32, KafkaError> {
    let client = Arc::clone(consumer);
    let name = topic.to_owned();
    let count = tokio::task::spawn_blocking(move || {
        client
            .fetch_metadata(Some(&name), Duration::from_secs(5))
            .map(|m| {
                m.topics()
                    .iter()
                    .find(|t| t.name() == name)
                    .map_or(0, |t| t.partitions().len() as i32)
            })
    })
    .await
    .map_err(|e| KafkaError::Worker(e.to_string()))??;
    if count > 0 {
        Ok(count)
    } else {
        Err(KafkaError::Worker(format!(
            "topic {topic} has no partitions"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_spread_and_stable() {
        assert_eq!(partition_of("job_1", 6), partition_of("job_1", 6));
        let used: BTreeSet<i32> = (0..200)
            .map(|i| partition_of(&format!("job_{i:032x}"), 6))
            .collect();
        assert_eq!(used, (0..6).collect());
        // CRC-32 (IEEE) of "123456789" is 0xCBF43926.
        assert_eq!(
            partition_of("123456789", i32::MAX),
            (0xCBF4_3926_u32 % i32::MAX as u32) as i32
        );
    }
}
