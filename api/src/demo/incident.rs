//! `incident`: a `payments` cluster with two droplets on a healthy provider; then another
//! provider is made to fail every call (`failure_rate` 1) while a droplet is provisioned on
//! it, so its job fails an attempt and schedules a retry; the provider is healed and the
//! job succeeds on a later attempt; finally one droplet is destroyed.
//!
//! Faults belong to the server process (they are not events), so the scene only works
//! against a server that runs the jobs itself (`serve` with workers, the default). Once
//! the fault is injected, the provider is healed whatever happens next (an error, a
//! timeout, Ctrl-C when the client catches it).

use reqwest::Method;
use serde_json::{json, Value};

use super::client::{suffix, text, DemoClient, Step};
use super::error::DemoError;
use super::scene::Summary;

/// Where the cluster and its droplets are (offered by every default provider).
const REGION: &str = "fra1";

/// The provider the cluster and its first droplets run on, never broken.
const HEALTHY: &str = "simcloud";

/// The providers the scene may break, the first with room in [`REGION`] (a full one
/// would make placement fail rather than retry).
const BREAKABLE: [&str; 2] = ["stratus", "nimbus"];

/// Size and image of the droplets on the healthy provider.
const API_DROPLET: (&str, &str) = ("s-1vcpu-2gb", "ubuntu-22-04-x64");

/// Size and image of the droplet provisioned on the broken provider (general purpose:
/// every default provider offers it).
const DB_DROPLET: (&str, &str) = ("s-2vcpu-4gb", "debian-11-x64");

/// What `incident` made.
#[derive(Debug, Clone)]
pub struct Incident {
    /// The suffix of every name (`payments-<suffix>`, …).
    pub suffix: String,
    pub cluster_id: String,
    pub cluster_name: String,
    /// The provider that was broken, then healed.
    pub broken_provider: String,
    /// The two droplets on the healthy provider, then the one on the broken provider, as
    /// they are at the end.
    pub droplets: Vec<Value>,
    /// The provision job that retried, succeeded (`attempts` >= 2).
    pub retried_job: Value,
    /// The `job.retry_scheduled` event it recorded (`attempt`, `error`, `delay_ms`).
    pub retry: Value,
    /// The correlation id of the broken provider's droplet request.
    pub correlation_id: String,
    /// The droplet destroyed at the end, and its job.
    pub destroyed: String,
    pub destroy_job: String,
}

/// Loads the scene through `client`.
pub async fn load(client: &DemoClient) -> Result<Incident, DemoError> {
    let suffix = suffix();
    let correlation = |step: &str| format!("demo-incident-{suffix}-{step}");
    let providers = client.read("/v1/providers", "list the providers").await?;
    let items = providers["items"].as_array().cloned().unwrap_or_default();
    let broken = pick_breakable(&items)?;
    let avoid: Vec<&str> = items
        .iter()
        .map(|p| text(p, "name"))
        .filter(|name| *name != broken)
        .collect();

    let cluster_name = format!("payments-{suffix}");
    let body = json!({ "name": cluster_name, "region": REGION, "provider": HEALTHY });
    let what = format!("create cluster {cluster_name}");
    let cluster = client
        .post("/v1/clusters", &body, &what, &correlation("cluster"))
        .await?;
    let cluster_id = text(&cluster, "id").to_owned();
    client.say(format!(
        "created cluster {cluster_name} ({cluster_id}) in {REGION} on {HEALTHY}"
    ));

    let mut api = Vec::new();
    for n in 1..=2 {
        let name = format!("{cluster_name}-api-{n}");
        let (size, image) = API_DROPLET;
        let body = json!({
            "cluster_id": cluster_id, "name": name, "region": REGION,
            "size": size, "image": image, "provider": HEALTHY,
        });
        let (id, job) = client
            .create_droplet(&name, &body, &correlation(&format!("api-{n}")))
            .await?;
        client.say(format!(
            "requested droplet {name} ({id}) on {HEALTHY}, job {job}"
        ));
        api.push((id, name, job));
    }
    for (id, name, job) in &api {
        client
            .job_succeeded(job, &format!("provision of {name}"))
            .await?;
        client.droplet_is(id, name, "active", None).await?;
        client.say(format!("  {name} is active"));
    }

    let faults = format!("/v1/admin/providers/{broken}/faults");
    let what = format!("break {broken}");
    client
        .command(
            Method::PUT,
            &faults,
            Some(&json!({ "failure_rate": 1.0 })),
            &what,
            &correlation("break"),
        )
        .await?;
    client.say(format!(
        "broke {broken}: every call fails (failure_rate 1.0)"
    ));
    let db_name = format!("{cluster_name}-db-1");
    let db_correlation = correlation("db-1");
    let outcome = tokio::select! {
        outcome = provision_until_retry(client, &cluster_id, &db_name, broken, &avoid, &db_correlation) => outcome,
        () = client.interrupted() => Err(DemoError::Interrupted),
    };
    let healed = client
        .command(
            Method::PUT,
            &faults,
            Some(&json!({})),
            &format!("heal {broken}"),
            &correlation("heal"),
        )
        .await;
    let (db_id, db_job, retry) = match (outcome, healed) {
        (outcome, Err(heal)) => {
            return Err(DemoError::StillFaulted {
                provider: broken.to_owned(),
                heal: Box::new(heal),
                cause: outcome.err().map(Box::new),
            })
        }
        (Err(error), Ok(_)) => {
            client.say(format!("healed {broken}"));
            return Err(error);
        }
        (Ok(provisioning), Ok(_)) => {
            client.say(format!("healed {broken}: its calls succeed again"));
            provisioning
        }
    };
    let retried_job = client
        .job_succeeded(&db_job, &format!("provision of {db_name}"))
        .await?;
    client.droplet_is(&db_id, &db_name, "active", None).await?;
    client.say(format!(
        "  {db_name} is active on {broken} after {} attempts",
        retried_job["attempts"]
    ));

    let (destroyed, destroyed_name, _) = &api[1];
    let what = format!("destroy {destroyed_name}");
    let job = client
        .command(
            Method::DELETE,
            &format!("/v1/droplets/{destroyed}"),
            None,
            &what,
            &correlation("destroy"),
        )
        .await?;
    let destroy_job = text(&job["job"], "id").to_owned();
    client.say(format!("destroying {destroyed_name}, job {destroy_job}"));
    client.job_succeeded(&destroy_job, &what).await?;
    client
        .droplet_is(destroyed, destroyed_name, "destroyed", None)
        .await?;

    let mut droplets = Vec::new();
    for id in api.iter().map(|(id, _, _)| id).chain([&db_id]) {
        let what = format!("read droplet {id}");
        droplets.push(client.read(&format!("/v1/droplets/{id}"), &what).await?);
    }
    Ok(Incident {
        suffix,
        cluster_id,
        cluster_name,
        broken_provider: broken.to_owned(),
        droplets,
        retried_job,
        retry,
        correlation_id: db_correlation,
        destroyed: destroyed.clone(),
        destroy_job,
    })
}

/// The provider to break: the first of [`BREAKABLE`] with room in [`REGION`]. Refuses
/// to start while [`HEALTHY`] has faults injected (its droplets would not come up).
fn pick_breakable(providers: &[Value]) -> Result<&'static str, DemoError> {
    let named = |name: &str| providers.iter().find(|p| text(p, "name") == name);
    if let Some(faults) = named(HEALTHY).map(|p| &p["faults"]).filter(|f| faulty(f)) {
        return Err(DemoError::Precondition(format!(
            "{HEALTHY} has faults injected ({faults}); heal it first (console: Providers, \
             Heal), the scene runs its healthy droplets there"
        )));
    }
    BREAKABLE
        .into_iter()
        .find(|name| {
            named(name).is_some_and(|p| {
                let offers = p["regions"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|r| r == REGION));
                let live = p["usage"]["by_region"][REGION].as_u64().unwrap_or(0);
                let capacity = p["capacity_per_region"].as_u64().unwrap_or(0);
                offers && live < capacity
            })
        })
        .ok_or_else(|| {
            DemoError::Precondition(format!(
                "none of {} has room for another droplet in {REGION}: destroy a few \
                 droplets there first",
                BREAKABLE.join(", ")
            ))
        })
}

/// Whether a provider's `faults` (as `GET /v1/providers` lists them) inject anything.
fn faulty(faults: &Value) -> bool {
    let rate = |field: &str| faults[field].as_f64().unwrap_or(0.0) > 0.0;
    rate("failure_rate") || rate("spike_rate") || faults["outage"] == true
}

/// Requests the droplet `name` on the broken provider (every other one avoided, so
/// placement cannot move it) and waits until its provision job has failed an attempt and
/// scheduled a retry; returns the droplet's id, the job's id and the
/// `job.retry_scheduled` event.
async fn provision_until_retry(
    client: &DemoClient,
    cluster_id: &str,
    name: &str,
    provider: &str,
    avoid: &[&str],
    correlation: &str,
) -> Result<(String, String, Value), DemoError> {
    let (size, image) = DB_DROPLET;
    let body = json!({
        "cluster_id": cluster_id, "name": name, "region": REGION, "size": size,
        "image": image, "provider": provider, "avoid_providers": avoid,
    });
    let (id, job) = client.create_droplet(name, &body, correlation).await?;
    client.say(format!(
        "requested droplet {name} ({id}) on {provider}, job {job}; waiting for a retry…"
    ));
    let stream = format!("/v1/streams/job/{job}");
    let waiting = format!("job {job} (provision of {name}) to schedule a retry");
    let retry = client
        .wait(&waiting, || async {
            let events = client
                .get(&stream, &format!("read the events of job {job}"))
                .await?
                .unwrap_or_default();
            let items = events["items"].as_array().cloned().unwrap_or_default();
            if let Some(retry) = items.iter().find(|e| e["type"] == "job.retry_scheduled") {
                return Ok(Step::Done(retry["data"].clone()));
            }
            let last = items.last().map(|e| text(e, "type")).unwrap_or("no event");
            match last {
                "job.succeeded" => Err(DemoError::Precondition(format!(
                    "job {job} succeeded at its first attempt although {provider} fails every \
                     call: faults apply to the process that answered the fault injection, \
                     so the jobs must run in the server at {} (not in separate workers)",
                    client.base()
                ))),
                "job.failed" | "job.cancelled" | "job.timed_out" => Err(DemoError::JobEnded {
                    what: format!("provision of {name}"),
                    job_id: job.clone(),
                    status: last.trim_start_matches("job.").to_owned(),
                    error: None,
                }),
                last => Ok(Step::NotYet(format!("its last event is {last}"))),
            }
        })
        .await?;
    client.say(format!(
        "  attempt {} failed ({}); retry in {} ms",
        retry["attempt"],
        text(&retry, "error"),
        retry["delay_ms"]
    ));
    Ok((id, job, retry))
}

impl Incident {
    /// What it made and where to look at it.
    pub fn summary(&self) -> Summary {
        let mut made = vec![format!(
            "cluster  {} ({REGION}, {HEALTHY})  {}",
            self.cluster_name, self.cluster_id
        )];
        for droplet in &self.droplets {
            made.push(format!(
                "droplet  {} {} on {}  {}",
                text(droplet, "name"),
                text(droplet, "status"),
                text(droplet, "provider"),
                text(droplet, "id"),
            ));
        }
        made.push(format!(
            "job      provision on {} {} after {} attempts (attempt {} failed: {})  {}",
            self.broken_provider,
            text(&self.retried_job, "status"),
            self.retried_job["attempts"],
            self.retry["attempt"],
            text(&self.retry, "error"),
            text(&self.retried_job, "id"),
        ));
        made.push(format!(
            "provider {} broken (failure_rate 1.0) while it ran, healed since",
            self.broken_provider
        ));
        Summary {
            title: format!(
                "incident loaded (names end in -{}; events by actor demo)",
                self.suffix
            ),
            made,
            pages: vec![
                (
                    "The job that retried".into(),
                    format!("/jobs/{}", text(&self.retried_job, "id")),
                ),
                (
                    "Its droplet's request".into(),
                    format!("/audit?correlation_id={}", self.correlation_id),
                ),
                (
                    format!("Replay {}", self.cluster_name),
                    format!("/audit/cluster/{}", self.cluster_id),
                ),
                (
                    "Providers and its cost".into(),
                    format!("/providers?cluster={}", self.cluster_id),
                ),
                ("Everything the demo did".into(), "/audit?actor=demo".into()),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(name: &str, live: u64, faults: Value) -> Value {
        json!({
            "name": name, "regions": ["fra1", "nyc1"], "capacity_per_region": 2,
            "usage": {"live_droplets": live, "by_region": {"fra1": live}}, "faults": faults,
        })
    }

    #[test]
    fn the_broken_provider_is_the_first_with_room_and_the_healthy_one_must_be_healthy() {
        let none = json!({"failure_rate": 0.0, "spike_rate": 0.0, "spike_ms": 0, "outage": false});
        let all = vec![
            provider("nimbus", 0, none.clone()),
            provider("simcloud", 0, Value::Null),
            provider("stratus", 0, none.clone()),
        ];
        assert_eq!(pick_breakable(&all).unwrap(), "stratus");
        let stratus_full = vec![
            all[0].clone(),
            all[1].clone(),
            provider("stratus", 2, none.clone()),
        ];
        assert_eq!(pick_breakable(&stratus_full).unwrap(), "nimbus");
        let all_full = vec![
            provider("nimbus", 2, none.clone()),
            all[1].clone(),
            stratus_full[2].clone(),
        ];
        let error = pick_breakable(&all_full).unwrap_err().to_string();
        assert!(
            error.contains("none of stratus, nimbus has room"),
            "{error}"
        );
        let outage = json!({"failure_rate": 0.0, "spike_rate": 0.0, "spike_ms": 0, "outage": true});
        let sick = vec![
            all[0].clone(),
            provider("simcloud", 0, outage),
            all[2].clone(),
        ];
        let error = pick_breakable(&sick).unwrap_err().to_string();
        assert!(error.contains("simcloud has faults injected"), "{error}");
    }
}
