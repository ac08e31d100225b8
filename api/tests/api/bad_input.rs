//! Bad input of every kind: each answered with a 4xx `application/problem+json` (never a
//! 5xx), naming the field where there is one, and appending nothing to the log.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::*;

fn droplet(cluster_id: &str) -> Value {
    json!({
        "cluster_id": cluster_id,
        "name": "node",
        "region": "nyc1",
        "size": "s-1vcpu-1gb",
        "image": "ubuntu-22-04-x64",
    })
}

/// `base` with `key` set to `value`.
fn with(base: &Value, key: &str, value: Value) -> Value {
    let mut body = base.clone();
    body[key] = value;
    body
}

api_test!(malformed_bodies);
async fn malformed_bodies(app: TestApp) {
    let cluster = app.create_cluster("target").await;
    let cluster_id = str_of(&cluster["id"]);
    let droplet = app.active_droplet(cluster_id, "d").await;
    let droplet_id = str_of(&droplet["id"]);
    let before = app.all_events().await.len();

    let resize = format!("/v1/droplets/{droplet_id}/resize");
    let power = format!("/v1/droplets/{droplet_id}/power");
    let patch = format!("/v1/clusters/{cluster_id}");
    let posts = [
        (Method::POST, "/v1/clusters"),
        (Method::POST, "/v1/droplets"),
        (Method::POST, "/v1/jobs"),
        (Method::POST, resize.as_str()),
        (Method::POST, power.as_str()),
        (Method::PATCH, patch.as_str()),
    ];
    for (method, path) in &posts {
        for broken in [
            "{\"name\": ",
            "{",
            "nope",
            "{,}",
            "{ \"",
            "{} trailing",
            "\u{0}",
        ] {
            let answer = app.send_raw(method.clone(), path, broken).await;
            let problem = answer.field_problem(400, "body");
            assert!(
                str_of(&problem["detail"]).contains("malformed JSON"),
                "{problem}"
            );
        }
        // Empty body.
        let answer = app.send_raw(method.clone(), path, "").await;
        answer.field_problem(400, "body");
        // Valid JSON of the wrong shape.
        for shape in ["[]", "null", "5", "\"text\""] {
            let answer = app.send_raw(method.clone(), path, shape).await;
            answer.field_problem(422, "body");
        }
    }
    let mut remaining = app.all_events().await;
    remaining.truncate(before + 1);
    assert_eq!(remaining.len(), before, "bad input appended events");
}

api_test!(missing_mistyped_and_unknown_fields);
async fn missing_mistyped_and_unknown_fields(app: TestApp) {
    let cluster = app.create_cluster("fields").await;
    let cluster_id = str_of(&cluster["id"]);
    let before = app.all_events().await.len();

    app.post("/v1/clusters", &json!({ "region": "nyc1" }))
        .await
        .field_problem(422, "name");
    app.post("/v1/clusters", &json!({ "name": "x" }))
        .await
        .field_problem(422, "region");
    app.post("/v1/clusters", &json!({}))
        .await
        .field_problem(422, "name");
    app.post("/v1/clusters", &json!({ "name": 5, "region": "nyc1" }))
        .await
        .field_problem(422, "name");
    app.post("/v1/clusters", &json!({ "name": "x", "region": ["nyc1"] }))
        .await
        .field_problem(422, "region");
    app.post("/v1/clusters", &json!({ "name": null, "region": "nyc1" }))
        .await
        .field_problem(422, "name");
    app.post(
        "/v1/clusters",
        &json!({ "name": "x", "region": "nyc1", "provider": 1 }),
    )
    .await
    .field_problem(422, "provider");
    let answer = app
        .post(
            "/v1/clusters",
            &json!({ "name": "x", "region": "nyc1", "colour": "red" }),
        )
        .await;
    let problem = answer.field_problem(422, "colour");
    assert!(
        str_of(&problem["detail"]).contains("unknown field"),
        "{problem}"
    );

    let base = droplet(cluster_id);
    for field in ["cluster_id", "name", "region", "size", "image"] {
        let mut body = base.clone();
        body.as_object_mut().unwrap().remove(field);
        app.post("/v1/droplets", &body)
            .await
            .field_problem(422, field);
        app.post("/v1/droplets", &with(&base, field, json!(42)))
            .await
            .field_problem(422, field);
    }
    app.post("/v1/droplets", &with(&base, "tags", json!(["a"])))
        .await
        .field_problem(422, "tags");

    let resize = format!("/v1/droplets/{}/resize", unknown_id("dr"));
    app.post(&resize, &json!({}))
        .await
        .field_problem(422, "size");
    app.post(&resize, &json!({ "size": 2 }))
        .await
        .field_problem(422, "size");
    app.post(&resize, &json!({ "size": "c-2", "now": true }))
        .await
        .field_problem(422, "now");
    let power = format!("/v1/droplets/{}/power", unknown_id("dr"));
    app.post(&power, &json!({}))
        .await
        .field_problem(422, "action");
    app.post(&power, &json!({ "action": true }))
        .await
        .field_problem(422, "action");

    app.post("/v1/jobs", &json!({ "cluster_id": cluster_id }))
        .await
        .field_problem(422, "type");
    app.post("/v1/jobs", &json!({ "type": 1, "cluster_id": cluster_id }))
        .await
        .field_problem(422, "type");
    app.post(
        "/v1/jobs",
        &json!({ "type": "diagnose", "cluster_id": cluster_id, "priority": 1 }),
    )
    .await
    .field_problem(422, "priority");

    let patch = format!("/v1/clusters/{cluster_id}");
    app.patch(&patch, &json!({ "name": 1 }))
        .await
        .field_problem(422, "name");
    app.patch(&patch, &json!({ "status": "critical" }))
        .await
        .field_problem(422, "status");
    let cancel = format!("/v1/jobs/{}/cancel", unknown_id("job"));
    app.post(&cancel, &json!({ "reason": 1 }))
        .await
        .field_problem(422, "reason");
    app.post(&cancel, &json!({ "why": "x" }))
        .await
        .field_problem(422, "why");

    assert_eq!(
        app.all_events().await.len(),
        before,
        "bad input appended events"
    );
}

api_test!(unknown_catalog_entries);
async fn unknown_catalog_entries(app: TestApp) {
    let cluster = app.create_cluster("catalog").await;
    let cluster_id = str_of(&cluster["id"]);
    let droplet_id = str_of(&app.active_droplet(cluster_id, "d").await["id"]).to_owned();
    let before = app.all_events().await.len();

    let answer = app
        .post("/v1/clusters", &json!({ "name": "x", "region": "mars1" }))
        .await;
    let problem = answer.field_problem(422, "region");
    assert!(
        str_of(&problem["errors"]["region"]).contains("mars1"),
        "{problem}"
    );
    app.post(
        "/v1/clusters",
        &json!({ "name": "x", "region": "nyc1", "provider": "aws" }),
    )
    .await
    .field_problem(422, "provider");
    app.post("/v1/clusters", &json!({ "name": "x", "region": "" }))
        .await
        .field_problem(422, "region");

    let base = droplet(cluster_id);
    for (field, value) in [
        ("region", "mars1"),
        ("size", "s-64vcpu-1tb"),
        ("image", "windows-95"),
        ("provider", "aws"),
    ] {
        app.post("/v1/droplets", &with(&base, field, json!(value)))
            .await
            .field_problem(422, field);
    }
    // Every bad field is reported at once (a provider of a malformed name with them; a
    // well-formed unknown one is refused once the others are valid).
    let body = json!({
        "cluster_id": "nope", "name": "Bad Name", "region": "mars1",
        "size": "huge", "image": "dos", "provider": "AWS",
    });
    let answer = app.post("/v1/droplets", &body).await;
    let problem = answer.problem(422);
    let errors = problem["errors"].as_object().expect("errors");
    let mut fields: Vec<&str> = errors.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["cluster_id", "image", "name", "provider", "region", "size"]
    );

    let answer = app
        .post(
            &format!("/v1/droplets/{droplet_id}/resize"),
            &json!({ "size": "s-64vcpu-1tb" }),
        )
        .await;
    answer.field_problem(422, "size");
    let answer = app
        .post(
            &format!("/v1/droplets/{droplet_id}/power"),
            &json!({ "action": "explode" }),
        )
        .await;
    answer.field_problem(422, "action");
    app.patch(
        &format!("/v1/clusters/{cluster_id}"),
        &json!({ "region": "mars1" }),
    )
    .await
    .field_problem(422, "region");

    assert_eq!(
        app.all_events().await.len(),
        before,
        "bad input appended events"
    );
}

api_test!(invalid_names);
async fn invalid_names(app: TestApp) {
    let cluster = app.create_cluster("names").await;
    let cluster_id = str_of(&cluster["id"]);
    let longest = format!("a{}", "b".repeat(62));
    let too_long = format!("a{}", "b".repeat(63));
    let huge = "a".repeat(1024 * 1024);
    for name in [
        "Upper",
        "UPPER",
        "",
        " ",
        "1starts-with-digit",
        "-dash",
        "under_score",
        "with space",
        "dot.ted",
        "ünïcode",
        "emoji-\u{1F600}",
        too_long.as_str(),
        huge.as_str(),
    ] {
        let answer = app
            .post("/v1/clusters", &json!({ "name": name, "region": "nyc1" }))
            .await;
        let problem = answer.field_problem(422, "name");
        assert!(
            problem["detail"].as_str().unwrap().len() < 1000,
            "the name is not echoed whole"
        );
        let answer = app
            .post(
                "/v1/droplets",
                &with(&droplet(cluster_id), "name", json!(name)),
            )
            .await;
        answer.field_problem(422, "name");
        let answer = app
            .patch(
                &format!("/v1/clusters/{cluster_id}"),
                &json!({ "name": name }),
            )
            .await;
        answer.field_problem(422, "name");
    }
    let answer = app
        .post(
            "/v1/clusters",
            &json!({ "name": longest, "region": "nyc1" }),
        )
        .await;
    assert_eq!(answer.expect(201)["name"], longest);
    let answer = app
        .post(
            "/v1/clusters",
            &json!({ "name": "a-1-b", "region": "nyc1" }),
        )
        .await;
    answer.expect(201);
}

api_test!(unknown_ids_are_404_on_every_id_route);
async fn unknown_ids_are_404_on_every_id_route(app: TestApp) {
    let cluster = app.create_cluster("real").await;
    let cluster_id = str_of(&cluster["id"]).to_owned();
    let droplet = app.active_droplet(&cluster_id, "real").await;
    let before = app.all_events().await.len();
    let long = format!("cl_{}", "a".repeat(4000));
    let ids = [
        (unknown_id("cl"), unknown_id("dr"), unknown_id("job")),
        // Malformed ids are not found either.
        ("nope".into(), "nope".into(), "nope".into()),
        ("cl_XYZ".into(), "dr_XYZ".into(), "job_XYZ".into()),
        (
            long.clone(),
            long.replace("cl_", "dr_"),
            long.replace("cl_", "job_"),
        ),
        // The id of another kind of resource.
        (
            str_of(&droplet["id"]).into(),
            cluster_id.clone(),
            cluster_id.clone(),
        ),
        ("%20".into(), "%27%3B--".into(), "%E2%9C%93".into()),
    ];
    for (cl, dr, job) in &ids {
        let cluster_path = format!("/v1/clusters/{cl}");
        let droplet_path = format!("/v1/droplets/{dr}");
        let job_path = format!("/v1/jobs/{job}");
        let checks = [
            app.get(&cluster_path).await,
            app.get(&format!("{cluster_path}?as_of=1000")).await,
            app.patch(&cluster_path, &json!({ "name": "renamed" }))
                .await,
            app.delete(&cluster_path).await,
            app.get(&droplet_path).await,
            app.get(&format!("{droplet_path}?as_of=1000")).await,
            app.delete(&droplet_path).await,
            app.post(&format!("{droplet_path}/resize"), &json!({ "size": "c-2" }))
                .await,
            app.post(
                &format!("{droplet_path}/power"),
                &json!({ "action": "off" }),
            )
            .await,
            app.get(&job_path).await,
            app.get(&format!("{job_path}?as_of=1000")).await,
            app.post(&format!("{job_path}/cancel"), &json!({})).await,
            app.get(&format!("/v1/streams/cluster/{cl}")).await,
            app.get(&format!("/v1/streams/droplet/{dr}")).await,
            app.get(&format!("/v1/streams/job/{job}")).await,
        ];
        for answer in &checks {
            let problem = answer.problem(404);
            assert!(
                str_of(&problem["detail"]).contains("not found"),
                "{problem}"
            );
        }
    }
    app.get(&format!("/v1/streams/widget/{cluster_id}"))
        .await
        .problem(404);
    app.get(&format!("/v1/streams/droplet/{cluster_id}"))
        .await
        .problem(404);
    assert_eq!(
        app.all_events().await.len(),
        before,
        "lookups appended events"
    );
}

api_test!(bad_query_parameters);
async fn bad_query_parameters(app: TestApp) {
    let cluster = app.create_cluster("query").await;
    let cluster_id = str_of(&cluster["id"]);
    let droplet = app.create_droplet(cluster_id, "q").await;
    let droplet_id = str_of(&droplet["droplet"]["id"]);
    let job_id = str_of(&droplet["job"]["id"]);
    for list in ["/v1/clusters", "/v1/droplets", "/v1/jobs"] {
        for (query, field) in [
            ("page_size=0", "page_size"),
            ("page_size=1000000", "page_size"),
            ("page_size=501", "page_size"),
            ("page_size=-5", "page_size"),
            ("page_size=ten", "page_size"),
            ("page=0", "page"),
            ("page=-1", "page"),
            ("page=1.5", "page"),
            ("page=99999999999999999999", "page"),
            ("sort_by=evil;drop", "sort_by"),
            ("sort_by=view", "sort_by"),
            ("sort_by=NAME", "sort_by"),
            ("sort_dir=up", "sort_dir"),
            ("sort_dir=ASC", "sort_dir"),
            ("cursor=zz", "cursor"),
            ("cursor=7b7d", "cursor"),
            ("status=bogus", "status"),
            ("min_position=abc", "min_position"),
            ("min_position=-1", "min_position"),
        ] {
            let answer = app.get(&format!("{list}?{query}")).await;
            let problem = answer.field_problem(400, field);
            assert!(
                str_of(&problem["detail"]).contains(field),
                "{list}?{query}: {problem}"
            );
        }
        let answer = app
            .send(
                app.request(Method::GET, list)
                    .header("x-min-position", "soon"),
            )
            .await;
        answer.field_problem(400, "x-min-position");
    }
    let answer = app.get("/v1/clusters?sort_by=status").await;
    answer.field_problem(400, "sort_by");
    let answer = app.get("/v1/jobs?type=bogus").await;
    answer.field_problem(400, "type");
    let answer = app.get("/v1/jobs?sort_by=name").await;
    answer.field_problem(400, "sort_by");
    let answer = app.get("/v1/clusters?status=destroyed").await;
    answer.field_problem(400, "status");
    let answer = app.get("/v1/droplets?status=healthy").await;
    answer.field_problem(400, "status");
    let answer = app.get("/v1/jobs?status=active").await;
    answer.field_problem(400, "status");

    for path in [
        format!("/v1/clusters/{cluster_id}"),
        format!("/v1/droplets/{droplet_id}"),
        format!("/v1/jobs/{job_id}"),
    ] {
        for as_of in [
            "yesterday",
            "-1",
            "2026-13-01T00:00:00Z",
            "2026-01-01",
            "1.5",
            "0x10",
        ] {
            let answer = app
                .send(app.request(Method::GET, &path).query(&[("as_of", as_of)]))
                .await;
            answer.field_problem(400, "as_of");
        }
        let answer = app.get(&format!("{path}?min_position=x")).await;
        answer.field_problem(400, "min_position");
    }

    for (query, field) in [
        ("after=-1", "after"),
        ("after=x", "after"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("aggregate_type=widget", "aggregate_type"),
        ("before=0", "before"),
        ("before=-5", "before"),
        ("before=latest", "before"),
        ("after=1&before=5", "before"),
        ("after=0&before=5&actor=ann", "before"),
    ] {
        let answer = app.get(&format!("/v1/events?{query}")).await;
        answer.field_problem(400, field);
    }
    // Metadata filters are at most 255 characters, on the log and on its live tail.
    for field in ["actor", "correlation_id"] {
        let long = "x".repeat(256);
        for path in ["/v1/events", "/v1/events/stream"] {
            let answer = app.get(&format!("{path}?{field}={long}")).await;
            answer.field_problem(400, field);
        }
        let longest = "x".repeat(255);
        let answer = app.get(&format!("/v1/events?{field}={longest}")).await;
        assert!(items(answer.expect(200)).is_empty());
    }
    let answer = app
        .send(
            app.request(Method::GET, "/v1/events/stream")
                .header("last-event-id", "latest"),
        )
        .await;
    answer.field_problem(400, "last-event-id");
    let answer = app.get("/v1/events/stream?after=-3").await;
    answer.field_problem(400, "after");
}

api_test!(bad_headers);
async fn bad_headers(app: TestApp) {
    let cluster = app.create_cluster("headers").await;
    let cluster_id = str_of(&cluster["id"]);
    let droplet = app.active_droplet(cluster_id, "h").await;
    let droplet_id = str_of(&droplet["id"]);
    let before = app.all_events().await.len();
    for if_match in ["abc", "\"\"", "\"-1\"", "W/", "\"1.0\""] {
        let answer = app
            .send(
                app.request(Method::PATCH, &format!("/v1/clusters/{cluster_id}"))
                    .header("if-match", if_match)
                    .json(&json!({ "name": "renamed" })),
            )
            .await;
        answer.field_problem(400, "if-match");
        let answer = app
            .send(
                app.request(Method::DELETE, &format!("/v1/droplets/{droplet_id}"))
                    .header("if-match", if_match),
            )
            .await;
        answer.field_problem(400, "if-match");
    }
    let create = |key: &str| {
        app.request(Method::POST, "/v1/clusters")
            .header("idempotency-key", key)
            .json(&json!({ "name": "k", "region": "nyc1" }))
    };
    app.send(create(""))
        .await
        .field_problem(400, "idempotency-key");
    app.send(create(&"k".repeat(256)))
        .await
        .field_problem(400, "idempotency-key");
    let answer = app
        .send(
            app.request(Method::POST, "/v1/clusters")
                .header("x-user-id", "u".repeat(201))
                .json(&json!({ "name": "k", "region": "nyc1" })),
        )
        .await;
    answer.field_problem(400, "x-user-id");
    let answer = app
        .send(
            app.request(Method::POST, "/v1/clusters")
                .header(
                    "x-user-id",
                    reqwest::header::HeaderValue::from_bytes(b"\xffbad").unwrap(),
                )
                .json(&json!({ "name": "k", "region": "nyc1" })),
        )
        .await;
    answer.field_problem(400, "x-user-id");
    assert_eq!(
        app.all_events().await.len(),
        before,
        "bad headers appended events"
    );
}

api_test!(oversized_body_is_413);
async fn oversized_body_is_413(app: TestApp) {
    let cancel = format!("/v1/jobs/{}/cancel", unknown_id("job"));
    let patch = format!("/v1/clusters/{}", unknown_id("cl"));
    for (method, path) in [
        ("POST", "/v1/clusters"),
        ("POST", "/v1/droplets"),
        ("POST", "/v1/jobs"),
        ("POST", cancel.as_str()),
        ("PATCH", patch.as_str()),
    ] {
        // Judged on the announced length, before any of the body is read.
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            2 * 1024 * 1024 + 1
        );
        let answer = app.send_head(&head).await;
        assert_eq!(answer.status, 413, "{method} {path}: {}", answer.text);
        answer.problem(413);
    }
    // Exactly at the limit, the body is read and judged on its content.
    let padding = 2 * 1024 * 1024 - r#"{"name":"","region":"nyc1"}"#.len();
    let body = json!({ "name": "a".repeat(padding), "region": "nyc1" }).to_string();
    assert_eq!(body.len(), 2 * 1024 * 1024);
    let answer = app.send_raw(Method::POST, "/v1/clusters", body).await;
    answer.field_problem(422, "name");
    assert!(app.all_events().await.is_empty());
}

api_test!(droplets_need_a_live_cluster);
async fn droplets_need_a_live_cluster(app: TestApp) {
    let cluster = app.create_cluster("doomed").await;
    let cluster_id = str_of(&cluster["id"]);
    app.delete(&format!("/v1/clusters/{cluster_id}"))
        .await
        .expect(200);
    let before = app.all_events().await.len();
    let answer = app.post("/v1/droplets", &droplet(cluster_id)).await;
    let problem = answer.problem(409);
    assert!(str_of(&problem["detail"]).contains("deleted"), "{problem}");
    let answer = app.post("/v1/droplets", &droplet(&unknown_id("cl"))).await;
    let problem = answer.field_problem(422, "cluster_id");
    assert!(
        str_of(&problem["detail"]).contains("does not exist"),
        "{problem}"
    );
    assert_eq!(app.all_events().await.len(), before);
}
