//! `/v1/jobs`: cluster jobs (scale up and down act on their own cluster only), cancel,
//! lists and filters, and time travel.

use serde_json::{json, Value};

use crate::common::*;

use api::settings::Settings;

/// Starts a cluster job; returns `{job, position}`.
async fn start_job(app: &TestApp, job_type: &str, cluster_id: &str, parameters: Value) -> Value {
    let body = json!({ "type": job_type, "cluster_id": cluster_id, "parameters": parameters });
    let answer = app.post("/v1/jobs", &body).await;
    let started = answer.expect(202).clone();
    assert!(started["position"].is_i64(), "{started}");
    assert_eq!(started["job"]["type"], job_type);
    assert_eq!(started["job"]["cluster_id"], cluster_id);
    assert_eq!(started["job"]["status"], "pending");
    assert_eq!(started["job"]["droplet_id"], Value::Null);
    started
}

async fn droplet_count(app: &TestApp, cluster_id: &str) -> u64 {
    let head = app.head().await;
    app.get_at(&format!("/v1/clusters/{cluster_id}"), &head)
        .await["droplet_count"]
        .as_u64()
        .expect("droplet_count")
}

/// Waits until cluster `cluster_id` counts `count` droplets.
async fn wait_for_droplet_count(app: &TestApp, cluster_id: &str, count: u64) {
    app.poll(
        &format!("/v1/clusters/{cluster_id}"),
        &format!("{count} droplet(s)"),
        |c| c["droplet_count"] == count,
    )
    .await;
}

api_test!(scale_up_and_down_touch_only_their_cluster);
async fn scale_up_and_down_touch_only_their_cluster(app: TestApp) {
    let a = app.create_cluster("alpha").await;
    let b = app.create_cluster("beta").await;
    let a_id = str_of(&a["id"]);
    let b_id = str_of(&b["id"]);
    let b_droplet = app.active_droplet(b_id, "keep-me").await;

    // Scale up alpha by one.
    let started = start_job(&app, "scale_up", a_id, json!({})).await;
    let job = app
        .wait_for_job(str_of(&started["job"]["id"]), "succeeded")
        .await;
    let added = job["result"]["added"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(added.len(), 1, "{job}");
    let new_id = str_of(&added[0]["droplet_id"]);
    let new = app.wait_for_droplet(new_id, "active").await;
    assert_eq!(new["cluster_id"], a_id);
    assert!(str_of(&new["name"]).starts_with("alpha-"), "{new}");
    let list = app.get(&format!("/v1/droplets?cluster_id={a_id}")).await;
    assert_eq!(field_of_items(list.expect(200), "id"), [new_id]);
    let list = app.get(&format!("/v1/droplets?cluster_id={b_id}")).await;
    assert_eq!(
        field_of_items(list.expect(200), "id"),
        [str_of(&b_droplet["id"])]
    );
    // The clusters read model follows the log on its own: wait for it to count the droplet.
    wait_for_droplet_count(&app, a_id, 1).await;
    assert_eq!(droplet_count(&app, b_id).await, 1);

    // Scale up by a count.
    let started = start_job(&app, "scale_up", a_id, json!({ "count": 2 })).await;
    let job = app
        .wait_for_job(str_of(&started["job"]["id"]), "succeeded")
        .await;
    let added = job["result"]["added"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(added.len(), 2, "{job}");
    for child in &added {
        app.wait_for_job(str_of(&child["job_id"]), "succeeded")
            .await;
        app.wait_for_droplet(str_of(&child["droplet_id"]), "active")
            .await;
    }
    wait_for_droplet_count(&app, a_id, 3).await;
    assert_eq!(droplet_count(&app, b_id).await, 1);

    // Scale down alpha by one: one of alpha's droplets goes, beta's stays.
    let started = start_job(&app, "scale_down", a_id, json!({})).await;
    let job = app
        .wait_for_job(str_of(&started["job"]["id"]), "succeeded")
        .await;
    let removed = str_of(&job["result"]["removed"]).to_owned();
    app.wait_for_job(str_of(&job["result"]["job_id"]), "succeeded")
        .await;
    let gone = app.wait_for_droplet(&removed, "destroyed").await;
    assert_eq!(gone["cluster_id"], a_id);
    wait_for_droplet_count(&app, a_id, 2).await;
    let list = app.get(&format!("/v1/droplets?cluster_id={a_id}")).await;
    let left = field_of_items(list.expect(200), "id");
    assert_eq!(left.len(), 2);
    assert!(!left.contains(&removed), "{left:?}");
    let b_now = app
        .get(&format!("/v1/droplets/{}", str_of(&b_droplet["id"])))
        .await;
    assert_eq!(b_now.expect(200)["status"], "active");
    assert_eq!(droplet_count(&app, b_id).await, 1);
}

api_test!(scale_down_of_an_empty_cluster_removes_nothing);
async fn scale_down_of_an_empty_cluster_removes_nothing(app: TestApp) {
    let empty = app.create_cluster("empty").await;
    let other = app.create_cluster("other").await;
    let other_droplet = app.active_droplet(str_of(&other["id"]), "safe").await;
    let started = start_job(&app, "scale_down", str_of(&empty["id"]), json!({})).await;
    let job = app
        .wait_for_job(str_of(&started["job"]["id"]), "succeeded")
        .await;
    assert_eq!(job["result"]["removed"], Value::Null, "{job}");
    let got = app
        .get(&format!("/v1/droplets/{}", str_of(&other_droplet["id"])))
        .await;
    assert_eq!(got.expect(200)["status"], "active");
    assert_eq!(droplet_count(&app, str_of(&other["id"])).await, 1);
}

api_test!(scale_downs_in_a_row_remove_distinct_droplets);
async fn scale_downs_in_a_row_remove_distinct_droplets(app: TestApp) {
    let cluster = app.create_cluster("shrink").await;
    let id = str_of(&cluster["id"]);
    let mut ids = Vec::new();
    for name in ["one", "two", "three"] {
        let droplet = app.active_droplet(id, name).await;
        ids.push(str_of(&droplet["id"]).to_owned());
    }
    wait_for_droplet_count(&app, id, 3).await;
    // Started back to back: the second must not pick the droplet the first is destroying.
    let first = start_job(&app, "scale_down", id, json!({})).await;
    let second = start_job(&app, "scale_down", id, json!({})).await;
    let mut removed = Vec::new();
    for started in [&first, &second] {
        let job = app
            .wait_for_job(str_of(&started["job"]["id"]), "succeeded")
            .await;
        removed.push(str_of(&job["result"]["removed"]).to_owned());
        app.wait_for_job(str_of(&job["result"]["job_id"]), "succeeded")
            .await;
    }
    removed.sort();
    // The two newest went; the oldest stays.
    assert_eq!(removed, ids[1..], "removed {removed:?} of {ids:?}");
    for gone in &removed {
        app.wait_for_droplet(gone, "destroyed").await;
    }
    wait_for_droplet_count(&app, id, 1).await;
    let list = app.get(&format!("/v1/droplets?cluster_id={id}")).await;
    assert_eq!(field_of_items(list.expect(200), "id"), [ids[0].as_str()]);
}

api_test!(
    scale_down_skips_a_droplet_still_provisioning,
    // Provider calls take their full simulated seconds (a provision 4 s).
    |s: &mut Settings| s.sim_speed = 1.0
);
async fn scale_down_skips_a_droplet_still_provisioning(app: TestApp) {
    let cluster = app.create_cluster("growing").await;
    let id = str_of(&cluster["id"]);
    let older = app.active_droplet(id, "older").await;
    let newer = app.create_droplet(id, "newer").await;
    let newer_id = str_of(&newer["droplet"]["id"]);
    app.wait_for_job(str_of(&newer["job"]["id"]), "running")
        .await;
    let started = start_job(&app, "scale_down", id, json!({})).await;
    let job = app
        .wait_for_job(str_of(&started["job"]["id"]), "succeeded")
        .await;
    assert_eq!(job["result"]["removed"], older["id"], "{job}");
    assert_eq!(job["attempts"], 1, "{job}");
    // Read once the read models hold the droplet (they may lag the jobs model on a busy
    // machine).
    let still = app
        .get_at(&format!("/v1/droplets/{newer_id}"), &newer["position"])
        .await;
    assert_eq!(still["status"], "provisioning");
    app.wait_for_job(str_of(&job["result"]["job_id"]), "succeeded")
        .await;
    app.wait_for_droplet(str_of(&older["id"]), "destroyed")
        .await;
    app.wait_for_droplet(newer_id, "active").await;
}

api_test!(
    scale_down_of_only_busy_droplets_fails_naming_them,
    |s: &mut Settings| {
        s.sim_speed = 1.0;
        // Provisions take a minute: the droplet stays busy through every attempt.
        s.provider_faults.insert(
            "simcloud".into(),
            engine::provider::Faults {
                spike_rate: 1.0,
                spike_ms: 60_000,
                ..engine::provider::Faults::NONE
            },
        );
    }
);
async fn scale_down_of_only_busy_droplets_fails_naming_them(app: TestApp) {
    let cluster = app.create_cluster("busy").await;
    let id = str_of(&cluster["id"]);
    let created = app.create_droplet(id, "slow").await;
    let droplet_id = str_of(&created["droplet"]["id"]);
    app.wait_for_job(str_of(&created["job"]["id"]), "running")
        .await;
    let started = start_job(&app, "scale_down", id, json!({})).await;
    let job = app
        .wait_for_job(str_of(&started["job"]["id"]), "failed")
        .await;
    // Tried again after each backoff (1 s, 2 s) while the droplet might become idle.
    assert_eq!(job["attempts"], 3, "{job}");
    let error = str_of(&job["error"]);
    assert!(
        error.contains("busy") && error.contains(droplet_id),
        "{job}"
    );
    let droplet = app
        .get_at(&format!("/v1/droplets/{droplet_id}"), &created["position"])
        .await;
    assert_eq!(droplet["status"], "provisioning");
}

api_test!(diagnose_and_monitor_report_health);
async fn diagnose_and_monitor_report_health(app: TestApp) {
    let cluster = app.create_cluster("checked").await;
    let id = str_of(&cluster["id"]);
    for job_type in ["diagnose", "monitor"] {
        let started = start_job(&app, job_type, id, json!({})).await;
        let job = app
            .wait_for_job(str_of(&started["job"]["id"]), "succeeded")
            .await;
        assert_eq!(job["result"]["droplet_count"], 0, "{job}");
        assert_eq!(job["result"]["cluster_status"], "healthy", "{job}");
        assert_eq!(job["result"]["health_score"], 50, "{job}");
        assert_eq!(job["progress"], 100);
    }
}

api_test!(
    cancel_running_jobs_and_refuse_finished_ones,
    |s: &mut Settings| {
        s.sim_delay_ms = 4000;
        // Provisions take their full simulated seconds.
        s.sim_speed = 1.0;
    }
);
async fn cancel_running_jobs_and_refuse_finished_ones(app: TestApp) {
    let cluster = app.create_cluster("cancels").await;
    let id = str_of(&cluster["id"]);
    let started = start_job(&app, "diagnose", id, json!({})).await;
    let job_id = str_of(&started["job"]["id"]);
    app.wait_for_job(job_id, "running").await;
    let answer = app
        .post(
            &format!("/v1/jobs/{job_id}/cancel"),
            &json!({ "reason": "not needed" }),
        )
        .await;
    let cancelled = answer.expect(200).clone();
    assert_eq!(cancelled["id"], job_id);
    assert_eq!(
        cancelled["status"], "running",
        "a running job stops cooperatively"
    );
    assert_eq!(cancelled["cancel_requested"], true);
    assert!(cancelled["position"].is_i64(), "{cancelled}");
    // Asking again changes nothing: accepted while the attempt is still stopping (the
    // answer names the first request's position), a conflict once it has stopped.
    let again = app
        .post(&format!("/v1/jobs/{job_id}/cancel"), &json!({}))
        .await;
    match again.status {
        200 => assert_eq!(again.body["position"], cancelled["position"]),
        _ => assert!(
            str_of(&again.problem(409)["detail"]).contains("already finished (cancelled)"),
            "{}",
            again.text
        ),
    }
    app.wait_for_job(job_id, "cancelled").await;
    let answer = app
        .post(&format!("/v1/jobs/{job_id}/cancel"), &json!({}))
        .await;
    let problem = answer.problem(409);
    assert!(
        str_of(&problem["detail"]).contains("already finished"),
        "{problem}"
    );

    // A droplet whose provisioning is cancelled while it runs ends up failed.
    let created = app.create_droplet(id, "never").await;
    let provision = str_of(&created["job"]["id"]);
    app.wait_for_job(provision, "running").await;
    // The body is optional.
    let answer = app
        .send(app.request(
            reqwest::Method::POST,
            &format!("/v1/jobs/{provision}/cancel"),
        ))
        .await;
    assert_eq!(answer.expect(200)["cancel_requested"], true);
    app.wait_for_job(provision, "cancelled").await;
    let droplet = app
        .wait_for_droplet(str_of(&created["droplet"]["id"]), "failed")
        .await;
    assert_eq!(droplet["pending_job_id"], Value::Null, "{droplet}");
}

api_test!(cancel_of_a_succeeded_job_is_a_conflict);
async fn cancel_of_a_succeeded_job_is_a_conflict(app: TestApp) {
    let cluster = app.create_cluster("done").await;
    let started = start_job(&app, "monitor", str_of(&cluster["id"]), json!({})).await;
    let job_id = str_of(&started["job"]["id"]);
    app.wait_for_job(job_id, "succeeded").await;
    let before = app.all_events().await.len();
    let answer = app
        .post(&format!("/v1/jobs/{job_id}/cancel"), &json!({}))
        .await;
    let problem = answer.problem(409);
    assert!(
        str_of(&problem["detail"]).contains("succeeded"),
        "{problem}"
    );
    assert_eq!(app.all_events().await.len(), before);
}

api_test!(cancel_of_a_pending_job_is_immediate, |s: &mut Settings| s
    .workers =
    false);
async fn cancel_of_a_pending_job_is_immediate(app: TestApp) {
    let workers = app.get("/v1/workers").await;
    assert_eq!(workers.expect(200)["worker_count"], 0);
    let cluster = app.create_cluster("idle").await;
    let id = str_of(&cluster["id"]);
    let started = start_job(&app, "scale_up", id, json!({})).await;
    let job_id = str_of(&started["job"]["id"]);
    let answer = app
        .post(&format!("/v1/jobs/{job_id}/cancel"), &json!({}))
        .await;
    let cancelled = answer.expect(200).clone();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["cancel_requested"], true);
    assert!(cancelled["finished_at"].is_string(), "{cancelled}");
    let job = app
        .get_at(&format!("/v1/jobs/{job_id}"), &cancelled["position"])
        .await;
    assert_eq!(job["status"], "cancelled");
    app.post(&format!("/v1/jobs/{job_id}/cancel"), &json!({}))
        .await
        .problem(409);

    // Cancelling a droplet's pending provision job frees the droplet: it is failed,
    // has no job in flight, can be destroyed, and its cluster deleted after that.
    let created = app.create_droplet(id, "stuck").await;
    let droplet_id = str_of(&created["droplet"]["id"]);
    let provision = str_of(&created["job"]["id"]);
    let answer = app
        .post(&format!("/v1/jobs/{provision}/cancel"), &json!({}))
        .await;
    let cancelled = answer.expect(200).clone();
    assert_eq!(cancelled["status"], "cancelled");
    let droplet = app
        .get_at(
            &format!("/v1/droplets/{droplet_id}"),
            &cancelled["position"],
        )
        .await;
    assert_eq!(droplet["status"], "failed", "{droplet}");
    assert_eq!(droplet["pending_job_id"], Value::Null, "{droplet}");
    let answer = app.delete(&format!("/v1/droplets/{droplet_id}")).await;
    let destroy = answer.expect(202).clone();
    assert_eq!(destroy["job"]["type"], "destroy");

    // Cancelling the pending destroy job keeps the droplet and frees it again.
    let destroy_job = str_of(&destroy["job"]["id"]);
    let answer = app
        .post(&format!("/v1/jobs/{destroy_job}/cancel"), &json!({}))
        .await;
    let cancelled = answer.expect(200).clone();
    let droplet = app
        .get_at(
            &format!("/v1/droplets/{droplet_id}"),
            &cancelled["position"],
        )
        .await;
    assert_eq!(droplet["status"], "failed", "{droplet}");
    assert_eq!(droplet["pending_job_id"], Value::Null, "{droplet}");
    assert_eq!(droplet["last_error"], "cancelled", "{droplet}");
    let answer = app.delete(&format!("/v1/droplets/{droplet_id}")).await;
    assert_eq!(answer.expect(202)["job"]["type"], "destroy");
}

api_test!(create_job_validates_type_cluster_and_parameters);
async fn create_job_validates_type_cluster_and_parameters(app: TestApp) {
    let cluster = app.create_cluster("jobs").await;
    let id = str_of(&cluster["id"]);
    for droplet_job in ["provision", "resize", "destroy", "power_on", "migrate"] {
        let answer = app
            .post(
                "/v1/jobs",
                &json!({ "type": droplet_job, "cluster_id": id }),
            )
            .await;
        answer.field_problem(422, "type");
    }
    let answer = app
        .post("/v1/jobs", &json!({ "type": "explode", "cluster_id": id }))
        .await;
    answer.field_problem(422, "type");
    let answer = app
        .post(
            "/v1/jobs",
            &json!({ "type": "scale_up", "cluster_id": id, "parameters": [1] }),
        )
        .await;
    answer.field_problem(422, "parameters");
    let answer = app
        .post(
            "/v1/jobs",
            &json!({ "type": "scale_up", "cluster_id": unknown_id("cl") }),
        )
        .await;
    answer.field_problem(422, "cluster_id");
    let answer = app
        .post(
            "/v1/jobs",
            &json!({ "type": "scale_up", "cluster_id": "cl_nope" }),
        )
        .await;
    answer.field_problem(422, "cluster_id");
    let answer = app.post("/v1/jobs", &json!({ "type": "scale_up" })).await;
    answer.field_problem(422, "cluster_id");
    let deleted = app.delete(&format!("/v1/clusters/{id}")).await;
    deleted.expect(200);
    let answer = app
        .post("/v1/jobs", &json!({ "type": "diagnose", "cluster_id": id }))
        .await;
    answer.problem(409);
    assert_eq!(app.get("/v1/jobs").await.expect(200)["total"], 0);
}

api_test!(job_lists_filter_and_sort);
async fn job_lists_filter_and_sort(app: TestApp) {
    let a = app.create_cluster("a").await;
    let b = app.create_cluster("b").await;
    let a_id = str_of(&a["id"]);
    let b_id = str_of(&b["id"]);
    let diagnose = start_job(&app, "diagnose", a_id, json!({})).await;
    app.wait_for_job(str_of(&diagnose["job"]["id"]), "succeeded")
        .await;
    let monitor = start_job(&app, "monitor", b_id, json!({})).await;
    app.wait_for_job(str_of(&monitor["job"]["id"]), "succeeded")
        .await;
    let droplet = app.create_droplet(a_id, "d").await;
    let provision = app
        .wait_for_job(str_of(&droplet["job"]["id"]), "succeeded")
        .await;
    let ids = |list: &serde_json::Value| field_of_items(list, "id");
    let d = str_of(&diagnose["job"]["id"]);
    let m = str_of(&monitor["job"]["id"]);
    let p = str_of(&provision["id"]);

    // Newest first by default.
    let list = app.get("/v1/jobs").await;
    let list = list.expect(200);
    assert_eq!(ids(list), [p, m, d]);
    assert_eq!(list["total"], 3);
    let list = app.get("/v1/jobs?sort_dir=asc").await;
    assert_eq!(ids(list.expect(200)), [d, m, p]);
    let list = app
        .get("/v1/jobs?sort_by=id&sort_dir=asc&page_size=2")
        .await;
    let list = list.expect(200);
    let mut sorted = [d, m, p];
    sorted.sort();
    assert_eq!(ids(list), sorted[..2]);
    assert_eq!(list["total"], 3);
    let list = app.get(&format!("/v1/jobs?cluster_id={a_id}")).await;
    assert_eq!(ids(list.expect(200)), [p, d]);
    let list = app.get("/v1/jobs?type=monitor").await;
    assert_eq!(ids(list.expect(200)), [m]);
    let list = app
        .get(&format!(
            "/v1/jobs?type=provision&cluster_id={a_id}&status=succeeded"
        ))
        .await;
    assert_eq!(ids(list.expect(200)), [p]);
    let list = app.get("/v1/jobs?status=running").await;
    assert_eq!(list.expect(200)["total"], 0);
    let list = app
        .get(&format!("/v1/jobs?type=provision&cluster_id={b_id}"))
        .await;
    assert_eq!(list.expect(200)["total"], 0);
}

api_test!(job_lists_filter_by_droplet);
async fn job_lists_filter_by_droplet(app: TestApp) {
    let cluster = app.create_cluster("by-droplet").await;
    let cluster_id = str_of(&cluster["id"]);
    let one = app.active_droplet(cluster_id, "one").await;
    let two = app.active_droplet(cluster_id, "two").await;
    let one_id = str_of(&one["id"]);
    let two_id = str_of(&two["id"]);
    let resize = app
        .post(
            &format!("/v1/droplets/{one_id}/resize"),
            &json!({ "size": "s-2vcpu-4gb" }),
        )
        .await
        .expect(202)
        .clone();
    let resized = app
        .wait_for_job(str_of(&resize["job"]["id"]), "succeeded")
        .await;
    // A cluster job works on no droplet: never listed under one.
    let diagnose = start_job(&app, "diagnose", cluster_id, json!({})).await;
    app.wait_for_job(str_of(&diagnose["job"]["id"]), "succeeded")
        .await;
    let ids = |list: &Value| field_of_items(list, "id");
    let types = |list: &Value| field_of_items(list, "type");

    let of_one = app.get(&format!("/v1/jobs?droplet_id={one_id}")).await;
    let of_one = of_one.expect(200);
    assert_eq!(types(of_one), ["resize", "provision"]);
    assert_eq!(ids(of_one)[0], str_of(&resized["id"]));
    assert_eq!(of_one["total"], 2);
    assert!(items(of_one).iter().all(|j| j["droplet_id"] == one_id));
    let of_two = app.get(&format!("/v1/jobs?droplet_id={two_id}")).await;
    assert_eq!(types(of_two.expect(200)), ["provision"]);
    // With the other filters, and paged by cursor.
    let resizes = app
        .get(&format!(
            "/v1/jobs?droplet_id={one_id}&type=resize&cluster_id={cluster_id}"
        ))
        .await;
    assert_eq!(types(resizes.expect(200)), ["resize"]);
    let first = app
        .get(&format!("/v1/jobs?droplet_id={one_id}&page_size=1"))
        .await
        .expect(200)
        .clone();
    let cursor = str_of(&first["next_cursor"]);
    let next = app
        .get(&format!(
            "/v1/jobs?droplet_id={one_id}&page_size=1&cursor={cursor}"
        ))
        .await;
    assert_eq!(types(next.expect(200)), ["provision"]);
    let nobody = format!("dr_{}", "0".repeat(32));
    let none = app.get(&format!("/v1/jobs?droplet_id={nobody}")).await;
    assert_eq!(none.expect(200)["total"], 0);
    // An empty value is no filter, like the others'.
    let all = app.get("/v1/jobs?droplet_id=").await;
    assert_eq!(all.expect(200)["total"], 4);
}

api_test!(a_malformed_droplet_filter_is_a_bad_request);
async fn a_malformed_droplet_filter_is_a_bad_request(app: TestApp) {
    for bad in [
        "nope",
        "dr_123",
        "cl_0123456789abcdef0123456789abcdef",
        "DR_%27%20OR%201=1",
    ] {
        let answer = app.get(&format!("/v1/jobs?droplet_id={bad}")).await;
        let problem = answer.problem(400);
        let message = str_of(&problem["errors"]["droplet_id"]);
        assert!(message.contains("\"dr_\""), "{bad}: {problem}");
    }
}

api_test!(job_details_and_time_travel);
async fn job_details_and_time_travel(app: TestApp) {
    let cluster = app.create_cluster("history").await;
    let started = start_job(
        &app,
        "diagnose",
        str_of(&cluster["id"]),
        json!({ "deep": true }),
    )
    .await;
    let job_id = str_of(&started["job"]["id"]);
    assert!(job_id.starts_with("job_"), "{started}");
    let done = app.wait_for_job(job_id, "succeeded").await;
    for field in [
        "progress",
        "attempts",
        "result",
        "error",
        "trace_id",
        "created_at",
        "updated_at",
        "started_at",
        "finished_at",
        "parameters",
        "max_attempts",
    ] {
        assert!(done.get(field).is_some(), "{field} missing from {done}");
    }
    assert_eq!(done["parameters"], json!({ "deep": true }));
    assert_eq!(str_of(&done["trace_id"]).len(), 32, "{done}");
    assert_eq!(done["max_attempts"], 3);
    let answer = app.get(&format!("/v1/jobs/{job_id}")).await;
    assert_eq!(
        answer.header("etag"),
        Some(format!("\"{}\"", done["version"]).as_str())
    );

    let path = format!("/v1/jobs/{job_id}");
    let then = app
        .get(&format!("{path}?as_of={}", started["position"]))
        .await;
    let then = then.expect(200);
    assert_eq!(then["status"], "pending");
    assert_eq!(then["progress"], 0);
    assert_eq!(then["version"], 1);
    let head = app.head().await;
    let now = app.get(&format!("{path}?as_of={head}")).await;
    assert_eq!(now.expect(200)["status"], "succeeded");
    app.get(&format!("{path}?as_of={}", cluster["position"]))
        .await
        .problem(404);
    let answer = app
        .send(
            app.request(reqwest::Method::GET, &path)
                .query(&[("as_of", str_of(&started["job"]["created_at"]))]),
        )
        .await;
    assert_eq!(answer.expect(200)["status"], "pending");
    let answer = app
        .send(
            app.request(reqwest::Method::GET, &path)
                .query(&[("as_of", str_of(&done["finished_at"]))]),
        )
        .await;
    assert_eq!(answer.expect(200)["status"], "succeeded");
}

api_test!(
    a_full_queue_refuses_new_jobs_with_503,
    |s: &mut Settings| {
        s.worker_count = 1;
        s.worker_queue = 2;
        s.sim_delay_ms = 60_000;
    }
);
async fn a_full_queue_refuses_new_jobs_with_503(app: TestApp) {
    let cluster = app.create_cluster("busy").await;
    let id = str_of(&cluster["id"]);
    let body = json!({ "type": "diagnose", "cluster_id": id });
    let keyed = || {
        app.request(reqwest::Method::POST, "/v1/jobs")
            .header("idempotency-key", "the-first-job")
            .json(&body)
    };
    let mut accepted = 0u64;
    let refused = loop {
        let answer = if accepted == 0 {
            app.send(keyed()).await
        } else {
            app.post("/v1/jobs", &body).await
        };
        if answer.status == 503 {
            break answer;
        }
        answer.expect(202);
        accepted += 1;
        assert!(
            accepted <= 3,
            "one worker and a queue of two: the fourth is refused"
        );
        // Let the pool take the job in before the next request.
        let want = accepted;
        app.poll("/v1/workers", "holding every accepted job", move |w| {
            w["active_workers"].as_u64().unwrap_or(0) + w["queue_length"].as_u64().unwrap_or(0)
                >= want
        })
        .await;
    };
    assert_eq!(accepted, 3);
    let problem = refused.problem(503);
    assert!(
        str_of(&problem["detail"]).contains("queue is full"),
        "{problem}"
    );
    assert_eq!(refused.header("retry-after"), Some("1"));
    // A repeat of a recorded request only replays its answer: the full queue does not stop
    // it (and nothing new is created).
    let repeat = app.send(keyed()).await;
    repeat.expect(202);
    assert_eq!(repeat.header("idempotent-replayed"), Some("true"));
    // A droplet (which needs a provision job) is refused the same way, before anything
    // is recorded.
    let droplet = json!({ "cluster_id": id, "name": "late", "region": "nyc1",
                          "size": "s-1vcpu-1gb", "image": "ubuntu-22-04-x64" });
    app.post("/v1/droplets", &droplet).await.problem(503);
    let head = app.get("/v1/events?limit=1000").await.expect(200).clone();
    let types: Vec<&str> = head["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    let created = types.iter().filter(|t| **t == "job.created").count();
    assert_eq!(created, 3, "only the accepted jobs exist: {types:?}");
    assert!(!types.contains(&"droplet.requested"), "{types:?}");
}

api_test!(job_lists_page_by_cursor);
async fn job_lists_page_by_cursor(app: TestApp) {
    let cluster = app.create_cluster("cursor").await;
    let id = str_of(&cluster["id"]);
    let mut jobs = Vec::new();
    for _ in 0..5 {
        let job = start_job(&app, "monitor", id, json!({})).await;
        jobs.push(str_of(&job["job"]["id"]).to_owned());
    }
    for job in &jobs {
        app.wait_for_job(job, "succeeded").await;
    }
    for sort in [
        "",
        "sort_by=id&sort_dir=asc&",
        &format!("cluster_id={id}&type=monitor&"),
    ] {
        let mut path = format!("/v1/jobs?{sort}page_size=2");
        let mut seen = Vec::new();
        loop {
            let page = app.get(&path).await.expect(200).clone();
            seen.extend(field_of_items(&page, "id"));
            let Some(cursor) = page["next_cursor"].as_str() else {
                break;
            };
            path = format!("/v1/jobs?{sort}page_size=2&cursor={cursor}");
        }
        let all = app.get(&format!("/v1/jobs?{sort}page_size=500")).await;
        assert_eq!(seen, field_of_items(all.expect(200), "id"), "{sort}");
        assert_eq!(seen.len(), 5);
    }
}
