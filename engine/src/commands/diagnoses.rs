//! Diagnosis commands: record a diagnosis made before (by
//! [`Diagnoser`](crate::diagnosis::Diagnoser), so that a retry after a conflict never asks
//! the LLM twice), and implement a recommendation of the cluster's latest diagnosis.
//!
//! Implementing appends, in one append, the job's creation (through the same decisions as
//! `POST /v1/jobs` and the droplet commands) and `diagnosis.recommendation_implemented`.
//! Implementing a recommendation again answers the job created the first time.

use serde_json::json;
use uuid::Uuid;

use super::clusters::load_live;
use super::droplets::{ActOnDroplet, CreateDroplet, DropletAction, JobAccepted};
use super::jobs::CreateJob;
use super::service::{stream_write, Command, CommandService, Decision};
use super::CommandError;
use crate::diagnosis::DiagnosisView;
use crate::domain::diagnosis::{
    Diagnosis, DiagnosisCommand, DiagnosisCompleted, RecommendationId, RecommendedAction,
};
use crate::domain::{
    Cluster, ClusterId, Decide, DropletId, DropletName, Job, JobId, JobType, PowerAction,
};
use crate::store::{now, ReplyKind};
use crate::views::JobView;

/// Record a diagnosis of a live cluster.
#[derive(Debug, Clone)]
pub struct Diagnose {
    pub completed: DiagnosisCompleted,
}

impl Command for Diagnose {
    type Output = DiagnosisView;

    async fn decide(
        &self,
        service: &CommandService,
    ) -> Result<Decision<DiagnosisView>, CommandError> {
        let id = self.completed.cluster_id.as_str();
        load_live(service, id, None).await?;
        let diagnosis = service.load::<Diagnosis>(id).await?;
        let events = diagnosis
            .state
            .decide(DiagnosisCommand::Record(Box::new(self.completed.clone())))?;
        let at = now();
        Ok(Decision {
            writes: vec![stream_write::<Diagnosis>(
                id,
                diagnosis.version,
                &events,
                at,
            )?],
            value: DiagnosisView::new(&self.completed, at),
            kind: ReplyKind::Done,
            unchanged_position: diagnosis.last_position,
        })
    }
}

/// Implement a recommendation of the cluster's latest diagnosis.
#[derive(Debug, Clone)]
pub struct ImplementRecommendation {
    pub cluster_id: ClusterId,
    pub recommendation_id: RecommendationId,
    /// The job to create.
    pub job_id: JobId,
    /// The droplet to create, for a `create_droplet` action.
    pub droplet_id: DropletId,
    pub trace_id: String,
}

impl ImplementRecommendation {
    /// Validates raw ids; fresh ids for what it may create.
    pub fn parse(
        cluster_id: &str,
        recommendation_id: &str,
        trace_id: String,
    ) -> Result<Self, CommandError> {
        let cluster_id = ClusterId::parse(cluster_id).map_err(|_| CommandError::NotFound {
            what: "cluster",
            id: cluster_id.to_owned(),
        })?;
        let recommendation_id =
            RecommendationId::parse(recommendation_id).map_err(|_| CommandError::NotFound {
                what: "recommendation",
                id: recommendation_id.to_owned(),
            })?;
        Ok(Self {
            cluster_id,
            recommendation_id,
            job_id: JobId::new(),
            droplet_id: DropletId::new(),
            trace_id,
        })
    }
}

impl Command for ImplementRecommendation {
    type Output = JobAccepted;

    async fn decide(
        &self,
        service: &CommandService,
    ) -> Result<Decision<JobAccepted>, CommandError> {
        let id = self.cluster_id.as_str();
        load_live(service, id, None).await?;
        let diagnosis = service.load::<Diagnosis>(id).await?;
        let recommendation = diagnosis
            .state
            .implementable(&self.recommendation_id)?
            .clone();
        if let Some(job_id) = diagnosis.state.job_of(&recommendation.id) {
            let job = service.load::<Job>(job_id.as_str()).await?;
            return Ok(Decision {
                writes: Vec::new(),
                value: JobAccepted {
                    job: JobView::from_loaded(&job),
                },
                kind: ReplyKind::Accepted,
                unchanged_position: job.last_position,
            });
        }
        let mut decision = self.job_decision(service, &recommendation.action).await?;
        let events = diagnosis.state.decide(DiagnosisCommand::Implement {
            recommendation_id: recommendation.id,
            job_id: self.job_id.clone(),
        })?;
        decision.writes.push(stream_write::<Diagnosis>(
            id,
            diagnosis.version,
            &events,
            now(),
        )?);
        Ok(decision)
    }
}

impl ImplementRecommendation {
    /// The job's creation for `action`, decided as its own command would decide it.
    async fn job_decision(
        &self,
        service: &CommandService,
        action: &RecommendedAction,
    ) -> Result<Decision<JobAccepted>, CommandError> {
        let cluster_job = |job_type: JobType, parameters: serde_json::Value| CreateJob {
            id: self.job_id.clone(),
            job_type,
            cluster_id: self.cluster_id.clone(),
            parameters,
            trace_id: self.trace_id.clone(),
        };
        let on_droplet = |droplet_id: &DropletId, action: DropletAction| ActOnDroplet {
            id: droplet_id.to_string(),
            job_id: self.job_id.clone(),
            action,
            trace_id: self.trace_id.clone(),
            if_match: None,
        };
        let rec = self.recommendation_id.as_str();
        match action {
            RecommendedAction::ScaleUp { count } => {
                let params = json!({ "count": count, "recommendation_id": rec });
                cluster_job(JobType::ScaleUp, params).decide(service).await
            }
            RecommendedAction::ScaleDown { count } => {
                let params = json!({ "count": count, "recommendation_id": rec });
                cluster_job(JobType::ScaleDown, params)
                    .decide(service)
                    .await
            }
            RecommendedAction::Monitor {} => {
                let params = json!({ "recommendation_id": rec });
                cluster_job(JobType::Monitor, params).decide(service).await
            }
            RecommendedAction::Resize { droplet_id, size } => {
                let command = on_droplet(droplet_id, DropletAction::Resize(*size));
                command.decide(service).await
            }
            RecommendedAction::Restart { droplet_id } => {
                let restart = DropletAction::Power(PowerAction::Restart);
                on_droplet(droplet_id, restart).decide(service).await
            }
            RecommendedAction::CreateDroplet { size, image } => {
                self.create_droplet(service, *size, *image).await
            }
            RecommendedAction::None {} => Err(
                crate::domain::diagnosis::DiagnosisError::NothingToImplement(
                    self.recommendation_id.clone(),
                )
                .into(),
            ),
        }
    }

    async fn create_droplet(
        &self,
        service: &CommandService,
        size: crate::domain::Size,
        image: crate::domain::Image,
    ) -> Result<Decision<JobAccepted>, CommandError> {
        let cluster = service.load::<Cluster>(self.cluster_id.as_str()).await?;
        let (Some(name), Some(region)) = (cluster.state.name.as_ref(), cluster.state.region) else {
            return Err(CommandError::NotFound {
                what: "cluster",
                id: self.cluster_id.to_string(),
            });
        };
        let hex = &self.droplet_id.as_str()[self.droplet_id.as_str().len() - 6..];
        let command = CreateDroplet {
            id: self.droplet_id.clone(),
            job_id: self.job_id.clone(),
            cluster_id: self.cluster_id.clone(),
            name: DropletName::parse(&format!("{name}-{hex}"))?,
            region,
            size,
            image,
            provider: None,
            avoid_providers: Vec::new(),
            trace_id: self.trace_id.clone(),
        };
        let decision = command.decide(service).await?;
        Ok(Decision {
            writes: decision.writes,
            value: JobAccepted {
                job: decision.value.job,
            },
            kind: decision.kind,
            unchanged_position: decision.unchanged_position,
        })
    }
}

/// The event id of the cluster's latest `diagnosis.completed` (what the events of an
/// implementation are caused by), if the cluster was diagnosed.
pub async fn completed_event_id(
    service: &CommandService,
    cluster_id: &str,
) -> Result<Option<Uuid>, CommandError> {
    let diagnosis = service.load::<Diagnosis>(cluster_id).await?;
    let Some(latest) = diagnosis.state.latest.as_ref() else {
        return Ok(None);
    };
    let after = latest.sequence.saturating_sub(1) as i64;
    let events = service
        .store()
        .read_stream_after("diagnosis", cluster_id, after, None)
        .await?;
    Ok(events
        .iter()
        .find(|e| e.event_type == "diagnosis.completed")
        .map(|e| e.id))
}
