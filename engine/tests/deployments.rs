//! Deployments through the command service and the jobs' own attempts (no runtime: each
//! job is carried to its end in the test's task, as `run_to_end` does): the chain of step
//! and gate jobs carries a rolling deployment to its end; a step attempt lost with its
//! worker is taken up again and finishes the droplets it had not done; a provider outage
//! fails the canary's step for good and the deployment rolls back by itself. On PostgreSQL
//! and SQLite.

mod common;

use std::sync::Arc;
use std::time::Duration;

use engine::commands::{
    CommandContext, CommandService, CreateCluster, CreateDeployment, CreateDroplet,
    DeploymentInput, DropletInput, HealthGateInput,
};
use engine::domain::{Deployment, DeploymentStatus, Droplet, HealthGate, Job, JobStatus};
use engine::executor::steps::BeginAttempt;
use engine::executor::work::{run_to_end, WorkContext};
use engine::policies::Policies;
use engine::provider::{Faults, Providers, SimSpeed};
use engine::store::EventStore;
use test_support::on_both_backends;

fn system() -> CommandContext {
    CommandContext::new("tester")
}

fn work() -> WorkContext {
    WorkContext {
        worker: "tester".into(),
        sim_delay: Duration::ZERO,
        providers: Arc::new(Providers::new(SimSpeed::INSTANT, 7)),
        policies: Arc::new(Policies::default()),
    }
}

/// A cluster with `n` active droplets at simcloud; returns (cluster id, droplet ids).
async fn fleet(service: &CommandService, work: &WorkContext, n: usize) -> (String, Vec<String>) {
    let cluster = CreateCluster::parse("shop", "nyc1", None).unwrap();
    service.execute(&system(), &cluster).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let name = format!("shop-{i}");
        let input = DropletInput {
            cluster_id: cluster.id.as_str(),
            name: &name,
            region: "nyc1",
            size: "s-1vcpu-1gb",
            image: "ubuntu-22-04-x64",
            provider: Some("simcloud"),
        };
        let create = CreateDroplet::parse(input, system().trace_id()).unwrap();
        service.execute(&system(), &create).await.unwrap();
        run_to_end(service, create.job_id.as_str(), work)
            .await
            .unwrap();
        ids.push(create.id.to_string());
    }
    (cluster.id.to_string(), ids)
}

async fn start(
    service: &CommandService,
    cluster_id: &str,
    strategy: &str,
    version: &str,
) -> String {
    let input = DeploymentInput {
        strategy: strategy.into(),
        version: version.into(),
        batch_size: Some(2),
        health_gate: Some(HealthGateInput {
            metric: "cpu".into(),
            max: 80.0,
            window_seconds: 5,
        }),
        ..DeploymentInput::default()
    };
    let gate = HealthGate::default_with(80.0);
    let command = CreateDeployment::parse(cluster_id, &input, gate, system().trace_id()).unwrap();
    service.execute(&system(), &command).await.unwrap();
    command.deployment_id.to_string()
}

/// Carries every job of the deployment to its end, one after the other; returns it ended.
async fn drive(service: &CommandService, work: &WorkContext, id: &str) -> Deployment {
    for _ in 0..50 {
        let deployment = service.load::<Deployment>(id).await.unwrap().state;
        if !deployment.is_running() {
            return deployment;
        }
        let job = deployment.current_job().cloned().expect("a job runs");
        run_to_end(service, job.as_str(), work).await.unwrap();
    }
    panic!("deployment {id} did not end");
}

async fn versions(service: &CommandService, ids: &[String]) -> Vec<Option<String>> {
    let mut versions = Vec::new();
    for id in ids {
        let droplet = service.load::<Droplet>(id).await.unwrap().state;
        versions.push(droplet.app_version.map(|v| v.to_string()));
    }
    versions
}

async fn a_chain_of_jobs_carries_a_rolling_deployment_to_its_end(store: Arc<dyn EventStore>) {
    let service = CommandService::new(store);
    let work = work();
    let (cluster_id, ids) = fleet(&service, &work, 3).await;
    let id = start(&service, &cluster_id, "rolling", "v1").await;
    let done = drive(&service, &work, &id).await;
    assert_eq!(done.status, DeploymentStatus::Succeeded, "{:?}", done.logs);
    assert_eq!(done.steps.len(), 2);
    assert_eq!(done.gates.len(), 2);
    assert!(done.gates.iter().all(|g| g.passed));
    assert_eq!(
        versions(&service, &ids).await,
        vec![Some("v1".to_owned()); 3]
    );
}

on_both_backends!(
    a_rolling_deployment_ends,
    super::a_chain_of_jobs_carries_a_rolling_deployment_to_its_end
);

async fn a_step_lost_with_its_worker_is_taken_up_again(store: Arc<dyn EventStore>) {
    let service = CommandService::new(store);
    let work = work();
    let (cluster_id, ids) = fleet(&service, &work, 2).await;
    let id = start(&service, &cluster_id, "rolling", "v2").await;
    // A worker starts the first step's attempt and dies before doing anything.
    let deployment = service.load::<Deployment>(&id).await.unwrap().state;
    let step_job = deployment.current_job().cloned().unwrap();
    let begin = BeginAttempt {
        job_id: step_job.to_string(),
        worker: "gone".into(),
        doing: "deploying".into(),
    };
    service.execute(&system(), &begin).await.unwrap();
    let done = drive(&service, &work, &id).await;
    assert_eq!(done.status, DeploymentStatus::Succeeded, "{:?}", done.logs);
    let job = service.load::<Job>(step_job.as_str()).await.unwrap().state;
    assert_eq!(job.status, JobStatus::Succeeded);
    assert_eq!(
        job.attempts, 2,
        "the lost attempt was timed out and retried"
    );
    assert_eq!(
        versions(&service, &ids).await,
        vec![Some("v2".to_owned()); 2]
    );
}

on_both_backends!(
    a_lost_step_is_taken_up,
    super::a_step_lost_with_its_worker_is_taken_up_again
);

async fn a_provider_outage_rolls_a_canary_back(store: Arc<dyn EventStore>) {
    let service = CommandService::new(store);
    let work = work();
    let (cluster_id, ids) = fleet(&service, &work, 4).await;
    let first = start(&service, &cluster_id, "rolling", "v1").await;
    assert_eq!(
        drive(&service, &work, &first).await.status,
        DeploymentStatus::Succeeded
    );
    let simcloud = work.providers.get("simcloud").unwrap();
    let outage = Faults {
        outage: true,
        ..Faults::NONE
    };
    simcloud.set_faults(outage).unwrap();
    let id = start(&service, &cluster_id, "canary", "v2").await;
    let done = drive(&service, &work, &id).await;
    assert_eq!(done.status, DeploymentStatus::RolledBack, "{:?}", done.logs);
    assert_eq!(
        done.previous_version.as_ref().map(|v| v.as_str()),
        Some("v1")
    );
    assert_eq!(
        versions(&service, &ids).await,
        vec![Some("v1".to_owned()); 4]
    );
    let cluster = service
        .load::<engine::domain::Cluster>(&cluster_id)
        .await
        .unwrap()
        .state;
    assert_eq!(
        cluster.deployments.running, None,
        "the cluster is free again"
    );
    assert_eq!(
        cluster.deployments.app_version.map(|v| v.to_string()),
        Some("v1".to_owned())
    );
}

on_both_backends!(
    an_outage_rolls_back,
    super::a_provider_outage_rolls_a_canary_back
);
