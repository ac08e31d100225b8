//! The events of the `diagnosis` aggregate (one stream per cluster) and their payloads.
//!
//! Serialised as `{"type": "diagnosis.<name>", "data": {...}}`; see
//! [`crate::domain::aggregate::event_parts`].

use cqrs_es::DomainEvent;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{DiagnosisEngine, DiagnosisInputs, Recommendation, RecommendationId};
use crate::domain::values::{ClusterId, DiagnosisId, JobId};

/// Payload of `diagnosis.completed`: what was advised, by which engine, from which inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DiagnosisCompleted {
    /// The diagnosis id.
    pub diagnosis_id: DiagnosisId,
    /// The cluster diagnosed.
    pub cluster_id: ClusterId,
    /// The engine that produced the answer.
    pub engine: DiagnosisEngine,
    /// The engine the caller asked for.
    pub requested_engine: DiagnosisEngine,
    /// The model that answered (`null` for the rules engine).
    pub model: Option<String>,
    /// The version of the prompt sent (`null` for the rules engine).
    pub prompt_version: Option<String>,
    /// SHA-256 (hex) of the canonical JSON of `inputs`.
    pub inputs_digest: String,
    /// The inputs the diagnosis was made from.
    pub inputs: DiagnosisInputs,
    /// 0-100.
    pub health_score: u8,
    /// `Excellent`, `Good` or `Needs Attention`.
    pub health_label: String,
    /// Observations.
    pub insights: Vec<String>,
    /// Advice, in order.
    pub recommendations: Vec<Recommendation>,
    /// Why the requested engine's answer was not used (`null` unless the LLM failed).
    pub fallback_reason: Option<String>,
}

/// Payload of `diagnosis.recommendation_implemented`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DiagnosisRecommendationImplemented {
    /// The diagnosis.
    pub diagnosis_id: DiagnosisId,
    /// The recommendation implemented.
    pub recommendation_id: RecommendationId,
    /// The job created for it.
    pub job_id: JobId,
}

/// Events of a cluster's diagnoses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", content = "data")]
pub enum DiagnosisEvent {
    /// `diagnosis.completed`
    #[serde(rename = "diagnosis.completed")]
    Completed(Box<DiagnosisCompleted>),
    /// `diagnosis.recommendation_implemented`
    #[serde(rename = "diagnosis.recommendation_implemented")]
    RecommendationImplemented(DiagnosisRecommendationImplemented),
}

impl DiagnosisEvent {
    /// Every event type string of this aggregate.
    pub const TYPES: [&'static str; 2] = [
        "diagnosis.completed",
        "diagnosis.recommendation_implemented",
    ];

    /// The event type string, e.g. `diagnosis.completed`.
    pub fn type_str(&self) -> &'static str {
        match self {
            Self::Completed(_) => Self::TYPES[0],
            Self::RecommendationImplemented(_) => Self::TYPES[1],
        }
    }
}

impl DomainEvent for DiagnosisEvent {
    fn event_type(&self) -> String {
        self.type_str().to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
