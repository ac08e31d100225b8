//! Deployments through the real server, the job runtime and the simulated providers (sim
//! speed 100: a gate window of 5 s waits 50 ms): each strategy carries every droplet to
//! the new version; a canary whose gate sees high CPU, or whose provider fails, rolls back
//! by itself; a manual rollback mid-way; a restart mid-rollout; one deployment per cluster;
//! bad input.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::common::*;

use api::settings::Settings;
use engine::policies::PolicyPatch;

const TERMINAL: [&str; 3] = ["succeeded", "rolled_back", "failed"];

/// A cluster with `n` active droplets, all at `provider`; returns (cluster id, droplet ids).
async fn fleet(app: &TestApp, name: &str, n: usize, provider: &str) -> (String, Vec<String>) {
    let cluster = app.create_cluster(name).await;
    let cluster_id = str_of(&cluster["id"]).to_owned();
    let mut ids = Vec::new();
    for i in 0..n {
        let body = json!({
            "cluster_id": cluster_id,
            "name": format!("{name}-{i}"),
            "region": "nyc1",
            "size": "s-1vcpu-1gb",
            "image": "ubuntu-22-04-x64",
            "provider": provider,
        });
        let created = app.post("/v1/droplets", &body).await.expect(202).clone();
        ids.push(str_of(&created["droplet"]["id"]).to_owned());
    }
    for id in &ids {
        app.wait_for_droplet(id, "active").await;
    }
    (cluster_id, ids)
}

/// Starts a deployment; returns its id.
async fn deploy(app: &TestApp, cluster_id: &str, body: Value) -> String {
    let answer = app
        .post(&format!("/v1/clusters/{cluster_id}/deployments"), &body)
        .await;
    let started = answer.expect(202);
    assert_eq!(started["deployment"]["status"], "running", "{started}");
    str_of(&started["deployment"]["id"]).to_owned()
}

/// Waits until deployment `id` ended; returns it.
async fn ended(app: &TestApp, id: &str) -> Value {
    app.poll(&format!("/v1/deployments/{id}"), "ended", |d| {
        TERMINAL.contains(&str_of(&d["status"]))
    })
    .await
}

/// The application versions of the cluster's live droplets, by the droplets' own view.
async fn versions(app: &TestApp, ids: &[String]) -> Vec<Value> {
    let mut versions = Vec::new();
    for id in ids {
        let droplet = app
            .get(&format!("/v1/droplets/{id}"))
            .await
            .expect(200)
            .clone();
        versions.push(droplet["app_version"].clone());
    }
    versions
}

/// Waits until the droplets' views show `version` on each.
async fn all_at(app: &TestApp, ids: &[String], version: Value) {
    for id in ids {
        let wanted = version.clone();
        app.poll(&format!("/v1/droplets/{id}"), "at the version", move |d| {
            d["app_version"] == wanted
        })
        .await;
    }
}

fn gate(window_seconds: u64) -> Value {
    json!({ "metric": "cpu", "max": 80, "window_seconds": window_seconds })
}

/// The cluster's live droplets, by the cluster's deployments view of the latest one.
async fn cluster_droplets(app: &TestApp, cluster_id: &str) -> BTreeSet<String> {
    let listed = app
        .get(&format!(
            "/v1/droplets?cluster_id={cluster_id}&per_page=100"
        ))
        .await
        .expect(200)
        .clone();
    items(&listed)
        .iter()
        .filter(|d| d["status"] != "destroyed")
        .map(|d| str_of(&d["id"]).to_owned())
        .collect()
}

api_test!(each_strategy_puts_the_new_version_on_every_droplet);
async fn each_strategy_puts_the_new_version_on_every_droplet(app: TestApp) {
    let (cluster_id, ids) = fleet(&app, "shop", 3, "simcloud").await;
    assert_eq!(
        versions(&app, &ids).await,
        vec![Value::Null; 3],
        "no version yet"
    );

    let body =
        json!({"strategy": "rolling", "version": "v1", "batch_size": 2, "health_gate": gate(5)});
    let rolling = ended(&app, &deploy(&app, &cluster_id, body).await).await;
    assert_eq!(rolling["status"], "succeeded", "{rolling}");
    assert_eq!(rolling["previous_version"], Value::Null);
    let kinds: Vec<&str> = rolling["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| str_of(&s["kind"]))
        .collect();
    assert_eq!(kinds, ["batch", "batch"]);
    assert_eq!(rolling["gates"].as_array().unwrap().len(), 2);
    assert!(rolling["gates"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("droplet health alone"));
    all_at(&app, &ids, json!("v1")).await;

    let body = json!({"strategy": "canary", "version": "v2", "target_percent": 30, "health_gate": gate(5)});
    let canary = ended(&app, &deploy(&app, &cluster_id, body).await).await;
    assert_eq!(canary["status"], "succeeded", "{canary}");
    assert_eq!(canary["previous_version"], "v1");
    assert_eq!(canary["steps"][0]["kind"], "canary");
    assert_eq!(
        canary["steps"][0]["droplet_ids"].as_array().unwrap().len(),
        1
    );
    assert_eq!(
        canary["steps"][1]["droplet_ids"].as_array().unwrap().len(),
        2
    );
    all_at(&app, &ids, json!("v2")).await;
    let droplets = canary["droplets"].as_array().unwrap();
    assert!(
        droplets.iter().all(|d| d["app_version"] == "v2"),
        "{canary}"
    );

    let body = json!({"strategy": "blue_green", "version": "v3", "health_gate": gate(5)});
    let blue_green = ended(&app, &deploy(&app, &cluster_id, body).await).await;
    assert_eq!(blue_green["status"], "succeeded", "{blue_green}");
    let green: BTreeSet<String> = blue_green["steps"][0]["droplet_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| str_of(id).to_owned())
        .collect();
    assert_eq!(green.len(), 3);
    assert!(green.is_disjoint(&ids.iter().cloned().collect()));
    let green_ids: Vec<String> = green.iter().cloned().collect();
    all_at(&app, &green_ids, json!("v3")).await;
    for id in &ids {
        app.wait_for_droplet(id, "destroyed").await;
    }
    assert_eq!(
        cluster_droplets(&app, &cluster_id).await,
        green,
        "only the new set is left"
    );

    // A droplet created now starts with the cluster's deployed version.
    let created = app.create_droplet(&cluster_id, "late").await;
    assert_eq!(created["droplet"]["app_version"], "v3", "{created}");
    let listed = app
        .get(&format!("/v1/clusters/{cluster_id}/deployments"))
        .await
        .expect(200)
        .clone();
    let order: Vec<&str> = items(&listed)
        .iter()
        .map(|d| str_of(&d["version"]))
        .collect();
    assert_eq!(order, ["v3", "v2", "v1"], "newest first");
}

/// Stores `value` CPU samples for each of `ids` and waits until they are readable.
async fn cpu(app: &TestApp, cluster_id: &str, ids: &[String], value: f64) {
    let samples: Vec<Value> = ids
        .iter()
        .flat_map(|id| {
            (0..3).map(move |_| json!({"cluster_id": cluster_id, "droplet_id": id, "type": "cpu", "value": value}))
        })
        .collect();
    let count = samples.len();
    app.post("/v1/metrics", &json!({ "samples": samples }))
        .await
        .expect(202);
    app.poll(
        &format!("/v1/metrics?cluster_id={cluster_id}&type=cpu"),
        "stored",
        move |listed| listed["total"].as_u64().unwrap_or(0) >= count as u64,
    )
    .await;
}

api_test!(a_canary_above_its_gates_max_rolls_back_by_itself);
async fn a_canary_above_its_gates_max_rolls_back_by_itself(app: TestApp) {
    let (cluster_id, ids) = fleet(&app, "hot", 4, "simcloud").await;
    let body =
        json!({"strategy": "rolling", "version": "v1", "batch_size": 4, "health_gate": gate(5)});
    assert_eq!(
        ended(&app, &deploy(&app, &cluster_id, body).await).await["status"],
        "succeeded"
    );
    cpu(&app, &cluster_id, &ids, 95.0).await;
    let body = json!({"strategy": "canary", "version": "v2", "target_percent": 25, "health_gate": gate(30)});
    let canary = ended(&app, &deploy(&app, &cluster_id, body).await).await;
    assert_eq!(canary["status"], "rolled_back", "{canary}");
    let verdict = &canary["gates"][0];
    assert_eq!(verdict["passed"], false, "{canary}");
    assert!(verdict["observed"].as_f64().unwrap() > 80.0, "{verdict}");
    assert_eq!(
        verdict["unhealthy_droplets"],
        canary["steps"][0]["droplet_ids"]
    );
    assert_eq!(
        canary["steps"][1]["status"], "pending",
        "the rest never started"
    );
    let rollback = canary["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(rollback["kind"], "rollback");
    assert_eq!(rollback["status"], "completed");
    all_at(&app, &ids, json!("v1")).await;
    assert!(canary["logs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["level"] == "warn"));
}

api_test!(
    a_canary_whose_provider_fails_rolls_back_by_itself,
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
async fn a_canary_whose_provider_fails_rolls_back_by_itself(app: TestApp) {
    let (cluster_id, ids) = fleet(&app, "flaky", 3, "simcloud").await;
    let body =
        json!({"strategy": "rolling", "version": "v1", "batch_size": 3, "health_gate": gate(5)});
    assert_eq!(
        ended(&app, &deploy(&app, &cluster_id, body).await).await["status"],
        "succeeded"
    );
    let faults = json!({ "outage": true });
    app.send(
        app.request(reqwest::Method::PUT, "/v1/admin/providers/simcloud/faults")
            .json(&faults),
    )
    .await
    .expect(200);
    let body = json!({"strategy": "canary", "version": "v2", "health_gate": gate(5)});
    let canary = ended(&app, &deploy(&app, &cluster_id, body).await).await;
    assert_eq!(canary["status"], "rolled_back", "{canary}");
    assert_eq!(canary["steps"][0]["status"], "failed");
    let step_job = str_of(&canary["steps"][0]["job_id"]).to_owned();
    let job = app.wait_for_job(&step_job, "failed").await;
    assert!(str_of(&job["error"]).contains("outage"), "{job}");
    all_at(&app, &ids, json!("v1")).await;
    app.send(
        app.request(reqwest::Method::PUT, "/v1/admin/providers/simcloud/faults")
            .json(&json!({})),
    )
    .await
    .expect(200);
}

api_test!(a_manual_rollback_mid_way_puts_the_previous_version_back);
async fn a_manual_rollback_mid_way_puts_the_previous_version_back(app: TestApp) {
    let (cluster_id, ids) = fleet(&app, "steady", 3, "simcloud").await;
    let body =
        json!({"strategy": "rolling", "version": "v1", "batch_size": 3, "health_gate": gate(5)});
    assert_eq!(
        ended(&app, &deploy(&app, &cluster_id, body).await).await["status"],
        "succeeded"
    );
    // A gate of an hour waits 36 s at sim speed 100: the rollback comes during it.
    let body =
        json!({"strategy": "rolling", "version": "v2", "batch_size": 1, "health_gate": gate(3600)});
    let id = deploy(&app, &cluster_id, body).await;
    let waiting = app
        .poll(&format!("/v1/deployments/{id}"), "at its first gate", |d| {
            d["phase"] == "gate after batch 1 of 3"
        })
        .await;
    let first = str_of(&waiting["steps"][0]["droplet_ids"][0]).to_owned();
    all_at(&app, std::slice::from_ref(&first), json!("v2")).await;
    let rolled = app
        .post(&format!("/v1/deployments/{id}/rollback"), &json!({}))
        .await
        .expect(202)
        .clone();
    assert_eq!(rolled["deployment"]["phase"], "rolling back", "{rolled}");
    app.post(&format!("/v1/deployments/{id}/rollback"), &json!({}))
        .await
        .problem(409);
    let done = ended(&app, &id).await;
    assert_eq!(done["status"], "rolled_back", "{done}");
    assert!(done["logs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| str_of(&l["message"]).contains("manual rollback")));
    all_at(&app, &ids, json!("v1")).await;
    assert_eq!(done["steps"][1]["status"], "pending");
    app.post(&format!("/v1/deployments/{id}/promote"), &json!({}))
        .await
        .problem(409);
}

api_test!(one_deployment_per_cluster_and_a_canary_waits_for_its_promote);
async fn one_deployment_per_cluster_and_a_canary_waits_for_its_promote(app: TestApp) {
    let (cluster_id, ids) = fleet(&app, "gated", 3, "simcloud").await;
    let path = format!("/v1/clusters/{cluster_id}/deployments");
    let body = json!({"strategy": "canary", "version": "v1", "auto_promote": false, "health_gate": gate(5)});
    // Two starts at once: one runs, the other is refused.
    let (a, b) = tokio::join!(app.post(&path, &body), app.post(&path, &body));
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [202, 409], "{} / {}", a.text, b.text);
    let winner = if a.status == 202 { &a } else { &b };
    let id = str_of(&winner.body["deployment"]["id"]).to_owned();
    let waiting = app
        .poll(
            &format!("/v1/deployments/{id}"),
            "waiting for promotion",
            |d| d["waiting_for_promotion"] == true,
        )
        .await;
    assert_eq!(waiting["phase"], "waiting for promotion");
    assert_eq!(waiting["status"], "running");
    app.post(&path, &json!({"strategy": "rolling", "version": "v9"}))
        .await
        .problem(409);
    let promoted = app
        .post(&format!("/v1/deployments/{id}/promote"), &json!({}))
        .await
        .expect(202)
        .clone();
    assert_eq!(promoted["deployment"]["waiting_for_promotion"], false);
    let done = ended(&app, &id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    all_at(&app, &ids, json!("v1")).await;
    app.post(&format!("/v1/deployments/{id}/rollback"), &json!({}))
        .await
        .problem(409);
    // Free again.
    let next = deploy(
        &app,
        &cluster_id,
        json!({"strategy": "rolling", "version": "v2", "health_gate": gate(5)}),
    )
    .await;
    assert_eq!(ended(&app, &next).await["status"], "succeeded");
}

api_test!(bad_deployment_input_is_refused_naming_the_fields);
async fn bad_deployment_input_is_refused_naming_the_fields(app: TestApp) {
    let cluster = app.create_cluster("empty").await;
    let path = format!("/v1/clusters/{}/deployments", str_of(&cluster["id"]));
    let bad = json!({
        "strategy": "big_bang",
        "version": "v 1",
        "target_percent": 0,
        "batch_size": 0,
        "health_gate": {"metric": "heat", "max": 1, "window_seconds": 1},
    });
    let answer = app.post(&path, &bad).await;
    for field in [
        "strategy",
        "version",
        "target_percent",
        "batch_size",
        "health_gate.metric",
        "health_gate.window_seconds",
    ] {
        answer.field_problem(422, field);
    }
    app.post(&path, &json!({"strategy": "rolling"}))
        .await
        .field_problem(422, "version");
    app.post(
        &path,
        &json!({"strategy": "rolling", "version": "v1", "colour": "blue"}),
    )
    .await
    .field_problem(422, "colour");
    // A cluster without active droplets has nothing to deploy to.
    app.post(&path, &json!({"strategy": "rolling", "version": "v1"}))
        .await
        .problem(422);
    let unknown = format!("/v1/clusters/{}/deployments", unknown_id("cl"));
    app.post(&unknown, &json!({"strategy": "rolling", "version": "v1"}))
        .await
        .problem(404);
    app.get(&unknown).await.problem(404);
    app.get(&format!("/v1/deployments/{}", unknown_id("dep")))
        .await
        .problem(404);
    app.get("/v1/deployments/nope").await.problem(404);
    app.post(
        &format!("/v1/deployments/{}/rollback", unknown_id("dep")),
        &json!({}),
    )
    .await
    .problem(404);
}

api_test!(
    a_restart_mid_rollout_carries_it_to_an_end,
    |s: &mut Settings| {
        for job_type in ["deploy_step", "deploy_gate", "deploy_rollback"] {
            s.job_policies.insert(
                job_type.into(),
                PolicyPatch {
                    heartbeat_timeout_ms: Some(1_000),
                    initial_interval_ms: Some(50),
                    ..PolicyPatch::default()
                },
            );
        }
    }
);
async fn a_restart_mid_rollout_carries_it_to_an_end(app: TestApp) {
    let (cluster_id, ids) = fleet(&app, "restart", 3, "simcloud").await;
    // Gates of 300 s wait 3 s at sim speed 100: the restart comes during the first.
    let body =
        json!({"strategy": "rolling", "version": "v7", "batch_size": 1, "health_gate": gate(300)});
    let id = deploy(&app, &cluster_id, body).await;
    app.poll(&format!("/v1/deployments/{id}"), "at its first gate", |d| {
        d["phase"] == "gate after batch 1 of 3"
    })
    .await;
    let app = app.restart(|_| {}).await;
    let done = ended(&app, &id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    all_at(&app, &ids, json!("v7")).await;
    // The gate's attempt lost with the first process was timed out and retried.
    let gate_job = str_of(&done["steps"][0]["job_id"]).to_owned();
    assert!(!gate_job.is_empty());
    let stream = app.stream("deployment", &id).await;
    let types: Vec<&str> = stream.iter().map(|e| str_of(&e["type"])).collect();
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "deployment.gate_passed")
            .count(),
        3,
        "{types:?}"
    );
    assert_eq!(types.last(), Some(&"deployment.succeeded"));
}

api_test!(a_blue_green_rollback_destroys_the_new_set_and_keeps_the_old);
async fn a_blue_green_rollback_destroys_the_new_set_and_keeps_the_old(app: TestApp) {
    let (cluster_id, ids) = fleet(&app, "bluegreen", 2, "simcloud").await;
    let body =
        json!({"strategy": "rolling", "version": "v1", "batch_size": 2, "health_gate": gate(5)});
    assert_eq!(
        ended(&app, &deploy(&app, &cluster_id, body).await).await["status"],
        "succeeded"
    );
    // The green set's gate waits 36 s at sim speed 100: the rollback comes during it.
    let body = json!({"strategy": "blue_green", "version": "v2", "health_gate": gate(3600)});
    let id = deploy(&app, &cluster_id, body).await;
    let waiting = app
        .poll(&format!("/v1/deployments/{id}"), "at the green gate", |d| {
            d["phase"] == "gate after the new set"
        })
        .await;
    let green: Vec<String> = waiting["steps"][0]["droplet_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| str_of(id).to_owned())
        .collect();
    all_at(&app, &green, json!("v2")).await;
    app.post(&format!("/v1/deployments/{id}/rollback"), &json!({}))
        .await
        .expect(202);
    let done = ended(&app, &id).await;
    assert_eq!(done["status"], "rolled_back", "{done}");
    assert_eq!(done["steps"][1]["status"], "pending", "no switch");
    for id in &green {
        app.wait_for_droplet(id, "destroyed").await;
    }
    all_at(&app, &ids, json!("v1")).await;
    let left: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(cluster_droplets(&app, &cluster_id).await, left);
}
