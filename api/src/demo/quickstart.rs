//! `quickstart`: two clusters in two regions on two providers, five droplets across them
//! on all three default providers; once they are active one is resized, one powered off,
//! and the first cluster diagnosed.

use serde_json::{json, Value};

use super::client::{suffix, text, DemoClient};
use super::error::DemoError;
use super::scene::Summary;

/// A cluster the scene makes: name prefix, region, provider.
const CLUSTERS: [(&str, &str, &str); 2] = [("web", "fra1", "nimbus"), ("batch", "nyc2", "stratus")];

/// A droplet the scene makes: its cluster (index in [`CLUSTERS`]), number, provider, size,
/// image. `fra1` is offered by all three providers, `nyc2` by simcloud and stratus; stratus
/// offers the general-purpose sizes only.
const DROPLETS: [(usize, u32, &str, &str, &str); 5] = [
    (0, 1, "nimbus", "s-2vcpu-2gb", "ubuntu-22-04-x64"),
    (0, 2, "simcloud", "s-2vcpu-4gb", "debian-11-x64"),
    (0, 3, "stratus", "s-1vcpu-2gb", "ubuntu-20-04-x64"),
    (1, 1, "stratus", "s-4vcpu-8gb", "rocky-8-x64"),
    (1, 2, "simcloud", "c-2", "fedora-36-x64"),
];

/// The droplet resized (index in [`DROPLETS`]) and its new size.
const RESIZED: (usize, &str) = (0, "s-2vcpu-4gb");

/// The droplet powered off (index in [`DROPLETS`]).
const POWERED_OFF: usize = 4;

/// A resource the scene made.
#[derive(Debug, Clone)]
pub struct Made {
    pub id: String,
    pub name: String,
}

/// What `quickstart` made.
#[derive(Debug, Clone)]
pub struct Quickstart {
    /// The suffix of every name (`web-<suffix>`, `web-<suffix>-1`, …).
    pub suffix: String,
    /// `web-…` (fra1, nimbus) and `batch-…` (nyc2, stratus).
    pub clusters: Vec<Made>,
    /// The five droplets, as they are at the end (`id`, `name`, `status`, `size`,
    /// `provider`, …).
    pub droplets: Vec<Value>,
    /// The resize job.
    pub resize_job: String,
    /// The power-off job.
    pub power_off_job: String,
    /// The diagnose job, succeeded (its `result` holds the health score).
    pub diagnosis: Value,
}

/// Loads the scene through `client`.
pub async fn load(client: &DemoClient) -> Result<Quickstart, DemoError> {
    let suffix = suffix();
    let correlation = |step: &str| format!("demo-quickstart-{suffix}-{step}");
    let mut clusters = Vec::new();
    for (prefix, region, provider) in CLUSTERS {
        let name = format!("{prefix}-{suffix}");
        let body = json!({ "name": name, "region": region, "provider": provider });
        let what = format!("create cluster {name}");
        let cluster = client
            .post("/v1/clusters", &body, &what, &correlation(prefix))
            .await?;
        client.say(format!(
            "created cluster {name} ({}) in {region} on {provider}",
            text(&cluster, "id")
        ));
        clusters.push(Made {
            id: text(&cluster, "id").to_owned(),
            name,
        });
    }

    let (mut droplets, mut jobs) = (Vec::new(), Vec::new());
    for (cluster, n, provider, size, image) in DROPLETS {
        let (prefix, region, _) = CLUSTERS[cluster];
        let name = format!("{prefix}-{suffix}-{n}");
        let body = json!({
            "cluster_id": clusters[cluster].id, "name": name, "region": region,
            "size": size, "image": image, "provider": provider,
        });
        let (id, job) = client
            .create_droplet(&name, &body, &correlation(&format!("{prefix}-{n}")))
            .await?;
        client.say(format!(
            "requested droplet {name} ({id}): {size} {image} on {provider} in {region}, job {job}"
        ));
        jobs.push(job);
        droplets.push(Made { id, name });
    }
    client.say("waiting for the five provision jobs…");
    for (droplet, job) in droplets.iter().zip(&jobs) {
        let what = format!("provision of {}", droplet.name);
        client.job_succeeded(job, &what).await?;
        let active = client
            .droplet_is(&droplet.id, &droplet.name, "active", None)
            .await?;
        client.say(format!(
            "  {} is active on {} at {}",
            droplet.name,
            text(&active, "provider"),
            text(&active, "ip_address")
        ));
    }

    let (index, size) = RESIZED;
    let resized = &droplets[index];
    let what = format!("resize {} to {size}", resized.name);
    let job = client
        .post(
            &format!("/v1/droplets/{}/resize", resized.id),
            &json!({ "size": size }),
            &what,
            &correlation("resize"),
        )
        .await?;
    let resize_job = text(&job["job"], "id").to_owned();
    client.say(format!(
        "resizing {} to {size}, job {resize_job}",
        resized.name
    ));
    client.job_succeeded(&resize_job, &what).await?;
    client
        .droplet_is(&resized.id, &resized.name, "active", Some(size))
        .await?;

    let off = &droplets[POWERED_OFF];
    let what = format!("power off {}", off.name);
    let job = client
        .post(
            &format!("/v1/droplets/{}/power", off.id),
            &json!({ "action": "off" }),
            &what,
            &correlation("power-off"),
        )
        .await?;
    let power_off_job = text(&job["job"], "id").to_owned();
    client.say(format!("powering off {}, job {power_off_job}", off.name));
    client.job_succeeded(&power_off_job, &what).await?;
    client.droplet_is(&off.id, &off.name, "off", None).await?;

    let web = &clusters[0];
    let what = format!("diagnose {}", web.name);
    let job = client
        .post(
            "/v1/jobs",
            &json!({ "type": "diagnose", "cluster_id": web.id }),
            &what,
            &correlation("diagnose"),
        )
        .await?;
    let diagnose_job = text(&job["job"], "id").to_owned();
    client.say(format!("diagnosing {}, job {diagnose_job}", web.name));
    let diagnosis = client.job_succeeded(&diagnose_job, &what).await?;

    let mut final_droplets = Vec::new();
    for droplet in &droplets {
        let what = format!("read droplet {}", droplet.name);
        final_droplets.push(
            client
                .read(&format!("/v1/droplets/{}", droplet.id), &what)
                .await?,
        );
    }
    Ok(Quickstart {
        suffix,
        clusters,
        droplets: final_droplets,
        resize_job,
        power_off_job,
        diagnosis,
    })
}

impl Quickstart {
    /// What it made and where to look at it.
    pub fn summary(&self) -> Summary {
        let mut made = Vec::new();
        for (cluster, (_, region, provider)) in self.clusters.iter().zip(CLUSTERS) {
            made.push(format!(
                "cluster  {} ({region}, {provider})  {}",
                cluster.name, cluster.id
            ));
        }
        for (n, droplet) in self.droplets.iter().enumerate() {
            let resized = match DROPLETS[n] {
                (_, _, _, from, _) if n == RESIZED.0 => format!(" (resized from {from})"),
                _ => String::new(),
            };
            made.push(format!(
                "droplet  {} {} {}{resized} on {} {}  {}",
                text(droplet, "name"),
                text(droplet, "status"),
                text(droplet, "size"),
                text(droplet, "provider"),
                text(droplet, "ip_address"),
                text(droplet, "id"),
            ));
        }
        let result = &self.diagnosis["result"];
        made.push(format!(
            "diagnose {}: health {} ({})  {}",
            self.clusters[0].name,
            result["health_score"],
            text(result, "health_label"),
            text(&self.diagnosis, "id")
        ));
        let web = &self.clusters[0];
        Summary {
            title: format!(
                "quickstart loaded (names end in -{}; events by actor demo)",
                self.suffix
            ),
            made,
            pages: vec![
                ("Dashboard".into(), "/".into()),
                (
                    format!("Cluster {}", web.name),
                    format!("/clusters/{}", web.id),
                ),
                (
                    "Its droplets".into(),
                    format!("/droplets?cluster_id={}", web.id),
                ),
                (
                    "The resize job".into(),
                    format!("/jobs/{}", self.resize_job),
                ),
                (
                    "Its history, to replay".into(),
                    format!("/audit/cluster/{}", web.id),
                ),
                (
                    "Cost by cluster".into(),
                    format!("/providers?cluster={}", web.id),
                ),
            ],
        }
    }
}
