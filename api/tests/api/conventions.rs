//! Conventions every endpoint shares: `position` on command answers, `Idempotency-Key`,
//! read-your-writes, and the actor and trace carried into event metadata.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::*;

use api::settings::Settings;

api_test!(every_command_answer_has_a_position);
async fn every_command_answer_has_a_position(app: TestApp) {
    let mut last = 0;
    let mut check = |answer: &Answer, status: u16| {
        let body = answer.expect(status);
        let position = body["position"]
            .as_i64()
            .unwrap_or_else(|| panic!("no position: {body}"));
        assert!(position > last, "positions grow: {position} after {last}");
        assert_eq!(
            answer.header("x-position"),
            Some(position.to_string().as_str())
        );
        last = position;
        body.clone()
    };
    let cluster = check(
        &app.post("/v1/clusters", &json!({ "name": "p", "region": "nyc1" }))
            .await,
        201,
    );
    let cluster_id = str_of(&cluster["id"]);
    check(
        &app.patch(
            &format!("/v1/clusters/{cluster_id}"),
            &json!({ "name": "q" }),
        )
        .await,
        200,
    );
    let created = app
        .post(
            "/v1/droplets",
            &json!({
                "cluster_id": cluster_id, "name": "d", "region": "nyc1",
                "size": "s-1vcpu-1gb", "image": "ubuntu-22-04-x64",
            }),
        )
        .await;
    let created = check(&created, 202);
    let droplet_id = str_of(&created["droplet"]["id"]);
    app.wait_for_job(str_of(&created["job"]["id"]), "succeeded")
        .await;
    app.wait_for_droplet(droplet_id, "active").await;
    // The executor appended events meanwhile: positions keep growing.
    let resized = app
        .post(
            &format!("/v1/droplets/{droplet_id}/resize"),
            &json!({ "size": "c-2" }),
        )
        .await;
    let resized = check(&resized, 202);
    app.wait_for_job(str_of(&resized["job"]["id"]), "succeeded")
        .await;
    app.wait_for_droplet(droplet_id, "active").await;
    let off = app
        .post(
            &format!("/v1/droplets/{droplet_id}/power"),
            &json!({ "action": "off" }),
        )
        .await;
    let off = check(&off, 202);
    app.wait_for_job(str_of(&off["job"]["id"]), "succeeded")
        .await;
    app.wait_for_droplet(droplet_id, "off").await;
    let destroy = check(
        &app.delete(&format!("/v1/droplets/{droplet_id}")).await,
        202,
    );
    app.wait_for_job(str_of(&destroy["job"]["id"]), "succeeded")
        .await;
    app.poll(&format!("/v1/clusters/{cluster_id}"), "empty", |c| {
        c["droplet_count"] == 0
    })
    .await;
    let job = app
        .post(
            "/v1/jobs",
            &json!({ "type": "diagnose", "cluster_id": cluster_id }),
        )
        .await;
    let job = check(&job, 202);
    app.wait_for_job(str_of(&job["job"]["id"]), "succeeded")
        .await;
    let diagnose = app
        .post(
            "/v1/jobs",
            &json!({ "type": "monitor", "cluster_id": cluster_id }),
        )
        .await;
    let diagnose = check(&diagnose, 202);
    // Cancel answers with a position whether or not the job had started.
    let cancel = app
        .post(
            &format!("/v1/jobs/{}/cancel", str_of(&diagnose["job"]["id"])),
            &json!({}),
        )
        .await;
    if cancel.status == 200 {
        assert!(cancel.body["position"].is_i64(), "{}", cancel.text);
    } else {
        cancel.problem(409);
    }
    let deleted = app.delete(&format!("/v1/clusters/{cluster_id}")).await;
    assert!(deleted.expect(200)["position"].as_i64().unwrap() > last);
}

api_test!(idempotent_replay_and_mismatch);
async fn idempotent_replay_and_mismatch(app: TestApp) {
    let body = json!({ "name": "once", "region": "nyc1" });
    let create = |body: &Value, key: &str| {
        app.request(Method::POST, "/v1/clusters")
            .header("idempotency-key", key)
            .json(body)
    };
    let first = app.send(create(&body, "key-1")).await;
    let first = first.expect(201).clone();
    let events = app.all_events().await.len();
    assert_eq!(events, 1);
    let again = app.send(create(&body, "key-1")).await;
    assert_eq!(again.status, 201, "the replay keeps the first status");
    assert_eq!(again.body["id"], first["id"]);
    assert_eq!(again.body["position"], first["position"]);
    assert_eq!(again.body, first, "the first answer, replayed");
    assert_eq!(
        app.all_events().await.len(),
        events,
        "a replay appends nothing"
    );
    let list = app.get_at("/v1/clusters", &first["position"]).await;
    assert_eq!(list["total"], 1);

    // The same key with another body, or on another path: 409.
    let other = json!({ "name": "twice", "region": "nyc1" });
    let answer = app.send(create(&other, "key-1")).await;
    let problem = answer.problem(409);
    assert!(str_of(&problem["detail"]).contains("key-1"), "{problem}");
    let answer = app
        .send(
            app.request(Method::POST, "/v1/jobs")
                .header("idempotency-key", "key-1")
                .json(&json!({ "type": "diagnose", "cluster_id": first["id"] })),
        )
        .await;
    answer.problem(409);
    assert_eq!(app.all_events().await.len(), events);

    // A new key is a new command.
    let answer = app.send(create(&body, "key-2")).await;
    assert_ne!(answer.expect(201)["id"], first["id"]);
    assert_eq!(app.all_events().await.len(), events + 1);
    let events = events + 1;

    // Droplet creation and actions replay their job too.
    let cluster_id = str_of(&first["id"]);
    let droplet = json!({
        "cluster_id": cluster_id, "name": "d", "region": "nyc1",
        "size": "s-1vcpu-1gb", "image": "ubuntu-22-04-x64",
    });
    let post = |path: &str, body: &Value, key: &str| {
        app.request(Method::POST, path)
            .header("idempotency-key", key)
            .json(body)
    };
    let first = app
        .send(post("/v1/droplets", &droplet, "d-1"))
        .await
        .expect(202)
        .clone();
    let again = app.send(post("/v1/droplets", &droplet, "d-1")).await;
    assert_eq!(again.expect(202), &first);
    let droplet_id = str_of(&first["droplet"]["id"]);
    app.wait_for_job(str_of(&first["job"]["id"]), "succeeded")
        .await;
    app.wait_for_droplet(droplet_id, "active").await;
    let job = json!({ "type": "diagnose", "cluster_id": cluster_id });
    let started = app
        .send(post("/v1/jobs", &job, "j-1"))
        .await
        .expect(202)
        .clone();
    let again = app.send(post("/v1/jobs", &job, "j-1")).await;
    assert_eq!(again.expect(202)["job"]["id"], started["job"]["id"]);
    assert_eq!(again.body["position"], started["position"]);
    app.wait_for_job(str_of(&started["job"]["id"]), "succeeded")
        .await;
    let resize = format!("/v1/droplets/{droplet_id}/resize");
    let size = json!({ "size": "c-2" });
    let resized = app
        .send(post(&resize, &size, "r-1"))
        .await
        .expect(202)
        .clone();
    let again = app.send(post(&resize, &size, "r-1")).await;
    assert_eq!(again.expect(202)["job"]["id"], resized["job"]["id"]);
    let jobs = app
        .get(&format!(
            "/v1/jobs?min_position={}&type=resize",
            resized["position"]
        ))
        .await;
    assert_eq!(jobs.expect(200)["total"], 1, "one resize job");
    app.wait_for_job(str_of(&resized["job"]["id"]), "succeeded")
        .await;
    let stream = app.stream("droplet", droplet_id).await;
    let requested = stream
        .iter()
        .filter(|e| e["type"] == "droplet.resize_requested")
        .count();
    assert_eq!(requested, 1);
    // Keys are recorded in the metadata of the events they produced.
    let all = app.all_events().await;
    assert!(all.len() > events);
    let keyed: Vec<&Value> = all
        .iter()
        .filter(|e| e["metadata"]["idempotency_key"] == "key-1")
        .collect();
    assert_eq!(keyed.len(), 1);
    assert_eq!(keyed[0]["type"], "cluster.created");
}

api_test!(reads_wait_for_the_write_they_name);
async fn reads_wait_for_the_write_they_name(app: TestApp) {
    for n in 0..5 {
        let created = app.create_cluster(&format!("ryw-{n}")).await;
        let id = str_of(&created["id"]);
        let position = created["position"].as_i64().unwrap();
        // Query parameter.
        let got = app
            .get(&format!("/v1/clusters/{id}?min_position={position}"))
            .await;
        assert_eq!(got.expect(200)["name"], format!("ryw-{n}"));
        // Header.
        let renamed = app
            .patch(
                &format!("/v1/clusters/{id}"),
                &json!({ "name": format!("ryw-{n}-b") }),
            )
            .await
            .expect(200)
            .clone();
        let got = app
            .send(
                app.request(Method::GET, &format!("/v1/clusters/{id}"))
                    .header("x-min-position", renamed["position"].to_string()),
            )
            .await;
        assert_eq!(got.expect(200)["name"], format!("ryw-{n}-b"));
        let list = app
            .send(
                app.request(Method::GET, "/v1/clusters")
                    .header("x-min-position", renamed["position"].to_string()),
            )
            .await;
        assert_eq!(list.expect(200)["total"], n + 1);
    }
    let cluster = app.create_cluster("jobs").await;
    let droplet = app.create_droplet(str_of(&cluster["id"]), "d").await;
    let position = &droplet["position"];
    let id = str_of(&droplet["droplet"]["id"]);
    let got = app.get_at(&format!("/v1/droplets/{id}"), position).await;
    assert_eq!(got["id"], id);
    let got = app
        .get_at(
            &format!("/v1/jobs/{}", str_of(&droplet["job"]["id"])),
            position,
        )
        .await;
    assert_eq!(got["droplet_id"], id);
    let list = app
        .get_at(
            &format!("/v1/droplets?cluster_id={}", str_of(&cluster["id"])),
            position,
        )
        .await;
    assert_eq!(list["total"], 1);
    let list = app.get_at("/v1/jobs?type=provision", position).await;
    assert_eq!(list["total"], 1);
    // A position already reached answers at once.
    let got = app.get("/v1/clusters?min_position=0").await;
    got.expect(200);
}

api_test!(a_position_never_reached_is_a_504, |s: &mut Settings| s
    .read_your_writes_timeout_ms =
    300);
async fn a_position_never_reached_is_a_504(app: TestApp) {
    let cluster = app.create_cluster("now").await;
    let id = str_of(&cluster["id"]);
    let far = 1_000_000_000;
    for path in [
        format!("/v1/clusters/{id}?min_position={far}"),
        format!("/v1/clusters?min_position={far}"),
        format!("/v1/droplets?min_position={far}"),
        format!("/v1/droplets/{}?min_position={far}", unknown_id("dr")),
        format!("/v1/jobs?min_position={far}"),
        format!("/v1/jobs/{}?min_position={far}", unknown_id("job")),
    ] {
        let started = std::time::Instant::now();
        let answer = app.get(&path).await;
        let problem = answer.problem(504);
        assert!(
            str_of(&problem["detail"]).contains(&far.to_string()),
            "{problem}"
        );
        let waited = started.elapsed();
        assert!(
            waited >= std::time::Duration::from_millis(300),
            "{path}: {waited:?}"
        );
        assert!(
            waited < std::time::Duration::from_secs(5),
            "{path}: {waited:?}"
        );
    }
    let answer = app
        .send(
            app.request(Method::GET, &format!("/v1/clusters/{id}"))
                .header("x-min-position", far.to_string()),
        )
        .await;
    answer.problem(504);
    // The server is still fine.
    app.get_at(&format!("/v1/clusters/{id}"), &cluster["position"])
        .await;
}

api_test!(actor_and_trace_reach_the_event_metadata);
async fn actor_and_trace_reach_the_event_metadata(app: TestApp) {
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{trace}-00f067aa0ba902b7-01");
    let answer = app
        .send(
            app.request(Method::POST, "/v1/clusters")
                .header("x-user-id", "alice")
                .header("traceparent", &traceparent)
                .header("x-request-id", "req-42")
                .json(&json!({ "name": "owned", "region": "nyc1" })),
        )
        .await;
    let cluster = answer.expect(201).clone();
    let cluster_id = str_of(&cluster["id"]);
    let events = app.stream("cluster", cluster_id).await;
    let metadata = &events[0]["metadata"];
    assert_eq!(metadata["actor"], "alice");
    assert_eq!(metadata["traceparent"], traceparent);
    assert_eq!(metadata["correlation_id"], "req-42");
    assert_eq!(metadata.get("idempotency_key"), None, "{metadata}");

    // Without headers: anonymous, and a fresh valid traceparent.
    let plain = app.create_cluster("plain").await;
    let events = app.stream("cluster", str_of(&plain["id"])).await;
    let metadata = &events[0]["metadata"];
    assert_eq!(metadata["actor"], "anonymous");
    let generated = str_of(&metadata["traceparent"]);
    let parts: Vec<&str> = generated.split('-').collect();
    assert_eq!(parts.len(), 4, "{generated}");
    assert_eq!(
        (parts[0], parts[1].len(), parts[2].len()),
        ("00", 32, 16),
        "{generated}"
    );
    assert_ne!(parts[1], trace);
    assert!(!str_of(&metadata["correlation_id"]).is_empty());

    // A malformed traceparent is replaced, not kept.
    let answer = app
        .send(
            app.request(Method::POST, "/v1/clusters")
                .header("traceparent", "not-a-trace")
                .json(&json!({ "name": "odd", "region": "nyc1" })),
        )
        .await;
    let odd = answer.expect(201).clone();
    let events = app.stream("cluster", str_of(&odd["id"])).await;
    assert_ne!(events[0]["metadata"]["traceparent"], "not-a-trace");

    // A droplet command: every event it appends carries the actor and the trace, its
    // job keeps the trace id, and the job's own events continue the same trace.
    let answer = app
        .send(
            app.request(Method::POST, "/v1/droplets")
                .header("x-user-id", "bob")
                .header("traceparent", &traceparent)
                .json(&json!({
                    "cluster_id": cluster_id, "name": "traced", "region": "nyc1",
                    "size": "s-1vcpu-1gb", "image": "ubuntu-22-04-x64",
                })),
        )
        .await;
    let created = answer.expect(202).clone();
    assert_eq!(created["job"]["trace_id"], trace);
    let job_id = str_of(&created["job"]["id"]);
    app.wait_for_job(job_id, "succeeded").await;
    let all = app.all_events().await;
    let by_command: Vec<&Value> = all
        .iter()
        .filter(|e| e["metadata"]["actor"] == "bob")
        .collect();
    let types: Vec<&str> = by_command.iter().map(|e| str_of(&e["type"])).collect();
    assert_eq!(
        types,
        [
            "cluster.droplet_attached",
            "droplet.requested",
            "job.created"
        ]
    );
    assert!(by_command
        .iter()
        .all(|e| e["metadata"]["traceparent"] == traceparent.as_str()));
    let job_events = app.stream("job", job_id).await;
    assert!(job_events.len() > 1);
    for event in &job_events[1..] {
        assert_eq!(event["metadata"]["actor"], "system", "{event}");
        let tp = str_of(&event["metadata"]["traceparent"]);
        assert_eq!(tp.split('-').nth(1), Some(trace), "{event}");
    }
}

api_test!(concurrent_commands_lose_no_update);
async fn concurrent_commands_lose_no_update(app: TestApp) {
    let cluster = app.create_cluster("crowded").await;
    let cluster_id = str_of(&cluster["id"]).to_owned();
    // Every creation appends to the cluster's stream, racing the others for its version.
    let creations = (0..12).map(|n| {
        let body = json!({
            "cluster_id": cluster_id, "name": format!("n-{n}"), "region": "nyc1",
            "size": "s-1vcpu-1gb", "image": "ubuntu-22-04-x64",
        });
        app.send(app.request(Method::POST, "/v1/droplets").json(&body))
    });
    let answers = futures::future::join_all(creations).await;
    let mut last = 0;
    for answer in &answers {
        last = last.max(answer.expect(202)["position"].as_i64().unwrap());
    }
    let events = app.stream("cluster", &cluster_id).await;
    let attached = events
        .iter()
        .filter(|e| e["type"] == "cluster.droplet_attached")
        .count();
    assert_eq!(attached, 12);
    let got = app
        .get_at(&format!("/v1/clusters/{cluster_id}"), &json!(last))
        .await;
    assert_eq!(got["droplet_count"], 12);
    assert_eq!(got["version"], 13);
    let list = app
        .get(&format!(
            "/v1/droplets?cluster_id={cluster_id}&page_size=500"
        ))
        .await;
    assert_eq!(list.expect(200)["total"], 12);
}
