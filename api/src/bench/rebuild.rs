//! `clustergenie bench rebuild`: how fast the read models are rebuilt from the log.
//!
//! On a scratch PostgreSQL database (or a kept one, `--keep-database`, whose log is reused
//! when it is long enough) it writes `--events` events of mixed commands through
//! the engine (clusters created and renamed, droplets created with their provisioning
//! jobs), then measures, in one run on the same data:
//! - **COPY**: `COPY (SELECT … FROM cg_events ORDER BY position) TO STDOUT`, the rate at
//!   which PostgreSQL can merely hand the log out (the ceiling for any rebuild);
//! - **ClusterGenie**: one pass building the cluster, droplet and job models from position 0
//!   into a scratch schema (`clustergenie replay`, the same code a rebuild runs);
//! - **cqrs-es**: `QueryReplay::replay_all` of the same events (copied into postgres-es's
//!   `events` table) into postgres-es views that fold the same aggregates.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cqrs_es::persist::{GenericQuery, QueryReplay};
use cqrs_es::{Aggregate, EventEnvelope, View};
use engine::commands::{CommandContext, CommandService, CreateCluster, CreateDroplet};
use engine::commands::{DropletInput, UpdateCluster};
use engine::domain::{Cluster, Droplet, Job};
use engine::store::{EventStore, PgEventStore};
use futures::StreamExt;
use postgres_es::{PostgresEventRepository, PostgresViewRepository};
use projections::{replay, ReadDb, SchemaName};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

/// Writers filling the log.
const WRITERS: usize = 32;

/// Runs the whole measurement on the scratch database `url` (the cqrs-es replay only when
/// `with_cqrs`).
pub async fn measure(
    url: String,
    events: i64,
    with_cqrs: bool,
    rounds: usize,
) -> anyhow::Result<()> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(WRITERS as u32 + 4)
        .connect(&url)
        .await?;
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::from_pool(pool.clone()));
    store.migrate().await?;
    if store.head().await? < events {
        let started = Instant::now();
        fill(&store, events).await?;
        eprintln!(
            "wrote {} events in {:.1} s",
            store.head().await?,
            started.elapsed().as_secs_f64()
        );
        sqlx::query("VACUUM ANALYZE cg_events")
            .execute(&pool)
            .await?;
    }
    let head = store.head().await?;

    let db = ReadDb::connect(&url, 8).await?;
    db.migrate().await?;
    let schema = SchemaName::parse("bench_rebuild")?;
    let all = projections::all();
    // COPY and the rebuild take turns, so that both see the machine in the same state;
    // the median round is reported.
    let mut rounds_taken = Vec::new();
    for _ in 0..rounds.max(1) {
        // Every round replays into an empty database (the replay would otherwise drop the
        // last round's tables on its clock).
        sqlx::query(&format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            schema.as_str()
        ))
        .execute(&pool)
        .await?;
        let copy = timed(copy_out(&pool)).await?;
        let ours = timed(async {
            replay::replay_into(Arc::clone(&store), &db, &all, head, &schema, &|_| {}).await?;
            Ok(())
        })
        .await?;
        rounds_taken.push((copy, ours));
    }
    let cqrs = if with_cqrs {
        Some(timed(cqrs_replay(&pool)).await?)
    } else {
        None
    };

    let rate = |d: Duration| head as f64 / d.as_secs_f64();
    println!("# bench rebuild: {head} events");
    println!();
    print_rounds(&rounds_taken, head);
    rounds_taken.sort_by(|a, b| ratio(a).total_cmp(&ratio(b)));
    let (copy, ours) = rounds_taken[rounds_taken.len() / 2];
    println!("| contender | seconds | events/s |");
    println!("|---|---:|---:|");
    let mut contenders = vec![
        ("COPY … TO STDOUT (read only)", copy),
        ("ClusterGenie rebuild (clusters, droplets, jobs)", ours),
    ];
    contenders.extend(cqrs.map(|c| ("cqrs-es QueryReplay (same three aggregates)", c)));
    for (name, took) in contenders {
        println!("| {name} | {:.2} | {:.0} |", took.as_secs_f64(), rate(took));
    }
    println!();
    let vs_cqrs = cqrs.map_or("not run".to_owned(), |c| {
        format!("{:.2}x", rate(ours) / rate(c))
    });
    println!(
        "| ClusterGenie / COPY | ClusterGenie / cqrs-es |\n|---:|---:|\n| {:.2}x | {vs_cqrs} |",
        rate(ours) / rate(copy),
    );
    println!();
    print_sizes(&pool).await
}

/// What was read and what was written: the log's bytes as text, and each rebuilt table's
/// rows and bytes (with its `state` column apart).
async fn print_sizes(pool: &PgPool) -> anyhow::Result<()> {
    let mb = |bytes: i64| format!("{:.1}", bytes as f64 / 1e6);
    let log: i64 = sqlx::query_scalar(
        "SELECT COALESCE(SUM(octet_length(t::text)), 0)::BIGINT FROM cg_events t",
    )
    .fetch_one(pool)
    .await?;
    println!("| data | rows | MB as text | of which `state` |");
    println!("|---|---:|---:|---:|");
    println!("| the log (`cg_events`) | | {} | |", mb(log));
    let tables: Vec<(String, bool)> = sqlx::query_as(
        "SELECT t.table_name::TEXT, EXISTS (SELECT 1 FROM information_schema.columns c \
         WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name \
         AND c.column_name = 'state') \
         FROM information_schema.tables t WHERE t.table_schema = 'bench_rebuild' \
         ORDER BY t.table_name",
    )
    .fetch_all(pool)
    .await?;
    for (table, has_state) in tables {
        let state = if has_state {
            "COALESCE(SUM(octet_length(state)), 0)::BIGINT"
        } else {
            "0::BIGINT"
        };
        let (rows, bytes, state): (i64, i64, i64) = sqlx::query_as(&format!(
            "SELECT COUNT(*), COALESCE(SUM(octet_length(t::text)), 0)::BIGINT, {state} \
             FROM bench_rebuild.{table} t"
        ))
        .fetch_one(pool)
        .await?;
        if rows > 0 {
            println!("| `{table}` | {rows} | {} | {} |", mb(bytes), mb(state));
        }
    }
    Ok(())
}

/// The rebuild's rate over COPY's in one round.
fn ratio((copy, ours): &(Duration, Duration)) -> f64 {
    copy.as_secs_f64() / ours.as_secs_f64()
}

/// Each round's seconds and ratio; the tables after it show the median round.
fn print_rounds(rounds: &[(Duration, Duration)], head: i64) {
    println!("| round | COPY s | ClusterGenie s | ClusterGenie / COPY |");
    println!("|---:|---:|---:|---:|");
    for (i, round) in rounds.iter().enumerate() {
        println!(
            "| {} | {:.2} | {:.2} | {:.2}x |",
            i + 1,
            round.0.as_secs_f64(),
            round.1.as_secs_f64(),
            ratio(round)
        );
    }
    println!();
    println!("median round of {} ({head} events):", rounds.len());
    println!();
}

async fn timed(
    work: impl std::future::Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    work.await?;
    Ok(started.elapsed())
}

/// Writers each create clusters, put up to 40 droplets in each, and rename it now and then.
pub(crate) async fn fill(store: &Arc<dyn EventStore>, events: i64) -> anyhow::Result<()> {
    let service = CommandService::new(Arc::clone(store));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let service = service.clone();
            let store = Arc::clone(store);
            tokio::spawn(async move {
                let ctx = CommandContext::new("bench");
                let mut round = 0u64;
                while store.head().await? < events {
                    let create = CreateCluster::parse(&format!("c{w}-{round}"), "nyc1", None)?;
                    let cluster = service.execute(&ctx, &create).await?;
                    let id = cluster.fresh().map(|c| c.id).unwrap_or_default();
                    for d in 0..40 {
                        let input = DropletInput {
                            cluster_id: &id,
                            name: "web",
                            region: "nyc1",
                            size: "s-1vcpu-1gb",
                            image: "ubuntu-22-04-x64",
                            provider: None,
                        };
                        service
                            .execute(&ctx, &CreateDroplet::parse(input, ctx.trace_id())?)
                            .await?;
                        if d % 8 == 0 {
                            let name = format!("c{w}-{round}-{d}");
                            let rename = UpdateCluster::parse(&id, Some(&name), None, None)?;
                            service.execute(&ctx, &rename).await?;
                        }
                    }
                    round += 1;
                }
                Ok::<_, anyhow::Error>(())
            })
        })
        .collect();
    for writer in writers {
        writer.await??;
    }
    Ok(())
}

async fn copy_out(pool: &PgPool) -> anyhow::Result<()> {
    let mut conn = pool.acquire().await?;
    let mut stream = conn
        .copy_out_raw(
            "COPY (SELECT position, id, aggregate_type, aggregate_id, sequence, event_type, \
             schema_version, recorded_at, data, metadata, hash FROM cg_events \
             ORDER BY position) TO STDOUT",
        )
        .await?;
    let mut bytes = 0usize;
    while let Some(chunk) = stream.next().await {
        bytes += chunk?.len();
    }
    anyhow::ensure!(bytes > 0, "COPY returned nothing");
    Ok(())
}

/// A postgres-es view folding one aggregate, as our read-model rows do.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Folded<A> {
    state: A,
}

impl<A> View<A> for Folded<A>
where
    A: Aggregate + std::fmt::Debug,
{
    fn update(&mut self, event: &EventEnvelope<A>) {
        self.state.apply(event.payload.clone());
    }
}

/// Copies the log into postgres-es's tables, then replays each aggregate type.
async fn cqrs_replay(pool: &PgPool) -> anyhow::Result<()> {
    for statement in [
        // A kept database (`--keep-database`) holds the last run's copy.
        "DROP TABLE IF EXISTS events, cluster_view, droplet_view, job_view",
        "CREATE TABLE events (aggregate_type text NOT NULL, aggregate_id text NOT NULL, \
         sequence bigint CHECK (sequence >= 0) NOT NULL, event_type text NOT NULL, \
         event_version text NOT NULL, payload json NOT NULL, metadata json NOT NULL, \
         PRIMARY KEY (aggregate_type, aggregate_id, sequence))",
        "INSERT INTO events SELECT aggregate_type, aggregate_id, sequence, event_type, \
         schema_version::text, json_build_object('type', event_type, 'data', data), \
         metadata::json FROM cg_events ORDER BY position",
        "CREATE TABLE cluster_view (view_id text PRIMARY KEY, version bigint NOT NULL, \
         payload json NOT NULL)",
        "CREATE TABLE droplet_view (view_id text PRIMARY KEY, version bigint NOT NULL, \
         payload json NOT NULL)",
        "CREATE TABLE job_view (view_id text PRIMARY KEY, version bigint NOT NULL, \
         payload json NOT NULL)",
        "VACUUM ANALYZE events",
    ] {
        sqlx::query(statement).execute(pool).await?;
    }
    // The copy is set-up, not part of the measured replay.
    let started = Instant::now();
    replay_one::<Cluster>(pool, "cluster_view").await?;
    replay_one::<Droplet>(pool, "droplet_view").await?;
    replay_one::<Job>(pool, "job_view").await?;
    eprintln!(
        "cqrs-es replay took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn replay_one<A>(pool: &PgPool, view: &str) -> anyhow::Result<()>
where
    A: Aggregate + std::fmt::Debug + 'static,
{
    let views = Arc::new(PostgresViewRepository::<Folded<A>, A>::new(
        view,
        pool.clone(),
    ));
    let query = GenericQuery::new(views);
    let replay = QueryReplay::new(PostgresEventRepository::new(pool.clone()), query);
    replay
        .replay_all()
        .await
        .map_err(|e| anyhow::anyhow!("cqrs-es replay of {}: {e}", A::TYPE))
}
