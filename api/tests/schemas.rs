//! The published event contract: the checked-in files under `schemas/` match the Rust
//! types, a released schema only changes compatibly, and `clustergenie schemas
//! export|check` write and check a directory.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use api::schemas::{check, export, generate, SchemasError, EXPORT_HINT};
use engine::contract::compat::{backward_incompatibilities, Rule};
use engine::contract::{self, events};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_clustergenie");

/// The repository's `schemas/` directory.
fn checked_in() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("JSON")
}

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, api::schemas::render_json(value).expect("json")).expect("write");
}

/// A fresh directory with an export in it.
fn exported() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    export(dir.path()).expect("export");
    dir
}

#[test]
fn checked_in_schemas_are_up_to_date() {
    let report = check(&checked_in()).expect("check");
    assert!(
        report.is_clean(),
        "schemas/ does not match the Rust types; run `{EXPORT_HINT}` and commit the result:\n{report}"
    );
}

#[test]
fn checked_in_event_schemas_accept_the_generated_ones() {
    let generated = generate().expect("generate");
    for (name, contents) in generated.iter().filter(|(n, _)| n.starts_with("events/")) {
        let path = checked_in().join(name);
        if !path.exists() {
            continue; // a new event type version: nothing released to stay compatible with
        }
        let new: Value = serde_json::from_str(contents).expect("JSON");
        let found = backward_incompatibilities(&read_json(&path), &new);
        assert!(
            found.is_empty(),
            "{name} is released; this change breaks its consumers. Keep it compatible, or give \
             the event type a new schema_version (an upcaster step) and leave {name} as it \
             is:\n{found:#?}"
        );
    }
}

#[test]
fn generation_is_deterministic_and_files_end_with_a_newline() {
    let first = generate().expect("generate");
    assert_eq!(first, generate().expect("generate again"));
    assert_eq!(first.len(), events().len() + 2);
    for (name, contents) in &first {
        assert!(
            contents.ends_with('\n') && !contents.ends_with("\n\n"),
            "{name}"
        );
    }
    let created = &first["events/cluster.created.v1.json"];
    let keys: Vec<&str> = created.lines().filter(|l| l.starts_with("  \"")).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "top-level keys are sorted");
}

#[test]
fn export_writes_a_clean_directory_and_is_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let written = export(dir.path()).expect("export");
    assert_eq!(written.len(), events().len() + 2);
    assert!(check(dir.path()).expect("check").is_clean());
    assert_eq!(
        export(dir.path()).expect("export again"),
        Vec::<String>::new()
    );
}

#[test]
fn check_reports_missing_stale_and_extra_files() {
    let dir = exported();
    let events_dir = dir.path().join("events");
    std::fs::remove_file(events_dir.join("job.queued.v1.json")).expect("remove");
    let renamed = events_dir.join("cluster.renamed.v1.json");
    let mut schema = read_json(&renamed);
    schema["description"] = json!("Edited by hand.");
    write_json(&renamed, &schema);
    std::fs::write(events_dir.join("cluster.exploded.v1.json"), "{}\n").expect("write");
    std::fs::write(events_dir.join("cluster.created.v2.json"), "{}\n").expect("write");

    let report = check(dir.path()).expect("check");
    assert!(!report.is_clean());
    assert_eq!(report.missing, ["events/job.queued.v1.json"]);
    assert_eq!(report.stale, ["events/cluster.renamed.v1.json"]);
    assert_eq!(
        report.extra,
        [
            "events/cluster.created.v2.json",
            "events/cluster.exploded.v1.json"
        ]
    );
    assert!(
        report.incompatible.is_empty(),
        "a description is not a breaking change"
    );
    let text = report.to_string();
    assert!(
        text.contains("stale: events/cluster.renamed.v1.json"),
        "{text}"
    );
    assert!(text.contains(EXPORT_HINT), "{text}");
}

#[test]
fn export_refuses_an_incompatible_change_to_a_released_schema() {
    let dir = exported();
    let events_dir = dir.path().join("events");
    // As if the released cluster.renamed v1 had a required `reason` the Rust type has lost.
    let renamed = events_dir.join("cluster.renamed.v1.json");
    let mut released = read_json(&renamed);
    released["properties"]["reason"] = json!({ "type": "string" });
    released["required"] = json!(["name", "reason"]);
    write_json(&renamed, &released);
    let moved = events_dir.join("cluster.moved.v1.json");
    let mut edited = read_json(&moved);
    edited["description"] = json!("Edited by hand.");
    write_json(&moved, &edited);

    let err = export(dir.path()).expect_err("an incompatible change is refused");
    let SchemasError::Incompatible(found) = &err else {
        panic!("unexpected error: {err}");
    };
    let rules: BTreeSet<Rule> = found["events/cluster.renamed.v1.json"]
        .iter()
        .map(|i| i.rule)
        .collect();
    assert_eq!(rules, BTreeSet::from([Rule::PropertyRemoved]));
    assert!(err.to_string().contains("new schema_version"), "{err}");
    assert_eq!(
        read_json(&renamed),
        released,
        "the released file is left as it is"
    );
    assert_eq!(read_json(&moved), edited, "nothing is written");
    let report = check(dir.path()).expect("check");
    assert_eq!(
        report.incompatible.keys().collect::<Vec<_>>(),
        ["events/cluster.renamed.v1.json"]
    );
}

#[test]
fn export_accepts_a_compatible_change_and_rewrites_the_file() {
    let dir = exported();
    // As if the released cluster.created v1 had no `provider`: the generated one adds it,
    // optional, which is compatible.
    let created = dir.path().join("events/cluster.created.v1.json");
    let mut released = read_json(&created);
    released["properties"]
        .as_object_mut()
        .unwrap()
        .remove("provider");
    write_json(&created, &released);
    assert!(check(dir.path()).expect("check").incompatible.is_empty());

    let written = export(dir.path()).expect("a compatible change is exported");
    assert_eq!(written, ["events/cluster.created.v1.json"]);
    assert!(read_json(&created)["properties"].get("provider").is_some());
    assert!(check(dir.path()).expect("check").is_clean());
}

/// Every `$ref` inside the document that points into it resolves.
fn assert_local_refs_resolve(document: &Value, node: &Value) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                if let Some(pointer) = target.strip_prefix('#') {
                    assert!(document.pointer(pointer).is_some(), "dangling {target}");
                }
            }
            map.values()
                .for_each(|v| assert_local_refs_resolve(document, v));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|v| assert_local_refs_resolve(document, v)),
        _ => {}
    }
}

#[test]
fn the_asyncapi_document_covers_every_topic_and_event() {
    let files = generate().expect("generate");
    let document: Value = serde_norway::from_str(&files["asyncapi.yaml"]).expect("YAML");
    assert_eq!(document["asyncapi"], "3.0.0");
    let addresses: BTreeSet<&str> = document["channels"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|c| c["address"].as_str())
        .collect();
    let expected = BTreeSet::from([
        "clustergenie.commands.v1",
        "clustergenie.command-results.v1",
        "clustergenie.events.cluster.v1",
        "clustergenie.events.droplet.v1",
        "clustergenie.events.job.v1",
        "clustergenie.events.diagnosis.v1",
        "clustergenie.events.deployment.v1",
        "clustergenie.events.autoscaler.v1",
        "clustergenie.events.ratelimit_rule.v1",
        "clustergenie.events.provider.v1",
    ]);
    assert_eq!(addresses, expected);
    for aggregate in contract::aggregates() {
        let channel = &document["channels"][format!("{}-events", aggregate.aggregate_type)];
        assert_eq!(channel["address"], aggregate.topic().as_str());
        for event in &aggregate.events {
            let id = format!("{}.v{}", event.event_type, event.version);
            assert!(
                channel["messages"].get(&id).is_some(),
                "{id} is on its channel"
            );
            let message = &document["components"]["messages"][&id];
            let file = format!("./events/{}", event.file_name());
            assert_eq!(message["payload"]["schema"]["$ref"], file.as_str());
            assert!(files.contains_key(&file[2..]), "{file} is generated");
            let headers = &message["headers"]["allOf"];
            assert_eq!(headers[0]["$ref"], "#/components/schemas/EventHeaders");
            assert_eq!(
                headers[1]["properties"]["ce_type"]["const"],
                event.cloudevents_type().as_str()
            );
            assert_eq!(message["bindings"]["kafka"]["key"], aggregate.id_schema);
            let id = format!("#/components/schemas/{}", aggregate.id_name);
            assert_eq!(headers[1]["properties"]["ce_subject"]["$ref"], id.as_str());
        }
    }
    let headers = &document["components"]["schemas"]["EventHeaders"]["properties"];
    for header in [
        "ce_specversion",
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_time",
        "ce_subject",
        "content-type",
        "cg_position",
        "cg_sequence",
        "traceparent",
    ] {
        assert!(headers.get(header).is_some(), "{header}");
    }
    assert_local_refs_resolve(&document, &document);
}

#[test]
fn the_openapi_document_is_3_1_with_problems_and_resolving_references() {
    let files = generate().expect("generate");
    let document: Value = serde_norway::from_str(&files["openapi.yaml"]).expect("YAML");
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(
        document,
        api::schemas::openapi::document().expect("document")
    );
    assert_local_refs_resolve(&document, &document);
    let problem = &document["components"]["schemas"]["Problem"];
    for field in ["type", "title", "status", "detail"] {
        assert!(
            problem["required"]
                .as_array()
                .unwrap()
                .contains(&json!(field)),
            "{problem}"
        );
    }
    // Every link names an operation, and parameters that operation has.
    let mut operations = std::collections::BTreeMap::new();
    for item in document["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            let id = operation["operationId"].as_str().expect("operationId");
            let parameters: BTreeSet<&str> = operation["parameters"]
                .as_array()
                .map(|all| all.iter().filter_map(|p| p["name"].as_str()).collect())
                .unwrap_or_default();
            assert!(operations.insert(id, parameters).is_none(), "{id} twice");
        }
    }
    let mut links = 0;
    for (name, response) in document["components"]["responses"].as_object().unwrap() {
        for (link_name, link) in response["links"].as_object().into_iter().flatten() {
            let target = link["operationId"].as_str().unwrap_or_default();
            let Some(parameters) = operations.get(target) else {
                panic!("{name} links {link_name} to no operation: {link}");
            };
            for parameter in link["parameters"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|p| p.0)
            {
                assert!(
                    parameters.contains(parameter.as_str()),
                    "{name} {link_name}: {parameter}"
                );
            }
            links += 1;
        }
    }
    assert!(links > 10, "{links} links");
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{method} {path} has no success response"
            );
            for (status, response) in responses.iter().filter(|(s, _)| s.as_str() >= "400") {
                let name = response["$ref"].as_str().unwrap_or_default();
                let response = match name.strip_prefix("#/components/responses/") {
                    Some(name) => &document["components"]["responses"][name],
                    None => response,
                };
                let content = &response["content"];
                assert!(
                    content.get("application/problem+json").is_some()
                        || (path == "/readyz" && status == "503"),
                    "{method} {path} {status} is not a problem: {response}"
                );
            }
        }
    }
}

fn clustergenie(args: &[&str], dir: &Path) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CLUSTERGENIE_") {
            command.env_remove(key);
        }
    }
    command.output().expect("run clustergenie")
}

#[test]
fn the_cli_exports_and_checks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = clustergenie(&["schemas", "check", "--dir", "contract"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("missing: asyncapi.yaml"), "{stdout}");
    assert!(stdout.contains("missing: openapi.yaml"), "{stdout}");
    assert!(
        stdout.contains("missing: events/cluster.created.v1.json"),
        "{stdout}"
    );

    let out = clustergenie(&["schemas", "export", "--dir", "contract"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir
        .path()
        .join("contract/events/job.created.v1.json")
        .is_file());
    let out = clustergenie(&["schemas", "check", "--dir", "contract"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    std::fs::write(
        dir.path().join("contract/events/job.created.v1.json"),
        "{}\n",
    )
    .unwrap();
    let out = clustergenie(&["schemas", "check", "--dir", "contract"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("stale: events/job.created.v1.json"));

    let openapi = dir.path().join("contract/openapi.yaml");
    let text = std::fs::read_to_string(&openapi).unwrap();
    std::fs::write(
        &openapi,
        text.replace("/v1/clusters/{id}:", "/v1/klusters/{id}:"),
    )
    .unwrap();
    let out = clustergenie(&["schemas", "check", "--dir", "contract"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("stale: openapi.yaml"));
}
