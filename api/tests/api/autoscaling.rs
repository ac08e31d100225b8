//! Auto-scaling through the API: a cluster's policy (set, read, replaced, removed; every
//! bad field at once; 404s that say what is missing), a manual evaluation that acts (the
//! scale job is in `GET /v1/jobs`, its `autoscaling.decided` on the autoscaler's stream)
//! or does not, the decision history and the Prometheus counter. Scheduled rounds are
//! off (`autoscaler_interval_seconds = 0`) so that only the test evaluates.

use api::settings::Settings;
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{items, str_of, unknown_id, Answer, TestApp};

fn no_rounds(settings: &mut Settings) {
    settings.autoscaler_interval_seconds = 0;
}

async fn put(app: &TestApp, cluster: &str, body: &Value) -> Answer {
    let path = format!("/v1/clusters/{cluster}/autoscaling");
    app.send(app.request(Method::PUT, &path).json(body)).await
}

fn metrics_policy(min: u32, max: u32) -> Value {
    json!({
        "type": "metrics",
        "min_droplets": min,
        "max_droplets": max,
        "metric_type": "cpu",
        "scale_up_threshold": 80,
        "scale_down_threshold": 30,
    })
}

api_test!(a_policy_is_set_read_replaced_and_removed, no_rounds);
async fn a_policy_is_set_read_replaced_and_removed(app: TestApp) {
    let cluster = app.create_cluster("scaled").await;
    let id = str_of(&cluster["id"]);
    let path = format!("/v1/clusters/{id}/autoscaling");
    // No policy yet: a 404 that says so.
    let missing = app.get(&path).await;
    let detail = str_of(&missing.problem(404)["detail"]).to_owned();
    assert!(detail.contains("auto-scaling policy"), "{detail}");
    // Set: the view with its defaults, the cluster and the version that set it.
    let set = put(&app, id, &metrics_policy(1, 3)).await;
    let view = set.expect(200).clone();
    assert!(set.header("x-position").is_some());
    assert_eq!(view["type"], "metrics");
    assert_eq!(view["cluster_id"], id);
    assert_eq!(view["enabled"], true);
    assert_eq!(view["cooldown_seconds"], 300);
    assert_eq!(view["evaluation_window_seconds"], 300);
    assert_eq!(view["version"], 2);
    assert!(view["updated_at"].is_string());
    assert_eq!(app.get(&path).await.expect(200), &view);
    // The same policy again changes nothing; another one replaces it.
    assert_eq!(
        put(&app, id, &metrics_policy(1, 3)).await.expect(200),
        &view
    );
    let windows = json!({
        "type": "time_of_day",
        "min_droplets": 0,
        "max_droplets": 4,
        "windows": [{"days": ["mon", "tue"], "start": "22:00", "end": "06:00",
                     "time_zone": "Europe/Paris", "desired_droplets": 2}],
    });
    let replaced = put(&app, id, &windows).await.expect(200).clone();
    assert_eq!(replaced["type"], "time_of_day");
    assert_eq!(replaced["version"], 3);
    assert_eq!(replaced["windows"][0]["time_zone"], "Europe/Paris");
    assert!(replaced.get("metric_type").is_none(), "{replaced}");
    let types: Vec<Value> = app
        .stream("cluster", id)
        .await
        .iter()
        .map(|e| e["type"].clone())
        .collect();
    assert_eq!(
        types,
        [
            "cluster.created",
            "cluster.autoscaling_policy_set",
            "cluster.autoscaling_policy_set"
        ]
    );
    // Removed: 204, then gone; removing again is a 404.
    let removed = app.delete(&path).await;
    removed.expect(204);
    app.get(&path).await.problem(404);
    app.delete(&path).await.problem(404);
}

api_test!(bad_policies_name_every_bad_field, no_rounds);
async fn bad_policies_name_every_bad_field(app: TestApp) {
    let cluster = app.create_cluster("strict").await;
    let id = str_of(&cluster["id"]);
    let bad = json!({
        "type": "cost",
        "min_droplets": 4,
        "max_droplets": 2,
        "cooldown_seconds": -1,
        "metric_type": "gpu",
        "scale_up_threshold": 50,
        "scale_down_threshold": 60,
    });
    let answer = put(&app, id, &bad).await;
    for field in [
        "max_droplets",
        "cooldown_seconds",
        "metric_type",
        "cost_limit_per_hour",
    ] {
        answer.field_problem(422, field);
    }
    let windows = json!({
        "type": "time_of_day", "min_droplets": 0, "max_droplets": 2,
        "windows": [{"days": ["someday"], "start": "25:00", "end": "01:00", "desired_droplets": 3}],
    });
    let answer = put(&app, id, &windows).await;
    let message = str_of(&answer.field_problem(422, "windows")["errors"]["windows"]).to_owned();
    for part in [
        "windows[0].days",
        "windows[0].start",
        "windows[0].desired_droplets",
    ] {
        assert!(message.contains(part), "{part} missing from {message}");
    }
    // A mistyped or unknown field is named too.
    put(&app, id, &json!({"type": "metrics", "min_droplets": "one"}))
        .await
        .field_problem(422, "min_droplets");
    put(&app, id, &json!({"type": "metrics", "colour": "red"}))
        .await
        .field_problem(422, "colour");
    // Nothing was recorded.
    assert_eq!(app.stream("cluster", id).await.len(), 1);
    // An unknown cluster is a 404.
    let unknown = unknown_id("cl_");
    put(&app, &unknown, &metrics_policy(1, 2))
        .await
        .problem(404);
    app.get(&format!("/v1/clusters/{unknown}/autoscaling"))
        .await
        .problem(404);
}

api_test!(
    an_evaluation_below_the_minimum_starts_a_scale_job,
    no_rounds
);
async fn an_evaluation_below_the_minimum_starts_a_scale_job(app: TestApp) {
    let cluster = app.create_cluster("grow").await;
    let id = str_of(&cluster["id"]);
    let evaluate = format!("/v1/clusters/{id}/autoscaling/evaluate");
    // Without a policy: 409; an unknown cluster: 404.
    app.post(&evaluate, &json!({})).await.problem(409);
    let unknown = format!("/v1/clusters/{}/autoscaling/evaluate", unknown_id("cl_"));
    app.post(&unknown, &json!({})).await.problem(404);
    put(&app, id, &metrics_policy(1, 3)).await.expect(200);
    // An empty cluster is below its minimum: one droplet is asked for.
    let decision = app.post(&evaluate, &json!({})).await.expect(200).clone();
    assert_eq!(decision["decision"], "scale_up");
    assert_eq!(decision["count"], 1);
    assert_eq!(decision["code"], "below_min");
    assert_eq!(decision["trigger"], "manual");
    assert_eq!(decision["evaluations"], 1);
    assert_eq!(decision["inputs"]["droplets"], 0);
    assert!(str_of(&decision["reason"]).contains("below the minimum 1"));
    let job_id = str_of(&decision["job_id"]).to_owned();
    // The job is a scale_up of 1 on the cluster, listed with the cluster's jobs.
    let jobs = app
        .get_at(
            &format!("/v1/jobs?cluster_id={id}"),
            &decision["event_position"],
        )
        .await;
    let job = items(&jobs)
        .iter()
        .find(|j| j["id"] == job_id.as_str())
        .cloned()
        .expect("the scale job is listed");
    assert_eq!(job["type"], "scale_up");
    assert_eq!(job["parameters"]["count"], 1);
    // Its decision is the autoscaler stream's event, and causes the job's creation.
    let stream = app.stream("autoscaler", id).await;
    assert_eq!(stream.len(), 1);
    assert_eq!(stream[0]["type"], "autoscaling.decided");
    assert_eq!(stream[0]["position"], decision["event_position"]);
    assert_eq!(stream[0]["data"]["job_id"], job_id.as_str());
    assert_eq!(
        stream[0]["metadata"]["actor"], "anonymous",
        "the request's actor"
    );
    let created = app
        .stream("job", &job_id)
        .await
        .into_iter()
        .next()
        .expect("job.created");
    assert_eq!(created["metadata"]["causation_id"], stream[0]["id"]);
    // Evaluated again at once: nothing, because the job or its droplet is under way (or
    // the cooldown holds).
    let again = app.post(&evaluate, &json!({})).await.expect(200).clone();
    assert_eq!(again["decision"], "none");
    assert!(again.get("job_id").is_none());
    let code = str_of(&again["code"]);
    assert!(
        ["scale_job_running", "droplets_pending", "cooldown"].contains(&code),
        "{again}"
    );
    // The history: newest first.
    let history = app
        .get(&format!("/v1/clusters/{id}/autoscaling/decisions?limit=10"))
        .await
        .expect(200)
        .clone();
    let decisions: Vec<&str> = items(&history)
        .iter()
        .map(|d| str_of(&d["decision"]))
        .collect();
    assert_eq!(decisions, ["none", "scale_up"]);
    app.get(&format!("/v1/clusters/{id}/autoscaling/decisions?limit=0"))
        .await
        .problem(400);
    // Counted for Prometheus.
    let counted = app
        .metric("clustergenie_autoscaler_decisions_total{decision=\"scale_up\"} ")
        .await;
    assert_eq!(counted, 1.0);
    // The job runs: the cluster gets its droplet.
    app.wait_for_job(&job_id, "succeeded").await;
}

api_test!(a_disabled_policy_decides_nothing, no_rounds);
async fn a_disabled_policy_decides_nothing(app: TestApp) {
    let cluster = app.create_cluster("idle").await;
    let id = str_of(&cluster["id"]);
    let mut policy = metrics_policy(2, 3);
    policy["enabled"] = json!(false);
    put(&app, id, &policy).await.expect(200);
    let evaluate = format!("/v1/clusters/{id}/autoscaling/evaluate");
    for evaluations in 1..=2 {
        let decision = app.post(&evaluate, &json!({})).await.expect(200).clone();
        assert_eq!(decision["decision"], "none");
        assert_eq!(decision["code"], "disabled");
        assert_eq!(decision["count"], 0);
        assert_eq!(decision["evaluations"], evaluations, "the same row, bumped");
        assert!(decision.get("event_position").is_none());
    }
    // No acting decision, so no event: the autoscaler's stream does not exist.
    app.get(&format!("/v1/streams/autoscaler/{id}"))
        .await
        .problem(404);
    let none = app
        .metric("clustergenie_autoscaler_decisions_total{decision=\"none\"} ")
        .await;
    assert_eq!(none, 2.0);
}

api_test!(a_scale_down_removes_up_to_its_count, no_rounds);
async fn a_scale_down_removes_up_to_its_count(app: TestApp) {
    // Given a cluster of three active droplets
    let cluster = app.create_cluster("shrink").await;
    let id = str_of(&cluster["id"]);
    let mut droplets = Vec::new();
    for name in ["a", "b", "c"] {
        droplets.push(str_of(&app.active_droplet(id, name).await["id"]).to_owned());
    }
    // When a scale-down of 2 runs
    let body = json!({"type": "scale_down", "cluster_id": id, "parameters": {"count": 2}});
    let started = app.post("/v1/jobs", &body).await.expect(202).clone();
    let job = app
        .wait_for_job(str_of(&started["job"]["id"]), "succeeded")
        .await;
    // Then the two newest droplets are destroyed by two destroy jobs, the oldest stays
    let removed: Vec<&str> = job["result"]["removed_droplets"]
        .as_array()
        .expect("removed_droplets")
        .iter()
        .map(str_of)
        .collect();
    assert_eq!(
        removed,
        [droplets[2].as_str(), droplets[1].as_str()],
        "{job}"
    );
    assert_eq!(job["result"]["removed"], droplets[2].as_str());
    let children = job["result"]["job_ids"]
        .as_array()
        .expect("job_ids")
        .clone();
    assert_eq!(children.len(), 2);
    for child in &children {
        app.wait_for_job(str_of(child), "succeeded").await;
    }
    for gone in &removed {
        app.wait_for_droplet(gone, "destroyed").await;
    }
    let kept = app.get(&format!("/v1/droplets/{}", droplets[0])).await;
    assert_eq!(kept.expect(200)["status"], "active");
}

api_test!(a_running_deployment_holds_the_autoscaler_back, no_rounds);
async fn a_running_deployment_holds_the_autoscaler_back(app: TestApp) {
    // Given a cluster of two active droplets whose policy wants at least three,
    let cluster = app.create_cluster("rollout").await;
    let id = str_of(&cluster["id"]).to_owned();
    for n in 0..2 {
        let body = json!({
            "cluster_id": id, "name": format!("rollout-{n}"), "region": "nyc1",
            "size": "s-1vcpu-1gb", "image": "ubuntu-22-04-x64",
        });
        let created = app.post("/v1/droplets", &body).await.expect(202).clone();
        app.wait_for_droplet(str_of(&created["droplet"]["id"]), "active")
            .await;
    }
    put(&app, &id, &metrics_policy(3, 4)).await.expect(200);
    // and a canary waiting for its promotion,
    let gate = json!({"metric": "cpu", "max": 90, "window_seconds": 5});
    let canary =
        json!({"strategy": "canary", "version": "v2", "auto_promote": false, "health_gate": gate});
    let started = app
        .post(&format!("/v1/clusters/{id}/deployments"), &canary)
        .await
        .expect(202)
        .clone();
    let deployment = str_of(&started["deployment"]["id"]).to_owned();
    let path = format!("/v1/deployments/{deployment}");
    app.poll(&path, "waiting for promotion", |d| {
        d["waiting_for_promotion"] == true
    })
    .await;
    // when the cluster is evaluated, it is left alone while the rollout runs;
    let evaluate = format!("/v1/clusters/{id}/autoscaling/evaluate");
    let held = app.post(&evaluate, &json!({})).await.expect(200).clone();
    assert_eq!(held["decision"], "none", "{held}");
    assert_eq!(held["code"], "deployment_running", "{held}");
    // then, once the rollout ended, it scales up to its minimum.
    app.post(&format!("{path}/promote"), &json!({}))
        .await
        .expect(202);
    app.poll(&path, "ended", |d| d["status"] != "running").await;
    let acted = app.post(&evaluate, &json!({})).await.expect(200).clone();
    assert_eq!(acted["decision"], "scale_up", "{acted}");
    assert_eq!(acted["code"], "below_min", "{acted}");
}
