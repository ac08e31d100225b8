//! A diagnosis as the API shows it (the answer to a diagnose and a row of the
//! `diagnoses` read model): the recorded event without its inputs, plus when, where in
//! the log, and which recommendations became which job.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::diagnosis::{DiagnosisCompleted, Recommendation};

/// A recorded diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DiagnosisView {
    pub diagnosis_id: String,
    pub cluster_id: String,
    /// The engine that produced the answer: `rules` or `llm`.
    pub engine: String,
    /// The engine asked for.
    pub requested_engine: String,
    /// The model that answered (`null` for the rules engine).
    pub model: Option<String>,
    /// The prompt version (`null` for the rules engine).
    pub prompt_version: Option<String>,
    /// Why the LLM's answer was not used (`null` unless it failed).
    pub fallback_reason: Option<String>,
    /// 0-100.
    pub health_score: u8,
    /// `Excellent` (>= 80), `Good` (>= 60) or `Needs Attention`.
    pub health_label: String,
    pub insights: Vec<String>,
    #[schema(value_type = Vec<RecommendationDoc>)]
    pub recommendations: Vec<Recommendation>,
    /// SHA-256 (hex) of the canonical JSON of the inputs.
    pub inputs_digest: String,
    pub created_at: DateTime<Utc>,
    /// Recommendation id -> the job implementing it.
    #[serde(default)]
    pub implemented: BTreeMap<String, String>,
    /// The log position of its `diagnosis.completed` (of the command's last event in the
    /// answer to a diagnose).
    #[serde(default)]
    pub position: i64,
}

impl DiagnosisView {
    /// The view of `completed`, recorded at `at`.
    pub fn new(completed: &DiagnosisCompleted, at: DateTime<Utc>) -> Self {
        Self {
            diagnosis_id: completed.diagnosis_id.to_string(),
            cluster_id: completed.cluster_id.to_string(),
            engine: completed.engine.as_str().to_owned(),
            requested_engine: completed.requested_engine.as_str().to_owned(),
            model: completed.model.clone(),
            prompt_version: completed.prompt_version.clone(),
            fallback_reason: completed.fallback_reason.clone(),
            health_score: completed.health_score,
            health_label: completed.health_label.clone(),
            insights: completed.insights.clone(),
            recommendations: completed.recommendations.clone(),
            inputs_digest: completed.inputs_digest.clone(),
            created_at: at,
            implemented: BTreeMap::new(),
            position: 0,
        }
    }
}

/// How the API documents a recommendation (the domain type's JSON form).
#[derive(utoipa::ToSchema)]
#[schema(as = Recommendation)]
#[allow(dead_code)]
pub struct RecommendationDoc {
    /// `rec_<32 hex digits of the diagnosis id>_<n>` (n from 1).
    #[schema(pattern = "^rec_[0-9a-f]{32}_[1-9][0-9]{0,3}$")]
    id: String,
    title: String,
    detail: String,
    /// `high`, `medium` or `low`.
    #[schema(pattern = "^(high|medium|low)$")]
    priority: String,
    /// What implementing it does: `{"type": ..., ...parameters}`, one of `scale_up`
    /// `{count}`, `scale_down` `{count}`, `resize` `{droplet_id, size}`, `restart`
    /// `{droplet_id}`, `create_droplet` `{size, image}`, `monitor`, `none` (advice only).
    #[schema(value_type = Object)]
    action: serde_json::Value,
}
