//! Scale jobs: `scale_up` adds droplets to the job's own cluster, `scale_down` removes the
//! newest idle ones (`count`, default 1). Both act through droplet commands (each child droplet or destroy gets
//! its own job) and both are safe to repeat: child ids are derived from the job's id.

use serde_json::{json, Value};

use super::operations::Operations;
use super::policy::AttemptError;
use crate::commands::{ActOnDroplet, CommandError, CreateDroplet, DropletAction, Reply};
use crate::domain::{
    catalog, Cluster, ClusterId, Droplet, DropletError, DropletId, DropletName, DropletStatus,
    Image, Job, JobId, Region, Size,
};

impl Operations<'_> {
    /// Adds `parameters.count` (default 1) droplets to the job's own cluster, reporting
    /// "k of n droplets requested" after each but the last. Child ids are derived from the
    /// job id, so a retried attempt does not add them twice.
    pub(super) async fn scale_up(&self, job: &Job) -> Result<Value, CommandError> {
        let cluster_id = job.cluster_id.clone().ok_or(CommandError::NotFound {
            what: "cluster",
            id: String::new(),
        })?;
        let cluster = self.service.load::<Cluster>(cluster_id.as_str()).await?;
        let count = job
            .parameters
            .get("count")
            .and_then(Value::as_u64)
            .unwrap_or(1)
            .clamp(1, 20);
        let param = |key: &str, default: &str| {
            job.parameters
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or(default)
                .to_owned()
        };
        let region = cluster
            .state
            .region
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let job_id = job.id.as_ref().map(ToString::to_string).unwrap_or_default();
        let mut created = Vec::new();
        for index in 0..count {
            let seed = format!("{job_id}/{index}");
            let name = format!(
                "{}-{}",
                cluster.state.name.as_ref().map_or("node", |n| n.as_str()),
                &derived_hex(&seed, "n")[..6]
            );
            let command = CreateDroplet {
                id: DropletId::parse(&format!("dr_{}", derived_hex(&seed, "d")))?,
                job_id: JobId::parse(&format!("job_{}", derived_hex(&seed, "j")))?,
                cluster_id: ClusterId::parse(cluster_id.as_str())?,
                name: DropletName::parse(&name)?,
                region: Region::parse(&param("region", &region))?,
                size: Size::parse(&param("size", catalog::DEFAULT_SIZE))?,
                image: Image::parse(&param("image", catalog::DEFAULT_IMAGE))?,
                provider: None,
                avoid_providers: Vec::new(),
                trace_id: job.trace_id.clone(),
            };
            match self.service.execute(self.ctx, &command).await {
                Ok(reply) => {
                    if let Reply::Fresh { value, .. } = reply {
                        created.push(
                            json!({ "droplet_id": value.droplet.id, "job_id": value.job.id }),
                        );
                    }
                }
                Err(CommandError::Droplet(DropletError::AlreadyExists)) => {
                    created.push(json!({ "droplet_id": command.id, "job_id": command.job_id }));
                }
                Err(error) => return Err(error),
            }
            if index + 1 < count {
                let done = index + 1;
                // From the 10 % of the start to 90 % with the last but one.
                let progress = u8::try_from(10 + 80 * done / count).unwrap_or(90);
                let message = format!("{done} of {count} droplets requested");
                self.report(job, progress, message).await;
            }
        }
        Ok(json!({ "added": created }))
    }

    /// Destroys up to `parameters.count` (default 1) of the newest idle droplets of the
    /// job's own cluster (never another cluster's): the newest `active` or `off` ones with
    /// no job in flight, skipping busy ones (being provisioned, resized, powered, migrated
    /// or destroyed). The destroy jobs' ids are derived from this job's and the droplet's
    /// place in the count, so a retried attempt finds the destroys an earlier attempt
    /// started instead of destroying other droplets. When nothing was removed and running
    /// droplets exist but all are busy, the attempt fails with the retryable kind `busy`
    /// (the runtime tries again after its backoff, when one may be idle); a cluster without
    /// running droplets removes nothing. The result names the first droplet removed
    /// (`removed`, `job_id`) and all of them (`removed_droplets`, `job_ids`).
    pub(super) async fn scale_down(&self, job: &Job) -> Result<Value, AttemptError> {
        let cluster_id = job
            .cluster_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let job_id = job.id.as_ref().map(ToString::to_string).unwrap_or_default();
        let count = job
            .parameters
            .get("count")
            .and_then(Value::as_u64)
            .unwrap_or(1)
            .clamp(1, 20);
        let mut removed = Removed::default();
        let mut open = Vec::new();
        for index in 0..count {
            let child = destroy_child(&job_id, index).map_err(CommandError::from)?;
            let earlier = self.service.load::<Job>(child.as_str()).await?;
            match earlier.state.droplet_id.clone() {
                Some(droplet) if earlier.state.exists() => removed.push(droplet, child),
                _ => open.push(child),
            }
        }
        if open.is_empty() {
            return Ok(removed.result(None));
        }
        let cluster = self.service.load::<Cluster>(&cluster_id).await?;
        let mut busy = Vec::new();
        let mut children = open.into_iter();
        let mut next = children.next();
        // Droplet ids are UUIDv7-based, so the greatest id is the newest droplet.
        for id in cluster.state.droplets.iter().rev() {
            let Some(child) = next.clone() else { break };
            if removed.droplets.contains(id) {
                continue;
            }
            let droplet = self.service.load::<Droplet>(id.as_str()).await?.state;
            match idleness(&droplet) {
                Idleness::Idle => {}
                Idleness::Busy(why) => {
                    busy.push(format!("{id} ({why})"));
                    continue;
                }
                Idleness::NotRunning => continue,
            }
            let mut act = ActOnDroplet::new(
                id.as_str(),
                DropletAction::Destroy,
                job.trace_id.clone(),
                None,
            );
            act.job_id = child.clone();
            match self.service.execute(self.ctx, &act).await {
                Ok(_) => {
                    removed.push(id.clone(), child);
                    next = children.next();
                }
                // Another job took it since it was loaded: try the next one.
                Err(CommandError::Droplet(
                    DropletError::Busy { .. }
                    | DropletError::InvalidTransition { .. }
                    | DropletError::AlreadyDestroyed,
                )) => busy.push(format!("{id} (taken by another job)")),
                Err(error) => return Err(error.into()),
            }
        }
        if !removed.droplets.is_empty() || busy.is_empty() {
            let reason = if removed.droplets.is_empty() && cluster.state.droplets.is_empty() {
                Some("the cluster has no droplets")
            } else if removed.droplets.is_empty() {
                Some("the cluster has no running droplets")
            } else {
                None
            };
            return Ok(removed.result(reason));
        }
        Err(AttemptError {
            kind: "busy",
            retryable: true,
            message: format!(
                "no droplet of cluster {cluster_id} can be removed now: every running one is busy: {}",
                busy.join(", ")
            ),
        })
    }
}

/// The droplets a scale-down removed and their destroy jobs.
#[derive(Default)]
struct Removed {
    droplets: Vec<DropletId>,
    jobs: Vec<JobId>,
}

impl Removed {
    fn push(&mut self, droplet: DropletId, job: JobId) {
        self.droplets.push(droplet);
        self.jobs.push(job);
    }

    fn result(&self, reason: Option<&str>) -> Value {
        let mut result = json!({
            "removed": self.droplets.first(),
            "job_id": self.jobs.first(),
            "removed_droplets": self.droplets,
            "job_ids": self.jobs,
        });
        if let Some(reason) = reason {
            result["reason"] = json!(reason);
        }
        result
    }
}

/// The destroy job of the `index`th droplet a scale-down removes (the first keeps the id
/// scale-downs of one droplet always had).
fn destroy_child(job_id: &str, index: u64) -> Result<JobId, crate::domain::ValidationError> {
    let seed = match index {
        0 => job_id.to_owned(),
        n => format!("{job_id}/{n}"),
    };
    JobId::parse(&format!("job_{}", derived_hex(&seed, "destroy")))
}

/// Whether scale-down may destroy a droplet now.
enum Idleness {
    /// Running (`active` or `off`) with no job in flight.
    Idle,
    /// Running or being provisioned, with a job in flight (why).
    Busy(String),
    /// Failed or destroyed (or being destroyed after failing): not a running droplet.
    NotRunning,
}

fn idleness(droplet: &Droplet) -> Idleness {
    match (droplet.status, &droplet.pending_job) {
        (DropletStatus::Failed | DropletStatus::Destroyed, _) => Idleness::NotRunning,
        (DropletStatus::Active | DropletStatus::Off, None) => Idleness::Idle,
        (status, Some(job)) => Idleness::Busy(format!("{status} with job {job}")),
        (status, None) => Idleness::Busy(status.to_string()),
    }
}

/// 32 hex digits derived from `seed` and a salt, starting with the 12 timestamp digits of
/// the job's own (UUIDv7-based) id: stable across retries, and ordered like ids made by
/// `new()` (so "the greatest id is the newest droplet" holds for these too).
fn derived_hex(seed: &str, salt: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = hex::encode(&Sha256::digest(format!("{salt}:{seed}").as_bytes())[..16]);
    let job_hex = seed.strip_prefix("job_").unwrap_or(seed);
    match job_hex
        .get(..12)
        .filter(|t| t.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        Some(timestamp) => format!("{timestamp}{}", &digest[12..]),
        None => digest,
    }
}
