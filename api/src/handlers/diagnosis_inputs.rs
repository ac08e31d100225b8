//! Gathering a diagnosis' inputs for a cluster: the cluster as folded from its stream, its
//! droplets and its latest failed jobs from the read models (bounded), its health checked
//! now (status and issues), its metric trends over the last hour, and the faults injected
//! into the providers. Everything is cut to the bounds of
//! [`engine::domain::diagnosis::inputs`].

use chrono::Utc;
use engine::diagnosis::gather::{apply_health, metric_trends};
use engine::diagnosis::inputs::{
    ClusterInput, DiagnosisInputs, DropletInput, FailedJobInput, ProviderFaultInput,
};
use engine::domain::diagnosis::{shorten, MAX_DROPLETS, MAX_FAILED_JOBS};
use engine::domain::ClusterId;
use engine::provider::Provider as _;
use engine::views::ClusterView;
use projections::{DropletFilter, JobFilter, PageRequest};

use crate::errors::ApiError;
use crate::state::AppState;

/// The inputs of a diagnosis of `cluster`.
pub async fn gather(state: &AppState, cluster: &ClusterView) -> Result<DiagnosisInputs, ApiError> {
    let mut inputs = DiagnosisInputs {
        cluster: ClusterInput {
            id: cluster.id.clone(),
            name: cluster.name.clone(),
            status: cluster.status.clone(),
            droplet_count: u32::try_from(cluster.droplet_count).unwrap_or(u32::MAX),
        },
        droplets: droplets(state, &cluster.id).await?,
        health_issues: Vec::new(),
        metric_trends: Vec::new(),
        failed_jobs: failed_jobs(state, &cluster.id).await?,
        provider_faults: provider_faults(state),
    };
    let id = ClusterId::parse(&cluster.id).map_err(|_| ApiError::NotFound {
        what: "cluster",
        id: cluster.id.clone(),
    })?;
    let now = Utc::now();
    let health = state.health.check(&id, now).await?;
    apply_health(&mut inputs, health.status, &health.issues);
    inputs.metric_trends = metric_trends(&*state.metric_samples, &id, now).await?;
    Ok(inputs.bounded())
}

/// The first page of `size` rows in `sort_by` order.
fn first_page(size: usize, sort_by: &'static str, descending: bool) -> PageRequest {
    PageRequest {
        page: 1,
        page_size: u32::try_from(size).unwrap_or(u32::MAX),
        sort_by,
        descending,
        cursor: None,
    }
}

/// The cluster's live droplets, oldest first.
async fn droplets(state: &AppState, cluster_id: &str) -> Result<Vec<DropletInput>, ApiError> {
    let filter = DropletFilter {
        cluster_id: Some(cluster_id.to_owned()),
        ..DropletFilter::default()
    };
    let page = state
        .read
        .droplets(&filter, &first_page(MAX_DROPLETS, "created_at", false))
        .await?;
    Ok(page
        .items
        .into_iter()
        .map(|d| DropletInput {
            id: d.id,
            name: d.name,
            status: d.status,
            size: d.size,
            provider: d.provider,
        })
        .collect())
}

/// The cluster's latest failed jobs, newest first.
async fn failed_jobs(state: &AppState, cluster_id: &str) -> Result<Vec<FailedJobInput>, ApiError> {
    let filter = JobFilter {
        cluster_id: Some(cluster_id.to_owned()),
        status: Some("failed".to_owned()),
        ..JobFilter::default()
    };
    let page = state
        .read
        .jobs(&filter, &first_page(MAX_FAILED_JOBS, "created_at", true))
        .await?;
    Ok(page
        .items
        .into_iter()
        .map(|j| FailedJobInput {
            id: j.id,
            job_type: j.job_type,
            error: j.error.as_deref().map(shorten),
        })
        .collect())
}

/// The providers with an outage or a failure rate injected in this process.
fn provider_faults(state: &AppState) -> Vec<ProviderFaultInput> {
    state
        .providers
        .list()
        .iter()
        .filter_map(|provider| {
            let faults = provider.faults();
            (faults.outage || faults.failure_rate > 0.0).then(|| ProviderFaultInput {
                provider: provider.name().to_string(),
                outage: faults.outage,
                failure_rate: faults.failure_rate,
            })
        })
        .collect()
}
