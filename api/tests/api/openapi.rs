//! The OpenAPI document and the router agree, both ways: every route of the router's
//! table is a documented operation and every documented operation a route; every route
//! is served (not a route-level `404` or `405`), and a known path answers no method the
//! table does not list. The table itself can only be complete if no route file matches
//! paths on its own, which the last test checks. The server serves the checked-in
//! `schemas/openapi.yaml` at `GET /v1/openapi.json`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use reqwest::Method;
use serde_json::Value;

use crate::common::*;

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// `(path, METHOD)` of every documented operation.
fn documented(document: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            let method = method.to_uppercase();
            if METHODS.contains(&method.as_str()) {
                operations.insert((path.clone(), method));
            }
        }
    }
    operations
}

/// A concrete path for a template (every `{param}` becomes `probe`).
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|s| if s.starts_with('{') { "probe" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether the answer is the router's own: no route for the path (`404` with the detail
/// `recover` gives it) or not for the method (`405`).
async fn unrouted(response: reqwest::Response) -> Option<String> {
    match response.status().as_u16() {
        405 => Some("405".into()),
        404 => {
            let body: Value = response.json().await.unwrap_or_default();
            (body["detail"] == "no such resource").then(|| format!("404 {body}"))
        }
        _ => None,
    }
}

api_test!(the_router_serves_exactly_the_documented_operations);
async fn the_router_serves_exactly_the_documented_operations(app: TestApp) {
    let (_, table) = api::filters::router(app.state.clone());
    let routed: BTreeSet<(String, String)> = table
        .routes()
        .iter()
        .map(|r| (r.path.to_owned(), r.method.to_string()))
        .collect();
    assert_eq!(
        routed.len(),
        table.routes().len(),
        "a route is in the table twice"
    );
    let documented = documented(&api::schemas::openapi::document().expect("document"));
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "routes without an operation in the document: {undocumented:?}; documented \
         operations no route serves: {unserved:?}"
    );

    let mut by_path: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (path, method) in &routed {
        by_path.entry(path).or_default().insert(method);
    }
    for (template, methods) in &by_path {
        let url = app.url(&concrete(template));
        for method in METHODS {
            let request = app
                .client
                .request(Method::from_bytes(method.as_bytes()).unwrap(), &url);
            // Headers only: the live tail would stream for ever.
            let response = request.send().await.expect("request");
            let answer = unrouted(response).await;
            if methods.contains(method) {
                assert_eq!(
                    answer, None,
                    "{method} {template} is in the table but not served"
                );
            } else {
                assert!(
                    answer.is_some(),
                    "{method} {template} is served but not in the route table"
                );
            }
        }
    }
}

api_test!(the_served_document_is_the_checked_in_one);
async fn the_served_document_is_the_checked_in_one(app: TestApp) {
    let answer = app.get("/v1/openapi.json").await;
    let served = answer.expect(200).clone();
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/openapi.yaml");
    let text = std::fs::read_to_string(&file).expect("schemas/openapi.yaml");
    let checked_in: Value = serde_norway::from_str(&text).expect("YAML");
    assert_eq!(served["openapi"], "3.1.0");
    assert_eq!(
        served,
        checked_in,
        "GET /v1/openapi.json differs from schemas/openapi.yaml; run `{}`",
        api::schemas::EXPORT_HINT
    );
}

#[test]
fn route_files_match_paths_only_through_the_table() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/filters");
    for entry in std::fs::read_dir(&dir).expect("src/filters") {
        let path = entry.expect("entry").path();
        if path.file_name().is_some_and(|n| n == "table.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        for forbidden in [
            "warp::path(",
            "path!",
            "path::param",
            "path::end",
            "path::tail",
        ] {
            assert!(
                !text.contains(forbidden),
                "{} matches paths with `{forbidden}`: build the route with \
                 RouteTable::at0/at1/at2 so that the route table (and the OpenAPI test) \
                 knows it",
                path.display()
            );
        }
    }
}
