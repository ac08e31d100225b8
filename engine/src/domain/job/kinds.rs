//! Job types and statuses.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::values::ValidationError;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobType {
    /// Create a droplet.
    Provision,
    /// Destroy a droplet.
    Destroy,
    /// Resize a droplet.
    Resize,
    /// Add droplets to a cluster.
    ScaleUp,
    /// Remove droplets from a cluster.
    ScaleDown,
    /// Restart a droplet.
    Restart,
    /// Diagnose a cluster.
    Diagnose,
    /// Monitor a cluster.
    Monitor,
    /// Power a droplet on.
    PowerOn,
    /// Power a droplet off.
    PowerOff,
    /// Move a droplet to another provider.
    Migrate,
    /// Do one step of a deployment.
    DeployStep,
    /// Judge a deployment's step by its health gate.
    DeployGate,
    /// Roll a deployment back.
    DeployRollback,
}

impl JobType {
    /// All job types.
    pub const ALL: [Self; 14] = [
        Self::Provision,
        Self::Destroy,
        Self::Resize,
        Self::ScaleUp,
        Self::ScaleDown,
        Self::Restart,
        Self::Diagnose,
        Self::Monitor,
        Self::PowerOn,
        Self::PowerOff,
        Self::Migrate,
        Self::DeployStep,
        Self::DeployGate,
        Self::DeployRollback,
    ];

    /// The wire name, e.g. `scale_up`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provision => "provision",
            Self::Destroy => "destroy",
            Self::Resize => "resize",
            Self::ScaleUp => "scale_up",
            Self::ScaleDown => "scale_down",
            Self::Restart => "restart",
            Self::Diagnose => "diagnose",
            Self::Monitor => "monitor",
            Self::PowerOn => "power_on",
            Self::PowerOff => "power_off",
            Self::Migrate => "migrate",
            Self::DeployStep => "deploy_step",
            Self::DeployGate => "deploy_gate",
            Self::DeployRollback => "deploy_rollback",
        }
    }

    /// Parses a wire name (field `type` in the API).
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == value)
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|t| t.as_str()).collect();
                ValidationError::new("type", format!("must be one of: {}", known.join(", ")))
            })
    }
}

impl fmt::Display for JobType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job's status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Created, not yet queued.
    #[default]
    Pending,
    /// Waiting for a worker.
    Queued,
    /// A worker runs an attempt.
    Running,
    /// Done; final.
    Succeeded,
    /// Failed for good; final.
    Failed,
    /// Cancelled; final.
    Cancelled,
    /// The last attempt timed out; final.
    TimedOut,
}

impl JobStatus {
    /// All statuses.
    pub const ALL: [Self; 7] = [
        Self::Pending,
        Self::Queued,
        Self::Running,
        Self::Succeeded,
        Self::Failed,
        Self::Cancelled,
        Self::TimedOut,
    ];

    /// The wire name, e.g. `timed_out`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::TimedOut => "timed_out",
        }
    }

    /// Parses a wire name (field `status` in the API).
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
                ValidationError::new("status", format!("must be one of: {}", known.join(", ")))
            })
    }

    /// Whether the status is final (succeeded, failed, cancelled, timed out).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::Failed | Self::Cancelled | Self::TimedOut
        )
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_types_parse_and_serialise_in_snake_case() {
        for t in JobType::ALL {
            assert_eq!(JobType::parse(t.as_str()), Ok(t));
            let json = serde_json::to_string(&t).expect("serialise");
            assert_eq!(json, format!("\"{}\"", t.as_str()));
        }
        assert_eq!(JobType::parse("scale_up"), Ok(JobType::ScaleUp));
        let err = JobType::parse("ScaleUp").expect_err("unknown");
        assert_eq!(err.field, "type");
        assert!(err.message.contains("provision, destroy, resize, scale_up"));
    }

    #[test]
    fn statuses_parse_and_know_which_are_terminal() {
        for s in JobStatus::ALL {
            assert_eq!(JobStatus::parse(s.as_str()), Ok(s));
            assert_eq!(serde_json::to_value(s).expect("serialise"), s.as_str());
        }
        let terminal: Vec<_> = JobStatus::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(
            terminal,
            [
                JobStatus::Succeeded,
                JobStatus::Failed,
                JobStatus::Cancelled,
                JobStatus::TimedOut
            ]
        );
        assert!(JobStatus::parse("done").is_err());
    }
}
