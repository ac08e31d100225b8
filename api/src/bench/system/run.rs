//! The steps of `bench system` (see the [module](super)), level by level.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::baseline::Database;
use super::load::{Op, Request, Sample};
use super::loader::Template;
use super::prepare::{prepare, Prepared, Source};
use super::report::Level;
use super::server::Server;
use super::{baseline, load, report};
use crate::bench::Scratch;
use crate::cli::{BenchArgs, SystemBackend};

/// Client counts when `--clients` is not given.
const DEFAULT_CLIENTS: [usize; 3] = [1, 16, 64];

/// Log sizes when `--events` is not given.
const DEFAULT_EVENTS: [i64; 3] = [0, 100_000, 1_000_000];

/// Seconds per measurement when `--seconds` is not given.
const DEFAULT_SECONDS: u64 = 10;

/// What every level of a run shares.
struct Plan {
    events: Vec<i64>,
    clients: Vec<usize>,
    seconds: Duration,
    idle: Duration,
    settle: Duration,
    /// Keep each level's measured database (`--keep-copies`).
    keep_copies: bool,
}

/// Runs `bench system` on every backend asked for.
pub async fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let plan = plan(args);
    println!(
        "# bench system: events {:?}, clients {:?}, {} s per measurement, idle {} s",
        plan.events,
        plan.clients,
        plan.seconds.as_secs(),
        plan.idle.as_secs()
    );
    println!();
    let template = Template::record().await?;
    eprintln!(
        "template: {} events per cluster copy",
        template.events_per_copy()
    );
    for backend in &args.backend {
        let levels = match backend {
            SystemBackend::Postgres => on_postgres(args, &plan, &template).await?,
            SystemBackend::Sqlite => on_sqlite(&plan, &template).await?,
        };
        report::print(&levels);
    }
    Ok(())
}

fn plan(args: &BenchArgs) -> Plan {
    let mut events = match args.events.is_empty() {
        true => DEFAULT_EVENTS.to_vec(),
        false => args.events.clone(),
    };
    events.sort_unstable();
    events.dedup();
    Plan {
        events,
        clients: match args.clients.is_empty() {
            true => DEFAULT_CLIENTS.to_vec(),
            false => args.clients.clone(),
        },
        seconds: Duration::from_secs(args.seconds.unwrap_or(DEFAULT_SECONDS).max(1)),
        idle: Duration::from_secs(args.idle_seconds),
        settle: Duration::from_secs(args.settle_seconds),
        keep_copies: args.keep_copies,
    }
}

async fn on_postgres(
    args: &BenchArgs,
    plan: &Plan,
    template: &Template,
) -> anyhow::Result<Vec<Level>> {
    let admin = args.database_url.as_str();
    let source = match &args.keep_database {
        Some(name) => Source::Kept { admin, name },
        None => Source::Scratch { admin },
    };
    let raw = Scratch::create(admin).await?;
    let result = levels(&source, &raw.url, plan, template).await;
    raw.drop_database().await;
    result
}

async fn on_sqlite(plan: &Plan, template: &Template) -> anyhow::Result<Vec<Level>> {
    let dir = tempfile::tempdir().context("a temporary directory")?;
    let raw = dir.path().join("raw.db").display().to_string();
    levels(&Source::Sqlite { dir: dir.path() }, &raw, plan, template).await
}

/// Every level of `plan`, each on its own database, the raw insert going to `raw_url`.
async fn levels(
    source: &Source<'_>,
    raw_url: &str,
    plan: &Plan,
    template: &Template,
) -> anyhow::Result<Vec<Level>> {
    let dir = tempfile::tempdir().context("a temporary directory")?;
    let mut levels = Vec::new();
    for &events in &plan.events {
        let level = async {
            let prepared = prepare(source, events, template, dir.path()).await?;
            let scratch = prepared.scratch;
            let prepared = Prepared {
                scratch: None,
                ..prepared
            };
            let level = measure_level(&prepared, raw_url, dir.path(), plan, events).await;
            match scratch {
                Some(scratch) if plan.keep_copies => {
                    eprintln!("{events}: the measured database is kept: {}", scratch.url);
                }
                Some(scratch) => scratch.drop_database().await,
                None => {}
            }
            level
        }
        .await
        .with_context(|| {
            format!(
                "at {events} events (server log in {})",
                dir.path().display()
            )
        });
        match level {
            Ok(level) => levels.push(level),
            Err(error) => {
                // Keep the server's log for the error's reader.
                let _ = dir.keep();
                return Err(error);
            }
        }
    }
    Ok(levels)
}

async fn measure_level(
    prepared: &Prepared,
    raw_url: &str,
    dir: &Path,
    plan: &Plan,
    events: i64,
) -> anyhow::Result<Level> {
    let max_clients = plan.clients.iter().copied().max().unwrap_or(1);
    let started = Instant::now();
    let server = Server::start(&prepared.url, dir, max_clients).await?;
    server.wait_caught_up().await?;
    let catch_up_s = prepared
        .catch_up_s
        .unwrap_or_else(|| started.elapsed().as_secs_f64());
    eprintln!("{events}: server caught up in {catch_up_s:.1} s");
    let database = &prepared.database;
    let vacuum = Instant::now();
    database.vacuum().await?;
    eprintln!(
        "{events}: vacuumed in {:.1} s",
        vacuum.elapsed().as_secs_f64()
    );
    let bytes = database.bytes().await?;
    let mut level = Level {
        backend: database.backend(),
        events,
        head: prepared.head,
        appended: prepared.appended,
        prefill_s: prepared.prefill_s,
        catch_up_s,
        rss_prefilled: server.rss_bytes(),
        rss_loaded: None,
        bytes_per_event: (prepared.head > 0).then(|| bytes as f64 / prepared.head as f64),
        idle_commits_per_s: None,
        commits_per_command: None,
        http: Vec::new(),
        raw: Vec::new(),
    };
    let measured = measure_http(&server, database, plan, &mut level).await;
    level.rss_loaded = server.rss_bytes();
    server.stop().await?;
    measured?;
    eprintln!(
        "{events}: RSS {:?} -> {:?} bytes, {:?} bytes/event, {:?} xact/command, {:?} idle xact/s",
        level.rss_prefilled,
        level.rss_loaded,
        level.bytes_per_event,
        level.commits_per_command,
        level.idle_commits_per_s
    );
    for &clients in &plan.clients {
        let request = raw_request(raw_url, clients).await?;
        let figures = load::drive(request, clients, plan.seconds).await?;
        progress(events, "raw insert", clients, &figures);
        level.raw.push((clients, figures));
    }
    Ok(level)
}

/// The idle commits, then every request kind at every client count.
async fn measure_http(
    server: &Server,
    database: &Database,
    plan: &Plan,
    level: &mut Level,
) -> anyhow::Result<()> {
    tokio::time::sleep(plan.settle).await;
    let idle_start = database.commits().await?;
    tokio::time::sleep(plan.idle).await;
    let idle_end = database.commits().await?;
    if let (Some(a), Some(b)) = (idle_start, idle_end) {
        // Less the reading's own transaction.
        level.idle_commits_per_s =
            Some((b - a - 1).max(0) as f64 / plan.idle.as_secs_f64().max(1e-9));
    }
    let mut sample = Arc::new(Sample::take(server).await?);
    for op in Op::ALL {
        for (i, &clients) in plan.clients.iter().enumerate() {
            let before = database.commits().await?;
            let figures = load::drive(
                load::http(op, server, Arc::clone(&sample)),
                clients,
                plan.seconds,
            )
            .await?;
            anyhow::ensure!(
                figures.done > 0,
                "no {} answered 2xx at {clients} clients",
                op.name()
            );
            if op == Op::CreateCluster && i == 0 {
                tokio::time::sleep(plan.settle).await;
                let after = database.commits().await?;
                if let (Some(a), Some(b)) = (before, after) {
                    level.commits_per_command =
                        Some((b - a - 1).max(0) as f64 / figures.done as f64);
                }
            }
            progress(level.events, op.name(), clients, &figures);
            level.http.push((op, clients, figures));
            if op.writes() {
                server.wait_caught_up().await?;
            }
        }
        if op == Op::CreateCluster {
            // Now there are clusters to read and to put droplets in, on an empty log too.
            sample = Arc::new(Sample::take(server).await?);
        }
    }
    Ok(())
}

async fn raw_request(raw_url: &str, clients: usize) -> anyhow::Result<Request> {
    if raw_url.starts_with("postgres") {
        baseline::postgres_insert(raw_url, clients).await
    } else {
        baseline::sqlite_insert(Path::new(raw_url), clients).await
    }
}

/// One measurement as it is taken, on stderr (the tables come at the end).
fn progress(events: i64, name: &str, clients: usize, f: &load::Figures) {
    eprintln!(
        "{events}: {name} at {clients} clients: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, {} non-2xx",
        f.per_second, f.p50_ms, f.p99_ms, f.refused
    );
}
