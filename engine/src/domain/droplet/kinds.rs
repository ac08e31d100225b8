//! Droplet statuses, power actions and the request a droplet is waiting on.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::values::{ProviderName, Size, ValidationError};

/// A droplet's lifecycle status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropletStatus {
    /// Being created by its provision job.
    #[default]
    Provisioning,
    /// Running.
    Active,
    /// Being resized.
    Resizing,
    /// Powered off.
    Off,
    /// Provisioning failed.
    Failed,
    /// Destroyed; final.
    Destroyed,
}

impl DropletStatus {
    /// All statuses.
    pub const ALL: [Self; 6] = [
        Self::Provisioning,
        Self::Active,
        Self::Resizing,
        Self::Off,
        Self::Failed,
        Self::Destroyed,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provisioning => "provisioning",
            Self::Active => "active",
            Self::Resizing => "resizing",
            Self::Off => "off",
            Self::Failed => "failed",
            Self::Destroyed => "destroyed",
        }
    }

    /// Parses a wire name.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| {
                ValidationError::new(
                    "status",
                    "must be one of: provisioning, active, resizing, off, failed, destroyed",
                )
            })
    }
}

impl fmt::Display for DropletStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A power action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PowerAction {
    /// Power on (from off).
    On,
    /// Power off (from active).
    Off,
    /// Restart (from active).
    Restart,
}

impl PowerAction {
    /// All actions.
    pub const ALL: [Self; 3] = [Self::On, Self::Off, Self::Restart];

    /// The wire name (`on`, `off`, `restart`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::On => "on",
            Self::Off => "off",
            Self::Restart => "restart",
        }
    }

    /// Parses a wire name.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == value)
            .ok_or_else(|| ValidationError::new("action", "must be one of: on, off, restart"))
    }

    /// The action name used in [`DropletError::InvalidTransition`].
    pub(super) fn transition_name(self) -> &'static str {
        match self {
            Self::On => "power on",
            Self::Off => "power off",
            Self::Restart => "restart",
        }
    }

    /// The status the droplet must be in for this action.
    pub(super) fn required_status(self) -> DropletStatus {
        match self {
            Self::On => DropletStatus::Off,
            Self::Off | Self::Restart => DropletStatus::Active,
        }
    }
}

impl fmt::Display for PowerAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The request a droplet is waiting on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PendingAction {
    /// Provisioning.
    Provision,
    /// Resizing to `to_size`.
    Resize {
        /// The target size.
        to_size: Size,
    },
    /// A power action.
    Power {
        /// Which one.
        action: PowerAction,
    },
    /// Destroying.
    Destroy,
    /// Moving to `to_provider`.
    Migrate {
        /// The target provider.
        to_provider: ProviderName,
    },
}
