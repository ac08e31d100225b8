//! `canary`: a `storefront` cluster with four droplets runs `v1` (a rolling deployment);
//! then the droplets' provider is made to fail every call (`failure_rate` 1) and a canary
//! of `v2` starts: its step cannot put the version on the canary droplet, the step job
//! fails after its retries, and the deployment rolls back by itself, leaving every droplet
//! at `v1`. The provider is healed whatever happens.
//!
//! Faults belong to the server process (they are not events), so the scene only works
//! against a server that runs the jobs itself (`serve` with workers, the default).

use reqwest::Method;
use serde_json::{json, Value};

use super::client::{suffix, text, DemoClient, Step};
use super::error::DemoError;
use super::scene::Summary;

/// Where the cluster is (offered by every default provider).
const REGION: &str = "fra1";

/// The provider its droplets run on, broken for the canary then healed.
const PROVIDER: &str = "nimbus";

/// How many droplets the cluster has.
const DROPLETS: usize = 4;

/// What `canary` made.
#[derive(Debug, Clone)]
pub struct Canary {
    /// The suffix of every name.
    pub suffix: String,
    pub cluster_id: String,
    pub cluster_name: String,
    /// The deployment that put `v1` everywhere.
    pub first: Value,
    /// The canary of `v2` that rolled back by itself.
    pub canary: Value,
}

/// Loads the scene through `client`.
pub async fn load(client: &DemoClient) -> Result<Canary, DemoError> {
    let suffix = suffix();
    let correlation = |step: &str| format!("demo-canary-{suffix}-{step}");
    let cluster_name = format!("storefront-{suffix}");
    let cluster_id = client
        .create_cluster(&cluster_name, REGION, PROVIDER, &correlation("cluster"))
        .await?;
    let mut droplets = Vec::new();
    for n in 1..=DROPLETS {
        let name = format!("{cluster_name}-web-{n}");
        let body = json!({
            "cluster_id": cluster_id, "name": name, "region": REGION,
            "size": "s-1vcpu-1gb", "image": "ubuntu-22-04-x64", "provider": PROVIDER,
        });
        droplets.push((
            client
                .create_droplet(&name, &body, &correlation(&format!("web-{n}")))
                .await?,
            name,
        ));
    }
    for ((id, job), name) in &droplets {
        client
            .job_succeeded(job, &format!("provision of {name}"))
            .await?;
        client.droplet_is(id, name, "active", None).await?;
    }
    client.say(format!("  {DROPLETS} droplets are active"));

    let first = deploy(
        client,
        &cluster_id,
        json!({
            "strategy": "rolling", "version": "v1", "batch_size": 2,
            "health_gate": { "metric": "cpu", "max": 80, "window_seconds": 5 },
        }),
        &correlation("v1"),
    )
    .await?;
    client.say(format!(
        "deployed v1 everywhere ({})",
        text(&first, "status")
    ));

    let faults = format!("/v1/admin/providers/{PROVIDER}/faults");
    client
        .command(
            Method::PUT,
            &faults,
            Some(&json!({ "failure_rate": 1.0 })),
            &format!("break {PROVIDER}"),
            &correlation("break"),
        )
        .await?;
    client.say(format!(
        "broke {PROVIDER}: every call fails (failure_rate 1.0)"
    ));
    let canary = json!({
        "strategy": "canary", "version": "v2", "target_percent": 25,
        "health_gate": { "metric": "cpu", "max": 80, "window_seconds": 5 },
    });
    let canary_correlation = correlation("v2");
    let outcome = tokio::select! {
        outcome = deploy(client, &cluster_id, canary, &canary_correlation) => outcome,
        () = client.interrupted() => Err(DemoError::Interrupted),
    };
    let healed = client
        .command(
            Method::PUT,
            &faults,
            Some(&json!({})),
            &format!("heal {PROVIDER}"),
            &correlation("heal"),
        )
        .await;
    let canary = match (outcome, healed) {
        (outcome, Err(heal)) => {
            return Err(DemoError::StillFaulted {
                provider: PROVIDER.to_owned(),
                heal: Box::new(heal),
                cause: outcome.err().map(Box::new),
            })
        }
        (outcome, Ok(_)) => {
            client.say(format!("healed {PROVIDER}"));
            outcome?
        }
    };
    client.say(format!(
        "canary of v2 {}: {}",
        text(&canary, "status"),
        canary["logs"]
            .as_array()
            .and_then(|l| l.last())
            .map_or("", |l| text(l, "message"))
    ));
    Ok(Canary {
        suffix,
        cluster_id,
        cluster_name,
        first,
        canary,
    })
}

/// Starts a deployment on the cluster and waits until it ended; returns it.
async fn deploy(
    client: &DemoClient,
    cluster_id: &str,
    body: Value,
    correlation: &str,
) -> Result<Value, DemoError> {
    let version = text(&body, "version").to_owned();
    let what = format!("deploy {version}");
    let started = client
        .post(
            &format!("/v1/clusters/{cluster_id}/deployments"),
            &body,
            &what,
            correlation,
        )
        .await?;
    let id = text(&started["deployment"], "id").to_owned();
    client.say(format!(
        "started {} deployment {id} of {version}",
        text(&body, "strategy")
    ));
    let path = format!("/v1/deployments/{id}");
    client
        .wait(&format!("deployment {id} to end"), || async {
            let deployment = client.read(&path, &format!("read deployment {id}")).await?;
            match text(&deployment, "status") {
                "running" => Ok(Step::NotYet(text(&deployment, "phase").to_owned())),
                _ => Ok(Step::Done(deployment)),
            }
        })
        .await
}

impl Canary {
    /// What was made, and where the console shows it.
    pub fn summary(&self) -> Summary {
        let mut made = vec![format!(
            "cluster  {} ({REGION}, {PROVIDER})  {}",
            self.cluster_name, self.cluster_id
        )];
        for deployment in [&self.first, &self.canary] {
            made.push(format!(
                "deployment {} of {} {}  {}",
                text(deployment, "strategy"),
                text(deployment, "version"),
                text(deployment, "status"),
                text(deployment, "id"),
            ));
        }
        if let Some(droplets) = self.canary["droplets"].as_array() {
            for droplet in droplets {
                made.push(format!(
                    "droplet  {} at {}  {}",
                    text(droplet, "name"),
                    droplet["app_version"].as_str().unwrap_or("no version"),
                    text(droplet, "droplet_id"),
                ));
            }
        }
        Summary {
            title: format!(
                "canary loaded (names end in -{}; events by actor demo)",
                self.suffix
            ),
            made,
            pages: vec![
                (
                    "The canary that rolled back".into(),
                    format!("/deployments/{}", text(&self.canary, "id")),
                ),
                (
                    "Its cluster".into(),
                    format!("/clusters/{}", self.cluster_id),
                ),
            ],
        }
    }
}
