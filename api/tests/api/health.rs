//! Health checks: samples crossing each threshold record exactly one
//! `cluster.status_changed` each way, with the issues behind it; a flood of samples at the
//! same level records nothing more; a failed droplet is an issue.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::common::*;

/// Posts `count` samples of `metric` at `value` for `cluster`, timestamped just now.
async fn send(app: &TestApp, cluster: &str, metric: &str, value: f64, count: usize) {
    let now = Utc::now();
    let samples: Vec<Value> = (0..count)
        .map(|i| {
            json!({
                "cluster_id": cluster,
                "type": metric,
                "value": value,
                "timestamp": (now - Duration::milliseconds(i as i64)).to_rfc3339(),
            })
        })
        .collect();
    for batch in samples.chunks(1000) {
        app.post("/v1/metrics", &json!({ "samples": batch }))
            .await
            .expect(202);
    }
}

/// One health round now, then the cluster's status changes as recorded in its stream.
async fn round(app: &TestApp, cluster: &str) -> Vec<Value> {
    app.state
        .health
        .run_once(Utc::now())
        .await
        .expect("health round");
    app.stream("cluster", cluster)
        .await
        .into_iter()
        .filter(|e| e["type"] == "cluster.status_changed")
        .collect()
}

api_test!(each_threshold_crossing_records_one_change_each_way);
async fn each_threshold_crossing_records_one_change_each_way(app: TestApp) {
    let cases = [
        ("cpu", 95.0, "warning", 80.0),
        ("memory", 90.0, "critical", 85.0),
        ("disk", 97.0, "critical", 90.0),
    ];
    for (metric, high, status, threshold) in cases {
        let cluster = app.create_cluster(&format!("hot-{metric}")).await;
        let id = str_of(&cluster["id"]).to_owned();
        // A round judges the clusters the read models have.
        app.get_at(&format!("/v1/clusters/{id}"), &cluster["position"])
            .await;

        send(&app, &id, metric, high, 10).await;
        let changes = round(&app, &id).await;
        assert_eq!(changes.len(), 1, "{metric}: {changes:?}");
        let data = &changes[0]["data"];
        assert_eq!(data["from"], "healthy");
        assert_eq!(data["to"], status, "{metric}: {data}");
        let issues = data["issues"].as_array().expect("issues");
        assert_eq!(issues.len(), 1, "{data}");
        assert_eq!(issues[0]["kind"], "metric");
        assert_eq!(issues[0]["metric_type"], metric);
        assert_eq!(issues[0]["threshold"], threshold);
        assert_eq!(issues[0]["value"], high);

        // A flood at the same level changes nothing.
        send(&app, &id, metric, high, 300).await;
        assert_eq!(round(&app, &id).await.len(), 1, "{metric}: flood");
        assert_eq!(round(&app, &id).await.len(), 1, "{metric}: again");

        let health = app.get(&format!("/v1/clusters/{id}/health")).await;
        let health = health.expect(200);
        assert_eq!(health["status"], status, "{health}");
        assert_eq!(health["issues"][0]["metric_type"], metric);

        // Calm samples bring the window's average under the threshold: back to healthy.
        send(&app, &id, metric, 10.0, 5000).await;
        let changes = round(&app, &id).await;
        assert_eq!(changes.len(), 2, "{metric}: {changes:?}");
        assert_eq!(changes[1]["data"]["from"], status);
        assert_eq!(changes[1]["data"]["to"], "healthy");
        assert_eq!(changes[1]["data"]["issues"], json!([]));
        assert_eq!(round(&app, &id).await.len(), 2, "{metric}: stays healthy");
    }
}

api_test!(a_quiet_unhealthy_cluster_recovers_when_its_samples_age_out);
async fn a_quiet_unhealthy_cluster_recovers_when_its_samples_age_out(app: TestApp) {
    let cluster = app.create_cluster("spiky").await;
    let id = str_of(&cluster["id"]).to_owned();
    app.get_at(&format!("/v1/clusters/{id}"), &cluster["position"])
        .await;
    send(&app, &id, "memory", 99.0, 3).await;
    assert_eq!(round(&app, &id).await.len(), 1);
    // The read model must show the recorded status before a quiet round can see it.
    let head = app.head().await;
    app.get_at(&format!("/v1/clusters/{id}"), &head).await;

    let later = Utc::now() + Duration::seconds(3600);
    app.state.health.run_once(later).await.expect("round");
    let changes: Vec<Value> = app
        .stream("cluster", &id)
        .await
        .into_iter()
        .filter(|e| e["type"] == "cluster.status_changed")
        .collect();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[1]["data"]["to"], "healthy");
}

api_test!(health_of_an_unknown_cluster_is_404);
async fn health_of_an_unknown_cluster_is_404(app: TestApp) {
    let unknown = unknown_id("cl_");
    app.get(&format!("/v1/clusters/{unknown}/health"))
        .await
        .problem(404);
    app.get("/v1/clusters/not-an-id/health").await.problem(404);
}
