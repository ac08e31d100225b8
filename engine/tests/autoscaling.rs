//! Auto-scaling against PostgreSQL and SQLite: the policy and decision commands, the
//! decision history and metric windows of the store, and rounds of the [`Autoscaler`]
//! (over an in-memory directory standing in for the read models, with the test playing
//! the job runtime): a load ramp scales out to the maximum and back in only after the
//! cooldown, an oscillating load does not flap, the cost cap holds, the statements of a
//! round do not grow with the clusters, and only the lease holder runs scheduled rounds.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use engine::autoscaling::directory::{DirectoryError, DropletRow, PolicyRow};
use engine::autoscaling::store::{MetricAverage, WindowRequest};
use engine::autoscaling::{
    connect_autoscaling, Autoscaler, AutoscalingDirectory, AutoscalingStore, DecisionRecord,
    RoundLease, StoreLease,
};
use engine::commands::{
    CancelJob, CommandContext, CommandError, CommandErrorKind, CommandService, CreateCluster,
    RecordAutoscalingDecision, RemoveAutoscalingPolicy, SetAutoscalingPolicy,
};
use engine::domain::autoscaler::{
    AutoscalingDecided, DecisionCode, DecisionInputs, ScaleDecision, Trigger,
};
use engine::domain::cluster::{AutoscalingPolicy, PolicyInput};
use engine::domain::{ClusterId, JobId, MetricType};
use engine::metrics::{connect_metrics, MetricSample};
use engine::provider::{BilledAs, Providers, SimSpeed};
use engine::store::{EventFilter, EventStore};
use test_support::{on_both_backends, Backend, ScratchDb};

/// A migrated store and the scratch database's URL (the history shares it).
pub struct Fixture {
    store: Arc<dyn EventStore>,
    db: ScratchDb,
}

impl test_support::Fixture for Fixture {
    type Arg<'a> = &'a Fixture;

    async fn open(backend: Backend) -> Self {
        let db = ScratchDb::new(backend).await;
        let store = engine::store::connect(db.url(), 8).await.expect("store");
        store.migrate().await.expect("migrate");
        Self { store, db }
    }

    fn arg(&self) -> &Fixture {
        self
    }
}

impl Fixture {
    async fn history(&self) -> Arc<dyn AutoscalingStore> {
        connect_autoscaling(self.db.url(), 4)
            .await
            .expect("history")
    }

    fn commands(&self) -> CommandService {
        CommandService::new(Arc::clone(&self.store))
    }
}

fn ctx() -> CommandContext {
    CommandContext::new("tester")
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

async fn cluster(commands: &CommandService, name: &str) -> ClusterId {
    let command = CreateCluster::parse(name, "nyc1", None).expect("valid cluster");
    let id = command.id.clone();
    commands.execute(&ctx(), &command).await.expect("created");
    id
}

fn metrics_input(min: i64, max: i64, cooldown: i64) -> PolicyInput {
    PolicyInput {
        policy_type: Some("metrics".into()),
        min_droplets: Some(min),
        max_droplets: Some(max),
        cooldown_seconds: Some(cooldown),
        metric_type: Some("cpu".into()),
        scale_up_threshold: Some(80.0),
        scale_down_threshold: Some(30.0),
        evaluation_window_seconds: Some(60),
        ..PolicyInput::default()
    }
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

on_both_backends!(
    policies_are_set_once_and_removed_once,
    super::policy_commands,
    fixture = crate::Fixture
);

async fn policy_commands(f: &Fixture) {
    // Given a cluster
    let commands = f.commands();
    let id = cluster(&commands, "web").await;
    let set = SetAutoscalingPolicy::parse(id.as_str(), &metrics_input(1, 3, 60)).unwrap();
    // When its policy is set twice, then removed twice
    let first = commands
        .execute(&ctx(), &set)
        .await
        .unwrap()
        .fresh()
        .unwrap();
    let again = commands
        .execute(&ctx(), &set)
        .await
        .unwrap()
        .fresh()
        .unwrap();
    let remove = RemoveAutoscalingPolicy::parse(id.as_str()).unwrap();
    commands.execute(&ctx(), &remove).await.unwrap();
    let missing = commands.execute(&ctx(), &remove).await.unwrap_err();
    // Then one set event, one removal, and the second removal is a 404
    assert!(first.changed && !again.changed);
    assert_eq!(first.version, again.version);
    let types: Vec<String> = f
        .store
        .read_stream("cluster", id.as_str(), None)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        types,
        [
            "cluster.created",
            "cluster.autoscaling_policy_set",
            "cluster.autoscaling_policy_removed"
        ]
    );
    assert_eq!(missing.kind(), CommandErrorKind::NotFound);
    // An unknown cluster is a 404 too.
    let unknown =
        SetAutoscalingPolicy::parse(ClusterId::new().as_str(), &metrics_input(1, 3, 60)).unwrap();
    let error = commands.execute(&ctx(), &unknown).await.unwrap_err();
    assert_eq!(error.kind(), CommandErrorKind::NotFound);
}

fn decided(decision: ScaleDecision, count: u32, when: DateTime<Utc>) -> AutoscalingDecided {
    AutoscalingDecided {
        decision,
        count,
        code: DecisionCode::AboveThreshold,
        reason: "cpu averaged 91.0 % over 60 s, above the scale-up threshold 80 %".into(),
        inputs: DecisionInputs::default(),
        job_id: JobId::new(),
        trigger: Trigger::Manual,
        decided_at: when,
    }
}

on_both_backends!(
    a_decision_and_its_job_are_one_append,
    super::decision_commands,
    fixture = crate::Fixture
);

async fn decision_commands(f: &Fixture) {
    // Given a cluster
    let commands = f.commands();
    let id = cluster(&commands, "api").await;
    let ctx = ctx();
    // When a scale-up of 2 is recorded
    let command = RecordAutoscalingDecision::new(
        id.clone(),
        decided(ScaleDecision::ScaleUp, 2, at(0)),
        300,
        ctx.trace_id(),
    );
    let reply = commands
        .execute(&command.context(&ctx), &command)
        .await
        .unwrap();
    // Then the job (scale_up, count 2) and the decision are appended together, the
    // decision last, and the job's events name the decision as their cause
    let filter = EventFilter {
        correlation_id: Some(ctx.correlation_id.clone()),
        ..EventFilter::default()
    };
    let events = f.store.read_all(0, 100, &filter).await.unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types.last(), Some(&"autoscaling.decided"), "{types:?}");
    assert!(types.contains(&"job.created"), "{types:?}");
    let decision = events.last().unwrap();
    assert_eq!(decision.id, command.event_id);
    assert_eq!(reply.position(), decision.position);
    for event in &events {
        assert_eq!(event.metadata.causation_id, command.event_id.to_string());
    }
    let job = events
        .iter()
        .find(|e| e.event_type == "job.created")
        .unwrap();
    assert_eq!(job.data["job_type"], "scale_up");
    assert_eq!(job.data["parameters"]["count"], 2);
    assert_eq!(job.aggregate_id, command.decided.job_id.as_str());

    // When another decision comes while that job has not ended
    let next = RecordAutoscalingDecision::new(
        id.clone(),
        decided(ScaleDecision::ScaleDown, 1, at(400)),
        300,
        ctx.trace_id(),
    );
    let busy = commands.execute(&ctx, &next).await.unwrap_err();
    // Then it is refused
    assert!(matches!(busy, CommandError::ScaleJobRunning(_)), "{busy}");
    // And once the job ended, a decision inside the cooldown is refused too
    let cancel = CancelJob {
        id: command.decided.job_id.to_string(),
        reason: None,
    };
    commands.execute(&ctx, &cancel).await.unwrap();
    let early = RecordAutoscalingDecision::new(
        id.clone(),
        decided(ScaleDecision::ScaleDown, 1, at(200)),
        300,
        ctx.trace_id(),
    );
    let error = commands.execute(&ctx, &early).await.unwrap_err();
    assert_eq!(error.kind(), CommandErrorKind::Conflict, "{error}");
    commands
        .execute(&ctx, &next)
        .await
        .expect("after the cooldown");
}

// ---------------------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------------------

fn record(
    cluster: &ClusterId,
    when: i64,
    decision: ScaleDecision,
    code: DecisionCode,
) -> DecisionRecord {
    DecisionRecord {
        cluster_id: cluster.clone(),
        at: at(when),
        trigger: Trigger::Schedule,
        decision,
        count: u32::from(decision.acts()),
        code,
        reason: format!("{} at {when}", code.as_str()),
        inputs: DecisionInputs {
            droplets: u32::try_from(when).unwrap_or(0),
            ..DecisionInputs::default()
        },
        job_id: decision.acts().then(|| JobId::new().to_string()),
        event_position: decision.acts().then_some(when),
    }
}

on_both_backends!(
    repeated_outcomes_share_a_row_and_history_is_bounded,
    super::history_rows,
    fixture = crate::Fixture
);

async fn history_rows(f: &Fixture) {
    let history = f.history().await;
    let (a, b) = (ClusterId::new(), ClusterId::new());
    let none = ScaleDecision::None;
    // Given three rounds of a within the band, b scaling up in the second
    for round in 0..3 {
        let mut records = vec![record(&a, round, none, DecisionCode::WithinBand)];
        let (decision, code) = match round {
            1 => (ScaleDecision::ScaleUp, DecisionCode::AboveThreshold),
            _ => (none, DecisionCode::Cooldown),
        };
        records.push(record(&b, round, decision, code));
        let recorded = history.record(&records).await.unwrap();
        assert!(recorded.statements <= 4, "{}", recorded.statements);
        assert_eq!(recorded.rows.len(), 2);
    }
    // Then a has one row of 3 evaluations, bumped to the last one
    let rows = history.list(&a, 100).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].evaluations, 3);
    assert_eq!((rows[0].at, rows[0].last_at), (at(0), at(2)));
    assert_eq!(rows[0].inputs.droplets, 2, "the newest inputs");
    assert_eq!(rows[0].reason, "within_band at 2");
    // And b three rows, newest first, the acting one with its job and position
    let rows = history.list(&b, 100).await.unwrap();
    let codes: Vec<&str> = rows.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(codes, ["cooldown", "above_threshold", "cooldown"]);
    assert!(rows[1].job_id.is_some());
    assert_eq!(rows[1].event_position, Some(1));
    assert_eq!(history.list(&b, 1).await.unwrap().len(), 1);

    // When a's outcome alternates 120 times
    for round in 3..123 {
        let code = match round % 2 {
            0 => DecisionCode::WithinBand,
            _ => DecisionCode::NoSamples,
        };
        history
            .record(&[record(&a, round, none, code)])
            .await
            .unwrap();
    }
    // Then only the newest 100 rows are kept
    let rows = history.list(&a, 100).await.unwrap();
    assert_eq!(rows.len(), 100);
    assert_eq!(rows[0].last_at, at(122));
    assert!(rows.iter().all(|r| r.evaluations == 1));
}

on_both_backends!(
    metric_windows_average_each_clusters_own_window,
    super::metric_windows,
    fixture = crate::Fixture
);

async fn metric_windows(f: &Fixture) {
    let samples = connect_metrics(f.db.url(), 2).await.unwrap();
    let history = f.history().await;
    let (a, b, quiet) = (ClusterId::new(), ClusterId::new(), ClusterId::new());
    let sample = |cluster: &ClusterId, metric, value, secs| MetricSample {
        cluster_id: cluster.clone(),
        droplet_id: None,
        metric_type: metric,
        value,
        timestamp: at(secs),
    };
    samples
        .insert(&[
            sample(&a, MetricType::Cpu, 10.0, 0),
            sample(&a, MetricType::Cpu, 50.0, 100),
            sample(&a, MetricType::Cpu, 70.0, 110),
            sample(&a, MetricType::Memory, 99.0, 110),
            sample(&b, MetricType::Cpu, 20.0, 0),
            sample(&b, MetricType::Cpu, 40.0, 110),
        ])
        .await
        .unwrap();
    let request = |cluster: &ClusterId, metric, since| WindowRequest {
        cluster_id: cluster.clone(),
        metric_type: metric,
        since: at(since),
    };
    let mut found = history
        .metric_windows(&[
            request(&a, MetricType::Cpu, 50),
            request(&b, MetricType::Cpu, -10),
            request(&quiet, MetricType::Cpu, 0),
        ])
        .await
        .unwrap();
    found.sort_by(|x, y| x.average.total_cmp(&y.average));
    let expected = vec![
        MetricAverage {
            cluster_id: b.clone(),
            average: 30.0,
            samples: 2,
        },
        MetricAverage {
            cluster_id: a.clone(),
            average: 60.0,
            samples: 2,
        },
    ];
    assert_eq!(found, expected);
    assert!(history.metric_windows(&[]).await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------
// Rounds
// ---------------------------------------------------------------------------------------

/// The read models as a round would find them, kept by the test: the test plays the job
/// runtime (a scale job's droplets appear at once) and the projections.
#[derive(Default)]
struct World {
    policies: BTreeMap<ClusterId, AutoscalingPolicy>,
    droplets: BTreeMap<ClusterId, u32>,
    last_acting: BTreeMap<ClusterId, DateTime<Utc>>,
    calls: u64,
    /// `any_policy` says yes although `policies` finds none (a policy removed between
    /// the two reads).
    claims_a_policy: bool,
}

#[derive(Clone, Default)]
struct FakeDirectory(Arc<Mutex<World>>);

impl FakeDirectory {
    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.0.lock().unwrap()
    }

    fn wanted(&self, cluster: Option<&ClusterId>) -> Vec<ClusterId> {
        let world = self.world();
        world
            .policies
            .iter()
            .filter(|(id, p)| cluster.map_or(p.enabled, |c| c == *id))
            .map(|(id, _)| id.clone())
            .collect()
    }
}

#[async_trait]
impl AutoscalingDirectory for FakeDirectory {
    async fn any_policy(&self) -> Result<bool, DirectoryError> {
        let world = self.world();
        Ok(world.claims_a_policy || !world.policies.is_empty())
    }

    async fn policies(
        &self,
        cluster: Option<&ClusterId>,
    ) -> Result<Vec<PolicyRow>, DirectoryError> {
        let ids = self.wanted(cluster);
        let mut world = self.world();
        world.calls += 1;
        Ok(ids
            .into_iter()
            .map(|id| PolicyRow {
                policy: world.policies[&id].clone(),
                region: "nyc1".into(),
                provider: None,
                last_acting_at: world.last_acting.get(&id).copied(),
                deployment_running: false,
                cluster_id: id,
            })
            .collect())
    }

    async fn droplets(
        &self,
        cluster: Option<&ClusterId>,
    ) -> Result<Vec<DropletRow>, DirectoryError> {
        let ids = self.wanted(cluster);
        let world = self.world();
        let billed = BilledAs {
            provider: "simcloud".into(),
            region: "nyc1".into(),
            size: "s-1vcpu-1gb".into(),
        };
        Ok(ids
            .into_iter()
            .flat_map(|id| {
                let n = world.droplets.get(&id).copied().unwrap_or(0);
                let billed = billed.clone();
                (0..n).map(move |_| DropletRow {
                    cluster_id: id.clone(),
                    pending: false,
                    billed: Some(billed.clone()),
                })
            })
            .collect())
    }

    async fn scale_jobs(
        &self,
        _cluster: Option<&ClusterId>,
    ) -> Result<Vec<(ClusterId, String)>, DirectoryError> {
        Ok(Vec::new())
    }
}

struct Rig {
    directory: FakeDirectory,
    autoscaler: Autoscaler,
    commands: CommandService,
    samples: Arc<dyn engine::metrics::SampleStore>,
}

impl Rig {
    async fn new(f: &Fixture) -> Self {
        let directory = FakeDirectory::default();
        let commands = f.commands();
        let autoscaler = Autoscaler::new(
            Arc::new(directory.clone()),
            f.history().await,
            commands.clone(),
            Arc::new(Providers::new(SimSpeed::new(1.0).unwrap(), 7)),
        );
        let samples = connect_metrics(f.db.url(), 2).await.unwrap();
        Self {
            directory,
            autoscaler,
            commands,
            samples,
        }
    }

    async fn cluster_with(&self, name: &str, policy: PolicyInput, droplets: u32) -> ClusterId {
        let id = cluster(&self.commands, name).await;
        let policy = AutoscalingPolicy::parse(&policy).unwrap();
        let mut world = self.directory.world();
        world.policies.insert(id.clone(), policy);
        world.droplets.insert(id.clone(), droplets);
        id
    }

    async fn load(&self, cluster: &ClusterId, value: f64, secs: i64) {
        let sample = MetricSample {
            cluster_id: cluster.clone(),
            droplet_id: None,
            metric_type: MetricType::Cpu,
            value,
            timestamp: at(secs),
        };
        self.samples.insert(&[sample]).await.unwrap();
    }

    /// A round at `secs`; the scale jobs it starts "run" at once: the droplets change and
    /// the job ends. Returns the round's decisions by cluster.
    async fn round(&self, secs: i64) -> BTreeMap<ClusterId, (ScaleDecision, u32, DecisionCode)> {
        let report = self
            .autoscaler
            .run_once(at(secs), Trigger::Schedule)
            .await
            .unwrap();
        let mut outcomes = BTreeMap::new();
        for row in report.decisions {
            let id = ClusterId::parse(&row.cluster_id).unwrap();
            if let Some(job) = &row.job_id {
                let cancel = CancelJob {
                    id: job.clone(),
                    reason: Some("run by the test".into()),
                };
                self.commands.execute(&ctx(), &cancel).await.unwrap();
                let mut world = self.directory.world();
                world.last_acting.insert(id.clone(), at(secs));
                let n = world.droplets.entry(id.clone()).or_default();
                match row.decision {
                    ScaleDecision::ScaleUp => *n += row.count,
                    ScaleDecision::ScaleDown => *n -= row.count,
                    ScaleDecision::None => {}
                }
            }
            outcomes.insert(id, (row.decision, row.count, row.code));
        }
        outcomes
    }

    fn droplets(&self, cluster: &ClusterId) -> u32 {
        self.directory.world().droplets[cluster]
    }
}

on_both_backends!(
    a_load_ramp_scales_out_to_the_maximum_and_in_after_the_cooldown,
    super::load_ramp,
    fixture = crate::Fixture
);

async fn load_ramp(f: &Fixture) {
    // Given a cluster of 1 droplet, 1 to 3, cooldown 120 s, window 60 s
    let rig = Rig::new(f).await;
    let id = rig.cluster_with("ramp", metrics_input(1, 3, 120), 1).await;
    let mut maximum = 0;
    let mut last_change: Option<(i64, u32)> = None;
    // When the load ramps up for 15 minutes (a round every 30 s)
    for step in 0..30 {
        let secs = step * 30;
        rig.load(&id, 95.0, secs).await;
        rig.round(secs).await;
        let n = rig.droplets(&id);
        if last_change.is_none_or(|(_, before)| before != n) {
            if let Some((when, _)) = last_change {
                assert!(
                    secs - when >= 120,
                    "scaled again {} s after the last time",
                    secs - when
                );
            }
            last_change = Some((secs, n));
        }
        maximum = maximum.max(n);
    }
    // Then it reached the maximum and never went beyond
    assert_eq!(maximum, 3);
    assert_eq!(rig.droplets(&id), 3);
    let outcome = rig.round(900).await[&id];
    assert_eq!(outcome, (ScaleDecision::None, 0, DecisionCode::AtMax));

    // When the load drops
    let start = 930;
    rig.load(&id, 5.0, start).await;
    // Then nothing happens while the (60 s) window still averages the hot samples
    let first = rig.round(start).await[&id];
    assert_eq!(first.0, ScaleDecision::None, "{first:?}");
    // And it scales in one droplet at a time, each after the cooldown
    let mut downs = Vec::new();
    for step in 1..40 {
        let secs = start + step * 30;
        rig.load(&id, 5.0, secs).await;
        let (decision, count, _) = rig.round(secs).await[&id];
        if decision == ScaleDecision::ScaleDown {
            assert_eq!(count, 1);
            downs.push(secs);
        }
    }
    assert_eq!(rig.droplets(&id), 1, "back to the minimum");
    assert_eq!(downs.len(), 2);
    assert!(downs[1] - downs[0] >= 120, "{downs:?}");
    let history = rig.autoscaler.store().list(&id, 100).await.unwrap();
    let acting = history
        .iter()
        .filter(|r| r.decision != ScaleDecision::None)
        .count();
    assert_eq!(acting, 4, "two out, two in");
    assert!(history.iter().any(|r| r.code == DecisionCode::Cooldown));
}

on_both_backends!(
    an_oscillating_load_inside_the_band_never_scales,
    super::oscillation,
    fixture = crate::Fixture
);

async fn oscillation(f: &Fixture) {
    let rig = Rig::new(f).await;
    let id = rig.cluster_with("calm", metrics_input(1, 5, 0), 2).await;
    for step in 0..20 {
        let secs = step * 30;
        let value = if step % 2 == 0 { 35.0 } else { 75.0 };
        rig.load(&id, value, secs).await;
        let (decision, _, code) = rig.round(secs).await[&id];
        assert_eq!(decision, ScaleDecision::None, "step {step}");
        assert_eq!(code, DecisionCode::WithinBand);
    }
    assert_eq!(rig.droplets(&id), 2);
    let history = rig.autoscaler.store().list(&id, 100).await.unwrap();
    assert_eq!(history.len(), 1, "one row for the repeated outcome");
    assert_eq!(history[0].evaluations, 20);
}

on_both_backends!(
    the_cost_cap_holds_while_the_load_stays_high,
    super::cost_cap,
    fixture = crate::Fixture
);

async fn cost_cap(f: &Fixture) {
    // s-1vcpu-1gb on simcloud costs 6/720 $/h: a cap of 0.03 $/h fits 3 droplets.
    let rig = Rig::new(f).await;
    let policy = PolicyInput {
        policy_type: Some("cost".into()),
        cost_limit_per_hour: Some(0.03),
        ..metrics_input(1, 10, 0)
    };
    let id = rig.cluster_with("thrifty", policy, 1).await;
    let mut codes = std::collections::HashSet::new();
    for step in 0..10 {
        let secs = step * 30;
        rig.load(&id, 99.0, secs).await;
        codes.insert(rig.round(secs).await[&id].2);
    }
    assert_eq!(rig.droplets(&id), 3);
    assert!(codes.contains(&DecisionCode::CostCap), "{codes:?}");
}

on_both_backends!(
    a_rounds_statements_do_not_grow_with_the_clusters,
    super::statements,
    fixture = crate::Fixture
);

async fn statements(f: &Fixture) {
    // Two fleets of different sizes, each evaluated twice (new rows, then bumps).
    let mut counts = Vec::new();
    for n in [3, 12] {
        let rig = Rig::new(f).await;
        for i in 0..n {
            rig.cluster_with(&format!("f{n}-{i}"), metrics_input(1, 3, 0), 1)
                .await;
        }
        let mut fleet = Vec::new();
        for secs in [0, 30] {
            let report = rig
                .autoscaler
                .run_once(at(secs), Trigger::Schedule)
                .await
                .unwrap();
            assert_eq!(report.clusters, n);
            assert_eq!(rig.autoscaler.last_round_statements(), report.statements);
            fleet.push(report.statements);
        }
        counts.push(fleet);
    }
    assert_eq!(counts[0], counts[1], "{counts:?}");
    assert!(counts[0].iter().all(|&n| n <= 8), "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_lease_holder_runs_scheduled_rounds() {
    let f = <Fixture as test_support::Fixture>::open(Backend::Sqlite).await;
    let rig = Rig::new(&f).await;
    rig.cluster_with("leased", metrics_input(0, 2, 0), 0).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let other_directory = FakeDirectory::default();
    other_directory.world().policies = rig.directory.world().policies.clone();
    let other = Autoscaler::new(
        Arc::new(other_directory.clone()),
        f.history().await,
        rig.commands.clone(),
        Arc::new(Providers::new(SimSpeed::new(1.0).unwrap(), 7)),
    );
    let interval = Duration::from_millis(50);
    let lease = |holder: &str| -> Arc<dyn RoundLease> {
        Arc::new(StoreLease {
            store: Arc::clone(&f.store),
            holder: holder.into(),
        })
    };
    let first = tokio::spawn(
        rig.autoscaler
            .clone()
            .run(interval, lease("first"), stopped.clone()),
    );
    // The first holds the lease before the second starts.
    test_support::eventually(Duration::from_secs(10), "the first runs rounds", || async {
        rig.directory.world().calls >= 2
    })
    .await;
    let second = tokio::spawn(other.run(interval, lease("second"), stopped));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        other_directory.world().calls,
        0,
        "the second never held the lease"
    );
    stop.send(true).unwrap();
    first.await.unwrap();
    second.await.unwrap();
    assert!(rig.directory.world().calls >= 4);
}

/// A lease held only while `held` says so, counting the attempts.
struct FakeLease {
    held: std::sync::atomic::AtomicBool,
    attempts: std::sync::atomic::AtomicU64,
    released: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl RoundLease for FakeLease {
    async fn hold(&self, _ttl: Duration) -> Result<bool, engine::store::StoreError> {
        self.attempts
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(self.held.load(std::sync::atomic::Ordering::Relaxed))
    }

    async fn release(&self) {
        self.released
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// An autoscaler over `directory`, and a fake lease (`held` or not).
async fn on_fakes(
    f: &Fixture,
    directory: &FakeDirectory,
    held: bool,
) -> (Autoscaler, Arc<FakeLease>) {
    use std::sync::atomic::{AtomicBool, AtomicU64};
    let autoscaler = Autoscaler::new(
        Arc::new(directory.clone()),
        f.history().await,
        f.commands(),
        Arc::new(Providers::new(SimSpeed::new(1.0).unwrap(), 7)),
    );
    let lease = Arc::new(FakeLease {
        held: AtomicBool::new(held),
        attempts: AtomicU64::new(0),
        released: AtomicBool::new(false),
    });
    (autoscaler, lease)
}

#[tokio::test]
async fn without_policies_no_lease_is_taken_and_nothing_written() {
    use std::sync::atomic::Ordering;
    // Given an autoscaler whose directory has no policy, and a lease free to take
    let f = <Fixture as test_support::Fixture>::open(Backend::Sqlite).await;
    let directory = FakeDirectory::default();
    let (autoscaler, lease) = on_fakes(&f, &directory, true).await;
    tokio::time::pause();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(autoscaler.run(Duration::from_secs(30), lease.clone(), stopped));
    // When ten ticks pass (0 … 270 s)
    tokio::time::sleep(Duration::from_secs(290)).await;
    // Then the lease was never asked for (a renewal is a write) and no round ran
    assert_eq!(lease.attempts.load(Ordering::Relaxed), 0);
    assert_eq!(directory.world().calls, 0);
    // When a policy appears, the next tick (300 s) takes the lease
    directory.world().claims_a_policy = true;
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(lease.attempts.load(Ordering::Relaxed), 1);
    stop.send(true).unwrap();
    task.await.unwrap();
}

#[tokio::test]
async fn rounds_run_every_interval_while_the_lease_is_held() {
    use std::sync::atomic::Ordering;
    // Given an autoscaler whose rounds find no policy (they touch no database), though
    // its directory says there is one
    let f = <Fixture as test_support::Fixture>::open(Backend::Sqlite).await;
    let directory = FakeDirectory::default();
    directory.world().claims_a_policy = true;
    let (autoscaler, lease) = on_fakes(&f, &directory, false).await;
    tokio::time::pause();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let interval = Duration::from_secs(30);
    let task = tokio::spawn(autoscaler.run(interval, lease.clone(), stopped));
    // When another process holds the lease for the first 100 s
    tokio::time::sleep(Duration::from_secs(100)).await;
    // Then every tick (0, 30, 60, 90 s) asked for it and none ran a round
    assert_eq!(lease.attempts.load(Ordering::Relaxed), 4);
    assert_eq!(directory.world().calls, 0);
    // When it is ours for the next 100 s (ticks at 120 … 180 s)
    lease.held.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(100)).await;
    // Then a round ran at each tick
    assert_eq!(directory.world().calls, 3);
    stop.send(true).unwrap();
    task.await.unwrap();
    assert!(
        lease.released.load(Ordering::Relaxed),
        "given up at the end"
    );
}
