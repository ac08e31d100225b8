//! The deployment's decisions: which events each command produces, or why it is refused.
//! A command naming a job that is no longer the current one (a late or repeated end)
//! changes nothing.

use chrono::{DateTime, Utc};

use super::{
    plan, Deployment, DeploymentCommand, DeploymentError, DeploymentEvent, DeploymentFailed,
    DeploymentGateStarted, DeploymentPromoted, DeploymentRollbackStarted, DeploymentRolledBack,
    DeploymentStarted, DeploymentStepCompleted, DeploymentStepFailed, DeploymentStepStarted,
    DeploymentSucceeded, GateVerdict, StartDeployment, StepKind, Strategy,
};
use crate::domain::aggregate::Decide;
use crate::domain::values::JobId;

type Events = Result<Vec<DeploymentEvent>, DeploymentError>;

impl Decide for Deployment {
    fn decide(&self, command: DeploymentCommand) -> Events {
        use DeploymentCommand as C;
        if let C::Start(start) = command {
            return self.start(*start);
        }
        if !self.exists() {
            return Err(DeploymentError::NotFound);
        }
        match command {
            C::Start(_) => Err(DeploymentError::AlreadyExists),
            C::CompleteStep {
                job_id,
                next_job,
                at,
            } => Ok(self.complete_step(&job_id, next_job, at)),
            C::JudgeGate {
                job_id,
                verdict,
                next_job,
            } => Ok(self.judge(&job_id, verdict, next_job)),
            C::FailJob {
                job_id,
                reason,
                rollback_job,
                at,
            } => Ok(self.fail_job(&job_id, reason, rollback_job, at)),
            C::Promote { job_id, at } => self.promote(job_id, at),
            C::Rollback { job_id, at } => self.manual_rollback(job_id, at),
            C::EndRollback {
                job_id,
                outcome,
                at,
            } => Ok(self.end_rollback(&job_id, outcome, at)),
        }
    }
}

impl Deployment {
    fn start(&self, s: StartDeployment) -> Events {
        if self.exists() {
            return Err(DeploymentError::AlreadyExists);
        }
        if s.droplets.is_empty() {
            return Err(DeploymentError::NoDroplets);
        }
        let steps = plan(
            s.strategy,
            &s.droplets,
            s.batch_size,
            s.target_percent,
            &s.green,
        );
        let (target_percent, batch_size) = match s.strategy {
            Strategy::Canary => (Some(s.target_percent), None),
            Strategy::Rolling => (None, Some(s.batch_size)),
            Strategy::BlueGreen => (None, None),
        };
        Ok(vec![
            DeploymentEvent::Started(Box::new(DeploymentStarted {
                deployment_id: s.deployment_id,
                cluster_id: s.cluster_id,
                strategy: s.strategy,
                version: s.version,
                previous_version: s.previous_version,
                target_percent,
                batch_size,
                auto_promote: s.auto_promote,
                health_gate: s.health_gate,
                steps,
                at: s.at,
            })),
            DeploymentEvent::StepStarted(DeploymentStepStarted {
                index: 0,
                job_id: Some(s.job_id),
                at: s.at,
            }),
        ])
    }

    /// Whether `job_id` may still move the deployment forward.
    fn moves(&self, job_id: &JobId) -> bool {
        self.is_running() && !self.rolling_back && self.current_job() == Some(job_id)
    }

    fn complete_step(
        &self,
        job_id: &JobId,
        next_job: JobId,
        at: DateTime<Utc>,
    ) -> Vec<DeploymentEvent> {
        let Some(step) = self.running_step().filter(|_| self.moves(job_id)) else {
            return Vec::new();
        };
        let mut events = vec![DeploymentEvent::StepCompleted(DeploymentStepCompleted {
            index: step.index,
            at,
        })];
        if step.gated {
            events.push(DeploymentEvent::GateStarted(DeploymentGateStarted {
                after_step: step.index,
                job_id: next_job,
                at,
            }));
        } else {
            events.extend(self.advance(step.index, next_job, at));
        }
        events
    }

    /// What follows step `after`: the next step (the switch is recorded at once), or
    /// success after the last.
    fn advance(&self, after: u32, next_job: JobId, at: DateTime<Utc>) -> Vec<DeploymentEvent> {
        let next = after + 1;
        match self.step(next).map(|s| s.kind) {
            None | Some(StepKind::Rollback) => {
                vec![DeploymentEvent::Succeeded(DeploymentSucceeded { at })]
            }
            Some(StepKind::Switch) => {
                let mut events = vec![
                    DeploymentEvent::StepStarted(DeploymentStepStarted {
                        index: next,
                        job_id: None,
                        at,
                    }),
                    DeploymentEvent::StepCompleted(DeploymentStepCompleted { index: next, at }),
                ];
                events.extend(self.advance(next, next_job, at));
                events
            }
            Some(_) => vec![DeploymentEvent::StepStarted(DeploymentStepStarted {
                index: next,
                job_id: Some(next_job),
                at,
            })],
        }
    }

    fn judge(&self, job_id: &JobId, verdict: GateVerdict, next_job: JobId) -> Vec<DeploymentEvent> {
        if !self.moves(job_id) || self.gate_job.as_ref().map(|(_, j)| j) != Some(job_id) {
            return Vec::new();
        }
        let at = verdict.at;
        let after = verdict.after_step;
        if !verdict.passed {
            let reason = format!(
                "gate after {} failed: {}",
                self.step_name(after),
                verdict.reason
            );
            return vec![
                DeploymentEvent::GateFailed(verdict),
                self.rollback_started(reason, false, next_job, None, at),
            ];
        }
        let waits = !self.auto_promote
            && self.step(after).map(|s| s.kind) == Some(StepKind::Canary)
            && self.steps.iter().any(|s| s.kind == StepKind::Rest);
        let mut events = vec![DeploymentEvent::GatePassed(verdict)];
        if !waits {
            events.extend(self.advance(after, next_job, at));
        }
        events
    }

    fn fail_job(
        &self,
        job_id: &JobId,
        reason: String,
        rollback_job: JobId,
        at: DateTime<Utc>,
    ) -> Vec<DeploymentEvent> {
        if !self.moves(job_id) {
            return Vec::new();
        }
        let (first, what) = match (&self.gate_job, self.running_step()) {
            (Some((after, _)), _) => {
                let gate = self
                    .health_gate
                    .unwrap_or_else(|| super::HealthGate::default_with(80.0));
                let failed = DeploymentEvent::GateFailed(GateVerdict {
                    after_step: *after,
                    passed: false,
                    reason: format!("the gate could not judge: {reason}"),
                    metric: gate.metric,
                    max: gate.max,
                    observed: None,
                    unhealthy_droplets: Vec::new(),
                    window_seconds: gate.window_seconds,
                    at,
                });
                (failed, format!("gate after {}", self.step_name(*after)))
            }
            (None, Some(step)) => (
                DeploymentEvent::StepFailed(DeploymentStepFailed {
                    index: step.index,
                    reason: reason.clone(),
                    at,
                }),
                self.step_name(step.index),
            ),
            (None, None) => return Vec::new(),
        };
        let why = format!("{what} failed: {reason}");
        if self.switched {
            return vec![
                first,
                DeploymentEvent::Failed(DeploymentFailed { reason: why, at }),
            ];
        }
        vec![
            first,
            self.rollback_started(why, false, rollback_job, None, at),
        ]
    }

    fn rollback_started(
        &self,
        reason: String,
        manual: bool,
        job_id: JobId,
        cancels: Option<JobId>,
        at: DateTime<Utc>,
    ) -> DeploymentEvent {
        DeploymentEvent::RollbackStarted(DeploymentRollbackStarted {
            reason,
            manual,
            job_id,
            droplet_ids: self.touched(),
            cancels,
            at,
        })
    }

    fn ensure_running(&self) -> Result<(), DeploymentError> {
        if self.is_running() {
            Ok(())
        } else {
            Err(DeploymentError::Finished {
                status: self.status,
            })
        }
    }

    fn promote(&self, job_id: JobId, at: DateTime<Utc>) -> Events {
        self.ensure_running()?;
        let rest = self.steps.iter().find(|s| s.kind == StepKind::Rest);
        let (true, Some(rest)) = (self.waiting_for_promotion, rest) else {
            return Err(DeploymentError::NotWaiting);
        };
        Ok(vec![
            DeploymentEvent::Promoted(DeploymentPromoted { at }),
            DeploymentEvent::StepStarted(DeploymentStepStarted {
                index: rest.index,
                job_id: Some(job_id),
                at,
            }),
        ])
    }

    fn manual_rollback(&self, job_id: JobId, at: DateTime<Utc>) -> Events {
        self.ensure_running()?;
        if self.rolling_back {
            return Err(DeploymentError::RollingBack);
        }
        if self.switched {
            return Err(DeploymentError::Switched);
        }
        let cancels = self.current_job().cloned();
        let reason = "requested by a caller".to_owned();
        Ok(vec![
            self.rollback_started(reason, true, job_id, cancels, at)
        ])
    }

    fn end_rollback(
        &self,
        job_id: &JobId,
        outcome: Result<(), String>,
        at: DateTime<Utc>,
    ) -> Vec<DeploymentEvent> {
        let current = self.rollback_step().and_then(|s| s.job_id.as_ref());
        if !self.is_running() || current != Some(job_id) {
            return Vec::new();
        }
        vec![match outcome {
            Ok(()) => DeploymentEvent::RolledBack(DeploymentRolledBack {
                reason: self.rollback_reason.clone().unwrap_or_default(),
                at,
            }),
            Err(reason) => DeploymentEvent::Failed(DeploymentFailed {
                reason: format!("the rollback failed: {reason}"),
                at,
            }),
        }]
    }
}
