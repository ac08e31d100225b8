//! The turns of `bench system`: every level's server and the raw insert measured side by
//! side, each measurement cut into slices taken in rotating order, and the raw insert
//! alone where PostgreSQL has no room for its connections beside the servers.

use std::path::Path;
use std::sync::Arc;

use super::baseline;
use super::load::{self, Figures, Op, Request, Slice};
use super::report::Baseline;
use super::run::{progress, Plan, Running};

/// Whether PostgreSQL has room for `clients` more connections (the raw insert's) beside
/// the servers' pools (always on SQLite).
pub(super) async fn room_for(running: &[Running], clients: usize) -> anyhow::Result<bool> {
    let Some(r) = running.first() else {
        return Ok(true);
    };
    let free = r.prepared.database.free_connections().await?;
    Ok(free.is_none_or(|free| free >= clients as i64 + 2))
}

/// One measurement of `op` at `clients` on every level (and of the raw insert into
/// `raw_url`, when given): its `--seconds` cut into `--rounds` slices per contender, the
/// contender that starts moving on each round, so that drift on the machine (a disk
/// whose flushes slow down for a minute) lands on every contender alike. A server is let
/// catch up after each of its write slices, before the next contender's turn.
pub(super) async fn in_turns(
    running: &[Running],
    op: Op,
    clients: usize,
    raw_url: Option<&str>,
    plan: &Plan,
) -> anyhow::Result<(Vec<Slice>, Option<Slice>)> {
    let raw_request = match raw_url {
        Some(url) => Some(raw_request(url, clients).await?),
        None => None,
    };
    let contenders = running.len() + usize::from(raw_request.is_some());
    let mut slices = (0..running.len())
        .map(|_| Slice::empty())
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut raw = Slice::empty()?;
    let slice_time = plan.seconds / plan.rounds as u32;
    for round in 0..plan.rounds {
        for turn in 0..contenders {
            let who = (round + turn) % contenders;
            match (running.get(who), &raw_request) {
                (Some(r), _) => {
                    let request =
                        load::http(op, &r.server, Arc::clone(&r.sample), (round, plan.rounds));
                    slices[who].add(load::drive(request, clients, slice_time).await?)?;
                    if op.writes() {
                        r.server.wait_caught_up().await?;
                    }
                }
                (None, Some(request)) => {
                    let request = Arc::clone(request);
                    raw.add(load::drive(request, clients, slice_time).await?)?;
                }
                (None, None) => {}
            }
        }
    }
    Ok((slices, raw_request.map(|_| raw)))
}

/// The raw insert at the client counts that had no room beside the servers, measured
/// alone once they stopped.
pub(super) async fn alone(
    raw_url: &str,
    plan: &Plan,
    measured: &[(usize, Figures, Baseline)],
) -> anyhow::Result<Vec<(usize, Figures, Baseline)>> {
    let mut raw = Vec::new();
    for &clients in &plan.clients {
        if measured.iter().any(|(c, _, _)| *c == clients) {
            continue;
        }
        let request = raw_request(raw_url, clients).await?;
        let figures = load::drive(request, clients, plan.seconds).await?.figures();
        progress("baseline", "raw insert (alone)", clients, &figures);
        raw.push((clients, figures, Baseline::Alone));
    }
    Ok(raw)
}

async fn raw_request(raw_url: &str, clients: usize) -> anyhow::Result<Request> {
    if raw_url.starts_with("postgres") {
        baseline::postgres_insert(raw_url, clients).await
    } else {
        baseline::sqlite_insert(Path::new(raw_url), clients).await
    }
}
