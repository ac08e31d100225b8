//! The `autoscaler` aggregate: one stream per cluster (its id is the cluster id) recording
//! each acting auto-scaling decision (`autoscaling.decided`) with the scale job it
//! started. The state keeps the last acting decision's time and job, so that a decision
//! inside the cooldown is refused even when the read models the evaluator read lag.

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::aggregate::{handle_with_decide, Classify, Decide, DomainErrorKind};
use super::values::JobId;

mod decision;
mod events;
#[cfg(test)]
mod tests;

pub use decision::*;
pub use events::*;

/// A cluster's autoscaler, folded from its events.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Autoscaler {
    /// When the last acting decision was made.
    pub last_acting_at: Option<DateTime<Utc>>,
    /// The job it started.
    pub last_job_id: Option<JobId>,
    /// Acting decisions recorded (the stream's version).
    #[serde(default)]
    pub decisions: u64,
}

/// Commands on a cluster's autoscaler.
#[derive(Debug, Clone, PartialEq)]
pub enum AutoscalerCommand {
    /// Record an acting decision; refused inside the cooldown of the last one.
    Record {
        /// The decision.
        decided: Box<AutoscalingDecided>,
        /// The policy's cooldown.
        cooldown_seconds: u32,
    },
}

/// Why an autoscaler command was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AutoscalerError {
    /// A decision to do nothing is not an event.
    #[error("a decision to do nothing is not recorded in the log")]
    NotActing,
    /// Nothing to add or remove.
    #[error("an acting decision must add or remove at least one droplet")]
    NoCount,
    /// Inside the cooldown of the last acting decision.
    #[error(
        "in cooldown: the last scaling decision was {elapsed} s ago, the cooldown is {cooldown} s"
    )]
    Cooldown {
        /// Seconds since the last acting decision.
        elapsed: i64,
        /// The policy's cooldown.
        cooldown: u32,
    },
}

impl Classify for AutoscalerError {
    fn kind(&self) -> DomainErrorKind {
        match self {
            Self::NotActing | Self::NoCount => DomainErrorKind::Invalid,
            Self::Cooldown { .. } => DomainErrorKind::Conflict,
        }
    }
}

impl Autoscaler {
    /// Seconds of the cooldown left at `now` (0 when over or never started).
    pub fn cooldown_remaining(&self, now: DateTime<Utc>, cooldown_seconds: u32) -> u64 {
        cooldown_remaining(self.last_acting_at, now, cooldown_seconds)
    }
}

/// Seconds of a cooldown of `cooldown_seconds` from `last` left at `now`, rounded up.
pub fn cooldown_remaining(
    last: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    cooldown_seconds: u32,
) -> u64 {
    let Some(last) = last else { return 0 };
    let ends = last + chrono::Duration::seconds(i64::from(cooldown_seconds));
    let left_ms = (ends - now).num_milliseconds();
    if left_ms <= 0 {
        0
    } else {
        u64::try_from(left_ms).unwrap_or(0).div_ceil(1000)
    }
}

impl Decide for Autoscaler {
    fn decide(&self, command: AutoscalerCommand) -> Result<Vec<AutoscalerEvent>, AutoscalerError> {
        match command {
            AutoscalerCommand::Record {
                decided,
                cooldown_seconds,
            } => {
                if !decided.decision.acts() {
                    return Err(AutoscalerError::NotActing);
                }
                if decided.count == 0 {
                    return Err(AutoscalerError::NoCount);
                }
                if self.cooldown_remaining(decided.decided_at, cooldown_seconds) > 0 {
                    let last = self.last_acting_at.unwrap_or(decided.decided_at);
                    return Err(AutoscalerError::Cooldown {
                        elapsed: (decided.decided_at - last).num_seconds(),
                        cooldown: cooldown_seconds,
                    });
                }
                Ok(vec![AutoscalerEvent::Decided(decided)])
            }
        }
    }
}

impl Aggregate for Autoscaler {
    const TYPE: &'static str = "autoscaler";
    type Command = AutoscalerCommand;
    type Event = AutoscalerEvent;
    type Error = AutoscalerError;
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
        self.decisions += 1;
        match event {
            AutoscalerEvent::Decided(e) => {
                self.last_acting_at = Some(e.decided_at);
                self.last_job_id = Some(e.job_id);
            }
        }
    }
}
