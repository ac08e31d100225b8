//! The `diagnosis` aggregate: one stream per cluster (its id is the cluster id) recording
//! each diagnosis made and each recommendation implemented.
//!
//! The state keeps only the latest diagnosis: its recommendations and which of them were
//! implemented by which job. A recommendation of an earlier diagnosis is outdated (its id
//! names its diagnosis) and is refused; implementing one twice changes nothing (the caller
//! answers the job recorded the first time).

use std::collections::BTreeMap;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::aggregate::{handle_with_decide, Classify, Decide, DomainErrorKind};
use super::values::{ClusterId, DiagnosisId, JobId};

mod advice;
mod events;
mod inputs;
#[cfg(test)]
mod tests;

pub use advice::*;
pub use events::*;
pub use inputs::*;

/// The latest diagnosis of a cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatestDiagnosis {
    /// Its id.
    pub id: DiagnosisId,
    /// The stream sequence of its `diagnosis.completed` (from 1).
    pub sequence: u64,
    /// Its recommendations, in order.
    pub recommendations: Vec<Recommendation>,
    /// Recommendation -> the job that implements it.
    pub implemented: BTreeMap<RecommendationId, JobId>,
}

impl LatestDiagnosis {
    /// The recommendation `id`, if this diagnosis has it.
    pub fn recommendation(&self, id: &RecommendationId) -> Option<&Recommendation> {
        self.recommendations.iter().find(|r| &r.id == id)
    }
}

/// The diagnoses of one cluster, folded from their events.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// The cluster, set by the first diagnosis.
    pub cluster_id: Option<ClusterId>,
    /// The latest diagnosis.
    pub latest: Option<LatestDiagnosis>,
    /// Events applied (the stream's version).
    #[serde(default)]
    pub events: u64,
}

impl Diagnosis {
    /// Whether the cluster was ever diagnosed.
    pub fn exists(&self) -> bool {
        self.latest.is_some()
    }

    /// The job already implementing `recommendation` of the latest diagnosis, if any.
    pub fn job_of(&self, recommendation: &RecommendationId) -> Option<&JobId> {
        self.latest.as_ref()?.implemented.get(recommendation)
    }

    /// The latest diagnosis' recommendation `id`, checked implementable: known, of the
    /// latest diagnosis, and with an action.
    pub fn implementable(&self, id: &RecommendationId) -> Result<&Recommendation, DiagnosisError> {
        let latest = self.latest.as_ref().ok_or(DiagnosisError::NoDiagnosis)?;
        if id.diagnosis_id() != latest.id {
            return Err(DiagnosisError::Outdated {
                diagnosis_id: id.diagnosis_id(),
                latest: latest.id.clone(),
            });
        }
        let recommendation = latest
            .recommendation(id)
            .ok_or_else(|| DiagnosisError::UnknownRecommendation(id.clone()))?;
        if recommendation.action == (RecommendedAction::None {}) {
            return Err(DiagnosisError::NothingToImplement(id.clone()));
        }
        Ok(recommendation)
    }
}

/// Commands on a cluster's diagnoses.
#[derive(Debug, Clone, PartialEq)]
pub enum DiagnosisCommand {
    /// Record a diagnosis (made before, by an engine).
    Record(Box<DiagnosisCompleted>),
    /// Record that a job implements a recommendation of the latest diagnosis.
    Implement {
        /// The recommendation.
        recommendation_id: RecommendationId,
        /// The job created for it.
        job_id: JobId,
    },
}

/// Why a diagnosis command was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiagnosisError {
    /// A diagnosis of another cluster on this stream.
    #[error("diagnosis of cluster {got} recorded on the stream of cluster {stream}")]
    WrongCluster {
        /// The stream's cluster.
        stream: ClusterId,
        /// The diagnosis' cluster.
        got: ClusterId,
    },
    /// Implement before any diagnosis.
    #[error("the cluster has no diagnosis yet")]
    NoDiagnosis,
    /// The recommendation belongs to an earlier diagnosis.
    #[error(
        "outdated diagnosis {diagnosis_id}: the cluster's latest diagnosis is {latest}; \
         diagnose again or implement one of its recommendations"
    )]
    Outdated {
        /// The recommendation's diagnosis.
        diagnosis_id: DiagnosisId,
        /// The latest one.
        latest: DiagnosisId,
    },
    /// The latest diagnosis has no such recommendation.
    #[error("recommendation {0} not found in the cluster's latest diagnosis")]
    UnknownRecommendation(RecommendationId),
    /// The recommendation's action is `none`.
    #[error("recommendation {0} is advice only (action none): there is nothing to implement")]
    NothingToImplement(RecommendationId),
}

impl Classify for DiagnosisError {
    fn kind(&self) -> DomainErrorKind {
        match self {
            Self::NoDiagnosis | Self::UnknownRecommendation(_) => DomainErrorKind::NotFound,
            Self::Outdated { .. } | Self::WrongCluster { .. } => DomainErrorKind::Conflict,
            Self::NothingToImplement(_) => DomainErrorKind::Unprocessable,
        }
    }
}

impl Decide for Diagnosis {
    fn decide(&self, command: DiagnosisCommand) -> Result<Vec<DiagnosisEvent>, DiagnosisError> {
        match command {
            DiagnosisCommand::Record(completed) => {
                if let Some(stream) = self.cluster_id.as_ref() {
                    if *stream != completed.cluster_id {
                        return Err(DiagnosisError::WrongCluster {
                            stream: stream.clone(),
                            got: completed.cluster_id.clone(),
                        });
                    }
                }
                let same = self.latest.as_ref().map(|l| &l.id) == Some(&completed.diagnosis_id);
                if same {
                    return Ok(Vec::new());
                }
                Ok(vec![DiagnosisEvent::Completed(completed)])
            }
            DiagnosisCommand::Implement {
                recommendation_id,
                job_id,
            } => {
                let recommendation = self.implementable(&recommendation_id)?;
                if self.job_of(&recommendation.id).is_some() {
                    return Ok(Vec::new());
                }
                Ok(vec![DiagnosisEvent::RecommendationImplemented(
                    DiagnosisRecommendationImplemented {
                        diagnosis_id: recommendation_id.diagnosis_id(),
                        recommendation_id,
                        job_id,
                    },
                )])
            }
        }
    }
}

impl Aggregate for Diagnosis {
    const TYPE: &'static str = "diagnosis";
    type Command = DiagnosisCommand;
    type Event = DiagnosisEvent;
    type Error = DiagnosisError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        handle_with_decide(self, command, sink).await
    }

    fn apply(&mut self, event: Self::Event) {
        self.events += 1;
        match event {
            DiagnosisEvent::Completed(e) => {
                self.cluster_id = Some(e.cluster_id);
                self.latest = Some(LatestDiagnosis {
                    id: e.diagnosis_id,
                    sequence: self.events,
                    recommendations: e.recommendations,
                    implemented: BTreeMap::new(),
                });
            }
            DiagnosisEvent::RecommendationImplemented(e) => {
                if let Some(latest) = self.latest.as_mut().filter(|l| l.id == e.diagnosis_id) {
                    latest.implemented.insert(e.recommendation_id, e.job_id);
                }
            }
        }
    }
}
