//! `clustergenie bench`: measurements against baselines in the same run, printed as ratios.
//!
//! `append`: single-event commands ("create a cluster") per second and latency at several
//! client counts, for this engine, for cqrs-es + postgres-es doing the same command with the
//! same aggregate, and for a raw SQL insert of the same row shape (the floor). Each runs on
//! its own scratch database on the same PostgreSQL server, dropped afterwards.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use engine::commands::{CommandContext, CommandService, CreateCluster};
use engine::domain::{Cluster, ClusterCommand, ClusterId, ClusterName, Region};
use engine::store::{EventStore, PgEventStore};
use hdrhistogram::Histogram;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};

use crate::cli::{BenchArgs, BenchKind};

/// Runs the benchmark named in `args`.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.what {
        BenchKind::Append => append(&args).await,
        BenchKind::Rebuild => {
            let (events, cqrs, rounds) = (args.events, !args.without_cqrs, args.rounds);
            let measure = |url| crate::bench_rebuild::measure(url, events, cqrs, rounds);
            match &args.keep_database {
                Some(name) => measure(kept(&args.database_url, name).await?).await,
                None => with_scratch(&args.database_url, measure).await,
            }
        }
        BenchKind::Relay => {
            let events = args.events;
            with_scratch(&args.database_url, |url| {
                crate::bench_relay::measure(url, events)
            })
            .await
        }
        BenchKind::Jobs => {
            let (jobs, workers) = (args.jobs, args.clients.first().copied().unwrap_or(4));
            with_scratch(&args.database_url, |url| {
                crate::bench_jobs::measure(url, jobs, workers)
            })
            .await
        }
    }
}

/// Throughput and latency of one contender at one client count.
#[derive(Debug, Clone)]
pub struct Measurement {
    pub name: &'static str,
    pub clients: usize,
    pub ops: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

async fn append(args: &BenchArgs) -> anyhow::Result<()> {
    let duration = Duration::from_secs(args.seconds.max(1));
    println!(
        "# bench append: {} s per measurement, clients {:?}",
        duration.as_secs(),
        args.clients
    );
    println!();
    println!("| clients | contender | commands/s | p50 ms | p99 ms |");
    println!("|---:|---|---:|---:|---:|");
    let mut summary = Vec::new();
    for &clients in &args.clients {
        let raw =
            with_scratch(&args.database_url, |url| raw_insert(url, clients, duration)).await?;
        let engine = with_scratch(&args.database_url, |url| {
            engine_create(url, clients, duration)
        })
        .await?;
        let cqrs = with_scratch(&args.database_url, |url| {
            cqrs_create(url, clients, duration)
        })
        .await?;
        for m in [&raw, &engine, &cqrs] {
            println!(
                "| {} | {} | {:.0} | {:.2} | {:.2} |",
                m.clients, m.name, m.per_second, m.p50_ms, m.p99_ms
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

/// Creates a scratch database next to the one `url` names, runs `body` on it, drops it.
async fn with_scratch<T, F, Fut>(url: &str, body: F) -> anyhow::Result<T>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let name = format!("cg_bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(url)
        .await
        .context("connect to PostgreSQL")?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    let scratch = replace_database(url, &name);
    let result = body(scratch).await;
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await;
    result
}

/// The URL of database `name` next to the one `url` names, created when missing (and kept).
async fn kept(url: &str, name: &str) -> anyhow::Result<String> {
    let mut admin = PgConnection::connect(url)
        .await
        .context("connect to PostgreSQL")?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut admin)
            .await?;
    if !exists {
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
    }
    Ok(replace_database(url, name))
}

/// `url` with its database name replaced.
fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{database}?{q}"),
        None => format!("{root}/{database}"),
    }
}

/// Runs `op` from `clients` tasks for `duration`, recording each latency.
async fn drive<F, Fut>(
    name: &'static str,
    clients: usize,
    duration: Duration,
    op: F,
) -> anyhow::Result<Measurement>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let op = Arc::new(op);
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let op = Arc::clone(&op);
            tokio::spawn(async move {
                let mut histogram = Histogram::<u64>::new(3)?;
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let began = Instant::now();
                    op(client as u64 * 1_000_000_000 + n).await?;
                    histogram.record(began.elapsed().as_micros() as u64)?;
                    n += 1;
                }
                Ok::<_, anyhow::Error>(histogram)
            })
        })
        .collect();
    let mut all = Histogram::<u64>::new(3)?;
    for task in tasks {
        all.add(task.await??)?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    Ok(Measurement {
        name,
        clients,
        ops: all.len(),
        per_second: all.len() as f64 / elapsed,
        p50_ms: all.value_at_quantile(0.50) as f64 / 1000.0,
        p99_ms: all.value_at_quantile(0.99) as f64 / 1000.0,
    })
}

fn payload(id: &ClusterId) -> serde_json::Value {
    serde_json::json!({ "id": id, "name": "bench", "region": "nyc1", "provider": null })
}

fn metadata() -> serde_json::Value {
    let ctx = CommandContext::new("bench");
    serde_json::to_value(ctx.metadata()).unwrap_or_default()
}

async fn pool(url: &str, clients: usize) -> anyhow::Result<PgPool> {
    Ok(PgPoolOptions::new()
        .max_connections(clients as u32 + 2)
        .connect(url)
        .await?)
}

/// The floor: one autocommitted INSERT of a row shaped like `cg_events`.
async fn raw_insert(
    url: String,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Measurement> {
    let pool = pool(&url, clients).await?;
    sqlx::query(
        "CREATE TABLE raw_events (position BIGSERIAL PRIMARY KEY, id UUID NOT NULL UNIQUE, \
         aggregate_type TEXT NOT NULL, aggregate_id TEXT NOT NULL, sequence BIGINT NOT NULL, \
         event_type TEXT NOT NULL, schema_version INTEGER NOT NULL, recorded_at TIMESTAMPTZ NOT NULL, \
         data JSONB NOT NULL, metadata JSONB NOT NULL, hash TEXT NOT NULL, \
         UNIQUE (aggregate_type, aggregate_id, sequence))",
    )
    .execute(&pool)
    .await?;
    drive("raw insert", clients, duration, move |_| {
        let pool = pool.clone();
        async move {
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
            .bind(metadata())
            .bind("0".repeat(64))
            .execute(&pool)
            .await?;
            Ok(())
        }
    })
    .await
}

/// This engine: `CreateCluster` through the command service (one
/// event on a new stream, ordered in the global log, batched across clients).
async fn engine_create(
    url: String,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Measurement> {
    let store = PgEventStore::from_pool(pool(&url, clients).await?);
    store.migrate().await?;
    let service = CommandService::new(Arc::new(store) as Arc<dyn EventStore>);
    drive("clustergenie", clients, duration, move |_| {
        let service = service.clone();
        async move {
            let command = CreateCluster::parse("bench", "nyc1", None)?;
            service
                .execute(&CommandContext::new("bench"), &command)
                .await?;
            Ok(())
        }
    })
    .await
}

/// cqrs-es + postgres-es: the same command on the same aggregate.
async fn cqrs_create(
    url: String,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Measurement> {
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
    drive("cqrs-es + postgres-es", clients, duration, move |_| {
        let cqrs = Arc::clone(&cqrs);
        let (name, region) = (name.clone(), region);
        async move {
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
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_urls_keep_host_and_options() {
        assert_eq!(
            replace_database("postgres://u:p@h:5432/postgres?sslmode=disable", "x"),
            "postgres://u:p@h:5432/x?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://h", "x"), "postgres://h/x");
    }
}
