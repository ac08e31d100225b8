//! `/v1/clusters`: create, list (paging, sorting, search, status), get, update, delete,
//! `ETag` / `If-Match`, and time travel.

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::*;

api_test!(create_get_and_list_a_cluster);
async fn create_get_and_list_a_cluster(app: TestApp) {
    let answer = app
        .post(
            "/v1/clusters",
            &json!({ "name": "web", "region": "fra1", "provider": "simcloud" }),
        )
        .await;
    let created = answer.expect(201).clone();
    let id = str_of(&created["id"]);
    assert!(id.starts_with("cl_"), "{created}");
    assert_eq!(created["name"], "web");
    assert_eq!(created["region"], "fra1");
    assert_eq!(created["provider"], "simcloud");
    assert_eq!(created["status"], "healthy");
    assert_eq!(created["droplet_count"], 0);
    assert_eq!(created["version"], 1);
    assert!(created["created_at"].is_string(), "{created}");
    assert_eq!(created["created_at"], created["updated_at"]);
    let position = created["position"].as_i64().expect("position");
    assert!(position >= 1, "{created}");
    assert_eq!(
        answer.header("x-position"),
        Some(position.to_string().as_str())
    );

    let got = app
        .get_at(&format!("/v1/clusters/{id}"), &created["position"])
        .await;
    for field in [
        "id",
        "name",
        "region",
        "provider",
        "status",
        "droplet_count",
        "version",
    ] {
        assert_eq!(got[field], created[field], "{field}: {got}");
    }
    assert!(
        got.get("position").is_none(),
        "a read has no position: {got}"
    );

    let list = app.get("/v1/clusters").await.expect(200).clone();
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["page"], 1);
    assert_eq!(list["page_size"], 20);
    assert_eq!(items(&list)[0]["id"], id);
}

api_test!(provider_is_optional_and_checked_against_the_region);
async fn provider_is_optional_and_checked_against_the_region(app: TestApp) {
    let created = app.create_cluster("plain").await;
    assert_eq!(created["provider"], Value::Null);
    // A provider that does not offer the region breaks a rule of the domain: 422.
    let answer = app
        .post(
            "/v1/clusters",
            &json!({ "name": "x", "region": "blr1", "provider": "nimbus" }),
        )
        .await;
    let problem = answer.problem(422);
    assert!(
        str_of(&problem["detail"]).contains("does not offer region blr1"),
        "{problem}"
    );
    let answer = app
        .post(
            "/v1/clusters",
            &json!({ "name": "y", "region": "blr1", "provider": "stratus" }),
        )
        .await;
    assert_eq!(answer.expect(201)["provider"], "stratus");
    // Moving to a region the provider lacks is refused the same way.
    let id = str_of(&answer.body["id"]);
    let answer = app
        .patch(&format!("/v1/clusters/{id}"), &json!({ "region": "sgp1" }))
        .await;
    answer.problem(422);
}

api_test!(paging_sorting_and_totals);
async fn paging_sorting_and_totals(app: TestApp) {
    let names = ["delta", "alpha", "echo", "charlie", "bravo"];
    let mut last = Value::Null;
    for name in names {
        last = app.create_cluster(name).await;
    }
    let page = |query: &str| format!("/v1/clusters?{query}");
    let list = app
        .get_at(
            &page("page=1&page_size=2&sort_by=name&sort_dir=asc"),
            &last["position"],
        )
        .await;
    assert_eq!(field_of_items(&list, "name"), ["alpha", "bravo"]);
    assert_eq!(
        (
            list["page"].clone(),
            list["page_size"].clone(),
            list["total"].clone()
        ),
        (json!(1), json!(2), json!(5))
    );
    let list = app
        .get(&page("page=2&page_size=2&sort_by=name&sort_dir=asc"))
        .await;
    assert_eq!(
        field_of_items(list.expect(200), "name"),
        ["charlie", "delta"]
    );
    let list = app
        .get(&page("page=3&page_size=2&sort_by=name&sort_dir=asc"))
        .await;
    assert_eq!(field_of_items(list.expect(200), "name"), ["echo"]);
    let list = app.get(&page("page=4&page_size=2&sort_by=name")).await;
    let body = list.expect(200);
    assert!(items(body).is_empty(), "{body}");
    assert_eq!(body["total"], 5);
    let list = app
        .get(&page("page_size=3&sort_by=name&sort_dir=desc"))
        .await;
    assert_eq!(
        field_of_items(list.expect(200), "name"),
        ["echo", "delta", "charlie"]
    );
    // Default: oldest first.
    let list = app.get(&page("page_size=500")).await;
    assert_eq!(field_of_items(list.expect(200), "name"), names);
    let list = app.get(&page("sort_by=created_at&sort_dir=desc")).await;
    let mut reversed = names;
    reversed.reverse();
    assert_eq!(field_of_items(list.expect(200), "name"), reversed);
}

api_test!(sort_by_region);
async fn sort_by_region(app: TestApp) {
    for (name, region) in [("a", "tor1"), ("b", "ams3"), ("c", "blr1")] {
        let answer = app
            .post("/v1/clusters", &json!({ "name": name, "region": region }))
            .await;
        if region == "ams3" {
            answer.field_problem(422, "region");
        } else {
            answer.expect(201);
        }
    }
    let head = app.create_cluster("d").await;
    let list = app
        .get_at("/v1/clusters?sort_by=region", &head["position"])
        .await;
    assert_eq!(field_of_items(&list, "region"), ["blr1", "nyc1", "tor1"]);
    let list = app.get("/v1/clusters?sort_by=region&sort_dir=desc").await;
    assert_eq!(
        field_of_items(list.expect(200), "region"),
        ["tor1", "nyc1", "blr1"]
    );
    // A move re-sorts.
    let id = str_of(&head["id"]);
    let moved = app
        .patch(&format!("/v1/clusters/{id}"), &json!({ "region": "sgp1" }))
        .await;
    let list = app
        .get_at(
            "/v1/clusters?sort_by=region",
            &moved.expect(200)["position"],
        )
        .await;
    assert_eq!(field_of_items(&list, "region"), ["blr1", "sgp1", "tor1"]);
}

api_test!(search_and_status_filters);
async fn search_and_status_filters(app: TestApp) {
    for name in ["prod-web", "prod-db", "staging-web"] {
        app.create_cluster(name).await;
    }
    let last = app.create_cluster("web-prod-edge").await;
    let list = app
        .get_at("/v1/clusters?search=prod&sort_by=name", &last["position"])
        .await;
    assert_eq!(
        field_of_items(&list, "name"),
        ["prod-db", "prod-web", "web-prod-edge"]
    );
    assert_eq!(list["total"], 3);
    let list = app.get("/v1/clusters?search=WEB&sort_by=name").await;
    assert_eq!(
        field_of_items(list.expect(200), "name"),
        ["prod-web", "staging-web", "web-prod-edge"]
    );
    // LIKE wildcards are taken literally.
    let list = app.get("/v1/clusters?search=%25").await;
    assert_eq!(list.expect(200)["total"], 0);
    let list = app.get("/v1/clusters?search=_").await;
    assert_eq!(list.expect(200)["total"], 0);
    let list = app.get("/v1/clusters?status=healthy").await;
    assert_eq!(list.expect(200)["total"], 4);
    let list = app.get("/v1/clusters?status=critical").await;
    let body = list.expect(200);
    assert_eq!(body["total"], 0);
    assert!(items(body).is_empty());
    let list = app.get("/v1/clusters?status=warning&search=prod").await;
    assert_eq!(list.expect(200)["total"], 0);
}

api_test!(patch_renames_and_moves);
async fn patch_renames_and_moves(app: TestApp) {
    let created = app.create_cluster("before").await;
    let id = str_of(&created["id"]);
    let answer = app
        .patch(
            &format!("/v1/clusters/{id}"),
            &json!({ "name": "after", "region": "lon1" }),
        )
        .await;
    let updated = answer.expect(200);
    assert_eq!(updated["name"], "after");
    assert_eq!(updated["region"], "lon1");
    assert_eq!(
        updated["version"], 3,
        "rename and move are two events: {updated}"
    );
    assert!(updated["position"].as_i64().unwrap() > created["position"].as_i64().unwrap());
    assert_eq!(answer.header("etag"), Some("\"3\""));
    let got = app
        .get_at(&format!("/v1/clusters/{id}"), &updated["position"])
        .await;
    assert_eq!(
        (got["name"].clone(), got["region"].clone()),
        (json!("after"), json!("lon1"))
    );
    // Nothing to change: no event, the same version, and a position.
    let answer = app
        .patch(&format!("/v1/clusters/{id}"), &json!({ "name": "after" }))
        .await;
    let same = answer.expect(200);
    assert_eq!(same["version"], 3);
    assert_eq!(same["position"], updated["position"]);
    let answer = app.patch(&format!("/v1/clusters/{id}"), &json!({})).await;
    assert_eq!(answer.expect(200)["version"], 3);
    let events = app.stream("cluster", id).await;
    let types: Vec<&str> = events.iter().map(|e| str_of(&e["type"])).collect();
    assert_eq!(
        types,
        ["cluster.created", "cluster.renamed", "cluster.moved"]
    );
}

api_test!(etag_and_if_match);
async fn etag_and_if_match(app: TestApp) {
    let created = app.create_cluster("guarded").await;
    let id = str_of(&created["id"]);
    let path = format!("/v1/clusters/{id}");
    let answer = app
        .get(&format!("{path}?min_position={}", created["position"]))
        .await;
    answer.expect(200);
    assert_eq!(answer.header("etag"), Some("\"1\""));

    let stale_or_current = |version: &str, name: &str| {
        app.request(Method::PATCH, &path)
            .header("if-match", version)
            .json(&json!({ "name": name }))
    };
    let answer = app.send(stale_or_current("\"1\"", "second")).await;
    assert_eq!(answer.expect(200)["version"], 2);
    assert_eq!(answer.header("etag"), Some("\"2\""));
    // Version 1 is stale now.
    let answer = app.send(stale_or_current("\"1\"", "third")).await;
    let problem = answer.problem(412);
    assert!(
        str_of(&problem["detail"]).contains("current version is 2"),
        "{problem}"
    );
    // W/"2" and a bare 2 name the current version too.
    let answer = app.send(stale_or_current("W/\"2\"", "third")).await;
    assert_eq!(answer.expect(200)["version"], 3);
    let answer = app.send(stale_or_current("3", "fourth")).await;
    assert_eq!(answer.expect(200)["version"], 4);
    let got = app.get_at(&path, &answer.body["position"]).await;
    assert_eq!(got["name"], "fourth");
    assert_eq!(got["version"], 4);

    let delete = |version: &str| {
        app.request(Method::DELETE, &path)
            .header("if-match", version)
    };
    app.send(delete("\"3\"")).await.problem(412);
    let answer = app.send(delete("\"4\"")).await;
    assert_eq!(answer.expect(200)["version"], 5);
}

api_test!(delete_cluster);
async fn delete_cluster(app: TestApp) {
    let created = app.create_cluster("short-lived").await;
    let id = str_of(&created["id"]);
    let path = format!("/v1/clusters/{id}");
    let answer = app.delete(&path).await;
    let deleted = answer.expect(200);
    assert_eq!(deleted["id"], id);
    assert!(deleted["position"].as_i64().unwrap() > created["position"].as_i64().unwrap());
    let answer = app
        .get(&format!("{path}?min_position={}", deleted["position"]))
        .await;
    answer.problem(404);
    let list = app.get("/v1/clusters").await;
    assert_eq!(list.expect(200)["total"], 0);
    // Gone for every command too.
    app.delete(&path).await.problem(404);
    app.patch(&path, &json!({ "name": "again" }))
        .await
        .problem(404);
    // The history is still there.
    let events = app.stream("cluster", id).await;
    assert_eq!(events.last().unwrap()["type"], "cluster.deleted");
}

api_test!(time_travel_shows_the_old_name);
async fn time_travel_shows_the_old_name(app: TestApp) {
    let created = app.create_cluster("old-name").await;
    let id = str_of(&created["id"]);
    let path = format!("/v1/clusters/{id}");
    let renamed = app
        .patch(&path, &json!({ "name": "new-name" }))
        .await
        .expect(200)
        .clone();
    let at_create = created["position"].as_i64().unwrap();
    let at_rename = renamed["position"].as_i64().unwrap();

    let then = app.get(&format!("{path}?as_of={at_create}")).await;
    let then = then.expect(200);
    assert_eq!(then["name"], "old-name");
    assert_eq!(then["version"], 1);
    let now = app.get(&format!("{path}?as_of={at_rename}")).await;
    assert_eq!(now.expect(200)["name"], "new-name");
    // Before the cluster existed.
    app.get(&format!("{path}?as_of={}", at_create - 1))
        .await
        .problem(404);
    app.get(&format!("{path}?as_of=0")).await.problem(404);

    // By time: the creation time names the state right after the creation.
    let created_at = str_of(&created["created_at"]);
    let answer = app
        .send(
            app.request(Method::GET, &path)
                .query(&[("as_of", created_at)]),
        )
        .await;
    assert_eq!(answer.expect(200)["name"], "old-name", "as_of={created_at}");
    let later = str_of(&renamed["updated_at"]);
    let answer = app
        .send(app.request(Method::GET, &path).query(&[("as_of", later)]))
        .await;
    assert_eq!(answer.expect(200)["name"], "new-name");
    let answer = app
        .send(
            app.request(Method::GET, &path)
                .query(&[("as_of", "2000-01-01T00:00:00Z")]),
        )
        .await;
    answer.problem(404);
    // A time with an offset, as RFC 3339 allows.
    let answer = app
        .send(
            app.request(Method::GET, &path)
                .query(&[("as_of", "2999-01-01T02:00:00+02:00")]),
        )
        .await;
    assert_eq!(answer.expect(200)["name"], "new-name");

    // A deleted cluster is still visible in the past.
    let deleted = app.delete(&path).await.expect(200).clone();
    let answer = app.get(&format!("{path}?as_of={at_rename}")).await;
    assert_eq!(answer.expect(200)["name"], "new-name");
    let answer = app
        .get(&format!("{path}?as_of={}", deleted["position"]))
        .await;
    answer.problem(404);
}

/// Every page of `/v1/clusters?{query}`, following `next_cursor`, and the ids read.
async fn cursor_walk(app: &TestApp, query: &str) -> (Vec<Value>, Vec<String>) {
    let (mut pages, mut ids) = (Vec::new(), Vec::new());
    let mut path = format!("/v1/clusters?{query}");
    loop {
        let page = app.get(&path).await.expect(200).clone();
        ids.extend(field_of_items(&page, "id"));
        let next = page["next_cursor"].clone();
        pages.push(page);
        match next.as_str() {
            Some(cursor) => path = format!("/v1/clusters?{query}&cursor={cursor}"),
            None => return (pages, ids),
        }
    }
}

api_test!(cursor_pages_walk_the_list);
async fn cursor_pages_walk_the_list(app: TestApp) {
    // Ties on the region (all nyc1) and on names: the id breaks them.
    let mut last = Value::Null;
    for name in ["b", "a", "c", "b", "a", "d", "b"] {
        last = app.create_cluster(name).await;
    }
    app.get_at("/v1/clusters", &last["position"]).await;
    for sort in [
        "sort_by=name",
        "sort_by=name&sort_dir=desc",
        "sort_by=region",
        "sort_by=created_at&sort_dir=desc",
    ] {
        let query = format!("{sort}&page_size=2");
        let (pages, by_cursor) = cursor_walk(&app, &query).await;
        assert_eq!(pages.len(), 4, "{sort}: 7 clusters in pages of 2");
        let first = &pages[0];
        assert_eq!(
            (first["total"].clone(), first["total_is_estimate"].clone()),
            (json!(7), json!(false))
        );
        for page in &pages[1..] {
            assert_eq!(
                (page["total"].clone(), page["page"].clone()),
                (Value::Null, Value::Null),
                "{page}"
            );
        }
        assert_eq!(pages[3]["next_cursor"], Value::Null);
        let mut by_page = Vec::new();
        for n in 1..=4 {
            let page = app.get(&format!("/v1/clusters?{query}&page={n}")).await;
            by_page.extend(field_of_items(page.expect(200), "id"));
        }
        assert_eq!(by_cursor, by_page, "{sort}");
        let mut unique = by_cursor.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 7, "{sort}: no duplicates, no gaps");
    }
    // A cursor belongs to its order, and garbage is a 400 naming the parameter.
    let first = app.get("/v1/clusters?sort_by=name&page_size=2").await;
    let cursor = str_of(&first.expect(200)["next_cursor"]).to_owned();
    for query in [
        format!("sort_by=region&cursor={cursor}"),
        format!("sort_by=name&sort_dir=desc&cursor={cursor}"),
        "cursor=not-a-cursor".to_owned(),
        "cursor=".to_owned(),
        format!("cursor={}", "7b".repeat(3000)),
    ] {
        let answer = app.get(&format!("/v1/clusters?{query}")).await;
        let problem = answer.field_problem(400, "cursor");
        assert!(str_of(&problem["detail"]).contains("cursor"), "{problem}");
    }
}
