//! The [`Autoscaler`]: rounds over every cluster with an enabled policy (scheduled, only
//! in the process holding the lease [`LEASE`]), or one cluster on demand.
//!
//! A round reads in a fixed number of statements (policies, droplets, running scale jobs
//! from the read models; the metric windows from the metrics table; the last acting
//! decisions come with the policies), decides every cluster with the pure
//! [`evaluate`](super::evaluate::evaluate), runs [`RecordAutoscalingDecision`] for the
//! acting ones only, and records the round's history in a few statements. The statements
//! of the last round are counted ([`Autoscaler::last_round_statements`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::directory::{AutoscalingDirectory, ClusterDroplets, DirectoryError, PolicyRow};
use super::evaluate::{evaluate, Decision, Inputs, MetricWindow};
use super::store::{
    AutoscalingDecisionView, AutoscalingStore, AutoscalingStoreError, DecisionRecord, WindowRequest,
};
use crate::commands::{CommandContext, CommandError, CommandService, RecordAutoscalingDecision};
use crate::domain::autoscaler::{AutoscalingDecided, DecisionCode, ScaleDecision, Trigger};
use crate::domain::{AutoscalerError as DomainError, ClusterError, ClusterId, JobId};
use crate::provider::{BilledAs, Providers};
use crate::store::EventStore;

/// The store lease a scheduled round needs.
pub const LEASE: &str = "autoscaler";

/// The lease a scheduled round needs: one process at a time runs rounds.
#[async_trait::async_trait]
pub trait RoundLease: Send + Sync {
    /// Takes or renews the lease for `ttl`; `false` while another process holds it.
    async fn hold(&self, ttl: Duration) -> Result<bool, crate::store::StoreError>;

    /// Gives the lease up.
    async fn release(&self);
}

/// The store lease [`LEASE`] held as `holder` (the database's clock decides expiry).
pub struct StoreLease {
    pub store: Arc<dyn EventStore>,
    pub holder: String,
}

#[async_trait::async_trait]
impl RoundLease for StoreLease {
    async fn hold(&self, ttl: Duration) -> Result<bool, crate::store::StoreError> {
        self.store.acquire_lease(LEASE, &self.holder, ttl).await
    }

    async fn release(&self) {
        if let Err(error) = self.store.release_lease(LEASE, &self.holder).await {
            tracing::debug!(%error, "autoscaler: releasing the lease failed");
        }
    }
}

/// What can stop a round.
#[derive(Debug, thiserror::Error)]
pub enum AutoscalerError {
    /// The read models failed.
    #[error("reading policies, droplets or jobs failed")]
    Directory(#[source] DirectoryError),
    /// The history or the metric windows failed.
    #[error("the autoscaling history failed")]
    Store(#[from] AutoscalingStoreError),
    /// Recording an acting decision failed.
    #[error("recording the decision failed")]
    Command(#[from] CommandError),
    /// A manual evaluation of a cluster without a policy.
    #[error("cluster {0} has no auto-scaling policy")]
    NoPolicy(ClusterId),
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoundReport {
    /// Clusters evaluated.
    pub clusters: usize,
    /// Acting decisions (scale jobs started).
    pub acting: usize,
    /// Statements read and written (commands of acting decisions not included).
    pub statements: u64,
    /// The decisions as recorded.
    pub decisions: Vec<AutoscalingDecisionView>,
}

/// Called with every decision recorded (the API counts them for Prometheus).
pub type Observer = Arc<dyn Fn(&AutoscalingDecisionView) + Send + Sync>;

/// Evaluates auto-scaling policies.
#[derive(Clone)]
pub struct Autoscaler {
    directory: Arc<dyn AutoscalingDirectory>,
    store: Arc<dyn AutoscalingStore>,
    commands: CommandService,
    providers: Arc<Providers>,
    observer: Option<Observer>,
    last_statements: Arc<AtomicU64>,
}

/// A decision about to be recorded, and the job and event it started.
struct Decided {
    row: PolicyRow,
    decision: Decision,
    job_id: Option<String>,
    event_position: Option<i64>,
}

impl Autoscaler {
    /// An autoscaler over the read models, the history and the providers' prices.
    pub fn new(
        directory: Arc<dyn AutoscalingDirectory>,
        store: Arc<dyn AutoscalingStore>,
        commands: CommandService,
        providers: Arc<Providers>,
    ) -> Self {
        Self {
            directory,
            store,
            commands,
            providers,
            observer: None,
            last_statements: Arc::default(),
        }
    }

    /// Calls `observer` with every decision recorded.
    pub fn with_observer(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The statements the last round ran.
    pub fn last_round_statements(&self) -> u64 {
        self.last_statements.load(Ordering::Relaxed)
    }

    /// The history.
    pub fn store(&self) -> &Arc<dyn AutoscalingStore> {
        &self.store
    }

    /// One round over every cluster with an enabled policy, at `now`; its acting
    /// decisions share one correlation id (actor `autoscaler`).
    pub async fn run_once(
        &self,
        now: DateTime<Utc>,
        trigger: Trigger,
    ) -> Result<RoundReport, AutoscalerError> {
        let ctx = CommandContext::new("autoscaler");
        self.round(None, now, trigger, &ctx).await
    }

    /// Evaluates one cluster at `now` (a manual evaluation: its policy applies even when
    /// disabled, which decides `none`), acting and recording as a round does; an acting
    /// decision is appended under `ctx` (the request's actor, correlation and trace).
    pub async fn evaluate_cluster(
        &self,
        id: &ClusterId,
        now: DateTime<Utc>,
        ctx: &CommandContext,
    ) -> Result<AutoscalingDecisionView, AutoscalerError> {
        let report = self.round(Some(id), now, Trigger::Manual, ctx).await?;
        report
            .decisions
            .into_iter()
            .next()
            .ok_or_else(|| AutoscalerError::NoPolicy(id.clone()))
    }

    async fn round(
        &self,
        cluster: Option<&ClusterId>,
        now: DateTime<Utc>,
        trigger: Trigger,
        ctx: &CommandContext,
    ) -> Result<RoundReport, AutoscalerError> {
        let directory = |e| AutoscalerError::Directory(e);
        let policies = self.directory.policies(cluster).await.map_err(directory)?;
        let mut statements = 1;
        if policies.is_empty() {
            self.last_statements.store(statements, Ordering::Relaxed);
            return Ok(RoundReport {
                statements,
                ..RoundReport::default()
            });
        }
        let droplets = self.droplets(cluster).await?;
        let jobs: BTreeMap<ClusterId, String> = self
            .directory
            .scale_jobs(cluster)
            .await
            .map_err(directory)?
            .into_iter()
            .collect();
        let metrics = self.metric_windows(&policies, now).await?;
        statements += 3;
        let mut decided = Vec::with_capacity(policies.len());
        for row in policies {
            let inputs = self.inputs(&row, &droplets, &jobs, &metrics);
            let decision = evaluate(&row.policy, &inputs, now);
            let id = row.cluster_id.clone();
            match self.act(row, decision, now, trigger, ctx).await {
                Ok(Some(d)) => decided.push(d),
                Ok(None) => {}
                // One cluster's failure does not hold the round's others back.
                Err(e) if cluster.is_none() => {
                    let error = crate::error_chain(&e);
                    tracing::warn!(cluster = %id, %error, "autoscaler: acting failed");
                }
                Err(e) => return Err(e),
            }
        }
        let acting = decided.iter().filter(|d| d.job_id.is_some()).count();
        let records: Vec<DecisionRecord> =
            decided.iter().map(|d| record(d, now, trigger)).collect();
        let recorded = self.store.record(&records).await?;
        statements += recorded.statements;
        self.last_statements.store(statements, Ordering::Relaxed);
        if let Some(observer) = &self.observer {
            recorded.rows.iter().for_each(|row| observer(row));
        }
        Ok(RoundReport {
            clusters: records.len(),
            acting,
            statements,
            decisions: recorded.rows,
        })
    }

    /// The droplets of the round's clusters, counted and priced.
    async fn droplets(
        &self,
        cluster: Option<&ClusterId>,
    ) -> Result<BTreeMap<ClusterId, ClusterDroplets>, AutoscalerError> {
        let rows = self
            .directory
            .droplets(cluster)
            .await
            .map_err(AutoscalerError::Directory)?;
        let mut by_cluster: BTreeMap<ClusterId, ClusterDroplets> = BTreeMap::new();
        for row in rows {
            let entry = by_cluster.entry(row.cluster_id).or_default();
            match row.pending {
                true => entry.pending += 1,
                false => entry.live += 1,
            }
            if let Some(hourly) = row.billed.and_then(|b| b.hourly(&self.providers)) {
                entry.hourly_cost += hourly;
            }
        }
        Ok(by_cluster)
    }

    /// The metric windows of the metric-driven policies, in one statement.
    async fn metric_windows(
        &self,
        policies: &[PolicyRow],
        now: DateTime<Utc>,
    ) -> Result<BTreeMap<ClusterId, MetricWindow>, AutoscalerError> {
        let requests: Vec<WindowRequest> = policies
            .iter()
            .filter(|row| row.policy.policy_type.uses_metric())
            .filter_map(|row| {
                let window = row.policy.evaluation_window_seconds?;
                Some(WindowRequest {
                    cluster_id: row.cluster_id.clone(),
                    metric_type: row.policy.metric_type?,
                    since: now - chrono::Duration::seconds(i64::from(window)),
                })
            })
            .collect();
        let found = self.store.metric_windows(&requests).await?;
        Ok(found
            .into_iter()
            .map(|m| {
                let window = MetricWindow {
                    average: m.average,
                    samples: m.samples,
                };
                (m.cluster_id, window)
            })
            .collect())
    }

    fn inputs(
        &self,
        row: &PolicyRow,
        droplets: &BTreeMap<ClusterId, ClusterDroplets>,
        jobs: &BTreeMap<ClusterId, String>,
        metrics: &BTreeMap<ClusterId, MetricWindow>,
    ) -> Inputs {
        let counted = droplets.get(&row.cluster_id).cloned().unwrap_or_default();
        Inputs {
            droplets: counted.live,
            pending_droplets: counted.pending,
            metric: metrics.get(&row.cluster_id).copied(),
            hourly_cost: counted.hourly_cost,
            droplet_hourly_cost: self.one_more(row),
            last_acting_at: row.last_acting_at,
            running_job: jobs.get(&row.cluster_id).cloned(),
            deployment_running: row.deployment_running,
        }
    }

    /// USD per hour of one more droplet of the cluster (its provider, else the region's
    /// default one; the size a scale-up adds, [`DEFAULT_SIZE`](crate::domain::catalog::DEFAULT_SIZE)).
    fn one_more(&self, row: &PolicyRow) -> f64 {
        let provider = row.provider.clone().unwrap_or_else(|| {
            crate::domain::catalog::default_provider_for(&row.region)
                .name
                .to_owned()
        });
        let billed = BilledAs {
            provider,
            region: row.region.clone(),
            size: crate::domain::catalog::DEFAULT_SIZE.to_owned(),
        };
        billed.hourly(&self.providers).unwrap_or(0.0)
    }

    /// Runs the command of an acting decision; a decision the command refuses (the
    /// cooldown, the last decision's job still running or a deployment started, which the
    /// read models may not show yet) is recorded as `none` with that reason.
    async fn act(
        &self,
        row: PolicyRow,
        decision: Decision,
        now: DateTime<Utc>,
        trigger: Trigger,
        ctx: &CommandContext,
    ) -> Result<Option<Decided>, AutoscalerError> {
        if !decision.decision.acts() {
            return Ok(Some(Decided {
                row,
                decision,
                job_id: None,
                event_position: None,
            }));
        }
        let decided = AutoscalingDecided {
            decision: decision.decision,
            count: decision.count,
            code: decision.code,
            reason: decision.reason.clone(),
            inputs: decision.inputs.clone(),
            job_id: JobId::new(),
            trigger,
            decided_at: now,
        };
        let job_id = decided.job_id.to_string();
        let command = RecordAutoscalingDecision::new(
            row.cluster_id.clone(),
            decided,
            row.policy.cooldown_seconds,
            ctx.trace_id(),
        );
        let outcome = self.commands.execute(&command.context(ctx), &command).await;
        match outcome {
            Ok(reply) => Ok(Some(Decided {
                row,
                decision,
                job_id: Some(job_id),
                event_position: Some(reply.position()),
            })),
            // Deleted since the read: nothing to decide.
            Err(CommandError::NotFound { .. }) => Ok(None),
            Err(error) => match refused(&error) {
                Some(code) => Ok(Some(Decided {
                    row,
                    decision: Decision {
                        decision: ScaleDecision::None,
                        count: 0,
                        code,
                        reason: error.to_string(),
                        inputs: decision.inputs,
                    },
                    job_id: None,
                    event_position: None,
                })),
                None => Err(error.into()),
            },
        }
    }

    /// Runs a round every `interval` while this process holds `lease` (the store lease
    /// [`LEASE`], see [`StoreLease`]), until `stop` turns true; a failed round is logged
    /// and the next one runs on time. The lease is taken for three intervals at each tick
    /// at which some cluster has a policy, and given up at the end.
    pub async fn run(
        self,
        interval: Duration,
        lease: Arc<dyn RoundLease>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                break;
            }
            // Nothing to evaluate: no lease taken, nothing written (an idle server
            // writes nothing).
            match self.directory.any_policy().await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(error) => {
                    tracing::warn!(error = %crate::error_chain(&*error), "autoscaler: the policies could not be read");
                    continue;
                }
            }
            match lease.hold(interval * 3).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(error) => {
                    tracing::warn!(%error, "autoscaler: the lease could not be taken");
                    continue;
                }
            }
            match self.run_once(Utc::now(), Trigger::Schedule).await {
                Ok(report) if report.acting > 0 => {
                    tracing::info!(
                        acting = report.acting,
                        clusters = report.clusters,
                        "autoscaler round"
                    );
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %crate::error_chain(&e), "autoscaler round failed");
                }
            }
        }
        lease.release().await;
    }
}

/// The code of a decision the command refused for a reason the history shows.
fn refused(error: &CommandError) -> Option<DecisionCode> {
    match error {
        CommandError::Autoscaler(DomainError::Cooldown { .. }) => Some(DecisionCode::Cooldown),
        CommandError::ScaleJobRunning(_) => Some(DecisionCode::ScaleJobRunning),
        CommandError::Cluster(ClusterError::DeploymentRunning { .. }) => {
            Some(DecisionCode::DeploymentRunning)
        }
        _ => None,
    }
}

fn record(d: &Decided, now: DateTime<Utc>, trigger: Trigger) -> DecisionRecord {
    DecisionRecord {
        cluster_id: d.row.cluster_id.clone(),
        at: now,
        trigger,
        decision: d.decision.decision,
        count: d.decision.count,
        code: d.decision.code,
        reason: d.decision.reason.clone(),
        inputs: d.decision.inputs.clone(),
        job_id: d.job_id.clone(),
        event_position: d.event_position,
    }
}
