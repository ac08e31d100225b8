//! Rate limits (API.md, Conventions: Rate limits; `/v1/ratelimits/*`): the built-in
//! `jobs_create` rule refuses the 4th job of a user with a `429` and the right headers,
//! refills with time (a manual clock, no sleeping), rules are managed through the API and
//! apply at once to existing buckets, a `cluster` rule keys on the request's cluster, two
//! processes share buckets through Redis, and a Redis that is down is never a 5xx.

use std::sync::Arc;
use std::time::Duration;

use api::settings::Settings;
use engine::ratelimit::ManualClock;
use serde_json::{json, Value};

use crate::common::*;

/// `ratelimit_test!(name);` above `async fn name(app: TestApp, clock: Arc<ManualClock>)`
/// runs it on SQLite and on PostgreSQL with rate limiting on and a manual clock.
macro_rules! ratelimit_test {
    ($name:ident $(, $configure:expr)? $(,)?) => {
        mod $name {
            use super::*;

            fn configure(settings: &mut Settings) {
                settings.ratelimit_enabled = true;
                $( ($configure)(settings); )?
            }

            async fn go(backend: Backend) {
                let clock = Arc::new(ManualClock::default());
                let app_clock = Arc::clone(&clock);
                run_with_clock(backend, clock.clone(), configure, move |app| {
                    super::$name(app, app_clock)
                })
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                go(Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                go(Backend::Postgres).await;
            }
        }
    };
}

fn redis_url() -> String {
    std::env::var("REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into())
}

/// A key prefix no other test (or run) uses.
fn unique_prefix(what: &str) -> String {
    format!("cg-test:{what}:{}:", uuid::Uuid::new_v4().simple())
}

/// `POST /v1/jobs` (a monitor job) as `user` (`None`: no `X-User-Id`).
async fn job_as(app: &TestApp, user: Option<&str>, cluster_id: &str) -> Answer {
    let body = json!({ "type": "monitor", "cluster_id": cluster_id });
    let mut request = app.request(reqwest::Method::POST, "/v1/jobs").json(&body);
    if let Some(user) = user {
        request = request.header("x-user-id", user);
    }
    app.send(request).await
}

/// `PUT /v1/ratelimits/rules` with the rule's name in the body.
async fn put_rule_by_body(app: &TestApp, body: &Value) -> Answer {
    app.send(
        app.request(reqwest::Method::PUT, "/v1/ratelimits/rules")
            .json(body),
    )
    .await
}

async fn put_rule(app: &TestApp, name: &str, body: &Value) -> Answer {
    app.send(
        app.request(
            reqwest::Method::PUT,
            &format!("/v1/ratelimits/rules/{name}"),
        )
        .json(body),
    )
    .await
}

/// `(RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset)` as numbers.
#[track_caller]
fn rate_headers(answer: &Answer) -> (u64, u64, u64) {
    let number = |name: &str| -> u64 {
        answer
            .header(name)
            .unwrap_or_else(|| panic!("no {name} header: {:?}", answer.headers))
            .parse()
            .unwrap_or_else(|_| panic!("{name} is not a number"))
    };
    (
        number("ratelimit-limit"),
        number("ratelimit-remaining"),
        number("ratelimit-reset"),
    )
}

/// `job.created` events whose actor is `user`.
async fn jobs_created_by(app: &TestApp, user: &str) -> usize {
    app.all_events()
        .await
        .iter()
        .filter(|e| e["type"] == "job.created" && e["metadata"]["actor"] == user)
        .count()
}

ratelimit_test!(the_fourth_job_of_a_user_is_refused_until_a_token_is_back);
async fn the_fourth_job_of_a_user_is_refused_until_a_token_is_back(
    app: TestApp,
    clock: Arc<ManualClock>,
) {
    let cluster = app.create_cluster("limited").await;
    let id = str_of(&cluster["id"]);
    for (n, remaining) in [2, 1, 0].into_iter().enumerate() {
        let answer = job_as(&app, Some("alice"), id).await;
        answer.expect(202);
        let reset = 10 * (n as u64 + 1);
        assert_eq!(rate_headers(&answer), (3, remaining, reset), "job {n}");
        assert_eq!(answer.header("retry-after"), None);
    }

    let refused = job_as(&app, Some("alice"), id).await;
    let problem = refused.problem(429);
    assert!(
        str_of(&problem["detail"]).contains("jobs_create"),
        "{problem}"
    );
    assert_eq!(refused.header("retry-after"), Some("10"));
    assert_eq!(rate_headers(&refused), (3, 0, 30));
    assert_eq!(
        jobs_created_by(&app, "alice").await,
        3,
        "a refused job records nothing"
    );

    // Other callers have buckets of their own; callers without X-User-Id share one.
    let bob = job_as(&app, Some("bob"), id).await;
    bob.expect(202);
    assert_eq!(rate_headers(&bob).1, 2);
    let anonymous = job_as(&app, None, id).await;
    anonymous.expect(202);
    assert_eq!(rate_headers(&anonymous).1, 2);
    assert_eq!(rate_headers(&job_as(&app, None, id).await).1, 1);

    // 9.999 s later: still nothing, and Retry-After rounds the last millisecond up.
    clock.advance(Duration::from_millis(9_999));
    let early = job_as(&app, Some("alice"), id).await;
    early.problem(429);
    assert_eq!(early.header("retry-after"), Some("1"));
    clock.advance(Duration::from_millis(1));
    let refilled = job_as(&app, Some("alice"), id).await;
    refilled.expect(202);
    assert_eq!(rate_headers(&refilled), (3, 0, 30));
    assert_eq!(jobs_created_by(&app, "alice").await, 4);

    let exceeded = r#"clustergenie_rate_limit_exceeded_total{rule="jobs_create",scope="user"} "#;
    assert_eq!(app.metric(exceeded).await, 2.0);
    let available = r#"clustergenie_rate_limit_available_tokens{rule="jobs_create",scope="user"} "#;
    assert_eq!(app.metric(available).await, 0.0);
}

ratelimit_test!(endpoints_without_a_rule_are_not_limited);
async fn endpoints_without_a_rule_are_not_limited(app: TestApp, _clock: Arc<ManualClock>) {
    for n in 0..6 {
        let answer = app
            .post(
                "/v1/clusters",
                &json!({ "name": format!("free-{n}"), "region": "nyc1" }),
            )
            .await;
        answer.expect(201);
        assert_eq!(answer.header("ratelimit-limit"), None);
    }
}

ratelimit_test!(a_rule_in_the_contract_shape_guards_every_endpoint);
/// The body of API.md, `{name, scope, rate_per_sec, capacity}` without `endpoints`: the
/// rule is created (`201`) guarding every limitable route, and limits them.
async fn a_rule_in_the_contract_shape_guards_every_endpoint(app: TestApp, clock: Arc<ManualClock>) {
    let body =
        json!({ "name": "everything", "scope": "global", "rate_per_sec": 1.0, "capacity": 2 });
    let created = put_rule_by_body(&app, &body).await;
    let created = created.expect(201).clone();
    let every = [
        "clusters.create",
        "clusters.update",
        "clusters.delete",
        "clusters.diagnose",
        "droplets.create",
        "droplets.resize",
        "droplets.power",
        "droplets.migrate",
        "droplets.delete",
        "jobs.create",
        "jobs.cancel",
    ];
    assert_eq!(created["endpoints"], json!(every));
    assert_eq!(created["configured"], true);
    assert_eq!(created["builtin"], false);
    let got = app.get("/v1/ratelimits/rules/everything").await;
    assert_eq!(got.expect(200)["endpoints"], json!(every));

    // One global bucket of 2 tokens for every command route: two cluster creations pass,
    // the third command (an update) is refused, until a token is back.
    let first = app
        .post("/v1/clusters", &json!({ "name": "one", "region": "nyc1" }))
        .await;
    let first = first.expect(201).clone();
    let second = app
        .post("/v1/clusters", &json!({ "name": "two", "region": "nyc1" }))
        .await;
    assert_eq!(rate_headers(&second), (2, 0, 2));
    second.expect(201);
    let path = format!("/v1/clusters/{}", str_of(&first["id"]));
    let refused = app.patch(&path, &json!({ "name": "one-1" })).await;
    let problem = refused.problem(429);
    assert!(
        str_of(&problem["detail"]).contains("everything"),
        "{problem}"
    );
    clock.advance(Duration::from_secs(1));
    app.patch(&path, &json!({ "name": "one-1" }))
        .await
        .expect(200);
    // Reads are never limited.
    app.get(&path).await.expect(200);

    // With the cluster scope the default is every route that names a cluster.
    let cluster_rule = json!({ "scope": "cluster", "rate_per_sec": 1.0, "capacity": 5 });
    let per_cluster = put_rule(&app, "per_cluster", &cluster_rule).await;
    assert_eq!(
        per_cluster.expect(201)["endpoints"],
        json!([
            "clusters.update",
            "clusters.delete",
            "clusters.diagnose",
            "droplets.create",
            "jobs.create"
        ])
    );
}

ratelimit_test!(a_changed_rule_applies_at_once_to_existing_buckets);
async fn a_changed_rule_applies_at_once_to_existing_buckets(
    app: TestApp,
    _clock: Arc<ManualClock>,
) {
    let cluster = app.create_cluster("changing").await;
    let id = str_of(&cluster["id"]);
    job_as(&app, Some("carol"), id).await.expect(202);
    assert_eq!(rate_headers(&job_as(&app, Some("carol"), id).await).1, 1);

    // Lower the capacity below what carol has in use: her next job is refused.
    let lowered = put_rule(
        &app,
        "jobs_create",
        &json!({ "scope": "user", "rate_per_sec": 0.1, "capacity": 2 }),
    )
    .await;
    let rule = lowered.expect(200);
    assert_eq!(rule["capacity"], 2);
    assert_eq!(rule["builtin"], true);
    assert_eq!(rule["configured"], true);
    assert_eq!(rule["endpoints"], json!(["jobs.create"]));
    assert!(rule["position"].is_i64(), "{rule}");
    let refused = job_as(&app, Some("carol"), id).await;
    refused.problem(429);
    assert_eq!(rate_headers(&refused).0, 2);
    let status = app
        .get("/v1/ratelimits/status?name=jobs_create&scope=user&scope_id=carol")
        .await;
    let status = status.expect(200);
    assert_eq!(status["available"], 0.0);
    assert_eq!(status["capacity"], 2);
    assert_eq!(status["rate_per_sec"], 0.1);

    // Raise it: the same bucket has room at once.
    put_rule(
        &app,
        "jobs_create",
        &json!({ "scope": "user", "rate_per_sec": 0.1, "capacity": 10 }),
    )
    .await
    .expect(200);
    let allowed = job_as(&app, Some("carol"), id).await;
    allowed.expect(202);
    assert_eq!(rate_headers(&allowed), (10, 7, 30));

    // Delete the override: the built-in default (capacity 3) is back, and carol is over it.
    let deleted = app.delete("/v1/ratelimits/rules/jobs_create").await;
    let default = deleted.expect(200);
    assert_eq!(default["capacity"], 3);
    assert_eq!(default["configured"], false);
    job_as(&app, Some("carol"), id).await.problem(429);
    let events: Vec<String> = app
        .stream("ratelimit_rule", "jobs_create")
        .await
        .iter()
        .map(|e| str_of(&e["type"]).to_owned())
        .collect();
    assert_eq!(
        events,
        [
            "ratelimit_rule.set",
            "ratelimit_rule.set",
            "ratelimit_rule.deleted"
        ]
    );
}

ratelimit_test!(a_cluster_rule_keys_on_the_cluster_of_the_request);
async fn a_cluster_rule_keys_on_the_cluster_of_the_request(app: TestApp, clock: Arc<ManualClock>) {
    // The built-in diagnose rule guards POST /v1/clusters/{id}/diagnose per cluster.
    let diagnose = app.get("/v1/ratelimits/rules/diagnose").await;
    let diagnose = diagnose.expect(200);
    assert_eq!(diagnose["scope"], "cluster");
    assert_eq!(diagnose["rate_per_sec"], 0.2);
    assert_eq!(diagnose["capacity"], 5);
    assert_eq!(diagnose["endpoints"], json!(["clusters.diagnose"]));
    assert_eq!(diagnose["configured"], false);

    // The same mapping on an endpoint that exists: PATCH /v1/clusters/{id}.
    let rule = json!({
        "scope": "cluster", "rate_per_sec": 1.0, "capacity": 1,
        "endpoints": ["clusters.update"],
    });
    put_rule(&app, "cluster_updates", &rule).await.expect(201);
    let a = app.create_cluster("alpha").await;
    let b = app.create_cluster("beta").await;
    let path_a = format!("/v1/clusters/{}", str_of(&a["id"]));
    let path_b = format!("/v1/clusters/{}", str_of(&b["id"]));
    let first = app.patch(&path_a, &json!({ "name": "alpha-1" })).await;
    first.expect(200);
    assert_eq!(rate_headers(&first), (1, 0, 1));
    let second = app.patch(&path_a, &json!({ "name": "alpha-2" })).await;
    second.problem(429);
    assert_eq!(second.header("retry-after"), Some("1"));
    app.patch(&path_b, &json!({ "name": "beta-1" }))
        .await
        .expect(200);
    let status = app
        .get(&format!(
            "/v1/ratelimits/status?name=cluster_updates&scope_id={}",
            str_of(&a["id"])
        ))
        .await;
    assert_eq!(status.expect(200)["remaining"], 0);
    clock.advance(Duration::from_secs(1));
    let patched = app.patch(&path_a, &json!({ "name": "alpha-3" })).await;
    let position = patched.expect(200)["position"].clone();
    assert_eq!(app.get_at(&path_a, &position).await["name"], "alpha-3");
}

ratelimit_test!(rules_are_managed_and_validated);
async fn rules_are_managed_and_validated(app: TestApp, _clock: Arc<ManualClock>) {
    let list = app.get("/v1/ratelimits/rules").await;
    let names = field_of_items(list.expect(200), "name");
    assert_eq!(names, ["diagnose", "jobs_create"]);

    let body = json!({
        "name": "droplet_churn", "scope": "global", "rate_per_sec": 2.5, "capacity": 20,
        "endpoints": ["droplets.create", "droplets.delete"],
    });
    let created = put_rule_by_body(&app, &body).await;
    let created = created.expect(201).clone();
    assert_eq!(created["builtin"], false);
    assert_eq!(created["version"], 1);
    // The same rule again replaces it with itself: 200, nothing recorded.
    let again = put_rule_by_body(&app, &body).await;
    assert_eq!(again.expect(200)["version"], 1);
    let got = app.get("/v1/ratelimits/rules/droplet_churn").await;
    let got = got.expect(200);
    assert_eq!(
        got["endpoints"],
        json!(["droplets.create", "droplets.delete"])
    );
    assert_eq!(got["rate_per_sec"], 2.5);
    let list = app.get("/v1/ratelimits/rules").await;
    assert_eq!(list.expect(200)["total"], 3);
    let status = app.get("/v1/ratelimits/status?name=droplet_churn").await;
    let status = status.expect(200);
    assert_eq!(status["scope_id"], "global");
    assert_eq!(status["available"], 20.0);
    assert_eq!(status["store"], "memory");

    let invalid = [
        (
            json!({"scope": "user", "rate_per_sec": 0, "capacity": 1, "endpoints": ["jobs.create"]}),
            "rate_per_sec",
        ),
        (
            json!({"scope": "user", "rate_per_sec": 1e9, "capacity": 1, "endpoints": ["jobs.create"]}),
            "rate_per_sec",
        ),
        (
            json!({"scope": "user", "rate_per_sec": 1, "capacity": 0, "endpoints": ["jobs.create"]}),
            "capacity",
        ),
        (
            json!({"scope": "user", "rate_per_sec": 1, "capacity": 1.5, "endpoints": ["jobs.create"]}),
            "capacity",
        ),
        (
            json!({"scope": "team", "rate_per_sec": 1, "capacity": 1, "endpoints": ["jobs.create"]}),
            "scope",
        ),
        (
            json!({"scope": "user", "rate_per_sec": 1, "capacity": 1, "endpoints": ["jobs.list"]}),
            "endpoints",
        ),
        (
            json!({"scope": "user", "rate_per_sec": 1, "capacity": 1, "endpoints": []}),
            "endpoints",
        ),
        (
            json!({"scope": "cluster", "rate_per_sec": 1, "capacity": 1, "endpoints": ["jobs.cancel"]}),
            "scope",
        ),
        (
            json!({"name": "other", "scope": "user", "rate_per_sec": 1, "capacity": 1, "endpoints": ["jobs.create"]}),
            "name",
        ),
        (
            json!({"scope": "user", "rate_per_sec": 1, "capacity": 1, "endpoints": ["jobs.create"], "burst": 2}),
            "burst",
        ),
    ];
    for (body, field) in invalid {
        put_rule(&app, "my_rule", &body)
            .await
            .field_problem(422, field);
    }
    let bad_name =
        json!({"scope": "user", "rate_per_sec": 1, "capacity": 1, "endpoints": ["jobs.create"]});
    put_rule(&app, "Bad-Name", &bad_name)
        .await
        .field_problem(422, "name");
    app.send_raw(
        reqwest::Method::PUT,
        "/v1/ratelimits/rules/x",
        "{\"scope\": ",
    )
    .await
    .problem(400);
    app.get("/v1/ratelimits/rules/my_rule").await.problem(404);

    app.get("/v1/ratelimits/status")
        .await
        .field_problem(400, "name");
    app.get("/v1/ratelimits/status?name=nope")
        .await
        .problem(404);
    app.get("/v1/ratelimits/status?name=jobs_create&scope=cluster&scope_id=x")
        .await
        .field_problem(422, "scope");
    app.get("/v1/ratelimits/status?name=jobs_create")
        .await
        .field_problem(400, "scope_id");
    let fresh = app
        .get("/v1/ratelimits/status?name=jobs_create&scope_id=nobody")
        .await;
    let fresh = fresh.expect(200);
    assert_eq!(fresh["available"], 3.0);
    assert_eq!(fresh["capacity"], 3);
    assert_eq!(fresh["rate_per_sec"], 0.1);

    // Delete: a configured rule goes, an unknown one is a 404, a built-in that is not
    // overridden answers its default and records nothing.
    app.delete("/v1/ratelimits/rules/droplet_churn")
        .await
        .expect(200);
    app.get("/v1/ratelimits/rules/droplet_churn")
        .await
        .problem(404);
    app.delete("/v1/ratelimits/rules/droplet_churn")
        .await
        .problem(404);
    app.delete("/v1/ratelimits/rules/never_set")
        .await
        .problem(404);
    let default = app.delete("/v1/ratelimits/rules/diagnose").await;
    assert_eq!(default.expect(200)["configured"], false);
    let rule_events = app.get("/v1/events?aggregate_type=ratelimit_rule").await;
    let types = field_of_items(rule_events.expect(200), "type");
    assert_eq!(types, ["ratelimit_rule.set", "ratelimit_rule.deleted"]);
    let list = app.get("/v1/ratelimits/rules").await;
    assert_eq!(
        field_of_items(list.expect(200), "name"),
        ["diagnose", "jobs_create"]
    );
}

/// Settings of one of two processes sharing the buckets under `prefix` in Redis (each
/// with cache keys of its own: their databases differ).
fn sharing(settings: &mut Settings, prefix: &str) {
    settings.ratelimit_enabled = true;
    settings.redis_url = Some(redis_url());
    settings.cache_key_prefix = unique_prefix("cache");
    settings.ratelimit_key_prefix = prefix.to_owned();
}

mod two_processes_share_buckets_through_redis {
    use super::*;

    async fn go(backend: Backend) {
        let clock = Arc::new(ManualClock::default());
        let prefix = unique_prefix("buckets");
        let configure = {
            let prefix = prefix.clone();
            move |s: &mut Settings| sharing(s, &prefix)
        };
        let body_clock = Arc::clone(&clock);
        run_with_clock(backend, clock, configure, move |app| {
            super::two_processes_share_buckets(app, body_clock, prefix)
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        go(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        go(Backend::Postgres).await;
    }
}

async fn two_processes_share_buckets(app: TestApp, clock: Arc<ManualClock>, prefix: String) {
    let (other, teardown) = spawn_app(
        app.backend,
        move |s: &mut Settings| sharing(s, &prefix),
        clock,
    )
    .await;
    let here = app.create_cluster("here").await;
    let there = other.create_cluster("there").await;
    let (here, there) = (str_of(&here["id"]), str_of(&there["id"]));

    let remaining = |answer: Answer| {
        answer.expect(202);
        rate_headers(&answer).1
    };
    assert_eq!(remaining(job_as(&app, Some("dave"), here).await), 2);
    assert_eq!(remaining(job_as(&other, Some("dave"), there).await), 1);
    assert_eq!(remaining(job_as(&app, Some("dave"), here).await), 0);
    let refused = job_as(&other, Some("dave"), there).await;
    refused.problem(429);
    assert_eq!(refused.header("retry-after"), Some("10"));
    for process in [&app, &other] {
        let status = process
            .get("/v1/ratelimits/status?name=jobs_create&scope_id=dave")
            .await;
        let status = status.expect(200);
        assert_eq!(status["remaining"], 0, "{status}");
        assert_eq!(status["store"], "redis", "{status}");
    }
    // Another user is not affected, on either process.
    job_as(&other, Some("frank"), there).await.expect(202);
    teardown.finish().await;
}

ratelimit_test!(
    a_redis_that_is_down_falls_back_to_local_buckets,
    |s: &mut Settings| {
        // Nothing listens on port 1: every Redis call fails at once.
        s.redis_url = Some("redis://127.0.0.1:1".into());
    }
);
async fn a_redis_that_is_down_falls_back_to_local_buckets(app: TestApp, _clock: Arc<ManualClock>) {
    let cluster = app.create_cluster("degraded").await;
    let id = str_of(&cluster["id"]);
    for _ in 0..3 {
        job_as(&app, Some("erin"), id).await.expect(202);
    }
    let refused = job_as(&app, Some("erin"), id).await;
    refused.problem(429);
    assert_eq!(refused.header("retry-after"), Some("10"));
    let fallbacks = app
        .metric("clustergenie_rate_limit_store_fallbacks_total ")
        .await;
    assert!(fallbacks >= 4.0, "fallbacks counted: {fallbacks}");
}
