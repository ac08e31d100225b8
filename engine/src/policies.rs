//! Retry policies per job type: how new jobs are created (their `max_attempts`) and how
//! the job runtime times and retries their attempts.
//!
//! A [`RetryPolicy`] holds what Temporal calls an activity's retry options: the first
//! backoff, its growth and cap, the most attempts, the errors never retried, plus the
//! time an attempt may take and how long a silent worker is trusted. Each job type has
//! defaults ([`RetryPolicy::default_for`]); settings patch them per type
//! ([`PolicyPatch`], `[job_policies.<type>]` in `clustergenie.toml`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::JobType;

/// How a job type's attempts are timed and retried.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RetryPolicy {
    /// Backoff after the first failed attempt.
    pub initial_interval_ms: u64,
    /// Each further backoff is the previous one times this (at least 1).
    pub backoff_coefficient: f64,
    /// No backoff is longer.
    pub max_interval_ms: u64,
    /// Attempts a new job of this type may make (recorded in `job.created`).
    pub max_attempts: u32,
    /// The time one attempt may take before it is timed out.
    pub attempt_timeout_ms: u64,
    /// An attempt whose worker sends no heartbeat (or progress) for this long is taken
    /// as lost (its worker died) and timed out; workers beat every third of it.
    pub heartbeat_timeout_ms: u64,
    // The kinds are those of the executor's `AttemptError::kind`, and `timeout`.
    /// Error kinds never retried, even when transient.
    pub non_retryable: Vec<String>,
}

impl RetryPolicy {
    /// The defaults of a job type: droplet operations wait on a provider (minutes at
    /// worst) and retry five times; cluster-wide jobs retry three times.
    pub fn default_for(job_type: JobType) -> Self {
        let base = Self {
            initial_interval_ms: 1_000,
            backoff_coefficient: 2.0,
            max_interval_ms: 30_000,
            max_attempts: 5,
            attempt_timeout_ms: 120_000,
            heartbeat_timeout_ms: 30_000,
            non_retryable: Vec::new(),
        };
        match job_type {
            JobType::Provision | JobType::Migrate => base,
            JobType::Resize
            | JobType::Destroy
            | JobType::Restart
            | JobType::PowerOn
            | JobType::PowerOff => Self {
                attempt_timeout_ms: 60_000,
                ..base
            },
            JobType::ScaleUp | JobType::ScaleDown => Self {
                max_attempts: 3,
                ..base
            },
            // A step waits on the provider for each of its droplets (and, blue-green, on
            // the new droplets' provisions); a gate waits its window (up to an hour at sim
            // speed 1) before judging; a rollback is what must not give up early.
            JobType::DeployStep => Self {
                initial_interval_ms: 500,
                max_interval_ms: 5_000,
                max_attempts: 3,
                attempt_timeout_ms: 600_000,
                ..base
            },
            JobType::DeployGate => Self {
                initial_interval_ms: 500,
                max_interval_ms: 5_000,
                max_attempts: 3,
                attempt_timeout_ms: 3_900_000,
                ..base
            },
            JobType::DeployRollback => Self {
                initial_interval_ms: 500,
                max_interval_ms: 10_000,
                max_attempts: 8,
                attempt_timeout_ms: 600_000,
                ..base
            },
            JobType::Diagnose | JobType::Monitor => Self {
                initial_interval_ms: 500,
                max_interval_ms: 10_000,
                max_attempts: 3,
                attempt_timeout_ms: 30_000,
                ..base
            },
        }
    }

    /// The backoff after attempt `attempt` (from 1) failed:
    /// `initial * coefficient^(attempt - 1)`, at most `max_interval_ms`.
    pub fn delay_ms(&self, attempt: u32) -> u64 {
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let delay = self.initial_interval_ms as f64 * self.backoff_coefficient.powi(exponent);
        if delay.is_finite() {
            (delay as u64).min(self.max_interval_ms)
        } else {
            self.max_interval_ms
        }
    }

    /// Whether an attempt error of `kind` that may pass is tried again (attempts left are
    /// the job's own business).
    pub fn retries_kind(&self, kind: &str) -> bool {
        !self.non_retryable.iter().any(|k| k == kind)
    }

    /// Whether a timed-out attempt may be tried again.
    pub fn retries_timeouts(&self) -> bool {
        self.retries_kind("timeout")
    }

    /// The backoff after attempt `attempt` timed out, or None when time-outs are final.
    pub fn timeout_retry_delay_ms(&self, attempt: u32) -> Option<u64> {
        self.retries_timeouts().then(|| self.delay_ms(attempt))
    }

    /// The time one attempt may take.
    pub fn attempt_timeout(&self) -> Duration {
        Duration::from_millis(self.attempt_timeout_ms)
    }

    /// How often a running attempt records a heartbeat.
    pub fn heartbeat_every(&self) -> Duration {
        Duration::from_millis((self.heartbeat_timeout_ms / 3).max(1))
    }
}

/// Changes to a job type's default policy; absent fields keep the default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyPatch {
    pub initial_interval_ms: Option<u64>,
    pub backoff_coefficient: Option<f64>,
    pub max_interval_ms: Option<u64>,
    pub max_attempts: Option<u32>,
    pub attempt_timeout_ms: Option<u64>,
    pub heartbeat_timeout_ms: Option<u64>,
    pub non_retryable: Option<Vec<String>>,
}

/// Why a policy patch was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job_policies.{job_type}: {message}")]
pub struct PolicyError {
    /// The patched job type (as written).
    pub job_type: String,
    /// What is wrong.
    pub message: String,
}

/// The policy of every job type.
#[derive(Debug, Clone, PartialEq)]
pub struct Policies(BTreeMap<&'static str, RetryPolicy>);

impl Default for Policies {
    fn default() -> Self {
        Self(
            JobType::ALL
                .into_iter()
                .map(|t| (t.as_str(), RetryPolicy::default_for(t)))
                .collect(),
        )
    }
}

impl Policies {
    /// The defaults with `patches` (keyed by job type name) applied.
    pub fn patched(patches: &BTreeMap<String, PolicyPatch>) -> Result<Self, PolicyError> {
        let mut policies = Self::default();
        for (name, patch) in patches {
            let error = |message: &str| PolicyError {
                job_type: name.clone(),
                message: message.to_owned(),
            };
            let job_type = JobType::parse(name).map_err(|e| error(&e.message))?;
            let policy = policies
                .0
                .get_mut(job_type.as_str())
                .ok_or_else(|| error("unknown job type"))?;
            apply(policy, patch.clone());
            check(policy).map_err(error)?;
        }
        Ok(policies)
    }

    /// The policy of `job_type`.
    pub fn get(&self, job_type: JobType) -> &RetryPolicy {
        // Every type has an entry: the map is built from `JobType::ALL` and only patched.
        &self.0[job_type.as_str()]
    }

    /// The policy of a job of `job_type`; one whose type could not be read is run and
    /// watched under the mildest type's (`diagnose`).
    pub fn of(&self, job_type: Option<JobType>) -> &RetryPolicy {
        self.get(job_type.unwrap_or(JobType::Diagnose))
    }

    /// Every job type's policy, by name (for `GET /v1/workers`).
    pub fn all(&self) -> &BTreeMap<&'static str, RetryPolicy> {
        &self.0
    }
}

fn apply(policy: &mut RetryPolicy, patch: PolicyPatch) {
    let PolicyPatch {
        initial_interval_ms,
        backoff_coefficient,
        max_interval_ms,
        max_attempts,
        attempt_timeout_ms,
        heartbeat_timeout_ms,
        non_retryable,
    } = patch;
    policy.initial_interval_ms = initial_interval_ms.unwrap_or(policy.initial_interval_ms);
    policy.backoff_coefficient = backoff_coefficient.unwrap_or(policy.backoff_coefficient);
    policy.max_interval_ms = max_interval_ms.unwrap_or(policy.max_interval_ms);
    policy.max_attempts = max_attempts.unwrap_or(policy.max_attempts);
    policy.attempt_timeout_ms = attempt_timeout_ms.unwrap_or(policy.attempt_timeout_ms);
    policy.heartbeat_timeout_ms = heartbeat_timeout_ms.unwrap_or(policy.heartbeat_timeout_ms);
    if let Some(kinds) = non_retryable {
        policy.non_retryable = kinds;
    }
}

fn check(policy: &RetryPolicy) -> Result<(), &'static str> {
    if !(policy.backoff_coefficient >= 1.0 && policy.backoff_coefficient <= 100.0) {
        return Err("backoff_coefficient must be between 1 and 100");
    }
    if policy.max_attempts == 0 || policy.max_attempts > 100 {
        return Err("max_attempts must be between 1 and 100");
    }
    if policy.attempt_timeout_ms == 0 || policy.heartbeat_timeout_ms == 0 {
        return Err("attempt_timeout_ms and heartbeat_timeout_ms must be above 0");
    }
    if policy.max_interval_ms < policy.initial_interval_ms {
        return Err("max_interval_ms must not be below initial_interval_ms");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_by_the_coefficient_up_to_the_cap() {
        let policy = RetryPolicy::default_for(JobType::Provision);
        let delays: Vec<u64> = (1..=7).map(|a| policy.delay_ms(a)).collect();
        assert_eq!(delays, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
        let flat = RetryPolicy {
            backoff_coefficient: 1.0,
            ..policy.clone()
        };
        assert_eq!(flat.delay_ms(9), 1_000);
        assert_eq!(policy.delay_ms(u32::MAX), 30_000);
    }

    #[test]
    fn patches_change_only_what_they_name_and_are_checked() {
        let mut patches = BTreeMap::new();
        patches.insert(
            "resize".to_owned(),
            PolicyPatch {
                max_attempts: Some(2),
                non_retryable: Some(vec!["provider_transient".into()]),
                ..PolicyPatch::default()
            },
        );
        let policies = Policies::patched(&patches).expect("valid");
        let resize = policies.get(JobType::Resize);
        assert_eq!(resize.max_attempts, 2);
        assert_eq!(resize.attempt_timeout_ms, 60_000);
        assert_eq!(
            policies.get(JobType::Provision),
            &RetryPolicy::default_for(JobType::Provision)
        );
        assert!(!resize.retries_kind("provider_transient"));
        assert!(policies
            .get(JobType::Provision)
            .retries_kind("provider_transient"));

        patches.insert("reboot".to_owned(), PolicyPatch::default());
        let error = Policies::patched(&patches).expect_err("unknown type");
        assert_eq!(error.job_type, "reboot");
        patches.remove("reboot");
        patches.insert(
            "diagnose".to_owned(),
            PolicyPatch {
                backoff_coefficient: Some(0.5),
                ..PolicyPatch::default()
            },
        );
        let error = Policies::patched(&patches).expect_err("coefficient below 1");
        assert!(error
            .to_string()
            .starts_with("job_policies.diagnose: backoff_coefficient"));
    }
}
