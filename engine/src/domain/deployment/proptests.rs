//! Properties: whatever the jobs report, in any order, no step starts after a failed gate,
//! a rollback ends with every droplet a step touched at the previous version, and an ended
//! deployment stays ended.

use proptest::prelude::*;

use super::tests::{job, start, verdict};
use super::*;
use crate::domain::aggregate::{execute, fold};

fn strategy(n: u8) -> super::Strategy {
    super::Strategy::ALL[usize::from(n) % 3]
}

/// A command from random numbers; job numbers stay small so that they often match the
/// current job.
fn command(selector: u8, param: u8, next: u32) -> DeploymentCommand {
    let job_id = job(u32::from(param % 8));
    let at = super::tests::at();
    match selector % 6 {
        0 | 1 => DeploymentCommand::CompleteStep {
            job_id,
            next_job: job(next),
            at,
        },
        2 => DeploymentCommand::JudgeGate {
            job_id,
            verdict: verdict(u32::from(param % 4), !param.is_multiple_of(3)),
            next_job: job(next),
        },
        3 => DeploymentCommand::FailJob {
            job_id,
            reason: "boom".into(),
            rollback_job: job(next),
            at,
        },
        4 if param.is_multiple_of(2) => DeploymentCommand::Promote {
            job_id: job(next),
            at,
        },
        4 => DeploymentCommand::Rollback {
            job_id: job(next),
            at,
        },
        _ => DeploymentCommand::EndRollback {
            job_id,
            outcome: if param.is_multiple_of(4) {
                Err("x".into())
            } else {
                Ok(())
            },
            at,
        },
    }
}

proptest! {
    #[test]
    fn rollouts_keep_their_invariants(
        kind in 0u8..3,
        n in 1usize..7,
        auto in any::<bool>(),
        commands in proptest::collection::vec((any::<u8>(), any::<u8>()), 0..40),
    ) {
        let mut d = Deployment::default();
        let mut history = execute(&mut d, start(strategy(kind), n, auto)).unwrap();
        // What each droplet runs, as the jobs would leave it: a started version-setting step
        // may already have changed any of its droplets, a rollback puts them all back.
        let mut runs: std::collections::BTreeMap<DropletId, &str> = std::collections::BTreeMap::new();
        let mut note = |d: &Deployment, events: &[DeploymentEvent]| {
            for event in events {
                match event {
                    DeploymentEvent::StepStarted(e) => {
                        if let Some(step) = d.step(e.index).filter(|s| s.kind.sets_version()) {
                            for id in &step.droplet_ids {
                                runs.insert(id.clone(), "v2");
                            }
                        }
                    }
                    DeploymentEvent::RolledBack(_) => {
                        if let Some(step) = d.rollback_step() {
                            for id in &step.droplet_ids {
                                runs.insert(id.clone(), "v1");
                            }
                        }
                    }
                    _ => {}
                }
            }
        };
        note(&d, &history);
        // Jobs are numbered in order: job 1 runs first, each new job takes the next number
        // (small, so that random commands often name the current one).
        let mut next = 2u32;
        for (selector, param) in commands {
            let before = d.clone();
            let Ok(events) = execute(&mut d, command(selector, param, next % 8)) else {
                prop_assert_eq!(&d, &before, "a refused command changes nothing");
                continue;
            };
            next += 1;
            if before.status != DeploymentStatus::Running {
                prop_assert!(events.is_empty(), "an ended deployment stays ended");
            }
            let failed_gate = events.iter().any(|e| matches!(e, DeploymentEvent::GateFailed(_)));
            if failed_gate {
                let after_fail = events
                    .iter()
                    .skip_while(|e| !matches!(e, DeploymentEvent::GateFailed(_)));
                for event in after_fail {
                    prop_assert!(
                        !matches!(event, DeploymentEvent::StepStarted(_)),
                        "no step after a failed gate"
                    );
                }
            }
            for event in &events {
                if let DeploymentEvent::RollbackStarted(r) = event {
                    // Every droplet of a started version-setting step is reverted.
                    for step in before.steps.iter().filter(|s| {
                        s.kind.sets_version() && s.status != StepStatus::Pending
                    }) {
                        for id in &step.droplet_ids {
                            prop_assert!(r.droplet_ids.contains(id));
                        }
                    }
                }
            }
            note(&d, &events);
            history.extend(events);
        }
        if d.status == DeploymentStatus::RolledBack {
            prop_assert!(
                runs.values().all(|v| *v == "v1"),
                "a rollback leaves every touched droplet at the previous version: {runs:?}"
            );
        }
        prop_assert_eq!(fold::<Deployment>(history), d.clone(), "the state is its events' fold");
        if d.rolling_back {
            let step = d.rollback_step().expect("a rollback step");
            prop_assert_eq!(step.droplet_ids.clone(), d.touched());
        }
    }
}
