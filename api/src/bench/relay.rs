//! `clustergenie bench relay`: how fast and how promptly the relay publishes the log.
//!
//! On a scratch PostgreSQL database it writes `--events` events of mixed commands, then
//! measures in one run, against librdkafka's mock cluster (the real protocol, in process;
//! a fresh cluster per measurement, so each starts from empty topics):
//! - **drain**: the relay publishing the whole backlog from position 0, against raw
//!   rdkafka producing the same messages, pre-serialised, with the same producer settings
//!   and the relay's in-flight window;
//! - **latency** at a fixed 2,000 events/s: from the commit of an append to a consumer
//!   receiving its message, against raw produce-to-consume at the same rate.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use engine::kafka::{encode, KafkaConfig, OutgoingMessage, Relay, RelayOptions};
use engine::store::{
    AppendOutcome, AppendRequest, EventFilter, EventMetadata, EventStore, NewEvent, PgEventStore,
    StreamWrite,
};
use futures::FutureExt;
use hdrhistogram::Histogram;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{DefaultProducerContext, DeliveryFuture, FutureProducer};
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::watch;

type Mock = MockCluster<'static, DefaultProducerContext>;

/// Partitions of each topic in the mock cluster.
const PARTITIONS: i32 = 6;
/// The fixed rate of the latency measurement.
const RATE: u64 = 2_000;
/// How long the consumer (and the relay) may settle before a latency measurement sends.
const WARM_UP: Duration = Duration::from_secs(2);
/// How long each latency measurement sends.
const LATENCY_SECONDS: u64 = 10;

/// Runs the whole measurement on the scratch database `url`.
pub async fn measure(url: String, events: i64) -> anyhow::Result<()> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(36)
        .connect(&url)
        .await?;
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::from_pool(pool));
    store.migrate().await?;
    let started = Instant::now();
    crate::bench::rebuild::fill(&store, events).await?;
    let head = store.head().await?;
    eprintln!(
        "wrote {head} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let messages = pre_serialise(&*store, head).await?;
    let raw = raw_drain(&messages).await?;
    drop(messages);
    let relay = relay_drain(&store, head).await?;
    let rate = |d: Duration| head as f64 / d.as_secs_f64();
    println!("# bench relay: a backlog of {head} events, mock cluster, {PARTITIONS} partitions");
    println!();
    println!("| contender | seconds | events/s |");
    println!("|---|---:|---:|");
    println!(
        "| raw rdkafka, pre-serialised | {:.2} | {:.0} |",
        raw.as_secs_f64(),
        rate(raw)
    );
    println!(
        "| ClusterGenie relay (reads the log, encodes, acknowledges) | {:.2} | {:.0} |",
        relay.as_secs_f64(),
        rate(relay)
    );
    println!();
    println!("relay / raw: {:.2}x", rate(relay) / rate(raw));

    let raw = raw_latency().await?;
    let ours = relay_latency(&store).await?;
    println!();
    println!("# latency at {RATE} events/s for {LATENCY_SECONDS} s");
    println!();
    println!("| path | samples | p50 ms | p99 ms |");
    println!("|---|---:|---:|---:|");
    for (name, h) in [
        ("raw produce -> consume", &raw),
        ("append commit -> relay -> consume", &ours),
    ] {
        println!(
            "| {name} | {} | {:.2} | {:.2} |",
            h.len(),
            ms(h, 0.5),
            ms(h, 0.99)
        );
    }
    println!();
    println!(
        "p99 difference: {:+.2} ms",
        ms(&ours, 0.99) - ms(&raw, 0.99)
    );
    Ok(())
}

fn ms(histogram: &Histogram<u64>, quantile: f64) -> f64 {
    histogram.value_at_quantile(quantile) as f64 / 1000.0
}

/// A fresh mock cluster with the event topics, and settings for it.
fn mock() -> anyhow::Result<(Mock, KafkaConfig)> {
    let mock = MockCluster::new(1)?;
    for topic in engine::kafka::topics::all_topics() {
        mock.create_topic(&topic, PARTITIONS, 1)?;
    }
    let config = KafkaConfig {
        create_topics: false,
        ..KafkaConfig::new(mock.bootstrap_servers())
    };
    Ok((mock, config))
}

async fn pre_serialise(store: &dyn EventStore, head: i64) -> anyhow::Result<Vec<OutgoingMessage>> {
    let mut messages = Vec::with_capacity(usize::try_from(head).unwrap_or(0));
    let mut after = 0;
    while after < head {
        let page = store
            .read_all(after, 10_000, &EventFilter::default())
            .await?;
        let Some(last) = page.last() else { break };
        after = last.position;
        for event in &page {
            messages.push(encode(event));
        }
    }
    Ok(messages)
}

/// Raw rdkafka: the messages handed to the producer as fast as it takes them, with the
/// relay's in-flight window (at most that many unacknowledged) and its way of settling
/// deliveries (wait for the oldest, then take every one that is ready), then every
/// delivery left awaited.
async fn raw_drain(messages: &[OutgoingMessage]) -> anyhow::Result<Duration> {
    let (_mock, config) = mock()?;
    let producer: FutureProducer = config.producer_config().create()?;
    let window = RelayOptions::default().window;
    let started = Instant::now();
    let mut pending: VecDeque<DeliveryFuture> = VecDeque::with_capacity(window);
    for message in messages {
        if pending.len() >= window {
            settle(&mut pending).await?;
        }
        let mut record = message.record();
        loop {
            match producer.send_result(record) {
                Ok(delivery) => {
                    pending.push_back(delivery);
                    break;
                }
                Err((_, back)) => {
                    record = back;
                    if pending.is_empty() {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    settle(&mut pending).await?;
                }
            }
        }
    }
    for delivery in pending {
        delivery.await?.map_err(|(e, _)| e)?;
    }
    Ok(started.elapsed())
}

/// Waits for the oldest delivery, then takes every delivery that is ready (in bulk, as
/// the relay does).
async fn settle(pending: &mut VecDeque<DeliveryFuture>) -> anyhow::Result<()> {
    if let Some(oldest) = pending.pop_front() {
        oldest.await?.map_err(|(e, _)| e)?;
    }
    while let Some(front) = pending.front_mut() {
        let Some(report) = front.now_or_never() else {
            break;
        };
        pending.pop_front();
        report?.map_err(|(e, _)| e)?;
    }
    Ok(())
}

/// The relay, from position 0 until it has acknowledged `head`.
async fn relay_drain(store: &Arc<dyn EventStore>, head: i64) -> anyhow::Result<Duration> {
    let (_mock, config) = mock()?;
    let options = RelayOptions {
        name: "bench-drain".into(),
        ..RelayOptions::default()
    };
    let (stop, stopped) = watch::channel(false);
    let started = Instant::now();
    let task = Relay::new(Arc::clone(store), config, options).spawn(stopped);
    while store.relay_position("bench-drain").await? < head {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = started.elapsed();
    let _ = stop.send(true);
    task.await?;
    Ok(took)
}

/// A consumer assigned every partition of the event topics from the beginning, polled on
/// a thread; it records when each `cg_position` (or raw sequence) arrives.
fn spawn_receiver(
    config: &KafkaConfig,
    expected: usize,
) -> anyhow::Result<std::thread::JoinHandle<HashMap<i64, Instant>>> {
    let consumer: BaseConsumer = config
        .client_config()
        .set("group.id", "bench")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "1")
        .create()?;
    let mut assignment = TopicPartitionList::new();
    for topic in engine::kafka::topics::all_topics() {
        for partition in 0..PARTITIONS {
            assignment.add_partition_offset(&topic, partition, Offset::Beginning)?;
        }
    }
    consumer.assign(&assignment)?;
    Ok(std::thread::spawn(move || {
        let mut arrived = HashMap::with_capacity(expected);
        let deadline = Instant::now() + Duration::from_secs(LATENCY_SECONDS + 60);
        while arrived.len() < expected && Instant::now() < deadline {
            let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) else {
                continue;
            };
            let now = Instant::now();
            let position = message
                .headers()
                .and_then(|h| h.iter().find(|h| h.key == "cg_position"))
                .and_then(|h| std::str::from_utf8(h.value?).ok()?.parse().ok());
            if let Some(position) = position {
                arrived.entry(position).or_insert(now);
            }
        }
        arrived
    }))
}

fn latencies(
    sent: &HashMap<i64, Instant>,
    arrived: &HashMap<i64, Instant>,
) -> anyhow::Result<Histogram<u64>> {
    let mut histogram = Histogram::<u64>::new(3)?;
    for (position, at) in sent {
        if let Some(received) = arrived.get(position) {
            let micros = received.saturating_duration_since(*at).as_micros();
            histogram.record(u64::try_from(micros).unwrap_or(u64::MAX))?;
        }
    }
    Ok(histogram)
}

/// Raw: a producer sending at the fixed rate; latency from `send` to receipt.
async fn raw_latency() -> anyhow::Result<Histogram<u64>> {
    let (_mock, config) = mock()?;
    let total = RATE * LATENCY_SECONDS;
    let receiver = spawn_receiver(&config, total as usize)?;
    let producer: FutureProducer = config.producer_config().create()?;
    tokio::time::sleep(WARM_UP).await;
    let mut sent = HashMap::new();
    let mut deliveries = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    for position in 1..=total as i64 {
        if position % (RATE as i64 / 1000) == 0 {
            tick.tick().await;
        }
        let message = encode(&sample_event(position));
        sent.insert(position, Instant::now());
        deliveries.push(producer.send_result(message.record()).map_err(|(e, _)| e)?);
    }
    for delivery in deliveries {
        delivery.await?.map_err(|(e, _)| e)?;
    }
    let arrived = tokio::task::spawn_blocking(move || receiver.join()).await?;
    latencies(
        &sent,
        &arrived.map_err(|_| anyhow::anyhow!("receiver panicked"))?,
    )
}

fn sample_event(position: i64) -> engine::store::RecordedEvent {
    engine::store::RecordedEvent {
        id: uuid::Uuid::new_v4(),
        position,
        aggregate_type: "cluster".into(),
        aggregate_id: format!("bench-{}", position % 64),
        sequence: position,
        event_type: "cluster.renamed".into(),
        schema_version: 1,
        recorded_at: Utc::now(),
        data: serde_json::json!({"name": format!("bench-{position}")}),
        metadata: EventMetadata::default(),
        hash: String::new(),
    }
}

/// Ours: 8 appenders sharing the fixed rate, the relay running; latency from the append's
/// commit (its answer) to receipt.
async fn relay_latency(store: &Arc<dyn EventStore>) -> anyhow::Result<Histogram<u64>> {
    let (_mock, config) = mock()?;
    let name = "bench-latency";
    store.acknowledge(name, store.head().await?).await?;
    let options = RelayOptions {
        name: name.into(),
        ..RelayOptions::default()
    };
    let (stop, stopped) = watch::channel(false);
    let relay = Relay::new(Arc::clone(store), config.clone(), options).spawn(stopped);
    let total = RATE * LATENCY_SECONDS;
    let sent = Arc::new(Mutex::new(HashMap::new()));
    const APPENDERS: u64 = 8;
    let mut tasks = Vec::new();
    let before = store.head().await?;
    let receiver = spawn_receiver(&config, total as usize)?;
    tokio::time::sleep(WARM_UP).await;
    for a in 0..APPENDERS {
        let (store, sent) = (Arc::clone(store), Arc::clone(&sent));
        tasks.push(tokio::spawn(async move {
            let period = Duration::from_micros(1_000_000 * APPENDERS / RATE);
            let mut tick = tokio::time::interval(period);
            for n in 0..total / APPENDERS {
                tick.tick().await;
                let position = append_one(&*store, a, n).await?;
                if let Ok(mut sent) = sent.lock() {
                    sent.insert(position, Instant::now());
                }
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let arrived = tokio::task::spawn_blocking(move || receiver.join()).await?;
    let _ = stop.send(true);
    relay.await?;
    let sent = sent
        .lock()
        .map_err(|_| anyhow::anyhow!("a sender panicked"))?
        .clone();
    let arrived = arrived.map_err(|_| anyhow::anyhow!("receiver panicked"))?;
    anyhow::ensure!(sent.keys().all(|p| *p > before), "positions after the head");
    latencies(&sent, &arrived)
}

async fn append_one(store: &dyn EventStore, appender: u64, n: u64) -> anyhow::Result<i64> {
    let request = AppendRequest {
        writes: vec![StreamWrite {
            aggregate_type: "cluster".into(),
            aggregate_id: format!("bench-latency-{appender}"),
            expected_version: n,
            events: vec![NewEvent {
                id: uuid::Uuid::now_v7(),
                event_type: "cluster.renamed".into(),
                schema_version: 1,
                data: serde_json::json!({"name": format!("l-{appender}-{n}")}),
                recorded_at: Utc::now(),
            }],
        }],
        metadata: EventMetadata::default(),
        idempotency: None,
    };
    match store.append(request).await? {
        AppendOutcome::Committed(committed) => Ok(committed.last_position()),
        other => anyhow::bail!("append not committed: {other:?}"),
    }
}
