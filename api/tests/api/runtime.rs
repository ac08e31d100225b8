//! The durable job runtime through the real server: retries with backoff on injected
//! provider failures, non-retryable errors, time-outs of hung attempts, cancellation that
//! reaches a running attempt, and restarts with a retry pending or an attempt lost with
//! its worker, and the worker-pool gauges and job metrics of `/metrics`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::common::*;

use api::settings::Settings;
use engine::policies::PolicyPatch;

/// Changes the provision policy of `settings`.
fn provision_policy(settings: &mut Settings, patch: PolicyPatch) {
    settings.job_policies.insert("provision".into(), patch);
}

/// Creates a droplet that prefers `provider`; returns `{droplet, job, position}`.
async fn droplet_at(app: &TestApp, provider: &str, name: &str) -> Value {
    let cluster = app.create_cluster(&format!("{name}-cluster")).await;
    let body = json!({
        "cluster_id": cluster["id"],
        "name": name,
        "region": "nyc1",
        "size": "s-1vcpu-1gb",
        "image": "ubuntu-22-04-x64",
        "provider": provider,
    });
    app.post("/v1/droplets", &body).await.expect(202).clone()
}

async fn set_faults(app: &TestApp, provider: &str, faults: Value) {
    app.send(
        app.request(
            reqwest::Method::PUT,
            &format!("/v1/admin/providers/{provider}/faults"),
        )
        .json(&faults),
    )
    .await
    .expect(200);
}

/// Makes every operation at `provider` take 10 minutes longer (at sim speed 1).
async fn hang(app: &TestApp, provider: &str) {
    set_faults(
        app,
        provider,
        json!({ "spike_rate": 1.0, "spike_ms": 600_000 }),
    )
    .await;
}

/// The job's events as (type, data, recorded_at).
async fn job_events(app: &TestApp, job_id: &str) -> Vec<(String, Value, DateTime<Utc>)> {
    app.stream("job", job_id)
        .await
        .into_iter()
        .map(|e| {
            let at = str_of(&e["recorded_at"]).parse().expect("a timestamp");
            (str_of(&e["type"]).to_owned(), e["data"].clone(), at)
        })
        .collect()
}

fn of_type<'a>(
    events: &'a [(String, Value, DateTime<Utc>)],
    event_type: &str,
) -> Vec<&'a (String, Value, DateTime<Utc>)> {
    events.iter().filter(|(t, _, _)| t == event_type).collect()
}

/// Waits until the job's log holds `count` events of `event_type`.
async fn wait_for_events(app: &TestApp, job_id: &str, event_type: &str, count: usize) {
    let started = std::time::Instant::now();
    while of_type(&job_events(app, job_id).await, event_type).len() < count {
        assert!(
            started.elapsed() < DEADLINE,
            "job {job_id} did not record {count} {event_type} within {DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Every retry waited its backoff: attempt n + 1 started no earlier than the
/// `job.retry_scheduled` of attempt n plus its delay.
fn check_backoffs_were_kept(events: &[(String, Value, DateTime<Utc>)]) {
    for (_, retry, at) in of_type(events, "job.retry_scheduled") {
        let next = retry["attempt"].as_u64().expect("attempt") + 1;
        let delay = chrono::TimeDelta::milliseconds(retry["delay_ms"].as_i64().expect("delay"));
        for (_, started, started_at) in of_type(events, "job.started") {
            if started["attempt"].as_u64() == Some(next) {
                assert!(*started_at >= *at + delay, "attempt {next} started early");
            }
        }
    }
}

api_test!(
    provider_failures_are_retried_with_backoff_then_succeed,
    |s: &mut Settings| {
        provision_policy(
            s,
            PolicyPatch {
                initial_interval_ms: Some(100),
                backoff_coefficient: Some(2.0),
                max_attempts: Some(10),
                ..PolicyPatch::default()
            },
        );
    }
);
async fn provider_failures_are_retried_with_backoff_then_succeed(app: TestApp) {
    set_faults(&app, "simcloud", json!({ "failure_rate": 1.0 })).await;
    let created = droplet_at(&app, "simcloud", "flaky").await;
    let job_id = str_of(&created["job"]["id"]);
    wait_for_events(&app, job_id, "job.retry_scheduled", 2).await;
    set_faults(&app, "simcloud", json!({})).await;
    let job = app.wait_for_job(job_id, "succeeded").await;
    assert!(job["attempts"].as_u64().expect("attempts") >= 3, "{job}");
    assert_eq!(job["max_attempts"], 10);
    assert_eq!(job["result"]["provider"], "simcloud", "{job}");
    let events = job_events(&app, job_id).await;
    let retries = of_type(&events, "job.retry_scheduled");
    let delays: Vec<i64> = retries
        .iter()
        .map(|(_, d, _)| d["delay_ms"].as_i64().unwrap())
        .collect();
    assert_eq!(&delays[..2], [100, 200], "exponential backoff");
    assert!(
        str_of(&retries[0].1["error"]).contains("failed transiently"),
        "{:?}",
        retries[0]
    );
    check_backoffs_were_kept(&events);
    assert_eq!(of_type(&events, "job.succeeded").len(), 1);
    let droplet = app
        .wait_for_droplet(str_of(&created["droplet"]["id"]), "active")
        .await;
    assert_eq!(droplet["provider"], "simcloud");
    assert_eq!(
        droplet["ip_address"], job["result"]["ip_address"],
        "{droplet}"
    );
    assert!(
        str_of(&droplet["ip_address"]).starts_with("10."),
        "{droplet}"
    );
}

api_test!(
    a_non_retryable_error_fails_the_job_at_once,
    |s: &mut Settings| {
        provision_policy(
            s,
            PolicyPatch {
                initial_interval_ms: Some(10),
                non_retryable: Some(vec!["provider_transient".into()]),
                ..PolicyPatch::default()
            },
        );
    }
);
async fn a_non_retryable_error_fails_the_job_at_once(app: TestApp) {
    set_faults(&app, "simcloud", json!({ "failure_rate": 1.0 })).await;
    let created = droplet_at(&app, "simcloud", "doomed").await;
    let job_id = str_of(&created["job"]["id"]);
    let job = app.wait_for_job(job_id, "failed").await;
    assert_eq!(job["attempts"], 1, "{job}");
    assert!(
        str_of(&job["error"]).contains("failed transiently"),
        "{job}"
    );
    let events = job_events(&app, job_id).await;
    assert!(
        of_type(&events, "job.retry_scheduled").is_empty(),
        "{events:?}"
    );
    let droplet = app
        .wait_for_droplet(str_of(&created["droplet"]["id"]), "failed")
        .await;
    assert!(
        str_of(&droplet["last_error"]).contains("failed transiently"),
        "{droplet}"
    );
}

api_test!(
    a_hung_attempt_times_out_and_the_last_one_is_final,
    |s: &mut Settings| {
        provision_policy(
            s,
            PolicyPatch {
                initial_interval_ms: Some(20),
                attempt_timeout_ms: Some(300),
                max_attempts: Some(2),
                ..PolicyPatch::default()
            },
        );
    }
);
async fn a_hung_attempt_times_out_and_the_last_one_is_final(app: TestApp) {
    // Every provision at simcloud takes 10 minutes / sim speed 100 = 6 s.
    hang(&app, "simcloud").await;
    let created = droplet_at(&app, "simcloud", "hung").await;
    let job_id = str_of(&created["job"]["id"]);
    let job = app.wait_for_job(job_id, "timed_out").await;
    assert_eq!(job["attempts"], 2, "{job}");
    let events = job_events(&app, job_id).await;
    let types: Vec<&str> = events
        .iter()
        .map(|(t, _, _)| t.as_str())
        .filter(|t| *t != "job.progressed" && *t != "job.heartbeat")
        .collect();
    assert_eq!(
        types,
        [
            "job.created",
            "job.queued",
            "job.started",
            "job.retry_scheduled",
            "job.started",
            "job.timed_out"
        ]
    );
    let retry = of_type(&events, "job.retry_scheduled")[0];
    assert_eq!(retry.1["error"], "attempt 1 timed out");
    let droplet = app
        .wait_for_droplet(str_of(&created["droplet"]["id"]), "failed")
        .await;
    assert_eq!(droplet["pending_job_id"], Value::Null, "{droplet}");
}

api_test!(cancel_reaches_a_running_attempt, |s: &mut Settings| s
    .sim_speed =
    1.0);
async fn cancel_reaches_a_running_attempt(app: TestApp) {
    // The provision would take more than 10 minutes: only cancellation ends it in time.
    hang(&app, "simcloud").await;
    let created = droplet_at(&app, "simcloud", "abandoned").await;
    let job_id = str_of(&created["job"]["id"]);
    // Progress is visible while it runs.
    let running = running_past_its_start(&app, job_id).await;
    assert!(
        str_of(&running["progress_message"]).starts_with("placed on simcloud"),
        "{running}"
    );
    app.post(
        &format!("/v1/jobs/{job_id}/cancel"),
        &json!({ "reason": "changed my mind" }),
    )
    .await
    .expect(200);
    let job = app.wait_for_job(job_id, "cancelled").await;
    assert_eq!(job["attempts"], 1);
    let droplet = app
        .wait_for_droplet(str_of(&created["droplet"]["id"]), "failed")
        .await;
    assert_eq!(droplet["last_error"], "cancelled", "{droplet}");
}

api_test!(a_pending_retry_survives_a_restart, |s: &mut Settings| {
    provision_policy(
        s,
        PolicyPatch {
            initial_interval_ms: Some(1_500),
            ..PolicyPatch::default()
        },
    );
});
async fn a_pending_retry_survives_a_restart(app: TestApp) {
    set_faults(&app, "simcloud", json!({ "failure_rate": 1.0 })).await;
    let created = droplet_at(&app, "simcloud", "patient").await;
    let job_id = str_of(&created["job"]["id"]).to_owned();
    wait_for_events(&app, &job_id, "job.retry_scheduled", 1).await;
    // Injected faults belong to the process: the new one has none.
    let app = app.restart(|_| {}).await;
    let job = app.wait_for_job(&job_id, "succeeded").await;
    assert_eq!(job["attempts"], 2, "{job}");
    let events = job_events(&app, &job_id).await;
    check_backoffs_were_kept(&events);
    let workers: Vec<&str> = of_type(&events, "job.started")
        .iter()
        .map(|(_, d, _)| d["worker"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(workers.len(), 2);
    app.wait_for_droplet(str_of(&created["droplet"]["id"]), "active")
        .await;
}

api_test!(
    an_attempt_lost_with_its_worker_is_timed_out_and_retried,
    |s: &mut Settings| {
        s.sim_speed = 1.0;
        provision_policy(
            s,
            PolicyPatch {
                initial_interval_ms: Some(20),
                heartbeat_timeout_ms: Some(600),
                ..PolicyPatch::default()
            },
        );
    }
);
async fn an_attempt_lost_with_its_worker_is_timed_out_and_retried(app: TestApp) {
    hang(&app, "simcloud").await;
    let created = droplet_at(&app, "simcloud", "orphan").await;
    let job_id = str_of(&created["job"]["id"]).to_owned();
    // The attempt is alive: its worker beats.
    wait_for_events(&app, &job_id, "job.heartbeat", 1).await;
    // The worker dies with its process; the next process hears nothing of attempt 1.
    let app = app.restart(|s| s.sim_speed = 100.0).await;
    let job = app.wait_for_job(&job_id, "succeeded").await;
    assert_eq!(job["attempts"], 2, "{job}");
    let events = job_events(&app, &job_id).await;
    let retry = of_type(&events, "job.retry_scheduled");
    assert_eq!(retry.len(), 1, "{events:?}");
    assert_eq!(retry[0].1["error"], "attempt 1 timed out");
    assert_eq!(of_type(&events, "job.succeeded").len(), 1);
    let droplet = app
        .wait_for_droplet(str_of(&created["droplet"]["id"]), "active")
        .await;
    assert_eq!(droplet["provider"], "simcloud");
}

api_test!(workers_show_the_pool_and_the_policies);
async fn workers_show_the_pool_and_the_policies(app: TestApp) {
    let cluster = app.create_cluster("metered").await;
    let job = app
        .post(
            "/v1/jobs",
            &json!({ "type": "monitor", "cluster_id": cluster["id"] }),
        )
        .await
        .expect(202)
        .clone();
    app.wait_for_job(str_of(&job["job"]["id"]), "succeeded")
        .await;
    let workers = app.get("/v1/workers").await.expect(200).clone();
    assert_eq!(workers["worker_count"], 2);
    assert_eq!(workers["queue_capacity"], 100);
    assert_eq!(workers["running"], true);
    assert_eq!(
        workers["policies"]["provision"]["max_attempts"], 5,
        "{workers}"
    );
    assert_eq!(
        workers["policies"]["diagnose"]["attempt_timeout_ms"],
        30_000
    );
    let metrics = app.get("/metrics").await;
    assert!(
        metrics.text.contains(
            "clustergenie_jobs_processed_total{job_type=\"monitor\",status=\"succeeded\"} 1"
        ),
        "{}",
        metrics.text
    );
    assert!(metrics
        .text
        .contains("clustergenie_job_processing_seconds_count{job_type=\"monitor\"} 1"));
}

api_test!(a_droplet_migrates_between_providers);
async fn a_droplet_migrates_between_providers(app: TestApp) {
    let created = droplet_at(&app, "simcloud", "mover").await;
    let droplet_id = str_of(&created["droplet"]["id"]).to_owned();
    app.wait_for_droplet(&droplet_id, "active").await;
    let path = format!("/v1/droplets/{droplet_id}/migrate");
    // Bad requests record nothing.
    app.post(&path, &json!({ "target_provider": "aws" }))
        .await
        .field_problem(422, "target_provider");
    app.post(&path, &json!({}))
        .await
        .field_problem(422, "target_provider");
    let same = app
        .post(&path, &json!({ "target_provider": "simcloud" }))
        .await;
    assert!(str_of(&same.problem(422)["detail"]).contains("already runs at"));
    // stratus does not offer nyc1.
    let lacking = app
        .post(&path, &json!({ "target_provider": "stratus" }))
        .await;
    assert!(str_of(&lacking.problem(422)["detail"]).contains("does not offer region"));
    app.post(
        &format!("/v1/droplets/{}/migrate", unknown_id("dr")),
        &json!({ "target_provider": "nimbus" }),
    )
    .await
    .problem(404);

    let started = app
        .post(&path, &json!({ "target_provider": "nimbus" }))
        .await
        .expect(202)
        .clone();
    assert_eq!(started["job"]["type"], "migrate");
    let job = app
        .wait_for_job(str_of(&started["job"]["id"]), "succeeded")
        .await;
    assert_eq!(job["result"]["from_provider"], "simcloud", "{job}");
    assert_eq!(job["result"]["provider"], "nimbus", "{job}");
    let droplet = app
        .poll(&format!("/v1/droplets/{droplet_id}"), "migrated", |d| {
            d["provider"] == "nimbus"
        })
        .await;
    assert_eq!(droplet["status"], "active");
    assert_eq!(droplet["ip_address"], job["result"]["ip_address"]);
    let types: Vec<String> = app
        .stream("droplet", &droplet_id)
        .await
        .iter()
        .map(|e| str_of(&e["type"]).to_owned())
        .collect();
    assert_eq!(
        &types[types.len() - 2..],
        ["droplet.migration_requested", "droplet.migrated"]
    );
}

api_test!(placement_avoids_the_providers_a_droplet_names);
async fn placement_avoids_the_providers_a_droplet_names(app: TestApp) {
    let cluster = app.create_cluster("picky").await;
    let body = |avoid: Value| {
        json!({
            "cluster_id": cluster["id"],
            "name": "picky",
            "region": "fra1",
            "size": "s-1vcpu-1gb",
            "image": "ubuntu-22-04-x64",
            "provider": "stratus",
            "avoid_providers": avoid,
        })
    };
    app.post("/v1/droplets", &body(json!(["aws"])))
        .await
        .field_problem(422, "avoid_providers");
    // stratus is preferred and the cheapest in fra1, but avoided; simcloud too.
    let created = app
        .post("/v1/droplets", &body(json!(["stratus", "simcloud"])))
        .await
        .expect(202)
        .clone();
    assert_eq!(
        created["job"]["parameters"]["avoid_providers"],
        json!(["stratus", "simcloud"])
    );
    let droplet = app
        .wait_for_droplet(str_of(&created["droplet"]["id"]), "active")
        .await;
    assert_eq!(droplet["provider"], "nimbus", "{droplet}");
    // Without the avoid list the preferred provider wins.
    let created = app
        .post("/v1/droplets", &body(json!([])))
        .await
        .expect(202)
        .clone();
    let droplet = app
        .wait_for_droplet(str_of(&created["droplet"]["id"]), "active")
        .await;
    assert_eq!(droplet["provider"], "stratus", "{droplet}");
}

/// The `(progress, message)` of the job's `job.progressed` events, in order.
async fn progress_of(app: &TestApp, job_id: &str) -> Vec<(u64, String)> {
    of_type(&job_events(app, job_id).await, "job.progressed")
        .iter()
        .map(|(_, data, _)| {
            let progress = data["progress"].as_u64().expect("progress");
            (progress, str_of(&data["message"]).to_owned())
        })
        .collect()
}

/// Waits until job `job_id` runs with a progress strictly between 10 and 100; returns it.
async fn running_past_its_start(app: &TestApp, job_id: &str) -> Value {
    app.poll(&format!("/v1/jobs/{job_id}"), "past its start", |job| {
        job["status"] == "running" && job["progress"].as_u64().is_some_and(|p| 10 < p && p < 100)
    })
    .await
}

api_test!(
    running_jobs_show_the_steps_they_reached,
    // Provider calls take their full simulated seconds (a provision at simcloud 4 s).
    |s: &mut Settings| s.sim_speed = 1.0
);
async fn running_jobs_show_the_steps_they_reached(app: TestApp) {
    let cluster = app.create_cluster("watched").await;
    let created = app.create_droplet(str_of(&cluster["id"]), "watched").await;
    let provision = str_of(&created["job"]["id"]);
    // While the provider builds it, the job says where it was placed.
    let running = running_past_its_start(&app, provision).await;
    assert_eq!(running["progress"], 30, "{running}");
    let message = str_of(&running["progress_message"]);
    assert!(message.starts_with("placed on simcloud"), "{running}");
    assert_eq!(
        app.wait_for_job(provision, "succeeded").await["progress"],
        100
    );
    let steps = progress_of(&app, provision).await;
    let percents: Vec<u64> = steps.iter().map(|(p, _)| *p).collect();
    assert_eq!(percents, [10, 30], "{steps:?}");

    // A resize says which provider call it waits on.
    let droplet_id = str_of(&created["droplet"]["id"]);
    let answer = app
        .post(
            &format!("/v1/droplets/{droplet_id}/resize"),
            &json!({ "size": "s-2vcpu-2gb" }),
        )
        .await;
    let resize = answer.expect(202).clone();
    let running = running_past_its_start(&app, str_of(&resize["job"]["id"])).await;
    assert_eq!(
        running["progress_message"], "resizing to s-2vcpu-2gb at simcloud",
        "{running}"
    );

    // A scale-up by three counts the droplets it requested; progress never goes back.
    let body = json!({ "type": "scale_up", "cluster_id": cluster["id"],
                       "parameters": { "count": 3 } });
    let started = app.post("/v1/jobs", &body).await.expect(202).clone();
    let scale = str_of(&started["job"]["id"]);
    app.wait_for_job(scale, "succeeded").await;
    let steps = progress_of(&app, scale).await;
    let expected = [
        (10, "adding droplets to the cluster"),
        (36, "1 of 3 droplets requested"),
        (63, "2 of 3 droplets requested"),
    ];
    let expected: Vec<(u64, String)> = expected
        .iter()
        .map(|(p, m)| (*p, (*m).to_owned()))
        .collect();
    assert_eq!(steps, expected);
}

api_test!(
    the_worker_pool_gauges_follow_running_and_waiting_jobs,
    |s: &mut Settings| {
        s.worker_count = 1;
        s.sim_delay_ms = 1_500;
    }
);
async fn the_worker_pool_gauges_follow_running_and_waiting_jobs(app: TestApp) {
    const ACTIVE: &str = "clustergenie_workerpool_active_workers ";
    const QUEUED: &str = "clustergenie_workerpool_queue_length ";
    let cluster = app.create_cluster("gauged").await;
    let mut jobs = Vec::new();
    for _ in 0..3 {
        let body = json!({ "type": "diagnose", "cluster_id": cluster["id"] });
        let started = app.post("/v1/jobs", &body).await.expect(202).clone();
        jobs.push(str_of(&started["job"]["id"]).to_owned());
    }
    // One runs (1.5 s of simulated work), the two others wait in the pool's queue.
    let started = std::time::Instant::now();
    while (app.metric(ACTIVE).await, app.metric(QUEUED).await) != (1.0, 2.0) {
        assert!(
            started.elapsed() < DEADLINE,
            "the gauges never showed one running and two waiting jobs: {}",
            app.get("/metrics").await.text
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        app.metric("clustergenie_workerpool_worker_count ").await,
        1.0
    );
    for job in &jobs {
        app.wait_for_job(job, "succeeded").await;
    }
    let succeeded =
        "clustergenie_jobs_processed_total{job_type=\"diagnose\",status=\"succeeded\"} ";
    assert_eq!(app.metric(succeeded).await, 3.0);
    let count = "clustergenie_job_processing_seconds_count{job_type=\"diagnose\"} ";
    assert_eq!(app.metric(count).await, 3.0);
    // Each attempt took its simulated 1.5 s.
    let sum = "clustergenie_job_processing_seconds_sum{job_type=\"diagnose\"} ";
    assert!(app.metric(sum).await >= 4.5);
    assert_eq!(app.metric(ACTIVE).await, 0.0);
    assert_eq!(app.metric(QUEUED).await, 0.0);
}
