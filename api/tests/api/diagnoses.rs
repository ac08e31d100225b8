//! The genie's diagnosis through the API: diagnose (rules engine; the LLM engine without
//! an endpoint is a 422), the list of a cluster's diagnoses, the `diagnose` rate limit, and
//! implementing a recommendation (the job it starts, its causation, idempotence, outdated).

use serde_json::json;

use crate::common::{items, str_of, unknown_id, TestApp};

/// `(title, action type)` of each recommendation.
fn advice(diagnosis: &serde_json::Value) -> Vec<(String, String)> {
    items(&json!({"items": diagnosis["recommendations"]}))
        .iter()
        .map(|r| {
            (
                str_of(&r["title"]).to_owned(),
                str_of(&r["action"]["type"]).to_owned(),
            )
        })
        .collect()
}

api_test!(a_diagnosis_is_recorded_and_listed_newest_first);
async fn a_diagnosis_is_recorded_and_listed_newest_first(app: TestApp) {
    let cluster = app.create_cluster("diag").await;
    let id = str_of(&cluster["id"]);
    let path = format!("/v1/clusters/{id}/diagnose");
    let first = app.post(&path, &json!({})).await.expect(200).clone();
    assert_eq!(first["cluster_id"], id);
    assert_eq!(first["engine"], "rules");
    assert_eq!(first["requested_engine"], "rules");
    assert_eq!(first["model"], serde_json::Value::Null);
    assert_eq!(first["fallback_reason"], serde_json::Value::Null);
    // A healthy cluster without droplets: the seed's 50 and its two recommendations.
    assert_eq!(first["health_score"], 50);
    assert_eq!(first["health_label"], "Needs Attention");
    assert_eq!(
        advice(&first),
        [
            (
                "Add droplets for redundancy".to_owned(),
                "scale_up".to_owned()
            ),
            (
                "Create an initial droplet".to_owned(),
                "create_droplet".to_owned()
            ),
        ]
    );
    assert_eq!(first["recommendations"][0]["action"]["count"], 2);
    assert_eq!(str_of(&first["inputs_digest"]).len(), 64);
    assert!(str_of(&first["diagnosis_id"]).starts_with("dg_"));
    let hex = &str_of(&first["diagnosis_id"])[3..];
    assert_eq!(first["recommendations"][1]["id"], format!("rec_{hex}_2"));
    // An empty body is the rules engine too.
    let second = app.send_raw(reqwest::Method::POST, &path, "").await;
    let second = second.expect(200).clone();
    let list = app
        .get_at(&format!("/v1/clusters/{id}/diagnoses"), &second["position"])
        .await;
    let ids: Vec<&str> = items(&list)
        .iter()
        .map(|d| str_of(&d["diagnosis_id"]))
        .collect();
    assert_eq!(
        ids,
        [
            str_of(&second["diagnosis_id"]),
            str_of(&first["diagnosis_id"])
        ]
    );
    assert_eq!(list["total"], 2);
    assert_eq!(items(&list)[0]["position"], second["position"]);
    // One per page, by cursor.
    let page = app
        .get(&format!("/v1/clusters/{id}/diagnoses?page_size=1"))
        .await
        .expect(200)
        .clone();
    let cursor = str_of(&page["next_cursor"]);
    let next = app
        .get(&format!(
            "/v1/clusters/{id}/diagnoses?page_size=1&cursor={cursor}"
        ))
        .await
        .expect(200)
        .clone();
    assert_eq!(items(&next)[0]["diagnosis_id"], first["diagnosis_id"]);
    assert_eq!(next["next_cursor"], serde_json::Value::Null);
    // The event carries the inputs and the engine.
    let events = app.stream("diagnosis", id).await;
    assert_eq!(events[0]["type"], "diagnosis.completed");
    assert_eq!(events[0]["data"]["inputs"]["cluster"]["droplet_count"], 0);
}

api_test!(unknown_clusters_and_engines_are_refused);
async fn unknown_clusters_and_engines_are_refused(app: TestApp) {
    let nobody = unknown_id("cl");
    app.post(&format!("/v1/clusters/{nobody}/diagnose"), &json!({}))
        .await
        .problem(404);
    app.get(&format!("/v1/clusters/{nobody}/diagnoses"))
        .await
        .problem(404);
    app.post("/v1/clusters/not-an-id/diagnose", &json!({}))
        .await
        .problem(404);
    let cluster = app.create_cluster("engines").await;
    let path = format!("/v1/clusters/{}/diagnose", str_of(&cluster["id"]));
    // No llm_url configured: asking for the LLM is refused, not silently answered.
    let llm = app.post(&path, &json!({"engine": "llm"})).await;
    let problem = llm.field_problem(422, "engine");
    assert!(str_of(&problem["detail"]).contains("llm_url"), "{problem}");
    app.post(&path, &json!({"engine": "magic"}))
        .await
        .field_problem(422, "engine");
    app.post(&path, &json!({"engin": "rules"}))
        .await
        .field_problem(422, "engin");
    app.send_raw(reqwest::Method::POST, &path, "{")
        .await
        .problem(400);
    // Nothing was recorded: the cluster has no diagnosis stream.
    app.get(&format!("/v1/streams/diagnosis/{}", str_of(&cluster["id"])))
        .await
        .problem(404);
}

api_test!(
    the_sixth_diagnosis_of_a_burst_is_refused,
    |s: &mut api::settings::Settings| {
        s.ratelimit_enabled = true;
    }
);
async fn the_sixth_diagnosis_of_a_burst_is_refused(app: TestApp) {
    let cluster = app.create_cluster("burst").await;
    let path = format!("/v1/clusters/{}/diagnose", str_of(&cluster["id"]));
    for n in 0..5 {
        let answer = app.post(&path, &json!({})).await;
        answer.expect(200);
        assert_eq!(answer.header("ratelimit-limit"), Some("5"), "diagnosis {n}");
    }
    let refused = app.post(&path, &json!({})).await;
    let problem = refused.problem(429);
    assert!(str_of(&problem["detail"]).contains("diagnose"), "{problem}");
    let retry: u64 = refused
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=5).contains(&retry), "{retry}");
    assert_eq!(
        app.stream("diagnosis", str_of(&cluster["id"])).await.len(),
        5
    );
    // The bucket is per cluster.
    let other = app.create_cluster("other").await;
    app.post(
        &format!("/v1/clusters/{}/diagnose", str_of(&other["id"])),
        &json!({}),
    )
    .await
    .expect(200);
}

api_test!(implementing_starts_the_job_caused_by_the_diagnosis);
async fn implementing_starts_the_job_caused_by_the_diagnosis(app: TestApp) {
    let cluster = app.create_cluster("impl").await;
    let id = str_of(&cluster["id"]);
    let diagnosis = app
        .post(&format!("/v1/clusters/{id}/diagnose"), &json!({}))
        .await
        .expect(200)
        .clone();
    let scale = str_of(&diagnosis["recommendations"][0]["id"]).to_owned();
    let path = format!("/v1/clusters/{id}/recommendations/{scale}/implement");
    let started = app.post(&path, &json!({})).await.expect(202).clone();
    let job = &started["job"];
    assert_eq!(job["type"], "scale_up");
    assert_eq!(job["cluster_id"], id);
    assert_eq!(job["parameters"]["count"], 2);
    // The job's events are caused by the diagnosis' event.
    let completed = app.stream("diagnosis", id).await[0].clone();
    assert_eq!(completed["type"], "diagnosis.completed");
    let job_events = app.stream("job", str_of(&job["id"])).await;
    assert_eq!(job_events[0]["type"], "job.created");
    assert_eq!(job_events[0]["metadata"]["causation_id"], completed["id"]);
    let implemented = app.stream("diagnosis", id).await[1].clone();
    assert_eq!(implemented["type"], "diagnosis.recommendation_implemented");
    assert_eq!(implemented["data"]["job_id"], job["id"]);
    // Again: the same job.
    let again = app.post(&path, &json!({})).await.expect(202).clone();
    assert_eq!(again["job"]["id"], job["id"]);
    // The list shows what was implemented.
    let list = app
        .get_at(
            &format!("/v1/clusters/{id}/diagnoses"),
            &started["position"],
        )
        .await;
    assert_eq!(items(&list)[0]["implemented"][&scale], job["id"]);
    // A create_droplet recommendation provisions a droplet in the cluster.
    let create = str_of(&diagnosis["recommendations"][1]["id"]).to_owned();
    let provisioning = app
        .post(
            &format!("/v1/clusters/{id}/recommendations/{create}/implement"),
            &json!({}),
        )
        .await
        .expect(202)
        .clone();
    assert_eq!(provisioning["job"]["type"], "provision");
    assert_eq!(provisioning["job"]["cluster_id"], id);
    // A new diagnosis makes the first one's recommendations outdated.
    let latest = app
        .post(&format!("/v1/clusters/{id}/diagnose"), &json!({}))
        .await
        .expect(200)
        .clone();
    let outdated = app.post(&path, &json!({})).await;
    let problem = outdated.problem(409);
    assert!(
        str_of(&problem["detail"]).starts_with("outdated diagnosis"),
        "{problem}"
    );
    let unknown = format!("rec_{}_99", &str_of(&latest["diagnosis_id"])[3..]);
    app.post(
        &format!("/v1/clusters/{id}/recommendations/{unknown}/implement"),
        &json!({}),
    )
    .await
    .problem(404);
    app.post(
        &format!("/v1/clusters/{id}/recommendations/rec_nope/implement"),
        &json!({}),
    )
    .await
    .problem(404);
}
