//! `genie`: a `checkout` cluster with one droplet sends half an hour of calm metrics, then
//! its memory climbs past the critical threshold. The health checks turn the cluster
//! `critical`; the rules engine diagnoses it and the scene implements the first
//! recommendation that scales the cluster up; then the load calms down and the cluster
//! turns healthy again.
//!
//! The status changes come from the server's scheduled health checks
//! (`health_check_interval_seconds`), so the scene waits for them (bounded by the client's
//! timeout).

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use super::client::{suffix, text, DemoClient, Step};
use super::error::DemoError;
use super::scene::Summary;

/// Where the cluster is, on which provider, and its droplet's size and image.
const REGION: &str = "fra1";
const PROVIDER: &str = "simcloud";
const WEB_DROPLET: (&str, &str) = ("s-1vcpu-2gb", "ubuntu-22-04-x64");

/// Minutes of calm history sent before the incident, one sample per type every 30 s.
const HISTORY_MINUTES: i64 = 30;

/// What `genie` made.
#[derive(Debug, Clone)]
pub struct Genie {
    pub suffix: String,
    pub cluster_id: String,
    pub cluster_name: String,
    pub droplet_id: String,
    /// The recorded diagnosis (`POST .../diagnose`).
    pub diagnosis: Value,
    /// The recommendation implemented, and the job it started (succeeded).
    pub implemented: Value,
    pub job: Value,
}

/// Loads the scene through `client`.
pub async fn load(client: &DemoClient) -> Result<Genie, DemoError> {
    let suffix = suffix();
    let correlation = |step: &str| format!("demo-genie-{suffix}-{step}");
    let cluster_name = format!("checkout-{suffix}");
    let cluster_id = client
        .create_cluster(&cluster_name, REGION, PROVIDER, &correlation("cluster"))
        .await?;

    let name = format!("{cluster_name}-web-1");
    let (size, image) = WEB_DROPLET;
    let body = json!({
        "cluster_id": cluster_id, "name": name, "region": REGION,
        "size": size, "image": image, "provider": PROVIDER,
    });
    let (droplet_id, job) = client
        .create_droplet(&name, &body, &correlation("web-1"))
        .await?;
    client
        .job_succeeded(&job, &format!("provision of {name}"))
        .await?;
    client
        .droplet_is(&droplet_id, &name, "active", None)
        .await?;
    client.say(format!("  {name} is active"));

    let now = Utc::now();
    let calm = history(&cluster_id, &droplet_id, now);
    send(
        client,
        &calm,
        "send half an hour of calm metrics",
        &correlation("history"),
    )
    .await?;
    client.say(format!(
        "sent {} calm samples ({HISTORY_MINUTES} minutes)",
        calm.len()
    ));

    let spike = incident(&cluster_id, &droplet_id, Utc::now());
    send(
        client,
        &spike,
        "send the memory spike",
        &correlation("spike"),
    )
    .await?;
    client.say("memory climbs to 94% (critical above 85%), CPU to 88% (warning above 80%)");
    status_is(client, &cluster_id, "critical").await?;
    client.say(format!("the health checks turned {cluster_name} critical"));

    let diagnosis = client
        .post(
            &format!("/v1/clusters/{cluster_id}/diagnose"),
            &json!({ "engine": "rules" }),
            &format!("diagnose {cluster_name}"),
            &correlation("diagnose"),
        )
        .await?;
    client.say(format!(
        "diagnosis {}: health score {} ({})",
        text(&diagnosis, "diagnosis_id"),
        diagnosis["health_score"],
        text(&diagnosis, "health_label"),
    ));
    let implemented = first_scale_up(&diagnosis)?;
    let started = client
        .command(
            Method::POST,
            &format!(
                "/v1/clusters/{cluster_id}/recommendations/{}/implement",
                text(&implemented, "id")
            ),
            None,
            &format!("implement \"{}\"", text(&implemented, "title")),
            &correlation("implement"),
        )
        .await?;
    let job_id = text(&started["job"], "id").to_owned();
    client.say(format!(
        "implemented \"{}\": job {job_id}",
        text(&implemented, "title")
    ));
    let job = client
        .job_succeeded(&job_id, "the recommended scale-up")
        .await?;

    let calm_again = steady(&cluster_id, &droplet_id, Utc::now(), 40.0, 240);
    send(
        client,
        &calm_again,
        "send calm metrics",
        &correlation("calm"),
    )
    .await?;
    status_is(client, &cluster_id, "healthy").await?;
    client.say(format!("load calmed down: {cluster_name} is healthy again"));
    Ok(Genie {
        suffix,
        cluster_id,
        cluster_name,
        droplet_id,
        diagnosis,
        implemented,
        job,
    })
}

/// Sends samples in batches the API accepts.
async fn send(
    client: &DemoClient,
    samples: &[Value],
    what: &str,
    correlation: &str,
) -> Result<(), DemoError> {
    for (n, batch) in samples.chunks(500).enumerate() {
        client
            .post(
                "/v1/metrics",
                &json!({ "samples": batch }),
                what,
                &format!("{correlation}-{n}"),
            )
            .await?;
    }
    Ok(())
}

fn sample(cluster: &str, droplet: &str, kind: &str, value: f64, at: DateTime<Utc>) -> Value {
    json!({
        "cluster_id": cluster, "droplet_id": droplet, "type": kind,
        "value": (value * 10.0).round() / 10.0, "timestamp": at.to_rfc3339(),
    })
}

/// Half an hour before `now`, every 30 s: CPU 25-40 %, memory 50-60 %, disk 42 %,
/// network 80-120 Mbps, in gentle waves.
fn history(cluster: &str, droplet: &str, now: DateTime<Utc>) -> Vec<Value> {
    let points = HISTORY_MINUTES * 2;
    (0..points)
        .flat_map(|i| {
            let at = now - Duration::seconds(30 * (points - i) + 60);
            let wave = (i as f64 / 6.0).sin();
            [
                sample(cluster, droplet, "cpu", 32.0 + 7.0 * wave, at),
                sample(cluster, droplet, "memory", 55.0 + 5.0 * wave, at),
                sample(cluster, droplet, "disk", 42.0, at),
                sample(cluster, droplet, "network", 100.0 + 20.0 * wave, at),
            ]
        })
        .collect()
}

/// The last minute before `now`: memory at 93-95 %, CPU at 87-89 %.
fn incident(cluster: &str, droplet: &str, now: DateTime<Utc>) -> Vec<Value> {
    (0..12)
        .flat_map(|i| {
            let at = now - Duration::seconds(55 - 5 * i);
            let jitter = f64::from(i32::try_from(i % 3).unwrap_or(0));
            [
                sample(cluster, droplet, "memory", 93.0 + jitter, at),
                sample(cluster, droplet, "cpu", 87.0 + jitter, at),
            ]
        })
        .collect()
}

/// `count` samples of each percent type at `level`, over the last minute before `now`
/// (enough to bring the window's averages down).
fn steady(cluster: &str, droplet: &str, now: DateTime<Utc>, level: f64, count: i64) -> Vec<Value> {
    (0..count)
        .flat_map(|i| {
            let at = now - Duration::milliseconds(50_000 * i / count);
            ["cpu", "memory", "disk"].map(|kind| sample(cluster, droplet, kind, level, at))
        })
        .collect()
}

/// Waits until the cluster's recorded status is `status`.
async fn status_is(client: &DemoClient, cluster_id: &str, status: &str) -> Result<(), DemoError> {
    let path = format!("/v1/clusters/{cluster_id}");
    client
        .wait(&format!("cluster {cluster_id} to be {status}"), || async {
            let cluster = client.read(&path, "read the cluster").await?;
            match text(&cluster, "status") {
                s if s == status => Ok(Step::Done(())),
                s => Ok(Step::NotYet(format!("status {s}"))),
            }
        })
        .await
}

/// The first recommendation whose action scales the cluster up.
fn first_scale_up(diagnosis: &Value) -> Result<Value, DemoError> {
    diagnosis["recommendations"]
        .as_array()
        .and_then(|recs| {
            recs.iter()
                .find(|r| r["action"]["type"] == "scale_up")
                .cloned()
        })
        .ok_or_else(|| DemoError::Unexpected {
            what: "look for a scale-up recommendation in the diagnosis".into(),
            status: 200,
            body: diagnosis.to_string(),
        })
}

impl Genie {
    /// What it made and where to look at it.
    pub fn summary(&self) -> Summary {
        let made = vec![
            format!(
                "cluster   {} ({REGION}, {PROVIDER})  {}",
                self.cluster_name, self.cluster_id
            ),
            format!("droplet   {}-web-1  {}", self.cluster_name, self.droplet_id),
            format!(
                "diagnosis health score {} ({}), {} recommendations  {}",
                self.diagnosis["health_score"],
                text(&self.diagnosis, "health_label"),
                self.diagnosis["recommendations"]
                    .as_array()
                    .map_or(0, Vec::len),
                text(&self.diagnosis, "diagnosis_id"),
            ),
            format!(
                "job       {} \"{}\" {}  {}",
                text(&self.job, "type"),
                text(&self.implemented, "title"),
                text(&self.job, "status"),
                text(&self.job, "id"),
            ),
        ];
        Summary {
            title: format!(
                "genie loaded (names end in -{}; events by actor demo)",
                self.suffix
            ),
            made,
            pages: vec![
                (
                    "The diagnosis".into(),
                    format!("/clusters/{}/diagnosis", self.cluster_id),
                ),
                (
                    "Its metrics".into(),
                    format!("/monitoring?cluster_id={}", self.cluster_id),
                ),
                (
                    "The status changes".into(),
                    format!("/audit/cluster/{}", self.cluster_id),
                ),
            ],
        }
    }
}
