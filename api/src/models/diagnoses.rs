//! The body of `POST /v1/clusters/{id}/diagnose`.

use engine::domain::DiagnosisEngine;
use serde::Deserialize;

use crate::errors::ApiError;

/// `POST /v1/clusters/{id}/diagnose` (the body is optional).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiagnoseBody {
    /// `rules` (the default: deterministic, offline) or `llm` (the configured
    /// OpenAI-compatible endpoint, falling back to the rules when it fails; `422` when
    /// none is configured).
    #[serde(default)]
    #[schema(pattern = "^(rules|llm)$")]
    pub engine: Option<String>,
}

impl DiagnoseBody {
    /// The engine asked for (`rules` when none is named).
    pub fn engine(&self) -> Result<DiagnosisEngine, ApiError> {
        match self.engine.as_deref() {
            None => Ok(DiagnosisEngine::Rules),
            Some(raw) => {
                DiagnosisEngine::parse(raw).map_err(|e| ApiError::invalid_field(e.field, e.message))
            }
        }
    }
}
