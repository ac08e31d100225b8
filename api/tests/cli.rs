//! The `clustergenie` binary's administrative commands end to end, on an embedded SQLite
//! database:
//! - `verify`: exit 0 and a summary on an intact log, exit 1 naming the position of an
//!   edited event;
//! - `projections rebuild`, `replay` and `diff`: a rebuild swaps in at the head, a replay
//!   at the head is identical to the live models, a replay at an earlier position differs
//!   exactly where the later events changed things, and bad arguments are refused with a
//!   clear message;
//! - `worker`: refused without Kafka; with `--projections` it keeps the read models current
//!   (and starts although Kafka cannot be reached).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use engine::commands::{CommandContext, CommandService, CreateCluster, UpdateCluster};
use engine::store::EventStore;

const BIN: &str = env!("CARGO_BIN_EXE_clustergenie");

fn clustergenie(args: &[&str], data_dir: &Path) -> Output {
    command(args, data_dir).output().expect("run clustergenie")
}

/// The binary with `args` on `data_dir`, with no database, Redis, Kafka or settings from
/// the environment.
fn command(args: &[&str], data_dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .current_dir(data_dir);
    command.env_remove("DATABASE_URL");
    command.env_remove("REDIS_URL");
    command.env_remove("KAFKA_BROKERS");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CLUSTERGENIE_") {
            command.env_remove(key);
        }
    }
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_an_intact_log_and_the_first_broken_link() {
    let dir = tempfile::tempdir().expect("temp dir");
    let migrated = clustergenie(&["migrate"], dir.path());
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let url = format!("sqlite://{}", dir.path().join("clustergenie.db").display());
    let store: Arc<dyn EventStore> = engine::store::connect(&url, 2)
        .await
        .expect("open the store");
    let service = CommandService::new(Arc::clone(&store));
    for n in 0..4 {
        let command = CreateCluster::parse(&format!("c{n}"), "lon1", None).expect("valid");
        service
            .execute(&CommandContext::new("tester"), &command)
            .await
            .expect("create");
    }

    let intact = clustergenie(&["verify"], dir.path());
    let stdout = String::from_utf8_lossy(&intact.stdout);
    assert!(
        intact.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&intact.stderr)
    );
    assert!(
        stdout.contains("verified 4 events in 4 streams up to position 4"),
        "{stdout}"
    );

    let pool = sqlx::SqlitePool::connect(&url).await.expect("open sqlite");
    sqlx::query("UPDATE cg_events SET data = json_set(data, '$.name', 'evil') WHERE position = 3")
        .execute(&pool)
        .await
        .expect("tamper");
    let broken = clustergenie(&["verify"], dir.path());
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert_eq!(broken.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("position 3"), "{stderr}");
    assert!(stderr.contains("hash mismatch"), "{stderr}");
}

/// Runs the binary and returns stdout, asserting success.
fn ok(args: &[&str], dir: &Path) -> String {
    let output = clustergenie(args, dir);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{args:?}: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Runs the binary and returns stdout and stderr, asserting failure with exit code `code`.
fn fails(args: &[&str], dir: &Path, code: i32) -> String {
    let output = clustergenie(args, dir);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(code), "{args:?}: {text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_replay_and_diff_through_the_binary() {
    let dir = tempfile::tempdir().expect("temp dir");
    ok(&["migrate"], dir.path());
    let url = format!("sqlite://{}", dir.path().join("clustergenie.db").display());
    let store: Arc<dyn EventStore> = engine::store::connect(&url, 2).await.expect("store");
    let service = CommandService::new(Arc::clone(&store));
    let ctx = CommandContext::new("tester");
    let mut ids = Vec::new();
    for n in 0..5 {
        let command = CreateCluster::parse(&format!("c{n}"), "lon1", None).expect("valid");
        let reply = service.execute(&ctx, &command).await.expect("create");
        ids.push(reply.fresh().expect("fresh").id);
    }
    let rename = UpdateCluster::parse(&ids[0], Some("renamed"), None, None).expect("valid");
    service.execute(&ctx, &rename).await.expect("rename");

    for name in ["clusters", "droplets", "jobs"] {
        let out = ok(&["projections", "rebuild", name], dir.path());
        assert!(
            out.contains(&format!("{name} rebuilt and swapped in at position 6")),
            "{out}"
        );
    }

    let out = ok(&["replay", "--to", "6", "--into", "at_head"], dir.path());
    assert!(
        out.contains("read models at position 6 are in schema at_head"),
        "{out}"
    );
    assert!(dir.path().join("at_head.db").exists(), "the scratch file");
    let out = ok(&["diff", "at_head"], dir.path());
    assert!(
        out.contains("scratch schema replayed to position 6"),
        "{out}"
    );
    assert!(
        out.contains("rm_clusters: identical (5 live rows, 5 scratch rows)"),
        "{out}"
    );

    // At position 3 only three clusters existed, and the first one had its old name.
    ok(&["replay", "--to", "3", "--into", "at_three"], dir.path());
    let out = fails(&["diff", "at_three"], dir.path(), 1);
    assert!(
        out.contains("rm_clusters: DIFFERENT (5 live rows, 3 scratch rows)"),
        "{out}"
    );
    for id in &ids[3..] {
        assert!(out.contains(&format!("only live:    {id}")), "{out}");
    }
    assert!(
        out.contains(&format!("changed:      {} (name,", ids[0])),
        "{out}"
    );
    assert!(!out.contains(&format!("changed:      {}", ids[1])), "{out}");

    // A time resolves to the last position recorded at or before it.
    let later = chrono::Utc::now().to_rfc3339();
    let out = ok(&["replay", "--to", &later, "--into", "by_time"], dir.path());
    assert!(out.contains("at position 6"), "{out}");

    let out = fails(
        &["replay", "--to", "yesterday", "--into", "x"],
        dir.path(),
        1,
    );
    assert!(
        out.contains("neither a log position nor an RFC 3339 time"),
        "{out}"
    );
    let out = fails(
        &["replay", "--to", "3", "--into", "Bad-Name"],
        dir.path(),
        1,
    );
    assert!(out.contains("must match"), "{out}");
    let out = fails(&["diff", "missing"], dir.path(), 1);
    assert!(out.contains("there is no scratch schema"), "{out}");
    let out = fails(&["projections", "rebuild", "nope"], dir.path(), 1);
    assert!(out.contains("one of clusters, droplets, jobs"), "{out}");
}

#[test]
fn a_worker_without_kafka_says_what_it_needs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = fails(&["worker"], dir.path(), 1);
    assert!(text.contains("needs Kafka"), "{text}");
}

/// `worker --projections` keeps the read models current, as `serve` does; it starts
/// although nothing listens at the Kafka brokers' address (start-up does not wait for
/// Kafka).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_with_projections_keeps_the_read_models_current() {
    let dir = tempfile::tempdir().expect("temp dir");
    let migrated = clustergenie(&["migrate"], dir.path());
    assert!(migrated.status.success(), "{migrated:?}");
    let url = format!("sqlite://{}", dir.path().join("clustergenie.db").display());
    let store: Arc<dyn EventStore> = engine::store::connect(&url, 2)
        .await
        .expect("open the store");
    let command_ = CreateCluster::parse("projected", "lon1", None).expect("valid");
    let id = CommandService::new(Arc::clone(&store))
        .execute(&CommandContext::new("tester"), &command_)
        .await
        .expect("create")
        .fresh()
        .expect("fresh")
        .id;
    let nowhere = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let brokers = nowhere.local_addr().expect("address").to_string();
    drop(nowhere);
    let args = ["worker", "--projections", "--kafka-brokers", &brokers];
    let mut worker = command(&args, dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the worker");
    let read = projections::ReadModels::new(
        projections::ReadDb::connect(&url, 2)
            .await
            .expect("read models"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let projected = loop {
        if let Ok(Some(cluster)) = read.cluster(&id).await {
            break Some(cluster);
        }
        if Instant::now() > deadline || worker.try_wait().ok().flatten().is_some() {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let exited = worker.try_wait().ok().flatten();
    let _ = worker.kill();
    let _ = worker.wait();
    assert_eq!(exited, None, "the worker stopped on its own");
    assert_eq!(projected.expect("the cluster projected").name, "projected");
}
