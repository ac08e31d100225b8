//! Injected faults and the sim-speed factor: operational knobs of one process, never
//! recorded as events.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ProviderError;
use crate::domain::provider_config::MAX_LATENCY_MS;

/// Faults injected into one provider's operations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Probability (0 to 1) that an operation fails transiently after its latency.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub failure_rate: f64,
    /// Probability (0 to 1) that an operation takes `spike_ms` longer.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub spike_rate: f64,
    /// Extra latency of a spike, in milliseconds at sim speed 1 (at most ten minutes).
    #[schema(maximum = 600_000)]
    pub spike_ms: u64,
    /// While on, every operation fails at once with a retryable outage error.
    pub outage: bool,
}

impl Faults {
    /// No faults at all.
    pub const NONE: Self = Self {
        failure_rate: 0.0,
        spike_rate: 0.0,
        spike_ms: 0,
        outage: false,
    };

    /// Checks the ranges: rates within 0..=1, `spike_ms` at most 10 minutes.
    pub fn validate(&self) -> Result<(), ProviderError> {
        for (field, rate) in [
            ("failure_rate", self.failure_rate),
            ("spike_rate", self.spike_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(ProviderError::InvalidFaults {
                    field,
                    message: "must be between 0 and 1".into(),
                });
            }
        }
        if self.spike_ms > MAX_LATENCY_MS {
            return Err(ProviderError::InvalidFaults {
                field: "spike_ms",
                message: format!("must be at most {MAX_LATENCY_MS}"),
            });
        }
        Ok(())
    }
}

/// How much faster than "real" the simulation runs: latencies are divided by it.
/// `0` is the zero-latency mode (benchmarks, tests): every operation completes at once.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SimSpeed(f64);

impl SimSpeed {
    /// Real time.
    pub const REAL_TIME: Self = Self(1.0);
    /// No latency at all.
    pub const INSTANT: Self = Self(0.0);

    /// A speed factor; must be finite and not negative (`0` means instant).
    pub fn new(factor: f64) -> Result<Self, ProviderError> {
        if factor.is_finite() && factor >= 0.0 {
            Ok(Self(factor))
        } else {
            Err(ProviderError::InvalidFaults {
                field: "sim_speed",
                message: "must be a finite number >= 0 (0: no latency)".into(),
            })
        }
    }

    /// The factor.
    pub fn factor(self) -> f64 {
        self.0
    }

    /// `ms` of simulated latency at this speed.
    pub fn scale(self, ms: u64) -> Duration {
        if self.0 == 0.0 || ms == 0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(ms as f64 / 1000.0 / self.0)
        }
    }
}

impl Default for SimSpeed {
    fn default() -> Self {
        Self::REAL_TIME
    }
}
