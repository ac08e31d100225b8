//! What an engine answers before it is recorded: a score, its label, insights and draft
//! recommendations (numbered into `rec_<diagnosis hex>_<n>` ids by [`Advice::recommendations`]).

use crate::domain::diagnosis::{Priority, Recommendation, RecommendationId, RecommendedAction};
use crate::domain::DiagnosisId;

/// An engine's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Advice {
    /// 0-100.
    pub health_score: u8,
    /// The label of the score.
    pub health_label: String,
    /// Observations.
    pub insights: Vec<String>,
    /// Recommendations in order, without ids yet.
    pub drafts: Vec<Draft>,
}

/// A recommendation without its id.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub title: String,
    pub detail: String,
    pub priority: Priority,
    pub action: RecommendedAction,
}

impl Draft {
    /// A draft.
    pub fn new(
        title: impl Into<String>,
        detail: impl Into<String>,
        priority: Priority,
        action: RecommendedAction,
    ) -> Self {
        Self {
            title: title.into(),
            detail: detail.into(),
            priority,
            action,
        }
    }
}

impl Advice {
    /// The drafts as the recommendations of diagnosis `id`, numbered from 1.
    pub fn recommendations(&self, id: &DiagnosisId) -> Vec<Recommendation> {
        self.drafts
            .iter()
            .enumerate()
            .map(|(i, d)| Recommendation {
                id: RecommendationId::new(id, i + 1),
                title: d.title.clone(),
                detail: d.detail.clone(),
                priority: d.priority,
                action: d.action.clone(),
            })
            .collect()
    }
}
