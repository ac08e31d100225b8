//! `/v1/providers` (defaults, registration, validation), the fault admin endpoint,
//! `/v1/clusters/{id}/billing` and `/v1/billing`, against the real server.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::*;

fn names(list: &Value) -> Vec<String> {
    field_of_items(list, "name")
}

fn find<'a>(list: &'a Value, name: &str) -> &'a Value {
    items(list)
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} listed: {list}"))
}

async fn put(app: &TestApp, path: &str, body: &Value) -> Answer {
    app.send(app.request(Method::PUT, path).json(body)).await
}

api_test!(the_defaults_are_listed_without_any_event);
async fn the_defaults_are_listed_without_any_event(app: TestApp) {
    let list = app.get("/v1/providers").await.expect(200).clone();
    assert_eq!(names(&list), ["nimbus", "simcloud", "stratus"]);
    assert_eq!(list["total"], 3);
    let simcloud = find(&list, "simcloud");
    assert_eq!(simcloud["source"], "default");
    assert_eq!(simcloud["version"], 0);
    assert_eq!(simcloud["regions"].as_array().map(Vec::len), Some(11));
    assert_eq!(simcloud["price_multiplier"], 1.0);
    assert_eq!(simcloud["faults"]["outage"], false);
    assert_eq!(simcloud["usage"]["live_droplets"], 0);
    let stratus = find(&list, "stratus");
    assert_eq!(stratus["price_multiplier"], 0.9);
    assert_eq!(stratus["sizes"].as_array().map(Vec::len), Some(5));
    assert!(app.all_events().await.is_empty(), "defaults need no events");
}

api_test!(a_registered_provider_is_listed_usable_and_updated_by_events);
async fn a_registered_provider_is_listed_usable_and_updated_by_events(app: TestApp) {
    let body = json!({
        "name": "edge",
        "display_name": "Edge Cloud",
        "regions": ["fra1", "lon1"],
        "sizes": ["s-1vcpu-1gb", "c-2"],
        "price_multiplier": 0.8,
        "capacity_per_region": 4,
        "latency": { "provision_ms": 2000 },
    });
    let created = app.post("/v1/providers", &body).await.expect(201).clone();
    assert_eq!(created["name"], "edge");
    assert_eq!(created["source"], "registered");
    assert_eq!(created["version"], 1);
    assert_eq!(created["latency"]["provision_ms"], 2000);
    assert_eq!(created["latency"]["destroy_ms"], 2000, "default filled in");
    assert!(created["position"].as_i64().is_some_and(|p| p >= 1));

    let list = app.get_at("/v1/providers", &created["position"]).await;
    assert_eq!(names(&list), ["edge", "nimbus", "simcloud", "stratus"]);
    assert_eq!(find(&list, "edge")["capacity_per_region"], 4);
    // Usable at once: the engine's registry knows it.
    app.get("/v1/admin/providers/edge/faults").await.expect(200);

    // The same configuration again changes nothing; a new one is an update.
    let again = app.post("/v1/providers", &body).await.expect(200).clone();
    assert_eq!(again["version"], 1);
    let mut changed = body.clone();
    changed["capacity_per_region"] = json!(9);
    let updated = app
        .post("/v1/providers", &changed)
        .await
        .expect(200)
        .clone();
    assert_eq!(updated["version"], 2);
    let events = app.stream("provider", "edge").await;
    let types: Vec<&str> = events.iter().map(|e| str_of(&e["type"])).collect();
    assert_eq!(types, ["provider.registered", "provider.updated"]);
    assert_eq!(events[1]["data"]["capacity_per_region"], 9);
    let list = app.get_at("/v1/providers", &updated["position"]).await;
    assert_eq!(find(&list, "edge")["capacity_per_region"], 9);

    // Registering a default's name replaces its defaults.
    let cheap = json!({ "name": "nimbus", "regions": ["sgp1"], "price_multiplier": 0.5 });
    let nimbus = app.post("/v1/providers", &cheap).await.expect(201).clone();
    let list = app.get_at("/v1/providers", &nimbus["position"]).await;
    assert_eq!(find(&list, "nimbus")["source"], "registered");
    assert_eq!(find(&list, "nimbus")["regions"], json!(["sgp1"]));
    // Its prices follow its new multiplier; edge charges 0.8 of the list price.
    let prices = &find(&list, "nimbus")["prices"];
    assert_eq!(prices[0]["size"], "s-1vcpu-1gb");
    assert_eq!(prices[0]["price_monthly"], 3.0);
    assert_eq!(
        find(&list, "edge")["prices"],
        json!([
            { "size": "s-1vcpu-1gb", "price_monthly": 4.8, "price_hourly": 0.006667 },
            { "size": "c-2", "price_monthly": 33.6, "price_hourly": 0.046667 },
        ])
    );
}

api_test!(the_catalog_lists_regions_sizes_and_images_with_list_prices);
async fn the_catalog_lists_regions_sizes_and_images_with_list_prices(app: TestApp) {
    let catalog = app.get("/v1/catalog").await.expect(200).clone();
    let slugs = |key: &str, field: &str| -> Vec<String> {
        catalog[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key}: {catalog}"))
            .iter()
            .map(|i| str_of(&i[field]).to_owned())
            .collect()
    };
    assert_eq!(slugs("regions", "id").len(), 11);
    assert_eq!(
        catalog["regions"][0],
        json!({ "id": "nyc1", "name": "New York 1" })
    );
    assert_eq!(
        slugs("sizes", "slug"),
        [
            "s-1vcpu-1gb",
            "s-1vcpu-2gb",
            "s-2vcpu-2gb",
            "s-2vcpu-4gb",
            "s-4vcpu-8gb",
            "c-2",
            "m-1vcpu-8gb"
        ]
    );
    assert_eq!(
        catalog["sizes"][5],
        json!({
            "slug": "c-2", "vcpus": 2, "memory_gb": 4, "class": "cpu_optimized",
            "price_monthly": 42.0, "price_hourly": 0.058333,
        })
    );
    assert_eq!(slugs("images", "slug").len(), 6);
    assert_eq!(
        catalog["images"][5],
        json!({ "slug": "rocky-8-x64", "name": "Rocky Linux 8 x64" })
    );
    assert_eq!(catalog["hours_per_month"], 720);
    // What every provider charges is the list price times its multiplier.
    let list = app.get("/v1/providers").await.expect(200).clone();
    for provider in items(&list) {
        let multiplier = provider["price_multiplier"].as_f64().unwrap();
        let prices = provider["prices"].as_array().unwrap();
        assert_eq!(prices.len(), provider["sizes"].as_array().unwrap().len());
        for price in prices {
            let size = catalog["sizes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["slug"] == price["size"])
                .unwrap_or_else(|| panic!("{price} in the catalog"));
            let list_price = size["price_monthly"].as_f64().unwrap();
            let monthly = price["price_monthly"].as_f64().unwrap();
            assert!((monthly - list_price * multiplier).abs() < 0.006, "{price}");
            let hourly = price["price_hourly"].as_f64().unwrap();
            assert!((hourly - monthly / 720.0).abs() < 1e-5, "{price}");
        }
    }
    assert_eq!(
        find(&list, "nimbus")["prices"][0],
        json!({ "size": "s-1vcpu-1gb", "price_monthly": 6.9, "price_hourly": 0.009583 })
    );
}

api_test!(invalid_registrations_are_problems_naming_the_field);
async fn invalid_registrations_are_problems_naming_the_field(app: TestApp) {
    let cases = [
        (json!({ "name": "Bad Name", "regions": ["fra1"] }), "name"),
        (json!({ "name": "edge", "regions": [] }), "regions"),
        (json!({ "name": "edge", "regions": ["mars1"] }), "regions"),
        (
            json!({ "name": "edge", "regions": ["fra1", "fra1"] }),
            "regions",
        ),
        (
            json!({ "name": "edge", "regions": ["fra1"], "sizes": ["huge"] }),
            "sizes",
        ),
        (
            json!({ "name": "edge", "regions": ["fra1"], "price_multiplier": 0 }),
            "price_multiplier",
        ),
        (
            json!({ "name": "edge", "regions": ["fra1"], "capacity_per_region": 0 }),
            "capacity_per_region",
        ),
        (
            json!({ "name": "edge", "regions": ["fra1"], "latency": { "resize_ms": 700000 } }),
            "latency.resize_ms",
        ),
        (
            json!({ "name": "edge", "regions": ["fra1"], "faults": { "failure_rate": 2 } }),
            "faults.failure_rate",
        ),
    ];
    for (body, field) in cases {
        app.post("/v1/providers", &body)
            .await
            .field_problem(422, field);
    }
    app.post("/v1/providers", &json!({ "regions": ["fra1"] }))
        .await
        .field_problem(422, "name");
    app.post(
        "/v1/providers",
        &json!({ "name": "edge", "regions": ["fra1"], "colour": "red" }),
    )
    .await
    .problem(422);
    app.send_raw(Method::POST, "/v1/providers", "{not json")
        .await
        .problem(400);
    assert!(app.all_events().await.is_empty(), "nothing was recorded");
}

api_test!(faults_round_trip_through_the_admin_endpoint);
async fn faults_round_trip_through_the_admin_endpoint(app: TestApp) {
    let path = "/v1/admin/providers/stratus/faults";
    let initial = app.get(path).await.expect(200).clone();
    assert_eq!(initial["failure_rate"], 0.0);
    assert_eq!(initial["outage"], false);
    let set = json!({ "failure_rate": 0.25, "spike_rate": 0.5, "spike_ms": 3000, "outage": true });
    let answer = put(&app, path, &set).await.expect(200).clone();
    assert_eq!(answer["provider"], "stratus");
    for field in ["failure_rate", "spike_rate", "spike_ms", "outage"] {
        assert_eq!(answer[field], set[field], "{field}");
    }
    let got = app.get(path).await.expect(200).clone();
    assert_eq!(got, answer);
    let list = app.get("/v1/providers").await.expect(200).clone();
    assert_eq!(find(&list, "stratus")["faults"]["outage"], true);
    // Omitted fields are cleared: faults are replaced, not merged.
    let cleared = put(&app, path, &json!({ "spike_ms": 10 }))
        .await
        .expect(200)
        .clone();
    assert_eq!(cleared["outage"], false);
    assert_eq!(cleared["failure_rate"], 0.0);

    put(&app, path, &json!({ "failure_rate": 1.5 }))
        .await
        .field_problem(422, "faults.failure_rate");
    put(&app, path, &json!({ "outage": "yes" }))
        .await
        .problem(422);
    put(&app, "/v1/admin/providers/nowhere/faults", &json!({}))
        .await
        .problem(404);
    app.get("/v1/admin/providers/nowhere/faults")
        .await
        .problem(404);
    assert!(app.all_events().await.is_empty(), "faults are not events");
}

api_test!(billing_sums_a_clusters_live_droplets_by_provider);
async fn billing_sums_a_clusters_live_droplets_by_provider(app: TestApp) {
    let cluster = app.create_cluster("billed").await;
    let cluster_id = str_of(&cluster["id"]).to_owned();
    let empty = app
        .get_at(
            &format!("/v1/clusters/{cluster_id}/billing"),
            &cluster["position"],
        )
        .await;
    assert_eq!(empty["droplet_count"], 0);
    assert_eq!(empty["monthly_cost"], 0.0);

    app.create_droplet(&cluster_id, "plain").await; // simcloud by default, $6
    let body = json!({
        "cluster_id": cluster_id,
        "name": "big",
        "region": "nyc1",
        "size": "s-4vcpu-8gb",
        "image": "ubuntu-22-04-x64",
        "provider": "nimbus",
    });
    let big = app.post("/v1/droplets", &body).await.expect(202).clone(); // 48 x 1.15
    let billing = app
        .get_at(
            &format!("/v1/clusters/{cluster_id}/billing"),
            &big["position"],
        )
        .await;
    assert_eq!(billing["droplet_count"], 2, "{billing}");
    let monthly = 6.0 + 48.0 * 1.15;
    let got = billing["monthly_cost"].as_f64().expect("monthly");
    assert!((got - monthly).abs() < 0.005, "{billing}");
    let hourly = billing["hourly_cost"].as_f64().expect("hourly");
    assert!((hourly - monthly / 720.0).abs() < 1e-5, "{billing}");
    assert_eq!(billing["by_provider"]["simcloud"]["droplet_count"], 1);
    assert_eq!(billing["by_provider"]["nimbus"]["droplet_count"], 1);
    assert!(
        (billing["by_provider"]["nimbus"]["monthly_cost"]
            .as_f64()
            .unwrap()
            - 55.2)
            .abs()
            < 0.005
    );

    // Another cluster's droplets are not billed here.
    let other = app.create_cluster("other").await;
    let other_id = str_of(&other["id"]).to_owned();
    let third = app.create_droplet(&other_id, "x").await;
    let billing = app
        .get_at(
            &format!("/v1/clusters/{cluster_id}/billing"),
            &third["position"],
        )
        .await;
    assert_eq!(billing["droplet_count"], 2);

    app.get(&format!("/v1/clusters/{}/billing", unknown_id("cl_")))
        .await
        .problem(404);
}

fn cost(billing: &Value, field: &str) -> f64 {
    billing[field]
        .as_f64()
        .unwrap_or_else(|| panic!("{field}: {billing}"))
}

/// The fleet's bill at the answer's `position`, checked against the sum of its clusters'.
async fn fleet_at(app: &TestApp, position: &Value, clusters: &[&str]) -> Value {
    let fleet = app.get_at("/v1/billing", position).await;
    let (mut droplets, mut hourly) = (0, 0.0);
    for id in clusters {
        let cluster = app
            .get_at(&format!("/v1/clusters/{id}/billing"), position)
            .await;
        droplets += cluster["droplet_count"].as_u64().unwrap();
        hourly += cost(&cluster, "hourly_cost");
    }
    assert_eq!(fleet["droplet_count"], droplets, "{fleet}");
    assert!(
        (cost(&fleet, "hourly_cost") - hourly).abs() < 1e-5,
        "{fleet}"
    );
    let monthly = cost(&fleet, "hourly_cost") * 720.0;
    assert!(
        (cost(&fleet, "monthly_cost") - monthly).abs() < 0.01,
        "{fleet}"
    );
    fleet
}

api_test!(the_fleet_bill_follows_droplets_across_clusters);
async fn the_fleet_bill_follows_droplets_across_clusters(app: TestApp) {
    let empty = app.get("/v1/billing").await.expect(200).clone();
    assert_eq!(empty["droplet_count"], 0, "{empty}");
    assert_eq!(empty["hourly_cost"], 0.0);
    assert_eq!(empty["by_provider"], json!({}));
    assert_eq!(empty["by_region"], json!({}));
    assert_eq!(empty["position"], 0);

    let a = app.create_cluster("fleet-a").await;
    let b = app.create_cluster("fleet-b").await;
    let (a, b) = (str_of(&a["id"]).to_owned(), str_of(&b["id"]).to_owned());
    let clusters = [a.as_str(), b.as_str()];
    let small = app.create_droplet(&a, "small").await; // simcloud nyc1, $6
    let body = json!({
        "cluster_id": b,
        "name": "big",
        "region": "fra1",
        "size": "s-4vcpu-8gb",
        "image": "ubuntu-22-04-x64",
        "provider": "nimbus",
    });
    let big = app.post("/v1/droplets", &body).await.expect(202).clone(); // 48 x 1.15
    let fleet = fleet_at(&app, &big["position"], &clusters).await;
    assert_eq!(fleet["droplet_count"], 2);
    assert!((cost(&fleet, "monthly_cost") - (6.0 + 48.0 * 1.15)).abs() < 0.005);
    assert_eq!(fleet["by_provider"]["simcloud"]["droplet_count"], 1);
    assert_eq!(fleet["by_provider"]["nimbus"]["droplet_count"], 1);
    assert_eq!(fleet["by_region"]["fra1"]["droplet_count"], 1);
    assert_eq!(fleet["by_region"]["nyc1"]["droplet_count"], 1);
    assert!(fleet["position"].as_i64().unwrap() >= 1);

    // Resized: the same droplet, a bigger price.
    let small_id = str_of(&small["droplet"]["id"]).to_owned();
    app.wait_for_job(str_of(&small["job"]["id"]), "succeeded")
        .await;
    let resize = app
        .post(
            &format!("/v1/droplets/{small_id}/resize"),
            &json!({ "size": "s-2vcpu-4gb" }),
        )
        .await
        .expect(202)
        .clone();
    app.wait_for_job(str_of(&resize["job"]["id"]), "succeeded")
        .await;
    let fleet = fleet_at(&app, &app.head().await, &clusters).await;
    assert_eq!(fleet["droplet_count"], 2);
    let simcloud = &fleet["by_provider"]["simcloud"];
    assert!(
        (cost(simcloud, "monthly_cost") - 24.0).abs() < 0.005,
        "{fleet}"
    );

    // Migrated: it moves from simcloud to nimbus (x1.15).
    let migrate = app
        .post(
            &format!("/v1/droplets/{small_id}/migrate"),
            &json!({ "target_provider": "nimbus" }),
        )
        .await
        .expect(202)
        .clone();
    app.wait_for_job(str_of(&migrate["job"]["id"]), "succeeded")
        .await;
    let fleet = fleet_at(&app, &app.head().await, &clusters).await;
    assert!(fleet["by_provider"].get("simcloud").is_none(), "{fleet}");
    let nimbus = &fleet["by_provider"]["nimbus"];
    assert_eq!(nimbus["droplet_count"], 2);
    assert!(
        (cost(nimbus, "monthly_cost") - 72.0 * 1.15).abs() < 0.005,
        "{fleet}"
    );

    // Destroyed: no longer billed.
    let destroy = app
        .delete(&format!("/v1/droplets/{small_id}"))
        .await
        .expect(202)
        .clone();
    app.wait_for_job(str_of(&destroy["job"]["id"]), "succeeded")
        .await;
    let fleet = fleet_at(&app, &app.head().await, &clusters).await;
    assert_eq!(fleet["droplet_count"], 1, "{fleet}");
    assert_eq!(
        fleet["by_provider"]["nimbus"]["droplet_count"], 1,
        "{fleet}"
    );
    assert!(fleet["by_region"].get("nyc1").is_none(), "{fleet}");
    assert!((cost(&fleet, "monthly_cost") - 48.0 * 1.15).abs() < 0.005);

    // A provider's new price shows at once: the counts are priced when read.
    let pricier = json!({ "name": "nimbus", "regions": ["fra1"], "price_multiplier": 2.0 });
    let registered = app.post("/v1/providers", &pricier).await;
    assert!(
        matches!(registered.status, 200 | 201),
        "{}",
        registered.text
    );
    let fleet = app
        .get_at("/v1/billing", &registered.body["position"])
        .await;
    assert!(
        (cost(&fleet, "monthly_cost") - 96.0).abs() < 0.005,
        "{fleet}"
    );

    app.get("/v1/billing?min_position=x")
        .await
        .field_problem(400, "min_position");
    app.get("/v1/billing?min_position=-1")
        .await
        .field_problem(400, "min_position");
    app.send(app.request(Method::POST, "/v1/billing"))
        .await
        .problem(405);
}

api_test!(capacity_counts_the_droplets_made_before_a_restart);
async fn capacity_counts_the_droplets_made_before_a_restart(app: TestApp) {
    // simcloud, the cheapest in nyc1, has one slot there.
    let small = json!({ "name": "simcloud", "regions": ["nyc1"], "capacity_per_region": 1 });
    app.post("/v1/providers", &small).await.expect(201);
    let cluster = app.create_cluster("full").await;
    let id = str_of(&cluster["id"]);
    let first = app.active_droplet(id, "first").await;
    assert_eq!(first["provider"], "simcloud", "{first}");

    // A new process knows from the log that the slot is taken.
    let app = app.restart(|_| {}).await;
    let second = app.active_droplet(id, "second").await;
    assert_eq!(second["provider"], "nimbus", "simcloud is full: {second}");

    // Destroying the first droplet frees the slot.
    let answer = app
        .delete(&format!("/v1/droplets/{}", str_of(&first["id"])))
        .await;
    app.wait_for_job(str_of(&answer.expect(202)["job"]["id"]), "succeeded")
        .await;
    let third = app.active_droplet(id, "third").await;
    assert_eq!(third["provider"], "simcloud", "{third}");
}

api_test!(addresses_stay_unique_across_a_restart);
async fn addresses_stay_unique_across_a_restart(app: TestApp) {
    let cluster = app.create_cluster("addresses").await;
    let id = str_of(&cluster["id"]);
    let first = app.active_droplet(id, "first").await;

    // A new process hands out addresses after those the log shows as taken.
    let app = app.restart(|_| {}).await;
    let second = app.active_droplet(id, "second").await;
    assert_eq!(second["provider"], first["provider"], "{first} {second}");
    assert_ne!(
        second["ip_address"], first["ip_address"],
        "{first} {second}"
    );
}

/// A droplet of `cluster_id` in `region` (`provider` when given); the answer's body.
async fn droplet_in(
    app: &TestApp,
    cluster_id: &str,
    name: &str,
    region: &str,
    provider: Option<&str>,
) -> Answer {
    let mut body = json!({
        "cluster_id": cluster_id,
        "name": name,
        "region": region,
        "size": "s-1vcpu-1gb",
        "image": "ubuntu-22-04-x64",
    });
    if let Some(provider) = provider {
        body["provider"] = json!(provider);
    }
    app.post("/v1/droplets", &body).await
}

/// Waits for the droplet `created` (an answer of `POST /v1/droplets`) to be active.
async fn active(app: &TestApp, created: &Answer) -> Value {
    let created = created.expect(202);
    app.wait_for_job(str_of(&created["job"]["id"]), "succeeded")
        .await;
    app.wait_for_droplet(str_of(&created["droplet"]["id"]), "active")
        .await
}

api_test!(a_registered_provider_runs_clusters_and_droplets);
async fn a_registered_provider_runs_clusters_and_droplets(app: TestApp) {
    let body = json!({
        "name": "edge",
        "regions": ["fra1", "lon1"],
        "price_multiplier": 0.5,
        "capacity_per_region": 2,
    });
    app.post("/v1/providers", &body).await.expect(201);

    // Clusters name it, within its regions; unknown names are refused naming the field.
    let cluster = app
        .post(
            "/v1/clusters",
            &json!({ "name": "edgy", "region": "fra1", "provider": "edge" }),
        )
        .await
        .expect(201)
        .clone();
    assert_eq!(cluster["provider"], "edge");
    let cluster_id = str_of(&cluster["id"]).to_owned();
    let lacking = app
        .post(
            "/v1/clusters",
            &json!({ "name": "far", "region": "sgp1", "provider": "edge" }),
        )
        .await;
    assert!(str_of(&lacking.problem(422)["detail"]).contains("does not offer region sgp1"));
    let unknown = app
        .post(
            "/v1/clusters",
            &json!({ "name": "ghostly", "region": "fra1", "provider": "ghost" }),
        )
        .await;
    let problem = unknown.field_problem(422, "provider");
    assert!(
        str_of(&problem["errors"]["provider"]).contains("ghost"),
        "{problem}"
    );
    let path = format!("/v1/clusters/{cluster_id}");
    app.patch(&path, &json!({ "region": "sgp1" }))
        .await
        .problem(422);
    app.patch(&path, &json!({ "region": "lon1" }))
        .await
        .expect(200);

    // A droplet asking for it is provisioned there, at its price.
    let first = droplet_in(&app, &cluster_id, "first", "lon1", Some("edge")).await;
    let first = active(&app, &first).await;
    assert_eq!(first["provider"], "edge", "{first}");
    droplet_in(&app, &cluster_id, "lost", "lon1", Some("ghost"))
        .await
        .field_problem(422, "provider");
    droplet_in(&app, &cluster_id, "far", "sgp1", Some("edge"))
        .await
        .problem(422);

    // Placement counts it like any provider: the cheapest in lon1, until its 2 slots there
    // are taken (then simcloud, x1.0, is the cheapest left with room).
    let second = active(
        &app,
        &droplet_in(&app, &cluster_id, "second", "lon1", None).await,
    )
    .await;
    assert_eq!(second["provider"], "edge", "{second}");
    let third = active(
        &app,
        &droplet_in(&app, &cluster_id, "third", "lon1", None).await,
    )
    .await;
    assert_eq!(
        third["provider"], "simcloud",
        "edge is full in lon1: {third}"
    );
    let list = app.get("/v1/providers").await;
    let edge = find(list.expect(200), "edge");
    assert_eq!(edge["usage"]["live_droplets"], 2, "{edge}");

    let billing = app.get(&format!("/v1/clusters/{cluster_id}/billing")).await;
    let billing = billing.expect(200);
    assert_eq!(
        billing["by_provider"]["edge"]["droplet_count"], 2,
        "{billing}"
    );
    let monthly = billing["by_provider"]["edge"]["monthly_cost"]
        .as_f64()
        .expect("monthly");
    assert!((monthly - 2.0 * 6.0 * 0.5).abs() < 0.005, "{billing}");

    // A droplet elsewhere migrates to it (fra1, where it has room).
    let mover = droplet_in(&app, &cluster_id, "mover", "fra1", Some("simcloud")).await;
    let mover = active(&app, &mover).await;
    assert_eq!(mover["provider"], "simcloud");
    let migrate = format!("/v1/droplets/{}/migrate", str_of(&mover["id"]));
    app.post(&migrate, &json!({ "target_provider": "ghost" }))
        .await
        .field_problem(422, "target_provider");
    let started = app
        .post(&migrate, &json!({ "target_provider": "edge" }))
        .await
        .expect(202)
        .clone();
    let job = app
        .wait_for_job(str_of(&started["job"]["id"]), "succeeded")
        .await;
    assert_eq!(job["result"]["provider"], "edge", "{job}");
    let moved = app
        .poll(
            &format!("/v1/droplets/{}", str_of(&mover["id"])),
            "migrated",
            |d| d["provider"] == "edge",
        )
        .await;
    assert_eq!(moved["status"], "active");
}
