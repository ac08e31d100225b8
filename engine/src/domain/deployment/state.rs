//! The folded state's parts (steps, logs, status) and how each event changes it.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Deployment, DeploymentEvent, GateVerdict, PlannedStep, StepKind};
use crate::domain::values::{DropletId, JobId};

/// Where a deployment stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    /// Steps, gates or its rollback are under way.
    #[default]
    Running,
    /// Every droplet runs the new version.
    Succeeded,
    /// Every touched droplet is back at the previous version.
    RolledBack,
    /// The rollback itself failed (or a blue-green retire after the switch).
    Failed,
}

impl DeploymentStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::RolledBack => "rolled_back",
            Self::Failed => "failed",
        }
    }
}

impl fmt::Display for DeploymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a step stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Not started.
    #[default]
    Pending,
    /// Its job runs.
    Running,
    /// Done.
    Completed,
    /// Its job failed (or was stopped by a rollback).
    Failed,
}

impl StepStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }
}

/// One step with its progress.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Its position.
    pub index: u32,
    /// Its kind.
    pub kind: StepKind,
    /// The droplets it acts on.
    pub droplet_ids: Vec<DropletId>,
    /// Whether a gate follows it.
    #[serde(default)]
    pub gated: bool,
    /// Where it stands.
    #[serde(default)]
    pub status: StepStatus,
    /// Its job.
    pub job_id: Option<JobId>,
    /// When it started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it completed or failed.
    pub completed_at: Option<DateTime<Utc>>,
}

impl Step {
    fn planned(index: usize, planned: PlannedStep) -> Self {
        Self {
            index: u32::try_from(index).unwrap_or(u32::MAX),
            kind: planned.kind,
            droplet_ids: planned.droplet_ids,
            gated: planned.gated,
            status: StepStatus::Pending,
            job_id: None,
            started_at: None,
            completed_at: None,
        }
    }
}

/// How loud a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    /// Progress.
    Info,
    /// Something went wrong and is being handled.
    Warn,
    /// Something could not be handled.
    Error,
}

/// One line of a deployment's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// How loud.
    pub level: LogLevel,
    /// What.
    pub message: String,
}

impl Deployment {
    /// Whether it was ever started.
    pub fn exists(&self) -> bool {
        self.id.is_some()
    }

    /// Whether it is still under way.
    pub fn is_running(&self) -> bool {
        self.exists() && self.status == DeploymentStatus::Running
    }

    /// The step `index`.
    pub fn step(&self, index: u32) -> Option<&Step> {
        self.steps.get(index as usize)
    }

    /// The step whose job runs now (the rollback step while rolling back).
    pub fn running_step(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.status == StepStatus::Running)
    }

    /// The job doing what happens now: the running step's, or the gate's.
    pub fn current_job(&self) -> Option<&JobId> {
        self.running_step()
            .and_then(|s| s.job_id.as_ref())
            .or(self.gate_job.as_ref().map(|(_, job)| job))
    }

    /// The rollback step, once a rollback started.
    pub fn rollback_step(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.kind == StepKind::Rollback)
    }

    /// The droplets a rollback must revert: those of every step that started and sets
    /// the version (blue-green: the new set), without repeats.
    pub fn touched(&self) -> Vec<DropletId> {
        let mut touched: Vec<DropletId> = Vec::new();
        for step in &self.steps {
            if step.kind.sets_version() && step.status != StepStatus::Pending {
                for id in &step.droplet_ids {
                    if !touched.contains(id) {
                        touched.push(id.clone());
                    }
                }
            }
        }
        touched
    }

    /// What happens now, in words (e.g. "gate after batch 2 of 3").
    pub fn phase(&self) -> String {
        match self.status {
            DeploymentStatus::Succeeded => return "succeeded".into(),
            DeploymentStatus::RolledBack => return "rolled back".into(),
            DeploymentStatus::Failed => return "failed".into(),
            DeploymentStatus::Running => {}
        }
        if self.rolling_back {
            return "rolling back".into();
        }
        if self.waiting_for_promotion {
            return "waiting for promotion".into();
        }
        if let Some((after, _)) = &self.gate_job {
            return format!("gate after {}", self.step_name(*after));
        }
        match self.running_step() {
            Some(step) => self.step_name(step.index),
            None => "starting".into(),
        }
    }

    /// A step's name in words: "batch 2 of 3", "canary", "green set", ...
    pub fn step_name(&self, index: u32) -> String {
        let Some(step) = self.step(index) else {
            return format!("step {index}");
        };
        match step.kind {
            StepKind::Batch => {
                let batches = self.steps.iter().filter(|s| s.kind == StepKind::Batch);
                format!("batch {} of {}", index + 1, batches.count())
            }
            StepKind::Canary => "canary".into(),
            StepKind::Rest => "the rest".into(),
            StepKind::Green => "the new set".into(),
            StepKind::Switch => "switch".into(),
            StepKind::Retire => "retiring the old set".into(),
            StepKind::Rollback => "rollback".into(),
        }
    }

    fn log(&mut self, at: DateTime<Utc>, level: LogLevel, message: String) {
        self.updated_at = Some(at);
        self.logs.push(LogEntry { at, level, message });
    }

    fn step_mut(&mut self, index: u32) -> Option<&mut Step> {
        self.steps.get_mut(index as usize)
    }

    fn finish(&mut self, status: DeploymentStatus, at: DateTime<Utc>) {
        self.status = status;
        self.finished_at = Some(at);
        self.gate_job = None;
        self.waiting_for_promotion = false;
    }

    /// Applies one event.
    pub(super) fn apply_event(&mut self, event: DeploymentEvent) {
        use DeploymentEvent as E;
        match event {
            E::Started(e) => {
                let e = *e;
                self.id = Some(e.deployment_id);
                self.cluster_id = Some(e.cluster_id);
                self.strategy = Some(e.strategy);
                self.target_percent = e.target_percent;
                self.batch_size = e.batch_size;
                self.auto_promote = e.auto_promote;
                self.health_gate = Some(e.health_gate);
                self.steps = e
                    .steps
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| Step::planned(i, s))
                    .collect();
                self.status = DeploymentStatus::Running;
                self.created_at = Some(e.at);
                let from = e
                    .previous_version
                    .as_ref()
                    .map_or("no version".into(), |v| v.to_string());
                let message = format!(
                    "{} deployment of {} started (from {from}, {} steps)",
                    e.strategy,
                    e.version,
                    self.steps.len()
                );
                self.version = Some(e.version);
                self.previous_version = e.previous_version;
                self.log(e.at, LogLevel::Info, message);
            }
            E::StepStarted(e) => {
                if let Some(step) = self.step_mut(e.index) {
                    step.status = StepStatus::Running;
                    step.job_id = e.job_id;
                    step.started_at = Some(e.at);
                }
                let count = self.step(e.index).map_or(0, |s| s.droplet_ids.len());
                let message = format!("{} started ({count} droplets)", self.step_name(e.index));
                self.log(e.at, LogLevel::Info, message);
            }
            E::StepCompleted(e) => {
                if let Some(step) = self.step_mut(e.index) {
                    step.status = StepStatus::Completed;
                    step.completed_at = Some(e.at);
                }
                if self.step(e.index).map(|s| s.kind) == Some(StepKind::Switch) {
                    self.switched = true;
                }
                let message = format!("{} completed", self.step_name(e.index));
                self.log(e.at, LogLevel::Info, message);
            }
            E::StepFailed(e) => {
                if let Some(step) = self.step_mut(e.index) {
                    step.status = StepStatus::Failed;
                    step.completed_at = Some(e.at);
                }
                let message = format!("{} failed: {}", self.step_name(e.index), e.reason);
                self.log(e.at, LogLevel::Warn, message);
            }
            E::GateStarted(e) => {
                self.gate_job = Some((e.after_step, e.job_id));
                let window = self.health_gate.map_or(0, |g| g.window_seconds);
                let message = format!(
                    "gate after {} waits {window} s before judging",
                    self.step_name(e.after_step)
                );
                self.log(e.at, LogLevel::Info, message);
            }
            E::GatePassed(verdict) | E::GateFailed(verdict) => self.apply_verdict(verdict),
            E::Promoted(e) => {
                self.waiting_for_promotion = false;
                self.log(e.at, LogLevel::Info, "promoted: the rest follows".into());
            }
            E::RollbackStarted(e) => {
                if let Some(step) = self.running_step().map(|s| s.index) {
                    if let Some(step) = self.step_mut(step) {
                        step.status = StepStatus::Failed;
                        step.completed_at = Some(e.at);
                    }
                }
                self.gate_job = None;
                self.waiting_for_promotion = false;
                self.rolling_back = true;
                self.rollback_reason = Some(e.reason.clone());
                let index = u32::try_from(self.steps.len()).unwrap_or(u32::MAX);
                self.steps.push(Step {
                    index,
                    kind: StepKind::Rollback,
                    droplet_ids: e.droplet_ids,
                    gated: false,
                    status: StepStatus::Running,
                    job_id: Some(e.job_id),
                    started_at: Some(e.at),
                    completed_at: None,
                });
                let who = if e.manual {
                    "manual rollback"
                } else {
                    "automatic rollback"
                };
                self.log(e.at, LogLevel::Warn, format!("{who} started: {}", e.reason));
            }
            E::RolledBack(e) => {
                self.end_rollback_step(StepStatus::Completed, e.at);
                self.finish(DeploymentStatus::RolledBack, e.at);
                let to = self
                    .previous_version
                    .as_ref()
                    .map_or("no version".into(), |v| v.to_string());
                self.log(
                    e.at,
                    LogLevel::Warn,
                    format!("rolled back to {to}: {}", e.reason),
                );
            }
            E::Succeeded(e) => {
                self.finish(DeploymentStatus::Succeeded, e.at);
                let version = self
                    .version
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                self.log(
                    e.at,
                    LogLevel::Info,
                    format!("every droplet runs {version}"),
                );
            }
            E::Failed(e) => {
                self.end_rollback_step(StepStatus::Failed, e.at);
                self.finish(DeploymentStatus::Failed, e.at);
                self.log(
                    e.at,
                    LogLevel::Error,
                    format!("deployment failed: {}", e.reason),
                );
            }
        }
    }

    fn apply_verdict(&mut self, verdict: GateVerdict) {
        self.gate_job = None;
        let at = verdict.at;
        let name = self.step_name(verdict.after_step);
        let (level, word) = if verdict.passed {
            (LogLevel::Info, "passed")
        } else {
            (LogLevel::Warn, "failed")
        };
        let message = format!("gate after {name} {word}: {}", verdict.reason);
        let waits = verdict.passed
            && !self.auto_promote
            && self.step(verdict.after_step).map(|s| s.kind) == Some(StepKind::Canary)
            && self.steps.iter().any(|s| s.kind == StepKind::Rest);
        self.gates.push(verdict);
        self.log(at, level, message);
        if waits {
            self.waiting_for_promotion = true;
            self.log(at, LogLevel::Info, "waiting for promotion".into());
        }
    }

    fn end_rollback_step(&mut self, status: StepStatus, at: DateTime<Utc>) {
        if let Some(step) = self.steps.iter_mut().find(|s| s.kind == StepKind::Rollback) {
            step.status = status;
            step.completed_at = Some(at);
        }
    }
}
