//! The events of the `autoscaler` aggregate (one stream per cluster) and their payloads.
//!
//! Serialised as `{"type": "autoscaling.<name>", "data": {...}}`; see
//! [`crate::domain::aggregate::event_parts`].

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{DecisionCode, DecisionInputs, ScaleDecision, Trigger};
use crate::domain::values::JobId;

/// Payload of `autoscaling.decided`: an acting decision and the scale job it started
/// (decisions to do nothing are kept in the bounded decision history, not in the log).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AutoscalingDecided {
    /// `scale_up` or `scale_down`.
    pub decision: ScaleDecision,
    /// Droplets to add or remove.
    pub count: u32,
    /// The machine reason.
    pub code: DecisionCode,
    /// The human reason.
    pub reason: String,
    /// What it was decided from.
    pub inputs: DecisionInputs,
    /// The scale job started (its events are caused by this one).
    pub job_id: JobId,
    /// The scheduled round or a manual evaluation.
    pub trigger: Trigger,
    /// The moment evaluated (cooldowns count from it), RFC 3339.
    #[schemars(with = "String")]
    pub decided_at: DateTime<Utc>,
}

/// Events of a cluster's autoscaler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", content = "data")]
pub enum AutoscalerEvent {
    /// `autoscaling.decided`
    #[serde(rename = "autoscaling.decided")]
    Decided(Box<AutoscalingDecided>),
}

impl AutoscalerEvent {
    /// Every event type string of this aggregate.
    pub const TYPES: [&'static str; 1] = ["autoscaling.decided"];

    /// The event type string.
    pub fn type_str(&self) -> &'static str {
        match self {
            Self::Decided(_) => Self::TYPES[0],
        }
    }
}

impl DomainEvent for AutoscalerEvent {
    fn event_type(&self) -> String {
        self.type_str().to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
