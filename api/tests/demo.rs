//! `clustergenie demo` against a real server (on port 0, fast simulated providers), each
//! scene checked through the API afterwards, on SQLite and on PostgreSQL:
//! - `quickstart`, loaded twice: two clusters per load in two regions on two providers,
//!   five droplets on the three providers (one resized, one off, the rest active), a
//!   diagnosis, every event by the actor `demo`;
//! - `incident`: the provision on the broken provider failed an attempt, retried and
//!   succeeded; no fault is left; one droplet is destroyed; and when the provision cannot
//!   succeed (one attempt allowed), the scene fails naming the job and still heals;
//! - `genie`: the memory spike turns the cluster critical (one status change carrying the
//!   memory issue), the rules diagnosis is recorded, its scale-up recommendation starts a
//!   job caused by the diagnosis, and the calm samples turn the cluster healthy again;
//! - `canary`: a canary under a provider fault fails its step and rolls back by itself,
//!   every droplet back at v1;
//! - `autoscale`: the cpu ramp scales the cluster out to its maximum of 3 and back in to
//!   1, each acting decision with its scale job, and the history shows them;
//! - the binary: `demo list`, `demo load quickstart --url` printing the console pages, and
//!   a refused command printed with its problem's detail.
//!
//! `cargo test -p clustergenie-api --test demo`
#![cfg(feature = "demo")]

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use api::demo::{autoscale, canary, genie, incident, quickstart, DemoClient, DemoError};
use api::settings::Settings;
use engine::policies::PolicyPatch;
use serde_json::json;

use crate::common::*;

const BIN: &str = env!("CARGO_BIN_EXE_clustergenie");

/// A quiet client of `app` whose waits give up after 30 s.
fn client(app: &TestApp) -> DemoClient {
    DemoClient::new(&app.address, Duration::from_secs(30))
        .expect("the app's URL")
        .quiet()
}

/// No provider has faults injected.
async fn assert_no_faults(app: &TestApp) {
    let providers = app.get("/v1/providers").await.expect(200).clone();
    for provider in items(&providers) {
        let faults = &provider["faults"];
        assert_eq!(faults["failure_rate"].as_f64(), Some(0.0), "{provider}");
        assert_eq!(faults["spike_rate"].as_f64(), Some(0.0), "{provider}");
        assert_eq!(faults["outage"], json!(false), "{provider}");
    }
}

api_test!(quickstart_twice);

async fn quickstart_twice(app: TestApp) {
    let first = quickstart::load(&client(&app)).await.expect("quickstart");
    let second = quickstart::load(&client(&app))
        .await
        .expect("quickstart again");
    assert_ne!(first.suffix, second.suffix);

    let head = app.head().await;
    let clusters = app.get_at("/v1/clusters?page_size=100", &head).await;
    assert_eq!(clusters["total"], json!(4), "{clusters}");
    let droplets = app.get_at("/v1/droplets?page_size=100", &head).await;
    assert_eq!(droplets["total"], json!(10), "{droplets}");

    let (web, batch) = (&first.clusters[0], &first.clusters[1]);
    assert_eq!(web.name, format!("web-{}", first.suffix));
    let web_view = app.get_at(&format!("/v1/clusters/{}", web.id), &head).await;
    let batch_view = app
        .get_at(&format!("/v1/clusters/{}", batch.id), &head)
        .await;
    assert_eq!(
        (&web_view["region"], &web_view["provider"]),
        (&json!("fra1"), &json!("nimbus"))
    );
    assert_eq!(
        (&batch_view["region"], &batch_view["provider"]),
        (&json!("nyc2"), &json!("stratus"))
    );
    assert_eq!(web_view["droplet_count"], json!(3), "{web_view}");
    assert_eq!(batch_view["droplet_count"], json!(2), "{batch_view}");

    let mut mine = Vec::new();
    for cluster in [web, batch] {
        let path = format!("/v1/droplets?cluster_id={}&page_size=100", cluster.id);
        mine.extend(items(&app.get_at(&path, &head).await).iter().cloned());
    }
    assert_eq!(mine.len(), 5, "{mine:?}");
    let providers: BTreeSet<&str> = mine.iter().filter_map(|d| d["provider"].as_str()).collect();
    assert_eq!(providers, BTreeSet::from(["nimbus", "simcloud", "stratus"]));
    let mut statuses: Vec<&str> = mine.iter().filter_map(|d| d["status"].as_str()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, ["active", "active", "active", "active", "off"]);
    let resized = mine
        .iter()
        .find(|d| d["name"] == json!(format!("web-{}-1", first.suffix)))
        .expect("web-…-1");
    assert_eq!(resized["size"], json!("s-2vcpu-4gb"), "{resized}");

    let diagnosis = app
        .get(&format!("/v1/jobs/{}", str_of(&first.diagnosis["id"])))
        .await
        .expect(200)
        .clone();
    assert_eq!(diagnosis["type"], json!("diagnose"));
    assert_eq!(diagnosis["status"], json!("succeeded"));
    assert_eq!(
        diagnosis["result"]["droplet_count"],
        json!(3),
        "{diagnosis}"
    );

    let stream = app.stream("cluster", &web.id).await;
    assert!(
        stream
            .iter()
            .all(|e| e["metadata"]["actor"] == json!("demo")),
        "{stream:?}"
    );
    let summary = first.summary().render(&app.address);
    assert!(
        summary.contains(&format!("{}/clusters/{}", app.address, web.id)),
        "{summary}"
    );
}

api_test!(incident_retries_then_heals);

async fn incident_retries_then_heals(app: TestApp) {
    let loaded = incident::load(&client(&app)).await.expect("incident");
    assert_no_faults(&app).await;

    let job_id = str_of(&loaded.retried_job["id"]).to_owned();
    let job = app
        .get(&format!("/v1/jobs/{job_id}"))
        .await
        .expect(200)
        .clone();
    assert_eq!(job["type"], json!("provision"));
    assert_eq!(job["status"], json!("succeeded"), "{job}");
    assert!(job["attempts"].as_u64().unwrap_or(0) >= 2, "{job}");
    let events = app.stream("job", &job_id).await;
    assert!(
        events
            .iter()
            .any(|e| e["type"] == json!("job.retry_scheduled")),
        "{events:?}"
    );

    let db = &loaded.droplets[2];
    assert_eq!(db["status"], json!("active"), "{db}");
    assert_eq!(db["provider"], json!(loaded.broken_provider));
    let destroyed = app
        .get(&format!("/v1/droplets/{}", loaded.destroyed))
        .await
        .expect(200)
        .clone();
    assert_eq!(destroyed["status"], json!("destroyed"), "{destroyed}");

    let head = app.head().await;
    let cluster = app
        .get_at(&format!("/v1/clusters/{}", loaded.cluster_id), &head)
        .await;
    assert!(cluster["name"]
        .as_str()
        .unwrap_or_default()
        .starts_with("payments-"));
    assert_eq!(cluster["droplet_count"], json!(2), "{cluster}");
    let requested = app
        .get(&format!("/v1/events?aggregate_id={}", str_of(&db["id"])))
        .await
        .expect(200)
        .clone();
    assert_eq!(
        items(&requested)[0]["metadata"]["correlation_id"],
        json!(loaded.correlation_id)
    );

    // A second load makes another cluster beside the first.
    let again = incident::load(&client(&app)).await.expect("incident again");
    assert_ne!(again.cluster_id, loaded.cluster_id);
    assert_no_faults(&app).await;
}

api_test!(
    incident_heals_when_the_provision_fails,
    |s: &mut Settings| {
        let once = PolicyPatch {
            max_attempts: Some(1),
            ..PolicyPatch::default()
        };
        s.job_policies.insert("provision".into(), once);
    }
);

async fn incident_heals_when_the_provision_fails(app: TestApp) {
    let error = incident::load(&client(&app))
        .await
        .expect_err("no retry is allowed");
    assert!(
        matches!(&error, DemoError::JobEnded { status, .. } if status == "failed"),
        "{error}"
    );
    assert!(
        error.to_string().contains("provision of payments-"),
        "{error}"
    );
    assert_no_faults(&app).await;
}

/// Runs the binary with `args` (no settings from the environment); returns (exit code,
/// stdout, stderr).
async fn run_bin(args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = tokio::process::Command::new(BIN);
    command.args(args).current_dir(dir.path());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CLUSTERGENIE_") {
            command.env_remove(key);
        }
    }
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("the binary finished in time")
        .expect("run clustergenie");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

api_test!(the_binary_loads_lists_and_explains_refusals);

async fn the_binary_loads_lists_and_explains_refusals(app: TestApp) {
    let (code, out, err) = run_bin(&["demo", "list"]).await;
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.lines().count(), 5, "{out}");
    assert!(out.starts_with("quickstart "), "{out}");
    assert!(out.contains("\nincident "), "{out}");
    assert!(out.contains("\ngenie "), "{out}");
    assert!(out.contains("\ncanary "), "{out}");
    assert!(out.contains("\nautoscale "), "{out}");

    let (code, out, err) = run_bin(&["demo", "load", "quickstart", "--url", &app.address]).await;
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("quickstart loaded"), "{out}");
    assert!(out.contains("Open in the console:"), "{out}");
    assert!(
        out.contains(&format!("{}/clusters/cl_", app.address)),
        "{out}"
    );
    assert!(err.contains("waiting for the five provision jobs"), "{err}");

    // Stratus no longer offers fra1: the third web droplet is refused, with the detail.
    let stratus = json!({"name": "stratus", "regions": ["nyc2"], "sizes": ["s-4vcpu-8gb"]});
    let registered = app.post("/v1/providers", &stratus).await;
    assert!(
        registered.status == 200 || registered.status == 201,
        "{}",
        registered.text
    );
    let (code, out, err) = run_bin(&["demo", "load", "quickstart", "--url", &app.address]).await;
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(err.contains("was refused (422"), "{err}");
    assert!(err.contains("does not offer region fra1"), "{err}");

    let nowhere = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", nowhere.local_addr().expect("address"));
    drop(nowhere);
    let (code, _, err) = run_bin(&["demo", "load", "incident", "--url", &url]).await;
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("is `clustergenie serve` running there?"),
        "{err}"
    );
}

api_test!(
    genie_diagnoses_the_spike_and_scales_up,
    |s: &mut Settings| {
        s.health_check_interval_seconds = 1;
    }
);

async fn genie_diagnoses_the_spike_and_scales_up(app: TestApp) {
    let loaded = genie::load(&client(&app)).await.expect("genie");
    let changes: Vec<_> = app
        .stream("cluster", &loaded.cluster_id)
        .await
        .into_iter()
        .filter(|e| e["type"] == json!("cluster.status_changed"))
        .collect();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0]["data"]["to"], json!("critical"));
    let issues = changes[0]["data"]["issues"].as_array().expect("issues");
    assert!(
        issues.iter().any(|i| i["metric_type"] == json!("memory")),
        "{issues:?}"
    );
    assert_eq!(changes[1]["data"]["to"], json!("healthy"));

    assert_eq!(loaded.diagnosis["engine"], json!("rules"));
    assert_eq!(loaded.implemented["action"]["type"], json!("scale_up"));
    assert_eq!(loaded.job["type"], json!("scale_up"));
    assert_eq!(loaded.job["status"], json!("succeeded"));
    let completed = app
        .stream("diagnosis", &loaded.cluster_id)
        .await
        .into_iter()
        .find(|e| e["type"] == json!("diagnosis.completed"))
        .expect("diagnosis.completed");
    let job_events = app.stream("job", str_of(&loaded.job["id"])).await;
    assert_eq!(
        job_events[0]["metadata"]["causation_id"], completed["id"],
        "{job_events:?}"
    );
    let samples = app
        .get(&format!(
            "/v1/metrics?cluster_id={}&type=memory&page_size=1",
            loaded.cluster_id
        ))
        .await
        .expect(200)
        .clone();
    assert_eq!(samples["total"], json!(60 + 12 + 240), "{samples}");
}

api_test!(
    canary_fails_under_a_provider_fault_and_rolls_back,
    |s: &mut Settings| {
        s.job_policies.insert(
            "deploy_step".into(),
            PolicyPatch {
                initial_interval_ms: Some(20),
                max_interval_ms: Some(50),
                ..PolicyPatch::default()
            },
        );
    }
);

async fn canary_fails_under_a_provider_fault_and_rolls_back(app: TestApp) {
    let loaded = canary::load(&client(&app)).await.expect("canary");
    assert_no_faults(&app).await;
    assert_eq!(
        loaded.first["status"],
        json!("succeeded"),
        "{}",
        loaded.first
    );
    let canary = &loaded.canary;
    assert_eq!(canary["status"], json!("rolled_back"), "{canary}");
    assert_eq!(canary["steps"][0]["status"], json!("failed"), "{canary}");
    let droplets = canary["droplets"].as_array().expect("droplets");
    assert_eq!(droplets.len(), 4);
    assert!(
        droplets.iter().all(|d| d["app_version"] == json!("v1")),
        "{droplets:?}"
    );
    let summary = loaded.summary().render("http://console");
    assert!(summary.contains("rolled_back"), "{summary}");
}

api_test!(autoscale_ramps_out_and_back_in, |s: &mut Settings| {
    s.autoscaler_interval_seconds = 0;
});

async fn autoscale_ramps_out_and_back_in(app: TestApp) {
    let client = DemoClient::new(&app.address, Duration::from_secs(90))
        .expect("the app's URL")
        .quiet();
    let scene = autoscale::load(&client).await.expect("autoscale");
    let decisions: Vec<(&str, u64)> = scene
        .acted
        .iter()
        .map(|(d, n, _)| (d.as_str(), *n))
        .collect();
    assert_eq!(
        decisions,
        [
            ("scale_up", 1),
            ("scale_up", 1),
            ("scale_down", 1),
            ("scale_down", 1)
        ]
    );
    let id = &scene.cluster_id;
    let stream = app.stream("autoscaler", id).await;
    assert_eq!(
        stream.len(),
        4,
        "one autoscaling.decided per acting decision"
    );
    let history = app
        .get(&format!(
            "/v1/clusters/{id}/autoscaling/decisions?limit=100"
        ))
        .await
        .expect(200)
        .clone();
    let codes: BTreeSet<&str> = items(&history)
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default())
        .collect();
    assert!(
        codes.contains("at_max") && codes.contains("at_min"),
        "{codes:?}"
    );
    let droplets = app
        .get_at(
            &format!("/v1/droplets?cluster_id={id}&status=active"),
            &app.head().await,
        )
        .await;
    assert_eq!(droplets["total"], json!(1), "{droplets}");
}
