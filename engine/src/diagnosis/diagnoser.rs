//! Making a diagnosis: the requested engine's advice on the bounded inputs, or the rules
//! engine's when the LLM fails (with the reason), as the `diagnosis.completed` to record.
//! Runs before the command that records it, so a retried append never asks the LLM twice.

use super::inputs::{digest, DiagnosisInputs};
use super::llm::LlmClient;
use super::prompt::PROMPT_VERSION;
use super::rules;
use crate::domain::diagnosis::{DiagnosisCompleted, DiagnosisEngine};
use crate::domain::{ClusterId, DiagnosisId};

/// Why no diagnosis was made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiagnoseError {
    /// `engine: "llm"` without an LLM endpoint configured.
    #[error("the llm engine is not configured (set llm_url and llm_model); use engine \"rules\"")]
    LlmNotConfigured,
}

/// Makes diagnoses with the rules engine and, when configured, an LLM.
#[derive(Debug, Clone, Default)]
pub struct Diagnoser {
    llm: Option<LlmClient>,
}

impl Diagnoser {
    /// A diagnoser asking `llm` when a diagnosis asks for the LLM engine.
    pub fn new(llm: Option<LlmClient>) -> Self {
        Self { llm }
    }

    /// Whether the LLM engine is configured.
    pub fn llm_configured(&self) -> bool {
        self.llm.is_some()
    }

    /// Diagnoses `cluster_id` from `inputs` with `requested`, falling back to the rules
    /// engine when the LLM fails.
    pub async fn diagnose(
        &self,
        cluster_id: ClusterId,
        inputs: DiagnosisInputs,
        requested: DiagnosisEngine,
    ) -> Result<DiagnosisCompleted, DiagnoseError> {
        let inputs = inputs.bounded();
        let mut fallback_reason = None;
        let mut by_llm = None;
        if requested == DiagnosisEngine::Llm {
            let llm = self.llm.as_ref().ok_or(DiagnoseError::LlmNotConfigured)?;
            match llm.advise(&inputs).await {
                Ok(advice) => by_llm = Some((advice, llm.model().to_owned())),
                Err(failure) => {
                    tracing::warn!(cluster_id = %cluster_id, reason = %failure, "llm diagnosis failed; rules engine used");
                    fallback_reason = Some(failure.reason());
                }
            }
        }
        let (advice, engine, model, prompt_version) = match by_llm {
            Some((advice, model)) => (
                advice,
                DiagnosisEngine::Llm,
                Some(model),
                Some(PROMPT_VERSION.to_owned()),
            ),
            None => (rules::advise(&inputs), DiagnosisEngine::Rules, None, None),
        };
        let diagnosis_id = DiagnosisId::new();
        Ok(DiagnosisCompleted {
            recommendations: advice.recommendations(&diagnosis_id),
            diagnosis_id,
            cluster_id,
            engine,
            requested_engine: requested,
            model,
            prompt_version,
            inputs_digest: digest(&inputs),
            inputs,
            health_score: advice.health_score,
            health_label: advice.health_label,
            insights: advice.insights,
            fallback_reason,
        })
    }
}
