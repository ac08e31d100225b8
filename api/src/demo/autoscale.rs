//! `autoscale`: a `shop` cluster with one droplet gets a `metrics` policy (cpu, 1 to 3
//! droplets, up above 75 %, down below 30 %, a 30 s window, a 10 s cooldown). Its load
//! ramps up through `POST /v1/metrics`: evaluation after evaluation
//! (`POST .../autoscaling/evaluate`) the autoscaler scales it out to its maximum, one
//! droplet per cooldown; then the load falls and it scales back in to its minimum, again
//! only after each cooldown. Every decision, acting or not, is in its history.
//!
//! The server's scheduled rounds (`autoscaler_interval_seconds`) may act between two of
//! the scene's evaluations; the scene only waits for the cluster to reach its maximum,
//! then its minimum (bounded by the client's timeout).

use chrono::Utc;
use reqwest::Method;
use serde_json::{json, Value};

use super::client::{suffix, text, DemoClient, Step};
use super::error::DemoError;
use super::scene::Summary;

const REGION: &str = "fra1";
const PROVIDER: &str = "simcloud";
/// Samples sent per evaluation.
const SAMPLES: i64 = 3;

/// What `autoscale` made.
#[derive(Debug, Clone)]
pub struct Autoscale {
    pub suffix: String,
    pub cluster_id: String,
    pub cluster_name: String,
    /// The acting decisions seen (decision, count, reason).
    pub acted: Vec<(String, u64, String)>,
}

/// Loads the scene through `client`.
pub async fn load(client: &DemoClient) -> Result<Autoscale, DemoError> {
    let suffix = suffix();
    let correlation = |step: &str| format!("demo-autoscale-{suffix}-{step}");
    let cluster_name = format!("shop-{suffix}");
    let cluster_id = client
        .create_cluster(&cluster_name, REGION, PROVIDER, &correlation("cluster"))
        .await?;
    let name = format!("{cluster_name}-web-1");
    let body = json!({
        "cluster_id": cluster_id, "name": name, "region": REGION,
        "size": "s-1vcpu-1gb", "image": "ubuntu-22-04-x64", "provider": PROVIDER,
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
    let policy = json!({
        "type": "metrics", "min_droplets": 1, "max_droplets": 3,
        "metric_type": "cpu", "scale_up_threshold": 75, "scale_down_threshold": 30,
        "evaluation_window_seconds": 30, "cooldown_seconds": 10,
    });
    client
        .command(
            Method::PUT,
            &format!("/v1/clusters/{cluster_id}/autoscaling"),
            Some(&policy),
            "set the auto-scaling policy",
            &correlation("policy"),
        )
        .await?;
    client.say("policy: cpu 30-75 %, 1 to 3 droplets, cooldown 10 s");
    let mut scene = Autoscale {
        suffix,
        cluster_id,
        cluster_name,
        acted: Vec::new(),
    };
    client.say("the load ramps up to 90 % cpu");
    scene.ramp(client, 90.0, "at_max").await?;
    client.say(format!("{} is at its maximum of 3", scene.cluster_name));
    client.say("the load falls to 10 % cpu");
    scene.ramp(client, 10.0, "at_min").await?;
    client.say(format!(
        "{} is back to its minimum of 1",
        scene.cluster_name
    ));
    Ok(scene)
}

impl Autoscale {
    /// Sends samples at `level` and evaluates until a decision says `done` (`at_max` or
    /// `at_min`).
    async fn ramp(&mut self, client: &DemoClient, level: f64, done: &str) -> Result<(), DemoError> {
        let evaluate = format!("/v1/clusters/{}/autoscaling/evaluate", self.cluster_id);
        let cluster_id = self.cluster_id.clone();
        let acted = std::sync::Mutex::new(Vec::new());
        let round = std::sync::atomic::AtomicI64::new(0);
        let waiting = format!("cluster {} to scale to {done}", self.cluster_name);
        client
            .wait(&waiting, || {
                let n = round.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                let (evaluate, cluster_id, acted) = (&evaluate, &cluster_id, &acted);
                async move {
                    send(client, cluster_id, level, n).await?;
                    let correlation = format!("demo-autoscale-{cluster_id}-{n}");
                    let decision = client
                        .post(evaluate, &json!({}), "evaluate the policy", &correlation)
                        .await?;
                    let code = text(&decision, "code").to_owned();
                    if decision["decision"] != "none" {
                        let reason = text(&decision, "reason").to_owned();
                        client.say(format!(
                            "  {} {}: {reason}",
                            text(&decision, "decision"),
                            decision["count"]
                        ));
                        if let Ok(mut acted) = acted.lock() {
                            acted.push((
                                text(&decision, "decision").to_owned(),
                                decision["count"].as_u64().unwrap_or(0),
                                reason,
                            ));
                        }
                    }
                    Ok(match code == done {
                        true => Step::Done(()),
                        false => Step::NotYet(format!("last decision: {code}")),
                    })
                }
            })
            .await?;
        let acted = acted.into_inner().unwrap_or_default();
        self.acted.extend(acted);
        Ok(())
    }

    /// What it made and where to look at it.
    pub fn summary(&self) -> Summary {
        let mut made = vec![format!(
            "cluster   {} ({REGION}, {PROVIDER})  {}",
            self.cluster_name, self.cluster_id
        )];
        for (decision, count, reason) in &self.acted {
            made.push(format!("decision  {decision} {count}: {reason}"));
        }
        Summary {
            title: format!(
                "autoscale loaded (names end in -{}; events by actor demo)",
                self.suffix
            ),
            made,
            pages: vec![
                (
                    "The policy and its decisions".into(),
                    format!("/autoscaling?cluster_id={}", self.cluster_id),
                ),
                (
                    "The scale jobs".into(),
                    format!("/jobs?cluster_id={}", self.cluster_id),
                ),
                (
                    "The decisions in the log".into(),
                    format!("/audit/autoscaler/{}", self.cluster_id),
                ),
            ],
        }
    }
}

/// Sends [`SAMPLES`] cpu samples of the cluster at `level` (a little jitter), stamped now.
async fn send(
    client: &DemoClient,
    cluster_id: &str,
    level: f64,
    round: i64,
) -> Result<(), DemoError> {
    let now = Utc::now();
    let samples: Vec<Value> = (0..SAMPLES)
        .map(|i| {
            let at = now - chrono::Duration::milliseconds(100 * i);
            json!({
                "cluster_id": cluster_id, "type": "cpu",
                "value": level + ((round + i) % 3) as f64, "timestamp": at.to_rfc3339(),
            })
        })
        .collect();
    client
        .post(
            "/v1/metrics",
            &json!({ "samples": samples }),
            "send cpu samples",
            &format!("demo-autoscale-{cluster_id}-load-{round}"),
        )
        .await?;
    Ok(())
}
