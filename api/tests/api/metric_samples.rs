//! `/v1/metrics`: ingest (shape errors, partial acceptance), the list (paging, filters),
//! series (exact numbers, limits), the Prometheus gauge and simulated load.

use chrono::{DateTime, Duration, DurationRound, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::*;

/// A whole ten minutes some time ago (so that buckets are known), the same all run long.
fn base() -> DateTime<Utc> {
    static BASE: std::sync::OnceLock<DateTime<Utc>> = std::sync::OnceLock::new();
    *BASE.get_or_init(|| {
        (Utc::now() - Duration::minutes(30))
            .duration_trunc(Duration::minutes(10))
            .unwrap()
    })
}

fn at(secs: i64) -> String {
    (base() + Duration::seconds(secs)).to_rfc3339()
}

/// A live cluster the read models already show; returns its id.
async fn cluster(app: &TestApp, name: &str) -> String {
    let created = app.create_cluster(name).await;
    let id = str_of(&created["id"]).to_owned();
    app.get(&format!(
        "/v1/clusters/{id}?min_position={}",
        created["position"]
    ))
    .await
    .expect(200);
    id
}

/// A droplet of `cluster` the read models already show; returns its id.
async fn droplet(app: &TestApp, cluster: &str, name: &str) -> String {
    let created = app.create_droplet(cluster, name).await;
    let id = str_of(&created["droplet"]["id"]).to_owned();
    app.get(&format!(
        "/v1/droplets/{id}?min_position={}",
        created["position"]
    ))
    .await
    .expect(200);
    id
}

async fn ingest(app: &TestApp, samples: Value) -> Answer {
    app.post("/v1/metrics", &json!({ "samples": samples }))
        .await
}

api_test!(every_malformed_sample_is_named_and_nothing_is_stored);
async fn every_malformed_sample_is_named_and_nothing_is_stored(app: TestApp) {
    let c = cluster(&app, "web").await;
    let future = (Utc::now() + Duration::minutes(10)).to_rfc3339();
    let old = (Utc::now() - Duration::hours(25)).to_rfc3339();
    let cases = [
        (json!({"cluster_id": c, "type": "heat", "value": 1}), "type"),
        (
            json!({"cluster_id": c, "type": "cpu", "value": 100.5}),
            "value",
        ),
        (
            json!({"cluster_id": c, "type": "memory", "value": -0.1}),
            "value",
        ),
        (
            json!({"cluster_id": c, "type": "network", "value": 100001}),
            "value",
        ),
        (
            json!({"cluster_id": c, "type": "cpu", "value": "NaN"}),
            "value",
        ),
        (json!({"cluster_id": c, "type": "cpu"}), "value"),
        (
            json!({"cluster_id": c, "type": "cpu", "value": 1, "timestamp": future}),
            "timestamp",
        ),
        (
            json!({"cluster_id": c, "type": "cpu", "value": 1, "timestamp": old}),
            "timestamp",
        ),
        (
            json!({"cluster_id": c, "type": "cpu", "value": 1, "timestamp": "yesterday"}),
            "timestamp",
        ),
        (
            json!({"cluster_id": "cl_nope", "type": "cpu", "value": 1}),
            "cluster_id",
        ),
        (json!({"type": "cpu", "value": 1}), "cluster_id"),
        (
            json!({"cluster_id": c, "droplet_id": "dr_x", "type": "cpu", "value": 1}),
            "droplet_id",
        ),
    ];
    let good = json!({"cluster_id": c, "type": "cpu", "value": 50});
    for (bad, field) in cases {
        let answer = ingest(&app, json!([good, good, good, bad])).await;
        answer.field_problem(422, &format!("samples[3].{field}"));
        let errors = answer.body["errors"].as_object().unwrap();
        assert_eq!(
            errors.len(),
            1,
            "only the bad sample is named: {}",
            answer.text
        );
    }
    ingest(&app, json!([])).await.field_problem(422, "samples");
    let many: Vec<Value> = (0..1001).map(|_| good.clone()).collect();
    ingest(&app, json!(many))
        .await
        .field_problem(422, "samples");
    app.post("/v1/metrics", &json!({"samples": "all"}))
        .await
        .field_problem(422, "samples");
    let listed = app.get("/v1/metrics").await.expect(200).clone();
    assert_eq!(listed["total"], 0, "nothing stored: {listed}");
}

api_test!(samples_of_gone_clusters_and_droplets_are_left_out_the_rest_stored);
async fn samples_of_gone_clusters_and_droplets_are_left_out_the_rest_stored(app: TestApp) {
    let live = cluster(&app, "live").await;
    let other = cluster(&app, "other").await;
    let gone = cluster(&app, "gone").await;
    let deleted = app
        .delete(&format!("/v1/clusters/{gone}"))
        .await
        .expect(200)
        .clone();
    app.get(&format!(
        "/v1/clusters?min_position={}",
        deleted["position"]
    ))
    .await
    .expect(200);
    let mine = droplet(&app, &live, "web-1").await;
    let theirs = droplet(&app, &other, "db-1").await;
    let samples = json!([
        {"cluster_id": live, "droplet_id": mine, "type": "cpu", "value": 10},
        {"cluster_id": unknown_id("cl"), "type": "cpu", "value": 10},
        {"cluster_id": gone, "type": "cpu", "value": 10},
        {"cluster_id": live, "droplet_id": unknown_id("dr"), "type": "cpu", "value": 10},
        {"cluster_id": live, "type": "disk", "value": 40},
    ]);
    let answer = ingest(&app, samples).await.expect(202).clone();
    assert_eq!(answer["accepted"], 2, "{answer}");
    let rejected: Vec<(u64, &str)> = answer["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].as_u64().unwrap(), r["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rejected,
        [(1, "cluster_id"), (2, "cluster_id"), (3, "droplet_id")]
    );
    let listed = app
        .get(&format!("/v1/metrics?cluster_id={live}"))
        .await
        .expect(200)
        .clone();
    assert_eq!(listed["total"], 2);

    // Every sample gone: a 422 naming each.
    let all_gone = json!([
        {"cluster_id": gone, "type": "cpu", "value": 1},
        {"cluster_id": live, "droplet_id": unknown_id("dr"), "type": "cpu", "value": 1},
    ]);
    let answer = ingest(&app, all_gone).await;
    answer.field_problem(422, "samples[0].cluster_id");
    answer.field_problem(422, "samples[1].droplet_id");

    // A droplet of another cluster is malformed: the whole batch is refused.
    let foreign = json!([
        {"cluster_id": live, "type": "cpu", "value": 1},
        {"cluster_id": live, "droplet_id": theirs, "type": "cpu", "value": 1},
    ]);
    ingest(&app, foreign)
        .await
        .field_problem(422, "samples[1].droplet_id");
    let listed = app
        .get(&format!("/v1/metrics?cluster_id={live}"))
        .await
        .expect(200)
        .clone();
    assert_eq!(listed["total"], 2, "nothing more stored");

    let gauge = format!(
        "clustergenie_cluster_metric_value{{cluster_id=\"{live}\",metric_type=\"disk\",unit=\"percent\"}} "
    );
    assert_eq!(app.metric(&gauge).await, 40.0);
}

api_test!(the_list_pages_newest_first_with_filters);
async fn the_list_pages_newest_first_with_filters(app: TestApp) {
    let a = cluster(&app, "a").await;
    let b = cluster(&app, "b").await;
    let d = droplet(&app, &a, "web-1").await;
    let mut samples: Vec<Value> = (0..5)
        .map(|i| json!({"cluster_id": a, "droplet_id": d, "type": "cpu", "value": i, "timestamp": at(i)}))
        .collect();
    samples.push(json!({"cluster_id": a, "type": "memory", "value": 60, "timestamp": at(2)}));
    samples.push(json!({"cluster_id": b, "type": "cpu", "value": 99, "timestamp": at(9)}));
    ingest(&app, json!(samples)).await.expect(202);

    let first = app
        .get(&format!("/v1/metrics?cluster_id={a}&page_size=2"))
        .await
        .expect(200)
        .clone();
    assert_eq!(
        (first["total"].clone(), first["page"].clone()),
        (json!(6), json!(1))
    );
    assert_eq!(first["total_is_estimate"], false);
    let values = |page: &Value| -> Vec<f64> {
        items(page)
            .iter()
            .map(|s| s["value"].as_f64().unwrap())
            .collect()
    };
    assert_eq!(values(&first), [4.0, 3.0]);
    assert_eq!(items(&first)[0]["unit"], "percent");
    assert_eq!(items(&first)[0]["type"], "cpu");
    assert_eq!(items(&first)[0]["droplet_id"], json!(d));
    let mut seen = values(&first);
    let mut cursor = first["next_cursor"].as_str().map(str::to_owned);
    while let Some(next) = cursor {
        let page = app
            .get(&format!(
                "/v1/metrics?cluster_id={a}&page_size=2&cursor={next}"
            ))
            .await
            .expect(200)
            .clone();
        assert!(page["total"].is_null() && page["page"].is_null(), "{page}");
        seen.extend(values(&page));
        cursor = page["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len(), 6, "{seen:?}");
    let page_two = app
        .get(&format!("/v1/metrics?cluster_id={a}&page_size=2&page=2"))
        .await;
    assert_eq!(values(page_two.expect(200)).len(), 2);

    let narrow = app
        .get(&format!(
            "/v1/metrics?droplet_id={d}&type=cpu&since={}&until={}",
            urlencode(&at(1)),
            urlencode(&at(3))
        ))
        .await
        .expect(200)
        .clone();
    assert_eq!(values(&narrow), [2.0, 1.0]);
    let memory = app
        .get(&format!("/v1/metrics?cluster_id={a}&type=memory"))
        .await;
    assert_eq!(values(memory.expect(200)), [60.0]);
    let fleet = app
        .get("/v1/metrics?type=cpu&page_size=1")
        .await
        .expect(200)
        .clone();
    assert_eq!(
        (values(&fleet), fleet["total"].clone()),
        (vec![99.0], json!(6))
    );

    for (query, field) in [
        ("cluster_id=nope", "cluster_id"),
        ("droplet_id=cl_1", "droplet_id"),
        ("type=heat", "type"),
        ("since=yesterday", "since"),
        ("cursor=zz", "cursor"),
        ("sort_dir=asc", "sort_dir"),
        ("page_size=501", "page_size"),
    ] {
        app.get(&format!("/v1/metrics?{query}"))
            .await
            .field_problem(400, field);
    }
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

api_test!(series_are_exact_and_bounded);
async fn series_are_exact_and_bounded(app: TestApp) {
    let c = cluster(&app, "series").await;
    let (d1, d2) = (droplet(&app, &c, "a").await, droplet(&app, &c, "b").await);
    let samples = json!([
        {"cluster_id": c, "droplet_id": d1, "type": "cpu", "value": 10, "timestamp": at(0)},
        {"cluster_id": c, "droplet_id": d2, "type": "cpu", "value": 30, "timestamp": at(20)},
        {"cluster_id": c, "droplet_id": d1, "type": "cpu", "value": 50, "timestamp": at(40)},
        {"cluster_id": c, "droplet_id": d1, "type": "cpu", "value": 70, "timestamp": at(75)},
        {"cluster_id": c, "type": "memory", "value": 5, "timestamp": at(10)},
    ]);
    ingest(&app, samples).await.expect(202);
    let window = format!("since={}&until={}", urlencode(&at(0)), urlencode(&at(120)));
    let points = |body: &Value| -> Vec<(String, f64, f64, f64, u64)> {
        body["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["t"].as_str().unwrap().to_owned(),
                    p["avg"].as_f64().unwrap(),
                    p["min"].as_f64().unwrap(),
                    p["max"].as_f64().unwrap(),
                    p["count"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let t = |secs: i64| {
        (base() + Duration::seconds(secs)).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    };
    let by_30 = app
        .get(&format!(
            "/v1/metrics?cluster_id={c}&type=cpu&step=30&{window}"
        ))
        .await
        .expect(200)
        .clone();
    assert_eq!(
        (
            by_30["type"].clone(),
            by_30["unit"].clone(),
            by_30["step"].clone()
        ),
        (json!("cpu"), json!("percent"), json!(30))
    );
    assert_eq!(
        points(&by_30),
        [
            (t(0), 20.0, 10.0, 30.0, 2),
            (t(30), 50.0, 50.0, 50.0, 1),
            (t(60), 70.0, 70.0, 70.0, 1),
        ]
    );
    let by_minute = app
        .get(&format!(
            "/v1/metrics?cluster_id={c}&type=cpu&step=60&{window}"
        ))
        .await
        .expect(200)
        .clone();
    assert_eq!(
        points(&by_minute),
        [(t(0), 30.0, 10.0, 50.0, 3), (t(60), 70.0, 70.0, 70.0, 1)]
    );
    let one_droplet = app
        .get(&format!(
            "/v1/metrics?droplet_id={d2}&type=cpu&step=60&{window}"
        ))
        .await
        .expect(200)
        .clone();
    assert_eq!(points(&one_droplet), [(t(0), 30.0, 30.0, 30.0, 1)]);
    let default_window = app
        .get(&format!("/v1/metrics?cluster_id={c}&type=memory&step=600"))
        .await
        .expect(200)
        .clone();
    assert_eq!(points(&default_window).iter().map(|p| p.4).sum::<u64>(), 1);

    app.get(&format!("/v1/metrics?cluster_id={c}&step=60"))
        .await
        .field_problem(422, "type");
    app.get(&format!("/v1/metrics?cluster_id={c}&type=cpu&step=90"))
        .await
        .field_problem(422, "step");
    app.get(&format!(
        "/v1/metrics?type=cpu&step=1&since={}",
        urlencode(&at(-7200))
    ))
    .await
    .field_problem(422, "step");
    app.get("/v1/metrics?type=cpu&step=0")
        .await
        .field_problem(400, "step");
}

api_test!(
    simulated_load_reports_for_active_droplets,
    |s: &mut api::settings::Settings| {
        s.sim_load = true;
        s.sim_load_interval_secs = 1;
    }
);
async fn simulated_load_reports_for_active_droplets(app: TestApp) {
    let c = cluster(&app, "sim").await;
    let d = str_of(&app.active_droplet(&c, "web-1").await["id"]).to_owned();
    let listed = app
        .poll(&format!("/v1/metrics?droplet_id={d}"), "reported", |page| {
            page["total"].as_i64().is_some_and(|n| n >= 4)
        })
        .await;
    let types: std::collections::BTreeSet<&str> = items(&listed)
        .iter()
        .map(|s| s["type"].as_str().unwrap())
        .collect();
    assert_eq!(types.len(), 4, "{listed}");
    assert!(items(&listed).iter().all(|s| s["cluster_id"] == json!(c)));
}

api_test!(a_batch_under_an_idempotency_key_is_stored_once);
async fn a_batch_under_an_idempotency_key_is_stored_once(app: TestApp) {
    let cluster = app.create_cluster("keyed").await;
    let id = str_of(&cluster["id"]).to_owned();
    let body = json!({ "samples": [
        { "cluster_id": id, "type": "cpu", "value": 41.0 },
        { "cluster_id": id, "type": "disk", "value": 12.5 },
    ]});
    let keyed = |body: &Value| {
        app.request(Method::POST, "/v1/metrics")
            .header("idempotency-key", "batch-7")
            .json(body)
    };
    let first = app.send(keyed(&body)).await.expect(202).clone();
    assert_eq!(first["accepted"], 2, "{first}");
    let again = app.send(keyed(&body)).await.expect(202).clone();
    assert_eq!(again, first);
    let stored = app
        .get(&format!("/v1/metrics?cluster_id={id}"))
        .await
        .expect(200)
        .clone();
    assert_eq!(stored["total"], 2, "{stored}");

    let other = json!({ "samples": [{ "cluster_id": id, "type": "cpu", "value": 99.0 }] });
    let refused = app.send(keyed(&other)).await;
    let problem = refused.problem(409);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("batch-7"),
        "{problem}"
    );
}
