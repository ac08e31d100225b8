//! The steps of `bench system` (see the [module](super)), level by level.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::load::{Figures, Op, Sample};
use super::loader::Template;
use super::prepare::{prepare, Prepared, Source};
use super::report;
use super::report::{Baseline, Level};
use super::server::Server;
use super::turns::{alone, in_turns, room_for};
use crate::bench::Scratch;
use crate::cli::{BenchArgs, SystemBackend};

/// Client counts when `--clients` is not given.
const DEFAULT_CLIENTS: [usize; 3] = [1, 16, 64];

/// Log sizes when `--events` is not given.
const DEFAULT_EVENTS: [i64; 3] = [0, 100_000, 1_000_000];

/// Seconds per measurement when `--seconds` is not given.
const DEFAULT_SECONDS: u64 = 10;

/// Every level measured on one backend, and the raw insert per client count.
type Measured = (Vec<Level>, Vec<(usize, Figures, Baseline)>);

/// What every level of a run shares.
pub(super) struct Plan {
    events: Vec<i64>,
    pub clients: Vec<usize>,
    pub seconds: Duration,
    idle: Duration,
    settle: Duration,
    /// Slices each measurement is cut into, the levels taking turns.
    pub rounds: usize,
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
        let (levels, raw) = match backend {
            SystemBackend::Postgres => on_postgres(args, &plan, &template).await?,
            SystemBackend::Sqlite => on_sqlite(&plan, &template).await?,
        };
        report::print(&levels, &raw);
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
        rounds: args.rounds.max(1),
        keep_copies: args.keep_copies,
    }
}

async fn on_postgres(
    args: &BenchArgs,
    plan: &Plan,
    template: &Template,
) -> anyhow::Result<Measured> {
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

async fn on_sqlite(plan: &Plan, template: &Template) -> anyhow::Result<Measured> {
    let dir = tempfile::tempdir().context("a temporary directory")?;
    let raw = dir.path().join("raw.db").display().to_string();
    levels(&Source::Sqlite { dir: dir.path() }, &raw, plan, template).await
}

/// A level being measured: its database, its server and what was measured so far.
pub(super) struct Running {
    pub prepared: Prepared,
    pub server: Server,
    pub level: Level,
    pub sample: Arc<Sample>,
}

/// Every level of `plan`, each on its own database with its own server, all running at
/// once and measured in turns (see [`measure`]); the raw insert goes to `raw_url`.
async fn levels(
    source: &Source<'_>,
    raw_url: &str,
    plan: &Plan,
    template: &Template,
) -> anyhow::Result<Measured> {
    let dir = tempfile::tempdir().context("a temporary directory")?;
    let mut running = Vec::new();
    let mut measured = async {
        for &events in &plan.events {
            let level = start_level(source, events, template, dir.path(), plan)
                .await
                .with_context(|| format!("at {events} events"))?;
            running.push(level);
        }
        measure(&mut running, raw_url, plan).await
    }
    .await;
    let mut levels = Vec::new();
    for mut r in running {
        r.level.rss_loaded = r.server.rss_bytes();
        r.level.anon_loaded = r.server.anon_bytes();
        let stopped = r.server.stop().await;
        if let (Ok(_), Err(error)) = (&measured, stopped) {
            measured = Err(error);
        }
        match r.prepared.scratch {
            Some(scratch) if plan.keep_copies => {
                eprintln!(
                    "{}: the measured database is kept: {}",
                    r.level.events, scratch.url
                );
            }
            Some(scratch) => scratch.drop_database().await,
            None => {}
        }
        levels.push(r.level);
    }
    if let Ok(raw) = &mut measured {
        match alone(raw_url, plan, raw).await {
            Ok(more) => raw.extend(more),
            Err(error) => measured = Err(error),
        }
    }
    match measured {
        Ok(raw) => Ok((levels, raw)),
        Err(error) => {
            // Keep the servers' logs for the error's reader.
            let kept = dir.keep();
            Err(error.context(format!("servers' logs in {}", kept.display())))
        }
    }
}

/// Prepares the database of the level `events`, starts its server and lets it catch up
/// (a scratch database is dropped again when that fails).
async fn start_level(
    source: &Source<'_>,
    events: i64,
    template: &Template,
    dir: &Path,
    plan: &Plan,
) -> anyhow::Result<Running> {
    let dir = dir.join(events.to_string());
    std::fs::create_dir_all(&dir).context("the level's directory")?;
    let mut prepared = prepare(source, events, template, &dir).await?;
    match launch(&prepared, events, &dir, plan).await {
        Ok((server, level, sample)) => Ok(Running {
            prepared,
            server,
            level,
            sample,
        }),
        Err(error) => {
            if let Some(scratch) = prepared.scratch.take() {
                scratch.drop_database().await;
            }
            Err(error)
        }
    }
}

/// Starts the server of a prepared level, waits for its catch-up, vacuums and sizes the
/// database, and takes the first sample of clusters.
async fn launch(
    prepared: &Prepared,
    events: i64,
    dir: &Path,
    plan: &Plan,
) -> anyhow::Result<(Server, Level, Arc<Sample>)> {
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
    let level = Level {
        backend: database.backend(),
        events,
        head: prepared.head,
        appended: prepared.appended,
        prefill_s: prepared.prefill_s,
        catch_up_s,
        rss_prefilled: server.rss_bytes(),
        rss_loaded: None,
        anon_loaded: None,
        bytes_per_event: (prepared.head > 0).then(|| bytes as f64 / prepared.head as f64),
        idle_commits_per_s: None,
        commits_per_command: None,
        http: Vec::new(),
    };
    let sample = Arc::new(Sample::take(&server).await?);
    Ok((server, level, sample))
}

/// The idle commits of every level, then every request kind at every client count, the
/// levels taking turns ([`in_turns`]). Returns the raw insert's figures per client count.
async fn measure(
    running: &mut [Running],
    raw_url: &str,
    plan: &Plan,
) -> anyhow::Result<Vec<(usize, Figures, Baseline)>> {
    // One checkpoint serves every level: they share one PostgreSQL server.
    if let Some(r) = running.first() {
        r.prepared.database.checkpoint().await?;
    }
    tokio::time::sleep(plan.settle).await;
    let idle_start = commits(running).await?;
    tokio::time::sleep(plan.idle).await;
    let idle_end = commits(running).await?;
    for ((r, start), end) in running.iter_mut().zip(idle_start).zip(idle_end) {
        if let (Some(a), Some(b)) = (start, end) {
            // Less the reading's own transaction.
            r.level.idle_commits_per_s =
                Some((b - a - 1).max(0) as f64 / plan.idle.as_secs_f64().max(1e-9));
        }
    }
    let mut raw = Vec::new();
    for op in Op::ALL {
        for (i, &clients) in plan.clients.iter().enumerate() {
            let counted = op == Op::CreateCluster && i == 0;
            let before = commits(running).await?;
            let raw_turns = (op == Op::CreateCluster).then_some(raw_url);
            let raw_turns = match raw_turns {
                Some(url) if room_for(running, clients).await? => Some(url),
                Some(_) => {
                    eprintln!(
                        "baseline: no room for {clients} more connections beside the servers: \
                         the raw insert at {clients} clients runs after they stop"
                    );
                    None
                }
                None => None,
            };
            let (slices, raw_slice) = in_turns(running, op, clients, raw_turns, plan).await?;
            if counted {
                // An idle connection reports its statistics within `settle`.
                tokio::time::sleep(plan.settle).await;
            }
            let after = commits(running).await?;
            for (((r, slice), before), after) in
                running.iter_mut().zip(slices).zip(before).zip(after)
            {
                anyhow::ensure!(
                    slice.done() > 0,
                    "no {} answered 2xx at {clients} clients",
                    op.name()
                );
                if let (true, Some(a), Some(b)) = (counted, before, after) {
                    // Less the two readings' own transactions.
                    r.level.commits_per_command =
                        Some((b - a - 1).max(0) as f64 / slice.done() as f64);
                }
                let figures = slice.figures();
                progress(&r.level.events.to_string(), op.name(), clients, &figures);
                r.level.http.push((op, clients, figures));
            }
            if let Some(slice) = raw_slice {
                let figures = slice.figures();
                progress("baseline", "raw insert", clients, &figures);
                raw.push((clients, figures, Baseline::InTurns));
            }
        }
        if op == Op::CreateCluster {
            // Now there are clusters to read and to put droplets in, on an empty log too.
            for r in running.iter_mut() {
                r.sample = Arc::new(Sample::take(&r.server).await?);
            }
        }
    }
    Ok(raw)
}

/// Each level's database's commits so far.
async fn commits(running: &[Running]) -> anyhow::Result<Vec<Option<i64>>> {
    let mut all = Vec::with_capacity(running.len());
    for r in running {
        all.push(r.prepared.database.commits().await?);
    }
    Ok(all)
}

/// One measurement as it is taken, on stderr (the tables come at the end).
pub(super) fn progress(events: &str, name: &str, clients: usize, f: &Figures) {
    eprintln!(
        "{events}: {name} at {clients} clients: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, {} non-2xx",
        f.per_second, f.p50_ms, f.p99_ms, f.refused
    );
}
