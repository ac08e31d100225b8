//! The outbox relay: publishes the log to Kafka in position order, at least once.
//!
//! The log is the outbox (docs/architecture.md): the relay keeps one acknowledged position
//! in the store, reads every event after it, hands the messages to an idempotent producer
//! (which neither duplicates nor reorders a partition's messages on its own retries) and
//! moves the position forward only over messages the broker acknowledged, in order. So:
//!
//! - a broker that is down makes the relay wait (the producer has no message timeout) while
//!   commands keep being accepted; the backlog is `head - acknowledged`;
//! - a relay that dies resumes from its acknowledged position: duplicates are possible
//!   (consumers dedupe on `ce_id`), gaps are not;
//! - a delivery that fails for good (a message the broker refuses) stops the relay at that
//!   position, retried with backoff and reported, never skipped.
//!
//! Only the holder of the store lease named after the relay publishes; the others wait and
//! take over when its lease expires (a process that dies stops renewing it).

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::FutureExt;
use rdkafka::producer::{DeliveryFuture, FutureProducer};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::message::encode_published;
use super::topics::all_topics;
use super::{ensure_topics, KafkaConfig, KafkaError, OutgoingMessage};
use crate::error_chain;
use crate::store::{EventStore, PublishedEvent, StoreError};

/// The name the server's relay keeps its position and lease under.
pub const RELAY_NAME: &str = "kafka";

/// How the relay paces itself.
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// The relay's name: its acknowledged position and its lease are kept under it.
    pub name: String,
    /// Who this process is, as the lease records it.
    pub holder: String,
    /// Messages handed to the producer and not yet acknowledged, at most.
    pub window: usize,
    /// Events read from the log at once, at most.
    pub page: i64,
    /// How long a lease lasts without renewal (renewed every third of it).
    pub lease_ttl: Duration,
    /// How often an idle relay looks for events another process appended.
    pub idle_poll: Duration,
    /// Wait after a failure before starting again from the acknowledged position.
    pub retry_backoff: Duration,
    /// How often the acknowledged position is written while messages keep flowing.
    pub ack_interval: Duration,
    /// How long a stopping relay waits for its in-flight messages.
    pub drain_timeout: Duration,
}

impl Default for RelayOptions {
    fn default() -> Self {
        Self {
            name: RELAY_NAME.into(),
            holder: format!("relay-{}", uuid::Uuid::new_v4()),
            window: 10_000,
            page: 1_000,
            lease_ttl: Duration::from_secs(10),
            idle_poll: Duration::from_millis(500),
            retry_backoff: Duration::from_secs(1),
            ack_interval: Duration::from_millis(100),
            drain_timeout: Duration::from_secs(5),
        }
    }
}

/// What the relay has done, for metrics and status.
#[derive(Debug, Default)]
pub struct RelayStats {
    leader: AtomicBool,
    lease_requests: AtomicU64,
    handed_over: AtomicI64,
    acknowledged: AtomicI64,
    published: AtomicU64,
    failures: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl RelayStats {
    /// Whether this process holds the lease and publishes.
    pub fn is_leader(&self) -> bool {
        self.leader.load(Ordering::Relaxed)
    }

    /// Times this process asked the store for the lease (to take it or to renew it),
    /// granted or not.
    pub fn lease_requests(&self) -> u64 {
        self.lease_requests.load(Ordering::Relaxed)
    }

    /// The last position handed to the producer (in flight until the broker acknowledges
    /// it).
    pub fn handed_over(&self) -> i64 {
        self.handed_over.load(Ordering::Relaxed)
    }

    /// The last position the broker acknowledged, as this process last saw it.
    pub fn acknowledged(&self) -> i64 {
        self.acknowledged.load(Ordering::Relaxed)
    }

    /// Messages the broker acknowledged since start.
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }

    /// Failures since start (each followed by a restart from the acknowledged position).
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// The last failure, with its causes.
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn fail(&self, error: &KafkaError) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(error_chain(error));
    }
}

/// Why publishing stopped without an error.
enum Stop {
    Shutdown,
    LeaseLost,
}

/// The relay; [`Relay::spawn`] runs it until shutdown.
pub struct Relay {
    store: Arc<dyn EventStore>,
    config: KafkaConfig,
    options: RelayOptions,
    stats: Arc<RelayStats>,
}

impl Relay {
    /// A relay from `store` to the brokers of `config`.
    pub fn new(store: Arc<dyn EventStore>, config: KafkaConfig, options: RelayOptions) -> Self {
        Self {
            store,
            config,
            options,
            stats: Arc::new(RelayStats::default()),
        }
    }

    /// Its statistics, shared with whoever reports them.
    pub fn stats(&self) -> Arc<RelayStats> {
        Arc::clone(&self.stats)
    }

    /// Runs the relay on a task until `shutdown` turns true.
    pub fn spawn(self, shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(self.run(shutdown))
    }

    /// Waits for the lease, publishes while holding it, starts again after a failure.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                break;
            }
            match self.lead(&mut shutdown).await {
                Ok(Stop::Shutdown) => break,
                Ok(Stop::LeaseLost) => {
                    tracing::warn!(relay = %self.options.name, "relay lease lost; waiting to take it again");
                }
                Err(error) => {
                    self.stats.fail(&error);
                    tracing::error!(relay = %self.options.name, error = %error_chain(&error), "relay failed; starting again from the acknowledged position");
                    if sleep_or_shutdown(self.options.retry_backoff, &mut shutdown).await {
                        break;
                    }
                }
            }
        }
        self.stats.leader.store(false, Ordering::Relaxed);
        let released = self
            .store
            .release_lease(&self.options.name, &self.options.holder)
            .await;
        if let Err(error) = released {
            tracing::warn!(error = %error, "could not release the relay lease");
        }
    }

    /// Takes the lease (waiting for it), then publishes until shutdown or lease loss.
    async fn lead(&self, shutdown: &mut watch::Receiver<bool>) -> Result<Stop, KafkaError> {
        while !self.renew().await? {
            if sleep_or_shutdown(self.options.lease_ttl / 3, shutdown).await {
                return Ok(Stop::Shutdown);
            }
        }
        let renewed_at = Instant::now();
        tracing::info!(relay = %self.options.name, holder = %self.options.holder, "relay lease taken; publishing");
        self.stats.leader.store(true, Ordering::Relaxed);
        let result = self.publish(renewed_at, shutdown).await;
        self.stats.leader.store(false, Ordering::Relaxed);
        result
    }

    /// Creates the topics (renewing the lease meanwhile), then publishes with a new
    /// producer.
    async fn publish(
        &self,
        mut renewed_at: Instant,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Stop, KafkaError> {
        if let Some(stop) = self
            .create_topics_leased(&all_topics(), &mut renewed_at, shutdown)
            .await?
        {
            return Ok(stop);
        }
        let producer: FutureProducer = self.config.producer_config().create()?;
        let mut publisher = Publisher::new(self, producer, shutdown.clone());
        publisher.renewed_at = renewed_at;
        publisher.publish(shutdown).await
    }

    /// Creates missing topics when configured (see [`Relay::create_topics`]) while keeping
    /// the lease: creation may take longer than the lease lasts (up to its 30 s timeout, or
    /// more while the broker is down), so the lease is renewed on time meanwhile. Returns
    /// why publishing must stop when the lease was lost or shutdown came first.
    async fn create_topics_leased(
        &self,
        topics: &[String],
        renewed_at: &mut Instant,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Option<Stop>, KafkaError> {
        if !self.config.create_topics {
            return Ok(None);
        }
        let creation = self.create_topics(topics);
        tokio::pin!(creation);
        loop {
            let due = (self.options.lease_ttl / 3).saturating_sub(renewed_at.elapsed());
            tokio::select! {
                () = &mut creation => return Ok(None),
                () = tokio::time::sleep(due) => {
                    if !self.renew().await? {
                        return Ok(Some(Stop::LeaseLost));
                    }
                    *renewed_at = Instant::now();
                }
                _ = shutdown.changed() => return Ok(Some(Stop::Shutdown)),
            }
        }
    }

    /// Creates missing topics; a failure is logged, not fatal: the producer still waits
    /// for a broker that is down, and a broker that creates topics on first use needs none.
    async fn create_topics(&self, topics: &[String]) {
        if let Err(error) = ensure_topics(&self.config, topics).await {
            tracing::warn!(error = %error_chain(&error), "could not create the Kafka topics; publishing anyway");
        }
    }

    async fn renew(&self) -> Result<bool, KafkaError> {
        let options = &self.options;
        self.stats.lease_requests.fetch_add(1, Ordering::Relaxed);
        Ok(self
            .store
            .acquire_lease(&options.name, &options.holder, options.lease_ttl)
            .await?)
    }
}

/// One term of publishing: the producer, the messages in flight and the positions.
struct Publisher<'r> {
    relay: &'r Relay,
    producer: FutureProducer,
    /// Why publishing must stop, when creating a topic met lease loss or shutdown.
    stop: Option<Stop>,
    /// Shutdown, as topic creation in the middle of a page watches it.
    shutdown: watch::Receiver<bool>,
    in_flight: VecDeque<(i64, DeliveryFuture)>,
    topics: HashSet<String>,
    /// Last position handed to the producer.
    next: i64,
    /// Last position the broker acknowledged (all before it too).
    acknowledged: i64,
    /// Last position written to the store.
    written: i64,
    written_at: Instant,
    renewed_at: Instant,
}

impl<'r> Publisher<'r> {
    fn new(relay: &'r Relay, producer: FutureProducer, shutdown: watch::Receiver<bool>) -> Self {
        Self {
            relay,
            producer,
            stop: None,
            shutdown,
            in_flight: VecDeque::new(),
            topics: all_topics().into_iter().collect(),
            next: 0,
            acknowledged: 0,
            written: 0,
            written_at: Instant::now(),
            renewed_at: Instant::now(),
        }
    }

    async fn publish(mut self, shutdown: &mut watch::Receiver<bool>) -> Result<Stop, KafkaError> {
        let relay = self.relay;
        let start = relay.store.relay_position(&relay.options.name).await?;
        (self.next, self.acknowledged, self.written) = (start, start, start);
        relay.stats.acknowledged.store(start, Ordering::Relaxed);
        let (pages, reader) = spawn_reader(Arc::clone(&relay.store), start, relay.options.clone());
        let result = self.pump(pages, shutdown).await;
        reader.abort();
        result
    }

    /// Hands pages to the producer and settles deliveries until shutdown or lease loss.
    async fn pump(
        &mut self,
        mut pages: mpsc::Receiver<Result<Vec<PublishedEvent>, StoreError>>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Stop, KafkaError> {
        let relay = self.relay;
        loop {
            match self.stop.take() {
                Some(Stop::LeaseLost) => return Ok(Stop::LeaseLost),
                Some(Stop::Shutdown) => {
                    self.drain().await;
                    self.write_acknowledged(true).await?;
                    return Ok(Stop::Shutdown);
                }
                None => {}
            }
            if self.renewed_at.elapsed() >= relay.options.lease_ttl / 3 {
                if !relay.renew().await? {
                    return Ok(Stop::LeaseLost);
                }
                self.renewed_at = Instant::now();
            }
            while self.in_flight.len() < relay.options.window {
                match pages.try_recv() {
                    Ok(page) => self.hand_over(page?).await?,
                    Err(_) => break,
                }
            }
            let stopping = if self.in_flight.is_empty() {
                self.idle(&mut pages, shutdown).await?
            } else {
                self.settle(&mut pages, shutdown).await?
            };
            if stopping {
                self.drain().await;
                self.write_acknowledged(true).await?;
                return Ok(Stop::Shutdown);
            }
            self.write_acknowledged(false).await?;
        }
    }

    /// Hands a page of events to the producer.
    async fn hand_over(&mut self, events: Vec<PublishedEvent>) -> Result<(), KafkaError> {
        for event in events {
            let message = encode_published(event);
            self.ensure_topic(&message.topic).await?;
            if self.stop.is_some() {
                // Not handed over: the reader starts again after the acknowledged position.
                return Ok(());
            }
            let delivery = self.send(&message)?;
            self.in_flight.push_back((message.position, delivery));
            self.next = message.position;
            self.relay
                .stats
                .handed_over
                .store(message.position, Ordering::Relaxed);
        }
        Ok(())
    }

    fn send(&self, message: &OutgoingMessage) -> Result<DeliveryFuture, KafkaError> {
        self.producer
            .send_result(message.record())
            .map_err(|(error, _)| KafkaError::Client(error))
    }

    /// Creates the topic of an aggregate type met for the first time (keeping the lease).
    async fn ensure_topic(&mut self, topic: &str) -> Result<(), KafkaError> {
        if !self.topics.contains(topic) {
            let topics = [topic.to_owned()];
            let (renewed_at, shutdown) = (&mut self.renewed_at, &mut self.shutdown);
            self.stop = self
                .relay
                .create_topics_leased(&topics, renewed_at, shutdown)
                .await?;
            if self.stop.is_none() {
                self.topics.insert(topic.to_owned());
            }
        }
        Ok(())
    }

    /// Nothing in flight: waits for the next page (handing it over) or shutdown (`true`).
    async fn idle(
        &mut self,
        pages: &mut mpsc::Receiver<Result<Vec<PublishedEvent>, StoreError>>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<bool, KafkaError> {
        let tick = self.relay.options.lease_ttl / 6;
        tokio::select! {
            page = pages.recv() => match page {
                Some(page) => self.hand_over(page?).await.map(|()| false),
                None => Ok(false),
            },
            _ = tokio::time::sleep(tick) => Ok(false),
            _ = shutdown.changed() => Ok(true),
        }
    }

    /// Waits for the oldest message in flight (bounded, so the lease is renewed in time)
    /// and takes every acknowledgement that is ready; `true` on shutdown.
    async fn settle(
        &mut self,
        pages: &mut mpsc::Receiver<Result<Vec<PublishedEvent>, StoreError>>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<bool, KafkaError> {
        let tick = self.relay.options.lease_ttl / 6;
        let room = self.in_flight.len() < self.relay.options.window;
        let Some((_, front)) = self.in_flight.front_mut() else {
            return Ok(false);
        };
        // A page that arrives meanwhile goes to the producer at once: new events never
        // wait for the delivery of older ones. Deliveries that are ready come first, so
        // they are settled in bulk below.
        let report = tokio::select! {
            biased;
            report = front => report,
            Some(page) = pages.recv(), if room => {
                self.hand_over(page?).await?;
                return Ok(false);
            }
            _ = tokio::time::sleep(tick) => return Ok(false),
            _ = shutdown.changed() => return Ok(true),
        };
        self.take_front(report)?;
        while let Some((_, front)) = self.in_flight.front_mut() {
            match front.now_or_never() {
                Some(report) => self.take_front(report)?,
                None => break,
            }
        }
        Ok(false)
    }

    fn take_front(
        &mut self,
        report: Result<
            rdkafka::producer::future_producer::OwnedDeliveryResult,
            futures::channel::oneshot::Canceled,
        >,
    ) -> Result<(), KafkaError> {
        let Some((position, _)) = self.in_flight.pop_front() else {
            return Ok(());
        };
        match report {
            Ok(Ok(_)) => {
                self.acknowledged = position;
                self.relay.stats.published.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Ok(Err((source, _))) => Err(KafkaError::Delivery { position, source }),
            Err(_) => Err(KafkaError::DeliveryLost(position)),
        }
    }

    /// On shutdown: waits (bounded) for the messages in flight to be acknowledged.
    async fn drain(&mut self) {
        let deadline = Instant::now() + self.relay.options.drain_timeout;
        while let Some((_, front)) = self.in_flight.front_mut() {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(report) = tokio::time::timeout(left, front).await else {
                break;
            };
            if self.take_front(report).is_err() {
                break;
            }
        }
    }

    /// Writes the acknowledged position when it moved and it is time (or `now`).
    async fn write_acknowledged(&mut self, now: bool) -> Result<(), KafkaError> {
        let due = now
            || self.in_flight.is_empty()
            || self.written_at.elapsed() >= self.relay.options.ack_interval;
        if self.acknowledged > self.written && due {
            let relay = self.relay;
            relay
                .store
                .acknowledge(&relay.options.name, self.acknowledged)
                .await?;
            self.written = self.acknowledged;
            self.written_at = Instant::now();
            relay
                .stats
                .acknowledged
                .store(self.acknowledged, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// Pages read ahead of the producer, at most.
const PAGES_AHEAD: usize = 4;

/// Reads the log after `after` page by page into a bounded channel, so reading overlaps
/// publishing; waits for new events when caught up. Ends on the first error (sent on).
fn spawn_reader(
    store: Arc<dyn EventStore>,
    mut after: i64,
    options: RelayOptions,
) -> (
    mpsc::Receiver<Result<Vec<PublishedEvent>, StoreError>>,
    JoinHandle<()>,
) {
    let (tx, rx) = mpsc::channel(PAGES_AHEAD);
    let task = tokio::spawn(async move {
        let mut head = store.watch_head();
        loop {
            let page = store.read_for_publishing(after, options.page).await;
            match page {
                Ok(page) if page.is_empty() => {
                    tokio::select! {
                        _ = head.changed() => {}
                        _ = tokio::time::sleep(options.idle_poll) => {}
                    }
                }
                Ok(page) => {
                    after = page.last().map_or(after, |e| e.position);
                    if tx.send(Ok(page)).await.is_err() {
                        return;
                    }
                }
                Err(error) => {
                    let _ = tx.send(Err(error)).await;
                    return;
                }
            }
        }
    });
    (rx, task)
}

/// Sleeps, or returns `true` early when shutdown is signalled.
async fn sleep_or_shutdown(duration: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    if *shutdown.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(duration) => false,
        _ = shutdown.changed() => true,
    }
}
