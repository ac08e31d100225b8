//! `clustergenie bench` end to end on PostgreSQL (`$DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`), at sizes that take seconds: the figures
//! are not checked (benchmarks are not timed tests), only that each contender ran and the
//! ratios were printed.
//! - `append --rounds`: the three contenders take turns and each is reported with its ratio;
//! - `rebuild --keep-database`: the first run writes the log, the second reuses it; a name
//!   that is not a plain database name is refused;
//! - `system`: the server over HTTP at two log sizes, every request kind and the raw
//!   insert reported with their ratios.
#![cfg(feature = "bench")]

use std::process::{Command, Output};

use sqlx::Connection;
use test_support::{admin_url, DatabaseGuard};

const BIN: &str = env!("CARGO_BIN_EXE_clustergenie");

fn bench(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("bench")
        .args(args)
        .arg("--database-url")
        .arg(admin_url())
        .env_remove("RUST_LOG")
        .output()
        .expect("run clustergenie bench")
}

fn succeeded(output: &Output) -> (String, String) {
    let (out, err) = (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    );
    assert!(output.status.success(), "stdout:\n{out}\nstderr:\n{err}");
    (out, err)
}

/// The ratio in the row of `table_row_prefix` of a printed table, in column `column`.
fn ratio(out: &str, row_prefix: &str, column: usize) -> f64 {
    let row = out
        .lines()
        .find(|l| l.starts_with(row_prefix) && l.ends_with("x |"))
        .unwrap_or_else(|| panic!("no ratio row {row_prefix:?} in:\n{out}"));
    let cell = row.split('|').nth(column).expect("a cell").trim();
    cell.trim_end_matches('x')
        .parse()
        .unwrap_or_else(|_| panic!("not a ratio: {cell:?}"))
}

#[test]
fn append_runs_every_contender_in_turns_and_prints_the_ratios() {
    let (out, _) = succeeded(&bench(&[
        "append",
        "--clients",
        "1",
        "--seconds",
        "1",
        "--rounds",
        "2",
    ]));

    assert!(out.contains("in 2 turns each"), "{out}");
    for contender in ["raw insert", "clustergenie", "cqrs-es + postgres-es"] {
        let row = format!("| 1 | {contender} | ");
        let line = out
            .lines()
            .find(|l| l.starts_with(&row))
            .unwrap_or_else(|| panic!("no row {row:?} in:\n{out}"));
        let per_second: f64 = line.split('|').nth(3).unwrap().trim().parse().unwrap();
        assert!(per_second > 0.0, "{line}");
    }
    assert!(ratio(&out, "| 1 | ", 2) > 0.0);
    assert!(ratio(&out, "| 1 | ", 3) > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_on_a_kept_database_writes_the_log_once() {
    let name = format!("cg_bench_kept_{}", uuid::Uuid::new_v4().simple());
    let args = [
        "rebuild",
        "--events",
        "400",
        "--without-cqrs",
        "--rounds",
        "1",
        "--keep-database",
        &name,
    ];

    // The bench creates the database; it goes with the guard, whatever happens below.
    let kept = DatabaseGuard::adopt(&name);
    let first = bench(&args);
    let second = bench(&args);
    let events: i64 = {
        let mut conn = sqlx::PgConnection::connect(&kept.url())
            .await
            .expect("the kept database");
        let count = sqlx::query_scalar("SELECT COUNT(*) FROM cg_events")
            .fetch_one(&mut conn)
            .await
            .expect("count the log");
        let _ = conn.close().await;
        count
    };
    drop(kept);

    let (out, err) = succeeded(&first);
    assert!(
        err.contains("wrote "),
        "the first run writes the log:\n{err}"
    );
    assert!(ratio(&out, "| 1 |", 4) > 0.0);
    let (out, err) = succeeded(&second);
    assert!(
        !err.contains("wrote "),
        "the second run reuses the log:\n{err}"
    );
    assert!(
        out.contains(&format!("# bench rebuild: {events} events")),
        "{out}"
    );
    assert!(events >= 400, "{events} events");
}

#[test]
fn a_kept_database_must_be_a_plain_name() {
    let output = bench(&["rebuild", "--keep-database", "x; DROP DATABASE postgres"]);

    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("[a-z_][a-z0-9_]*"), "{err}");
}

/// The cell in column `column` of the row of a table that starts with `row_prefix` (cells
/// padded for alignment are trimmed).
fn cell(out: &str, row_prefix: &[&str], column: usize) -> String {
    let row = out
        .lines()
        .find(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            cells.len() > row_prefix.len() && cells[1..=row_prefix.len()] == *row_prefix
        })
        .unwrap_or_else(|| panic!("no row {row_prefix:?} in:\n{out}"));
    row.split('|')
        .nth(column)
        .expect("a cell")
        .trim()
        .to_owned()
}

fn number(cell: &str) -> f64 {
    cell.trim_end_matches('x')
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {cell:?}"))
}

#[test]
fn system_measures_the_server_over_http_at_each_log_size() {
    let started = std::time::Instant::now();
    let (out, err) = succeeded(&bench(&[
        "system",
        "--events",
        "0,200",
        "--clients",
        "1,2",
        "--seconds",
        "1",
        "--idle-seconds",
        "1",
        "--settle-seconds",
        "1",
    ]));

    assert!(err.contains("server caught up"), "{err}");
    for events in ["0", "200"] {
        for request in [
            "create cluster",
            "create droplet",
            "get cluster",
            "list page",
            "search",
        ] {
            for clients in ["1", "2"] {
                let per_second = number(&cell(&out, &[events, request, clients], 4));
                assert!(per_second > 0.0, "{events} {request} {clients}:\n{out}");
            }
        }
        let vs_raw = number(&cell(&out, &[events, "1"], 3));
        assert!(vs_raw > 0.0, "{out}");
    }
    // The raw insert, measured once, in turns with the sizes' create cluster.
    for clients in ["1", "2"] {
        let per_second = number(&cell(&out, &["baseline", "raw insert", clients], 4));
        assert!(per_second > 0.0, "raw insert {clients}:\n{out}");
    }
    assert!(err.contains("0: create cluster at 2 clients"), "{err}");
    // The system table: the log holds what was asked for, the server's memory was read,
    // and the commits per command are counted.
    assert!(number(&cell(&out, &["200"], 2)) >= 200.0, "{out}");
    assert!(number(&cell(&out, &["200"], 6)) > 1.0, "RSS in MB:\n{out}");
    assert!(
        number(&cell(&out, &["200"], 9)) > 0.0,
        "xact/command:\n{out}"
    );
    let vs_empty = number(&cell(&out, &["200 vs 0", "get cluster", "2"], 4));
    assert!(vs_empty > 0.0, "{out}");
    // With a Redis named, each server cached under a prefix of its own: none is left.
    if let Some(url) = std::env::var("REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
    {
        let mut redis = redis::Client::open(url.as_str())
            .and_then(|client| client.get_connection())
            .expect("Redis");
        let left: Vec<String> = redis::cmd("KEYS")
            .arg("cg:bench:*")
            .query(&mut redis)
            .expect("KEYS");
        let cached: Vec<&String> = left.iter().filter(|k| k.contains(":cache:")).collect();
        let some = &cached[..cached.len().min(5)];
        assert!(
            cached.is_empty(),
            "{} keys left in Redis: {some:?}…",
            cached.len()
        );
    }
    eprintln!("bench system took {:?}", started.elapsed());
}

#[test]
fn autoscale_times_rounds_and_the_baseline_and_counts_statements() {
    let (out, _) = succeeded(&bench(&["autoscale", "--clusters", "50", "--rounds", "2"]));
    assert!(
        out.contains("| window_summaries, one query (baseline) |"),
        "{out}"
    );
    let row = out
        .lines()
        .find(|l| l.starts_with("| autoscaler round |"))
        .unwrap_or_else(|| panic!("no round row in:\n{out}"));
    let statements: u64 = row.split('|').nth(4).unwrap().trim().parse().unwrap();
    assert!((1..=8).contains(&statements), "{row}");
    assert!(out.contains("round p50 / baseline p50:"), "{out}");
}
