//! The jobs of a deployment: a step puts the new version on its droplets through their
//! providers (blue-green: creates the new set first, or retires the old one), a gate
//! waits its window and judges the step's droplets, a rollback puts the previous version
//! back (blue-green: destroys the new set). Every one is safe to repeat in a later
//! attempt: droplets already at the version are skipped, derived ids find the droplets
//! and destroy jobs an earlier attempt made.
//!
//! A step stops at the next droplet once its deployment rolls back, and a rollback first
//! waits for the stopped step job to end, so the two never race on a droplet.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use serde_json::{json, Value};

use super::operations::Operations;
use super::policy::AttemptError;
use crate::commands::deployments::derived_hex;
use crate::commands::{
    ActOnDroplet, CommandError, CreateDroplet, DropletAction, SetDropletVersion,
};
use crate::deploy::{gate, judge, GateInput, GateSample};
use crate::domain::deployment::{Step, StepStatus};
use crate::domain::{
    AppVersion, Cluster, Deployment, DeploymentId, Droplet, DropletError, DropletId, DropletName,
    DropletStatus, Job, JobId, StepKind, Strategy,
};

/// How often a job waiting on droplets or on another job looks again.
const POLL: Duration = Duration::from_millis(50);

impl Operations<'_> {
    /// Loads the job's deployment.
    async fn deployment_of(&self, job: &Job) -> Result<Deployment, AttemptError> {
        let id = job
            .parameters
            .get("deployment_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        Ok(self.service.load::<Deployment>(id).await?.state)
    }

    /// One step of a deployment.
    pub(super) async fn deploy_step(&self, job: &Job) -> Result<Value, AttemptError> {
        let deployment = self.deployment_of(job).await?;
        let step = current(&deployment, job)?.clone();
        let done = match step.kind {
            StepKind::Batch | StepKind::Canary | StepKind::Rest => {
                self.set_versions(
                    job,
                    &deployment,
                    &step.droplet_ids,
                    deployment.version.clone(),
                    true,
                )
                .await?
            }
            StepKind::Green => self.green(job, &deployment, &step).await?,
            StepKind::Retire => {
                self.destroy_all(job, &deployment, &step.droplet_ids, "retire")
                    .await?
            }
            StepKind::Switch | StepKind::Rollback => 0,
        };
        Ok(json!({ "step": step.index, "kind": step.kind.as_str(), "droplets": done }))
    }

    /// The gate after a step: waits its window from the step's end (a retried or resumed
    /// attempt only waits what is left), then judges the step's droplets.
    pub(super) async fn deploy_gate(&self, job: &Job) -> Result<Value, AttemptError> {
        let deployment = self.deployment_of(job).await?;
        let job_id = job.id.as_ref();
        let after = match &deployment.gate_job {
            Some((after, gate_job)) if Some(gate_job) == job_id && moves(&deployment) => *after,
            _ => return Err(superseded()),
        };
        let gate = deployment.health_gate.ok_or_else(superseded)?;
        let step = deployment.step(after).ok_or_else(superseded)?.clone();
        let window = self
            .providers
            .speed()
            .scale(u64::from(gate.window_seconds) * 1000);
        let from = step.completed_at.unwrap_or_else(Utc::now);
        tokio::time::sleep(gate_wait_left(from, window, Utc::now())).await;
        self.report(
            job,
            60,
            format!("judging {} droplet(s)", step.droplet_ids.len()),
        )
        .await;
        let cluster_id = deployment.cluster_id.clone().ok_or_else(superseded)?;
        let monitoring = self.providers.monitoring();
        let now = Utc::now();
        let mut droplets = Vec::new();
        for id in &step.droplet_ids {
            let droplet = self.service.load::<Droplet>(id.as_str()).await?.state;
            let average = match &monitoring {
                Some(store) => gate::average(&**store, &cluster_id, id, &gate, now)
                    .await
                    .map_err(|e| AttemptError {
                        kind: "store",
                        retryable: true,
                        message: format!("reading the gate's metrics: {e}"),
                    })?,
                None => None,
            };
            droplets.push(GateSample {
                droplet_id: id.clone(),
                status: droplet.status,
                average,
            });
        }
        let verdict = judge(&GateInput {
            after_step: after,
            gate,
            droplets,
            at: now,
        });
        Ok(json!({ "verdict": verdict }))
    }

    /// The rollback: waits for the stopped step job to end, then puts the previous
    /// version back on every touched droplet (blue-green: destroys the new set).
    pub(super) async fn deploy_rollback(&self, job: &Job) -> Result<Value, AttemptError> {
        let deployment = self.deployment_of(job).await?;
        let rollback = deployment.rollback_step().cloned().ok_or_else(superseded)?;
        if rollback.job_id.as_ref() != job.id.as_ref() || !deployment.is_running() {
            return Err(superseded());
        }
        for step in deployment
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::Failed)
        {
            if let Some(stopped) = &step.job_id {
                self.wait_for_end(job, stopped).await?;
            }
        }
        let reverted = match deployment.strategy {
            Some(Strategy::BlueGreen) => {
                self.destroy_all(job, &deployment, &rollback.droplet_ids, "rollback")
                    .await?
            }
            _ => {
                let previous = deployment.previous_version.clone();
                self.set_versions(job, &deployment, &rollback.droplet_ids, previous, false)
                    .await?
            }
        };
        Ok(json!({ "reverted": reverted }))
    }

    /// Puts `version` on each of `droplets` still live, one after the other: first at
    /// its provider, then in the log. With `guard`, stops as soon as the deployment rolls
    /// back. Answers how many droplets changed.
    async fn set_versions(
        &self,
        job: &Job,
        deployment: &Deployment,
        droplets: &[DropletId],
        version: Option<AppVersion>,
        guard: bool,
    ) -> Result<usize, AttemptError> {
        let deployment_id = deployment.id.clone().ok_or_else(superseded)?;
        let label = version
            .as_ref()
            .map_or("no version".to_owned(), ToString::to_string);
        let mut changed = 0;
        for (n, id) in droplets.iter().enumerate() {
            if guard {
                let now = self
                    .service
                    .load::<Deployment>(deployment_id.as_str())
                    .await?
                    .state;
                if !moves(&now) {
                    return Err(superseded());
                }
            }
            let droplet = self.service.load::<Droplet>(id.as_str()).await?.state;
            if !droplet.is_live() || droplet.app_version == version {
                continue;
            }
            let (provider, resource_id) = self.instance(&droplet)?;
            provider
                .deploy(&resource_id, version.as_ref().map(AppVersion::as_str))
                .await?;
            let set = SetDropletVersion {
                droplet_id: id.to_string(),
                app_version: version.clone(),
                deployment_id: deployment_id.clone(),
            };
            self.service.execute(self.ctx, &set).await?;
            changed += 1;
            let progress = u8::try_from(10 + 80 * (n + 1) / droplets.len().max(1)).unwrap_or(90);
            let message = format!("{} of {} droplets at {label}", n + 1, droplets.len());
            self.report(job, progress, message).await;
        }
        Ok(changed)
    }

    /// Blue-green's new set: creates one droplet per old one (like the old set's first:
    /// region, size, image), waits until each runs, then puts the new version on them.
    async fn green(
        &self,
        job: &Job,
        deployment: &Deployment,
        step: &Step,
    ) -> Result<usize, AttemptError> {
        let template = deployment
            .steps
            .iter()
            .find(|s| s.kind == StepKind::Retire)
            .and_then(|s| s.droplet_ids.first())
            .ok_or_else(superseded)?;
        let template = self.service.load::<Droplet>(template.as_str()).await?.state;
        let cluster_id = deployment.cluster_id.clone().ok_or_else(superseded)?;
        let cluster = self
            .service
            .load::<Cluster>(cluster_id.as_str())
            .await?
            .state;
        let base: String = cluster.name.as_ref().map_or("green".to_owned(), |n| {
            n.as_str().chars().take(50).collect()
        });
        let (Some(region), Some(size), Some(image)) =
            (template.region, template.size, template.image)
        else {
            return Err(AttemptError::permanent(
                "invalid",
                "the old droplets lack a region or size",
            ));
        };
        let deployment_id = deployment.id.clone().ok_or_else(superseded)?;
        for id in &step.droplet_ids {
            let hex = &id.as_str()[id.as_str().len() - 6..];
            let create = CreateDroplet {
                id: id.clone(),
                job_id: JobId::parse(&format!("job_{}", derived_hex(id.as_str(), "provision")))
                    .map_err(CommandError::from)?,
                cluster_id: cluster_id.clone(),
                name: DropletName::parse(&format!("{base}-g{hex}")).map_err(CommandError::from)?,
                region,
                size,
                image,
                provider: None,
                avoid_providers: Vec::new(),
                trace_id: job.trace_id.clone(),
            };
            match self.service.execute(self.ctx, &create).await {
                Ok(_) | Err(CommandError::Droplet(DropletError::AlreadyExists)) => {}
                Err(error) => return Err(error.into()),
            }
        }
        self.report(
            job,
            30,
            format!("{} new droplet(s) requested", step.droplet_ids.len()),
        )
        .await;
        for id in &step.droplet_ids {
            loop {
                guard_moves(self, &deployment_id).await?;
                let droplet = self.service.load::<Droplet>(id.as_str()).await?.state;
                match droplet.status {
                    DropletStatus::Active => break,
                    DropletStatus::Provisioning => tokio::time::sleep(POLL).await,
                    other => {
                        return Err(AttemptError::permanent(
                            "conflict",
                            format!("new droplet {id} is {other}, not active"),
                        ))
                    }
                }
            }
        }
        self.set_versions(
            job,
            deployment,
            &step.droplet_ids,
            deployment.version.clone(),
            true,
        )
        .await
    }

    /// Destroys each of `droplets` still live (destroy jobs with ids derived from the
    /// droplet and `purpose`, so a repeat finds them) and waits until each is gone.
    async fn destroy_all(
        &self,
        job: &Job,
        deployment: &Deployment,
        droplets: &[DropletId],
        purpose: &str,
    ) -> Result<usize, AttemptError> {
        let deployment_id = deployment.id.clone().ok_or_else(superseded)?;
        let mut destroyed = 0;
        for id in droplets {
            let mut act = ActOnDroplet::new(
                id.as_str(),
                DropletAction::Destroy,
                job.trace_id.clone(),
                None,
            );
            let seed = format!("{purpose}/{deployment_id}");
            act.job_id = JobId::parse(&format!("job_{}", derived_hex(id.as_str(), &seed)))
                .map_err(CommandError::from)?;
            loop {
                let droplet = self.service.load::<Droplet>(id.as_str()).await?.state;
                if !droplet.is_live() {
                    break;
                }
                match self.service.execute(self.ctx, &act).await {
                    Ok(_) | Err(CommandError::Droplet(DropletError::AlreadyDestroyed)) => {}
                    Err(CommandError::Droplet(DropletError::Busy { job_id }))
                        if job_id == act.job_id => {}
                    // Another job works on it (a new droplet still being provisioned):
                    // destroy it once that job is done.
                    Err(CommandError::Droplet(DropletError::Busy { .. })) => {
                        tokio::time::sleep(POLL).await;
                        continue;
                    }
                    Err(error) => return Err(error.into()),
                }
                destroyed += 1;
                break;
            }
        }
        for id in droplets {
            loop {
                let droplet = self.service.load::<Droplet>(id.as_str()).await?.state;
                match (droplet.status, &droplet.pending_job) {
                    (DropletStatus::Destroyed, _) => break,
                    (_, None) => {
                        return Err(AttemptError {
                            kind: "conflict",
                            retryable: true,
                            message: format!(
                                "droplet {id} was not destroyed: {}",
                                droplet.last_error.unwrap_or_default()
                            ),
                        })
                    }
                    _ => tokio::time::sleep(POLL).await,
                }
            }
        }
        self.report(job, 90, format!("{destroyed} droplet(s) destroyed"))
            .await;
        Ok(destroyed)
    }

    /// Waits until job `other` has ended (it was asked to stop).
    async fn wait_for_end(&self, job: &Job, other: &JobId) -> Result<(), AttemptError> {
        let mut reported = false;
        loop {
            let state = self.service.load::<Job>(other.as_str()).await?.state;
            if !state.exists() || state.status.is_terminal() {
                return Ok(());
            }
            if !reported {
                self.report(job, 15, format!("waiting for job {other} to stop"))
                    .await;
                reported = true;
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// What is left at `now` of a gate's wait of `window` from its step's end `step_done`: the
/// whole window for a fresh attempt, the rest for an attempt that resumes after a restart
/// or a retry (the step's end is in the log), nothing once it is over.
pub fn gate_wait_left(
    step_done: chrono::DateTime<Utc>,
    window: Duration,
    now: chrono::DateTime<Utc>,
) -> Duration {
    let due = step_done + TimeDelta::from_std(window).unwrap_or(TimeDelta::zero());
    (due - now).to_std().unwrap_or(Duration::ZERO)
}

/// Whether the deployment may still move forward (running, not rolling back).
fn moves(deployment: &Deployment) -> bool {
    deployment.is_running() && !deployment.rolling_back
}

async fn guard_moves(ops: &Operations<'_>, id: &DeploymentId) -> Result<(), AttemptError> {
    let now = ops.service.load::<Deployment>(id.as_str()).await?.state;
    if moves(&now) {
        Ok(())
    } else {
        Err(superseded())
    }
}

/// The running step `job` does.
fn current<'a>(deployment: &'a Deployment, job: &Job) -> Result<&'a Step, AttemptError> {
    match deployment.running_step() {
        Some(step) if step.job_id.as_ref() == job.id.as_ref() && moves(deployment) => Ok(step),
        _ => Err(superseded()),
    }
}

fn superseded() -> AttemptError {
    AttemptError::permanent(
        "superseded",
        "the deployment moved on (rolled back or ended) without this job",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_resumed_gate_waits_only_what_is_left_of_its_window() {
        let step_done = chrono::DateTime::<Utc>::UNIX_EPOCH;
        let window = Duration::from_secs(30);
        assert_eq!(gate_wait_left(step_done, window, step_done), window);
        // An attempt taken up 20 s later (its worker died) waits the last 10 s.
        let resumed = step_done + TimeDelta::seconds(20);
        let left = gate_wait_left(step_done, window, resumed);
        assert_eq!(left, Duration::from_secs(10));
        let started = tokio::time::Instant::now();
        tokio::time::sleep(left).await;
        assert_eq!(started.elapsed(), Duration::from_secs(10));
        let late = step_done + TimeDelta::seconds(45);
        assert_eq!(gate_wait_left(step_done, window, late), Duration::ZERO);
    }
}
