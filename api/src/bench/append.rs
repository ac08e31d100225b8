//! `clustergenie bench append`: single-event commands ("create a cluster") per second and
//! latency at several client counts, for this engine, for cqrs-es + postgres-es doing the
//! same command with the same aggregate, and for a raw SQL insert of the same row shape (the
//! floor).
//!
//! Each contender has its own scratch database on the same PostgreSQL server. They take
//! turns in `--rounds` short slices (the first contender of a round moves on each round),
//! so that drift on the machine (a disk whose flushes slow down for a while, a neighbour)
//! lands on all of them alike; each contender's figures add up its slices.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use engine::commands::{CommandContext, CommandService, CreateCluster};
use engine::domain::{Cluster, ClusterCommand, ClusterId, ClusterName, Region};
use engine::store::{EventLog, EventStore, PgEventStore};
use hdrhistogram::Histogram;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use crate::bench::Scratch;
use crate::cli::BenchArgs;

/// Client counts when `--clients` is not given.
pub(crate) const DEFAULT_CLIENTS: [usize; 3] = [1, 8, 32];

/// One command of a contender.
pub(crate) type Op =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>> + Send + Sync>;

/// A contender set up on its scratch database, ready to be driven.
struct Contender {
    name: &'static str,
    scratch: Scratch,
    op: Op,
    /// Latencies in microseconds, over every slice so far.
    latencies: Histogram<u64>,
    /// Time spent in its slices.
    elapsed: Duration,
}

/// Throughput and latency of one contender at one client count.
#[derive(Debug, Clone)]
struct Measurement {
    name: &'static str,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl Contender {
    fn measurement(&self) -> Measurement {
        Measurement {
            name: self.name,
            per_second: self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(1e-9),
            p50_ms: self.latencies.value_at_quantile(0.50) as f64 / 1000.0,
            p99_ms: self.latencies.value_at_quantile(0.99) as f64 / 1000.0,
        }
    }
}

/// Runs the append benchmark: every client count of `args`, the contenders taking turns.
pub async fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let total = Duration::from_secs(args.seconds.unwrap_or(5).max(1));
    let clients = args.clients_or(&DEFAULT_CLIENTS);
    let rounds = args.rounds.max(1);
    println!(
        "# bench append: {} s per contender and client count, in {rounds} turns each, clients {:?}",
        total.as_secs(),
        clients
    );
    println!();
    println!("| clients | contender | commands/s | p50 ms | p99 ms |");
    println!("|---:|---|---:|---:|---:|");
    let mut summary = Vec::new();
    for &clients in &clients {
        let [raw, engine, cqrs] = measure(&args.database_url, clients, total, rounds).await?;
        for m in [&raw, &engine, &cqrs] {
            println!(
                "| {clients} | {} | {:.0} | {:.2} | {:.2} |",
                m.name, m.per_second, m.p50_ms, m.p99_ms
            );
        }
        summary.push((
            clients,
            engine.per_second / raw.per_second,
            engine.per_second / cqrs.per_second,
        ));
    }
    println!();
    println!("| clients | engine / raw insert | engine / cqrs-es |");
    println!("|---:|---:|---:|");
    for (clients, vs_raw, vs_cqrs) in summary {
        println!("| {clients} | {vs_raw:.2}x | {vs_cqrs:.2}x |");
    }
    Ok(())
}

/// The raw insert, the engine and cqrs-es at `clients`, each for `total` in `rounds` turns.
async fn measure(
    url: &str,
    clients: usize,
    total: Duration,
    rounds: usize,
) -> anyhow::Result<[Measurement; 3]> {
    let mut contenders = Vec::new();
    for prepare in [raw_insert, engine_create, cqrs_create] {
        let scratch = Scratch::create(url).await?;
        match prepare(scratch.url.clone(), clients).await {
            Ok((name, op)) => contenders.push(Contender {
                name,
                scratch,
                op,
                latencies: Histogram::new(3)?,
                elapsed: Duration::ZERO,
            }),
            Err(error) => {
                scratch.drop_database().await;
                drop_all(contenders).await;
                return Err(error);
            }
        }
    }
    let slice = total / rounds as u32;
    let mut failed = None;
    'rounds: for round in 0..rounds {
        let n = contenders.len();
        for turn in 0..n {
            let contender = &mut contenders[(round + turn) % n];
            if let Err(error) = drive(contender, clients, slice).await {
                failed = Some(error);
                break 'rounds;
            }
        }
    }
    let measured: Vec<_> = contenders.iter().map(Contender::measurement).collect();
    drop_all(contenders).await;
    if let Some(error) = failed {
        return Err(error);
    }
    measured
        .try_into()
        .map_err(|_| anyhow::anyhow!("three contenders were set up"))
}

async fn drop_all(contenders: Vec<Contender>) {
    for contender in contenders {
        contender.scratch.drop_database().await;
    }
}

/// Runs `contender`'s command from `clients` tasks for `duration`, adding each latency and
/// the time taken to its figures.
async fn drive(
    contender: &mut Contender,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<()> {
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let op = Arc::clone(&contender.op);
            tokio::spawn(async move {
                let mut histogram = Histogram::<u64>::new(3)?;
                while Instant::now() < deadline {
                    let began = Instant::now();
                    op().await?;
                    histogram.record(began.elapsed().as_micros() as u64)?;
                }
                Ok::<_, anyhow::Error>(histogram)
            })
        })
        .collect();
    for task in tasks {
        contender.latencies.add(task.await??)?;
    }
    contender.elapsed += start.elapsed();
    Ok(())
}

fn payload(id: &ClusterId) -> serde_json::Value {
    serde_json::json!({ "id": id, "name": "bench", "region": "nyc1", "provider": null })
}

fn metadata() -> serde_json::Result<serde_json::Value> {
    let ctx = CommandContext::new("bench");
    serde_json::to_value(ctx.metadata())
}

async fn pool(url: &str, clients: usize) -> anyhow::Result<PgPool> {
    Ok(PgPoolOptions::new()
        .max_connections(clients as u32 + 2)
        .connect(url)
        .await?)
}

pub(crate) type Prepared = anyhow::Result<(&'static str, Op)>;

/// The floor: one autocommitted INSERT of a row shaped like `cg_events` (the table is
/// created when missing; `bench system` measures it again at each client count).
pub(crate) fn raw_insert(
    url: String,
    clients: usize,
) -> Pin<Box<dyn Future<Output = Prepared> + Send>> {
    Box::pin(async move {
        let pool = pool(&url, clients).await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS raw_events (position BIGSERIAL PRIMARY KEY, id UUID NOT NULL UNIQUE, \
             aggregate_type TEXT NOT NULL, aggregate_id TEXT NOT NULL, sequence BIGINT NOT NULL, \
             event_type TEXT NOT NULL, schema_version INTEGER NOT NULL, recorded_at TIMESTAMPTZ NOT NULL, \
             data JSONB NOT NULL, metadata JSONB NOT NULL, hash TEXT NOT NULL, \
             UNIQUE (aggregate_type, aggregate_id, sequence))",
        )
        .execute(&pool)
        .await?;
        let op: Op = Arc::new(move || {
            let pool = pool.clone();
            Box::pin(async move {
                let id = ClusterId::new();
                sqlx::query(
                    "INSERT INTO raw_events (id, aggregate_type, aggregate_id, sequence, event_type, \
                     schema_version, recorded_at, data, metadata, hash) \
                     VALUES ($1, 'cluster', $2, 1, 'cluster.created', 1, $3, $4, $5, $6)",
                )
                .bind(uuid::Uuid::now_v7())
                .bind(id.as_str())
                .bind(Utc::now())
                .bind(payload(&id))
                .bind(metadata()?)
                .bind("0".repeat(64))
                .execute(&pool)
                .await?;
                Ok(())
            })
        });
        Ok(("raw insert", op))
    })
}

/// This engine: `CreateCluster` through the command service (one event on a new stream,
/// ordered in the global log, batched across clients).
fn engine_create(url: String, clients: usize) -> Pin<Box<dyn Future<Output = Prepared> + Send>> {
    Box::pin(async move {
        let store = PgEventStore::from_pool(pool(&url, clients).await?);
        store.migrate().await?;
        let service = CommandService::new(Arc::new(store) as Arc<dyn EventStore>);
        let op: Op = Arc::new(move || {
            let service = service.clone();
            Box::pin(async move {
                let command = CreateCluster::parse("bench", "nyc1", None)?;
                service
                    .execute(&CommandContext::new("bench"), &command)
                    .await?;
                Ok(())
            })
        });
        Ok(("clustergenie", op))
    })
}

/// cqrs-es + postgres-es: the same command on the same aggregate.
fn cqrs_create(url: String, clients: usize) -> Pin<Box<dyn Future<Output = Prepared> + Send>> {
    Box::pin(async move {
        let pool = pool(&url, clients).await?;
        for statement in [
            "CREATE TABLE events (aggregate_type text NOT NULL, aggregate_id text NOT NULL, \
             sequence bigint CHECK (sequence >= 0) NOT NULL, event_type text NOT NULL, \
             event_version text NOT NULL, payload json NOT NULL, metadata json NOT NULL, \
             PRIMARY KEY (aggregate_type, aggregate_id, sequence))",
            "CREATE TABLE snapshots (aggregate_type text NOT NULL, aggregate_id text NOT NULL, \
             last_sequence bigint CHECK (last_sequence >= 0) NOT NULL, \
             current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL, payload json NOT NULL, \
             PRIMARY KEY (aggregate_type, aggregate_id, last_sequence))",
        ] {
            sqlx::query(statement).execute(&pool).await?;
        }
        let cqrs = Arc::new(postgres_es::postgres_cqrs::<Cluster>(pool, vec![], ()));
        let name = ClusterName::parse("bench")?;
        let region = Region::parse("nyc1")?;
        let op: Op = Arc::new(move || {
            let cqrs = Arc::clone(&cqrs);
            let (name, region) = (name.clone(), region);
            Box::pin(async move {
                let id = ClusterId::new();
                let ctx = CommandContext::new("bench").metadata();
                let metadata = HashMap::from([
                    ("actor".to_owned(), ctx.actor),
                    ("correlation_id".to_owned(), ctx.correlation_id),
                    ("causation_id".to_owned(), ctx.causation_id),
                    ("traceparent".to_owned(), ctx.traceparent),
                ]);
                let command = ClusterCommand::CreateCluster {
                    id: id.clone(),
                    name,
                    region,
                    provider: None,
                };
                cqrs.execute_with_metadata(id.as_str(), command, metadata)
                    .await
                    .map_err(|e| anyhow::anyhow!("cqrs-es: {e}"))?;
                Ok(())
            })
        });
        Ok(("cqrs-es + postgres-es", op))
    })
}
