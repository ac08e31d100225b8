//! `clustergenie verify` end to end: exit 0 and a summary on an intact log, exit 1 naming
//! the position of an edited event.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use engine::commands::{CommandContext, CommandService, CreateCluster};
use engine::store::EventStore;

const BIN: &str = env!("CARGO_BIN_EXE_clustergenie");

fn clustergenie(args: &[&str], data_dir: &Path) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .current_dir(data_dir);
    command.env_remove("DATABASE_URL");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CLUSTERGENIE_") {
            command.env_remove(key);
        }
    }
    command.output().expect("run clustergenie")
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
