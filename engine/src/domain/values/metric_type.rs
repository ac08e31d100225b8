//! The metric types a sample measures.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ValidationError;

/// What a sample measures.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    JsonSchema,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MetricType {
    /// CPU use, percent (0-100).
    Cpu,
    /// Memory use, percent (0-100).
    Memory,
    /// Disk use, percent (0-100).
    Disk,
    /// Network throughput, Mbps (0 and up).
    Network,
}

impl MetricType {
    /// Every metric type.
    pub const ALL: [Self; 4] = [Self::Cpu, Self::Memory, Self::Disk, Self::Network];

    /// The wire name (`cpu`, `memory`, `disk`, `network`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Memory => "memory",
            Self::Disk => "disk",
            Self::Network => "network",
        }
    }

    /// The unit of its values (`percent` or `mbps`).
    pub fn unit(self) -> &'static str {
        match self {
            Self::Network => "mbps",
            _ => "percent",
        }
    }

    /// Parses a wire name.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == value)
            .ok_or_else(|| {
                ValidationError::new("type", "must be one of cpu, memory, disk, network")
            })
    }
}
