//! `/v1/droplets`: the lifecycle (provision, resize, power, destroy) and its jobs, actions
//! refused while a job is in flight, lists and filters, `If-Match`, and time travel.

use api::settings::Settings;
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::*;

fn droplet_body(cluster_id: &str, name: &str) -> Value {
    json!({
        "cluster_id": cluster_id,
        "name": name,
        "region": "nyc1",
        "size": "s-1vcpu-1gb",
        "image": "ubuntu-22-04-x64",
    })
}

api_test!(full_lifecycle);
async fn full_lifecycle(app: TestApp) {
    let cluster = app.create_cluster("life").await;
    let cluster_id = str_of(&cluster["id"]);

    // Create: 202 with the droplet, its provision job and the position.
    let answer = app
        .post("/v1/droplets", &droplet_body(cluster_id, "node-1"))
        .await;
    let created = answer.expect(202).clone();
    let droplet = &created["droplet"];
    let job = &created["job"];
    let id = str_of(&droplet["id"]);
    let job_id = str_of(&job["id"]);
    assert!(id.starts_with("dr_"), "{created}");
    assert!(job_id.starts_with("job_"), "{created}");
    assert!(created["position"].as_i64().unwrap() > cluster["position"].as_i64().unwrap());
    assert_eq!(droplet["status"], "provisioning");
    assert_eq!(droplet["cluster_id"], cluster_id);
    assert_eq!(droplet["cluster_name"], "life");
    assert_eq!(droplet["name"], "node-1");
    assert_eq!(droplet["size"], "s-1vcpu-1gb");
    assert_eq!(droplet["image"], "ubuntu-22-04-x64");
    assert_eq!(droplet["ip_address"], Value::Null);
    assert_eq!(droplet["pending_job_id"], job_id);
    assert_eq!(job["type"], "provision");
    assert_eq!(job["status"], "pending");
    assert_eq!(job["droplet_id"], id);
    assert_eq!(job["cluster_id"], cluster_id);
    assert_eq!(job["progress"], 0);

    // Provisioned: the job succeeded at 100 %, the droplet is active with an address.
    let job = app.wait_for_job(job_id, "succeeded").await;
    assert_eq!(job["progress"], 100, "{job}");
    assert_eq!(job["attempts"], 1, "{job}");
    assert_eq!(job["error"], Value::Null, "{job}");
    assert!(job["result"].is_object(), "{job}");
    assert!(
        job["started_at"].is_string() && job["finished_at"].is_string(),
        "{job}"
    );
    let active = app.wait_for_droplet(id, "active").await;
    let ip: std::net::Ipv4Addr = str_of(&active["ip_address"])
        .parse()
        .expect("an IPv4 address");
    assert_eq!(ip.octets()[0], 10, "{active}");
    assert_eq!(active["pending_job_id"], Value::Null);
    assert_eq!(
        active["provider"], "simcloud",
        "the default provider of nyc1"
    );
    // The clusters model may lag the droplets model just waited on.
    let head = app.head().await;
    let cluster_now = app
        .get_at(&format!("/v1/clusters/{cluster_id}"), &head)
        .await;
    assert_eq!(cluster_now["droplet_count"], 1);

    // Resize.
    let price_before = active["price_hourly"].as_f64().unwrap();
    let answer = app
        .post(
            &format!("/v1/droplets/{id}/resize"),
            &json!({ "size": "s-2vcpu-4gb" }),
        )
        .await;
    let resize = answer.expect(202).clone();
    assert!(resize["position"].is_i64(), "{resize}");
    assert_eq!(resize["job"]["type"], "resize");
    assert_eq!(resize["job"]["parameters"]["size"], "s-2vcpu-4gb");
    app.wait_for_job(str_of(&resize["job"]["id"]), "succeeded")
        .await;
    let resized = app
        .poll(&format!("/v1/droplets/{id}"), "resized", |d| {
            d["size"] == "s-2vcpu-4gb"
        })
        .await;
    assert_eq!(resized["status"], "active");
    assert!(
        resized["price_hourly"].as_f64().unwrap() > price_before,
        "{resized}"
    );

    // Power off, on, restart.
    for (action, job_type, status) in [
        ("off", "power_off", "off"),
        ("on", "power_on", "active"),
        ("restart", "restart", "active"),
    ] {
        let answer = app
            .post(
                &format!("/v1/droplets/{id}/power"),
                &json!({ "action": action }),
            )
            .await;
        let started = answer.expect(202).clone();
        assert!(started["position"].is_i64(), "{started}");
        assert_eq!(started["job"]["type"], job_type);
        assert_eq!(started["job"]["droplet_id"], id);
        app.wait_for_job(str_of(&started["job"]["id"]), "succeeded")
            .await;
        app.poll(&format!("/v1/droplets/{id}"), status, |d| {
            d["status"] == status && d["pending_job_id"].is_null()
        })
        .await;
    }
    let types: Vec<String> = app
        .stream("droplet", id)
        .await
        .iter()
        .map(|e| str_of(&e["type"]).to_owned())
        .collect();
    assert_eq!(
        types,
        [
            "droplet.requested",
            "droplet.provisioned",
            "droplet.resize_requested",
            "droplet.resized",
            "droplet.power_requested",
            "droplet.powered_off",
            "droplet.power_requested",
            "droplet.powered_on",
            "droplet.power_requested",
            "droplet.restarted",
        ]
    );

    // The cluster cannot be deleted while the droplet lives.
    let answer = app.delete(&format!("/v1/clusters/{cluster_id}")).await;
    let problem = answer.problem(409);
    assert!(
        str_of(&problem["detail"]).contains("live droplet"),
        "{problem}"
    );

    // Destroy.
    let answer = app.delete(&format!("/v1/droplets/{id}")).await;
    let destroy = answer.expect(202).clone();
    assert_eq!(destroy["job"]["type"], "destroy");
    assert!(destroy["position"].is_i64(), "{destroy}");
    app.wait_for_job(str_of(&destroy["job"]["id"]), "succeeded")
        .await;
    let gone = app.wait_for_droplet(id, "destroyed").await;
    assert_eq!(gone["id"], id);
    let list = app
        .get(&format!("/v1/droplets?cluster_id={cluster_id}"))
        .await;
    let list = list.expect(200);
    assert_eq!(list["total"], 0, "{list}");
    let list = app.get("/v1/droplets?status=destroyed").await;
    assert_eq!(field_of_items(list.expect(200), "id"), [id]);
    let cluster_now = app
        .poll(&format!("/v1/clusters/{cluster_id}"), "empty", |c| {
            c["droplet_count"] == 0
        })
        .await;
    assert_eq!(cluster_now["droplet_count"], 0);
    // A destroyed droplet takes no more actions.
    app.delete(&format!("/v1/droplets/{id}")).await.problem(409);
    app.post(
        &format!("/v1/droplets/{id}/power"),
        &json!({ "action": "on" }),
    )
    .await
    .problem(409);

    // Now the cluster can go.
    let answer = app.delete(&format!("/v1/clusters/{cluster_id}")).await;
    let deleted = answer.expect(200).clone();
    app.get(&format!(
        "/v1/clusters/{cluster_id}?min_position={}",
        deleted["position"]
    ))
    .await
    .problem(404);
    // And a droplet cannot be created in it any more.
    let answer = app
        .post("/v1/droplets", &droplet_body(cluster_id, "late"))
        .await;
    let problem = answer.problem(409);
    assert!(str_of(&problem["detail"]).contains("deleted"), "{problem}");
}

api_test!(
    actions_are_refused_while_a_job_is_in_flight,
    |s: &mut Settings| s.sim_delay_ms = 3000
);
async fn actions_are_refused_while_a_job_is_in_flight(app: TestApp) {
    let cluster = app.create_cluster("busy").await;
    let created = app.create_droplet(str_of(&cluster["id"]), "slow").await;
    let id = str_of(&created["droplet"]["id"]);
    let job_id = str_of(&created["job"]["id"]);
    for (path, body) in [
        (
            format!("/v1/droplets/{id}/resize"),
            json!({ "size": "s-2vcpu-2gb" }),
        ),
        (
            format!("/v1/droplets/{id}/power"),
            json!({ "action": "off" }),
        ),
        (
            format!("/v1/droplets/{id}/power"),
            json!({ "action": "restart" }),
        ),
    ] {
        let answer = app.post(&path, &body).await;
        let problem = answer.problem(409);
        assert!(
            str_of(&problem["detail"]).contains(job_id),
            "{path}: {problem}"
        );
    }
    let answer = app.delete(&format!("/v1/droplets/{id}")).await;
    answer.problem(409);
    // Nothing was appended to the droplet by the refused actions.
    let events = app.stream("droplet", id).await;
    assert_eq!(events.len(), 1, "{events:?}");
}

api_test!(invalid_transitions_are_conflicts);
async fn invalid_transitions_are_conflicts(app: TestApp) {
    let cluster = app.create_cluster("rules").await;
    let droplet = app.active_droplet(str_of(&cluster["id"]), "strict").await;
    let id = str_of(&droplet["id"]);
    // Power on an active droplet, resize to the same size.
    let answer = app
        .post(
            &format!("/v1/droplets/{id}/power"),
            &json!({ "action": "on" }),
        )
        .await;
    let problem = answer.problem(409);
    assert!(str_of(&problem["detail"]).contains("power on"), "{problem}");
    let answer = app
        .post(
            &format!("/v1/droplets/{id}/resize"),
            &json!({ "size": "s-1vcpu-1gb" }),
        )
        .await;
    // Well-formed but pointless: unprocessable.
    let problem = answer.problem(422);
    assert!(
        str_of(&problem["detail"]).contains("already of size"),
        "{problem}"
    );
}

api_test!(if_match_on_droplet_commands);
async fn if_match_on_droplet_commands(app: TestApp) {
    let cluster = app.create_cluster("versions").await;
    let droplet = app.active_droplet(str_of(&cluster["id"]), "v").await;
    let id = str_of(&droplet["id"]);
    let answer = app.get(&format!("/v1/droplets/{id}")).await;
    answer.expect(200);
    let version = droplet["version"].as_u64().unwrap();
    assert_eq!(version, 2, "requested and provisioned: {droplet}");
    assert_eq!(answer.header("etag"), Some("\"2\""));
    let stale = app
        .request(Method::DELETE, &format!("/v1/droplets/{id}"))
        .header("if-match", "\"1\"");
    app.send(stale).await.problem(412);
    let stale = app
        .request(Method::POST, &format!("/v1/droplets/{id}/power"))
        .header("if-match", "\"1\"")
        .json(&json!({ "action": "off" }));
    app.send(stale).await.problem(412);
    let current = app
        .request(Method::POST, &format!("/v1/droplets/{id}/resize"))
        .header("if-match", "\"2\"")
        .json(&json!({ "size": "c-2" }));
    let answer = app.send(current).await;
    app.wait_for_job(str_of(&answer.expect(202)["job"]["id"]), "succeeded")
        .await;
}

api_test!(lists_filter_by_cluster_status_and_name);
async fn lists_filter_by_cluster_status_and_name(app: TestApp) {
    let a = app.create_cluster("alpha").await;
    let b = app.create_cluster("beta").await;
    let a_id = str_of(&a["id"]);
    let b_id = str_of(&b["id"]);
    let a1 = app.active_droplet(a_id, "web-1").await;
    app.active_droplet(a_id, "db-1").await;
    let b1 = app.active_droplet(b_id, "web-2").await;
    let off = app
        .post(
            &format!("/v1/droplets/{}/power", str_of(&b1["id"])),
            &json!({ "action": "off" }),
        )
        .await;
    app.wait_for_job(str_of(&off.expect(202)["job"]["id"]), "succeeded")
        .await;
    app.wait_for_droplet(str_of(&b1["id"]), "off").await;

    let list = app
        .get(&format!("/v1/droplets?cluster_id={a_id}&sort_by=name"))
        .await;
    let list = list.expect(200);
    assert_eq!(field_of_items(list, "name"), ["db-1", "web-1"]);
    assert_eq!(list["total"], 2);
    assert!(
        items(list).iter().all(|d| d["cluster_name"] == "alpha"),
        "{list}"
    );
    let list = app.get("/v1/droplets?search=web&sort_by=name").await;
    assert_eq!(field_of_items(list.expect(200), "name"), ["web-1", "web-2"]);
    let list = app.get("/v1/droplets?status=off").await;
    assert_eq!(field_of_items(list.expect(200), "id"), [str_of(&b1["id"])]);
    let list = app
        .get("/v1/droplets?status=active&sort_by=name&sort_dir=desc")
        .await;
    assert_eq!(field_of_items(list.expect(200), "name"), ["web-1", "db-1"]);
    let list = app
        .get(&format!("/v1/droplets?status=active&cluster_id={b_id}"))
        .await;
    assert_eq!(list.expect(200)["total"], 0);
    let list = app
        .get("/v1/droplets?sort_by=status&page_size=1&page=2")
        .await;
    let list = list.expect(200);
    assert_eq!(list["total"], 3);
    assert_eq!(list["page"], 2);
    assert_eq!(items(list).len(), 1);
    let list = app.get("/v1/droplets?page_size=2&sort_by=created_at").await;
    let list = list.expect(200);
    assert_eq!(items(list)[0]["id"], a1["id"]);
    assert_eq!(items(list).len(), 2);
    assert_eq!(list["total"], 3);
    let list = app
        .get(&format!("/v1/droplets?cluster_id={}", unknown_id("cl")))
        .await;
    assert_eq!(list.expect(200)["total"], 0);
}

api_test!(droplets_show_the_current_cluster_name);
async fn droplets_show_the_current_cluster_name(app: TestApp) {
    let cluster = app.create_cluster("first").await;
    let cluster_id = str_of(&cluster["id"]);
    let droplet = app.active_droplet(cluster_id, "n").await;
    let id = str_of(&droplet["id"]);
    let renamed = app
        .patch(
            &format!("/v1/clusters/{cluster_id}"),
            &json!({ "name": "second" }),
        )
        .await;
    let got = app
        .get_at(
            &format!("/v1/droplets/{id}"),
            &renamed.expect(200)["position"],
        )
        .await;
    assert_eq!(got["cluster_name"], "second");
    let list = app
        .get(&format!("/v1/droplets?cluster_id={cluster_id}"))
        .await;
    assert_eq!(items(list.expect(200))[0]["cluster_name"], "second");
}

api_test!(time_travel_on_a_droplet);
async fn time_travel_on_a_droplet(app: TestApp) {
    let cluster = app.create_cluster("old-home").await;
    let cluster_id = str_of(&cluster["id"]);
    let created = app.create_droplet(cluster_id, "traveller").await;
    let id = str_of(&created["droplet"]["id"]);
    let at_create = created["position"].as_i64().unwrap();
    app.wait_for_job(str_of(&created["job"]["id"]), "succeeded")
        .await;
    let active = app.wait_for_droplet(id, "active").await;
    app.patch(
        &format!("/v1/clusters/{cluster_id}"),
        &json!({ "name": "new-home" }),
    )
    .await
    .expect(200);
    let path = format!("/v1/droplets/{id}");

    let then = app.get(&format!("{path}?as_of={at_create}")).await;
    let then = then.expect(200);
    assert_eq!(then["status"], "provisioning", "{then}");
    assert_eq!(then["ip_address"], Value::Null);
    assert_eq!(then["cluster_name"], "old-home");
    assert_eq!(then["version"], 1);
    let head = app.head().await;
    let now = app.get(&format!("{path}?as_of={head}")).await;
    let now = now.expect(200);
    assert_eq!(now["status"], "active");
    assert_eq!(now["ip_address"], active["ip_address"]);
    assert_eq!(now["cluster_name"], "new-home");
    // Before the droplet existed (when only its cluster did).
    app.get(&format!("{path}?as_of={}", cluster["position"]))
        .await
        .problem(404);

    let created_at = str_of(&created["droplet"]["created_at"]);
    let answer = app
        .send(
            app.request(Method::GET, &path)
                .query(&[("as_of", created_at)]),
        )
        .await;
    assert_eq!(answer.expect(200)["status"], "provisioning");
    let answer = app
        .send(
            app.request(Method::GET, &path)
                .query(&[("as_of", str_of(&active["updated_at"]))]),
        )
        .await;
    assert_eq!(answer.expect(200)["status"], "active");
}

api_test!(droplet_in_a_missing_cluster_is_unprocessable);
async fn droplet_in_a_missing_cluster_is_unprocessable(app: TestApp) {
    let answer = app
        .post("/v1/droplets", &droplet_body(&unknown_id("cl"), "orphan"))
        .await;
    let problem = answer.field_problem(422, "cluster_id");
    assert!(
        str_of(&problem["detail"]).contains("does not exist"),
        "{problem}"
    );
    let list = app.get("/v1/droplets?status=provisioning").await;
    assert_eq!(list.expect(200)["total"], 0);
    assert!(app.all_events().await.is_empty());
}
