//! Health, readiness, metrics, projections, workers, and routing of unknown paths.

use reqwest::Method;
use serde_json::json;

use crate::common::*;

api_test!(healthz_answers_ok);
async fn healthz_answers_ok(app: TestApp) {
    let answer = app.get("/healthz").await;
    assert_eq!(answer.expect(200), &json!({ "status": "ok" }));
    assert_eq!(answer.header("content-type"), Some("application/json"));
}

api_test!(readyz_lists_store_bus_and_cache);
async fn readyz_lists_store_bus_and_cache(app: TestApp) {
    let answer = app.get("/readyz").await;
    let body = answer.expect(200);
    assert_eq!(body["status"], "ready", "{body}");
    let backend = match app.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(body["checks"]["store"]["status"], "ok", "{body}");
    assert_eq!(body["checks"]["store"]["backend"], backend, "{body}");
    assert_eq!(body["checks"]["bus"]["status"], "ok", "{body}");
    assert_eq!(body["checks"]["cache"]["status"], "ok", "{body}");
}

api_test!(metrics_count_http_requests);
async fn metrics_count_http_requests(app: TestApp) {
    app.get("/healthz").await.expect(200);
    app.get("/v1/clusters").await.expect(200);
    let answer = app.get("/metrics").await;
    answer.expect(200);
    assert!(
        answer
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/plain")),
        "{:?}",
        answer.headers
    );
    let text = &answer.text;
    assert!(
        text.contains("# TYPE clustergenie_http_requests_total counter"),
        "{text}"
    );
    let healthz = text
        .lines()
        .find(|l| {
            l.starts_with("clustergenie_http_requests_total{")
                && l.contains("path=\"/healthz\"")
                && l.contains("status=\"200\"")
        })
        .unwrap_or_else(|| panic!("no /healthz sample in\n{text}"));
    let count: f64 = healthz
        .rsplit(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("a sample value");
    assert!(count >= 1.0, "{healthz}");
}

api_test!(projections_report_position_and_lag);
async fn projections_report_position_and_lag(app: TestApp) {
    let cluster = app.create_cluster("proj").await;
    let position = cluster["position"].as_i64().unwrap();
    // Reading with min_position makes every projection reach the write.
    app.get_at("/v1/clusters", &cluster["position"]).await;
    let answer = app.get("/v1/projections").await;
    let body = answer.expect(200);
    let projections = items(body);
    assert!(!projections.is_empty(), "{body}");
    let mut names: Vec<&str> = projections.iter().map(|p| str_of(&p["name"])).collect();
    names.sort_unstable();
    for expected in ["clusters", "droplets", "jobs"] {
        assert!(
            names.iter().any(|n| n.contains(expected)),
            "no {expected} projection in {names:?}"
        );
    }
    for projection in projections {
        assert!(
            projection["position"].as_i64().unwrap() >= position,
            "{projection}"
        );
        assert!(projection["lag"].as_i64().unwrap() >= 0, "{projection}");
        assert_eq!(projection["parked"], 0, "{projection}");
        assert!(
            projection["lag_seconds"].as_f64().unwrap() >= 0.0,
            "{projection}"
        );
        assert!(
            projection["events_per_second"].as_f64().unwrap() >= 0.0,
            "{projection}"
        );
        assert!(projection["status"].is_string(), "{projection}");
        assert!(projection.get("last_error").is_some(), "{projection}");
    }
}

api_test!(workers_show_the_pool);
async fn workers_show_the_pool(app: TestApp) {
    let answer = app.get("/v1/workers").await;
    let body = answer.expect(200);
    assert_eq!(body["worker_count"], 2, "{body}");
    assert_eq!(body["queue_capacity"], 100, "{body}");
    assert!(body["active_workers"].as_u64().unwrap() <= 2, "{body}");
    assert!(body["queue_length"].is_u64(), "{body}");
    assert!(body["queued_ids"].is_array(), "{body}");
}

api_test!(unknown_paths_are_404_problems);
async fn unknown_paths_are_404_problems(app: TestApp) {
    for path in [
        "/v1",
        "/v1/nothing",
        "/v1/clusters/a/b/c",
        "/v1/droplets/x/explode",
        "/v1/jobs/x/retry",
        "/v1/streams/cluster",
    ] {
        let answer = app.get(path).await;
        answer.problem(404);
    }
    let answer = app.post("/v1/nothing", &json!({})).await;
    answer.problem(404);
    // Outside the API only GET and HEAD are answered (by the console).
    let answer = app.post("/nope", &json!({})).await;
    answer.problem(404);
}

api_test!(the_console_answers_every_get_outside_the_api);
async fn the_console_answers_every_get_outside_the_api(app: TestApp) {
    for path in ["/", "/clusters", "/clusters/cl_0/history", "/no/such/page"] {
        let answer = app.get(path).await;
        assert_eq!(answer.status, 200, "{path}");
        let content_type = answer.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("text/html"),
            "{path}: {content_type}"
        );
        assert_eq!(answer.header("cache-control"), Some("no-cache"), "{path}");
        assert!(
            answer.text.contains("<title>ClusterGenie</title>"),
            "{path}"
        );
    }
    // The API's own paths never fall through to the console.
    for path in [
        "/v1/nothing",
        "/v1/clusters/a/b",
        "/metrics/x",
        "/healthz/x",
    ] {
        app.get(path).await.problem(404);
    }
}

api_test!(wrong_methods_are_405_problems);
async fn wrong_methods_are_405_problems(app: TestApp) {
    for (method, path) in [
        (Method::PUT, "/v1/clusters"),
        (Method::DELETE, "/v1/clusters"),
        (Method::PUT, "/v1/clusters/cl_0"),
        (Method::POST, "/v1/clusters/cl_0"),
        (Method::PATCH, "/v1/droplets"),
        (Method::GET, "/v1/droplets/dr_0/resize"),
        (Method::GET, "/v1/droplets/dr_0/power"),
        (Method::DELETE, "/v1/jobs"),
        (Method::GET, "/v1/jobs/job_0/cancel"),
        (Method::POST, "/v1/events"),
        (Method::DELETE, "/v1/workers"),
        (Method::POST, "/healthz"),
    ] {
        let answer = app.send(app.request(method.clone(), path)).await;
        assert_eq!(answer.status, 405, "{method} {path}: {}", answer.text);
        answer.problem(405);
    }
}

api_test!(dead_letters_are_listed_and_retried_by_id);
async fn dead_letters_are_listed_and_retried_by_id(app: TestApp) {
    let answer = app.get("/v1/projections/dead-letters").await;
    assert_eq!(answer.expect(200), &json!({ "items": [] }));
    let answer = app
        .get("/v1/projections/dead-letters?projection=clusters")
        .await;
    assert_eq!(answer.expect(200), &json!({ "items": [] }));
    let answer = app
        .post("/v1/projections/dead-letters/dl_nope/retry", &json!({}))
        .await;
    let problem = answer.problem(404);
    assert!(str_of(&problem["detail"]).contains("dl_nope"), "{problem}");
    let metrics = app.get("/metrics").await;
    assert!(
        metrics
            .text
            .contains("clustergenie_projection_dead_letters"),
        "{}",
        metrics.text
    );
}

api_test!(projections_rebuild_without_downtime);
async fn projections_rebuild_without_downtime(app: TestApp) {
    let cluster = app.create_cluster("rebuilt").await;
    let id = str_of(&cluster["id"]);
    let droplet = app.create_droplet(id, "web").await;
    app.wait_for_job(str_of(&droplet["job"]["id"]), "succeeded")
        .await;
    let path = format!("/v1/droplets/{}", str_of(&droplet["droplet"]["id"]));
    let before = app.poll(&path, "active", |d| d["status"] == "active").await;
    // The clusters model may still lag the droplets model: read it at the log's head.
    let head = app.head().await;
    let clusters_before = app.get_at("/v1/clusters", &head).await;

    for name in ["clusters", "droplets", "jobs"] {
        let answer = app
            .post(&format!("/v1/projections/{name}/rebuild"), &json!({}))
            .await;
        let body = answer.expect(202);
        assert_eq!(body["projection"], name);
        assert_eq!(body["status"], "rebuilding");
        let done = app
            .poll("/v1/projections", "rebuilt", |b| {
                b["items"].as_array().is_some_and(|items| {
                    items
                        .iter()
                        .any(|p| p["name"] == name && p["rebuild"]["status"] == "completed")
                })
            })
            .await;
        let status = done["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()
            .clone();
        assert!(
            status["rebuild"]["position"].as_i64().unwrap() > 0,
            "{status}"
        );
        assert!(status["rebuild"]["finished_at"].is_string(), "{status}");
    }
    // The rebuilt models answer exactly as before.
    assert_eq!(app.get(&path).await.expect(200), &before);
    assert_eq!(app.get("/v1/clusters").await.expect(200), &clusters_before);
    // And keep following the log.
    let renamed = app
        .patch(&format!("/v1/clusters/{id}"), &json!({ "name": "after" }))
        .await;
    let position = renamed.expect(200)["position"].clone();
    let cluster = app
        .get(&format!("/v1/clusters/{id}?min_position={position}"))
        .await;
    assert_eq!(cluster.expect(200)["name"], "after");

    let unknown = app.post("/v1/projections/nope/rebuild", &json!({})).await;
    let problem = unknown.problem(404);
    assert!(
        problem["detail"].as_str().unwrap().contains("nope"),
        "{problem}"
    );
}

api_test!(searches_answer_while_rebuilds_swap_tables_in);
/// A rebuild's swap changes the schema under every other statement: on SQLite a search
/// prepared right after one could fail with `SQLITE_SCHEMA` and answer a 500 (found by
/// the schemathesis run). Each variant of the search statement runs right after swaps.
async fn searches_answer_while_rebuilds_swap_tables_in(app: TestApp) {
    app.create_cluster("searchable").await;
    for sort_by in ["created_at", "name", "region"] {
        for dir in ["asc", "desc"] {
            for status in ["", "&status=healthy", "&status=warning"] {
                for name in ["providers", "ratelimit_rules"] {
                    let path = format!("/v1/projections/{name}/rebuild");
                    let answer = app.post(&path, &json!({})).await;
                    assert!([202, 409].contains(&answer.status), "{}", answer.text);
                }
                let path = format!(
                    "/v1/clusters?search=searchable&sort_by={sort_by}&sort_dir={dir}{status}"
                );
                let answers = futures::future::join_all((0..4).map(|_| app.get(&path))).await;
                for answer in answers {
                    answer.expect(200);
                }
            }
        }
    }
}
