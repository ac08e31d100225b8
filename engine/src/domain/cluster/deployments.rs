//! A cluster's deployments as its own stream sees them: the one deployment running (so
//! that a second start conflicts on this stream's version), the application version the
//! cluster runs (new droplets start with it) and the ids of its latest deployments (at most
//! [`DEPLOYMENTS_KEPT`], what its list shows), so that the state stays the same size however
//! many deployments a cluster has had.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Cluster, ClusterError, ClusterEvent};
use crate::domain::values::{AppVersion, DeploymentId};

/// How many of a cluster's deployment ids its state keeps, newest last: the most its list
/// (`GET /v1/clusters/{id}/deployments`) shows.
pub const DEPLOYMENTS_KEPT: usize = 100;

/// What the cluster knows of its deployments.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterDeployments {
    /// The deployment running now, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<DeploymentId>,
    /// The application version the cluster runs (set when a deployment finishes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<AppVersion>,
    /// The cluster's latest deployments (at most [`DEPLOYMENTS_KEPT`]), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<DeploymentId>,
}

impl ClusterDeployments {
    /// Whether nothing was ever deployed (what a snapshot leaves out).
    pub fn is_empty(&self) -> bool {
        self.running.is_none() && self.app_version.is_none() && self.history.is_empty()
    }
}

/// Payload of `cluster.deployment_started`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClusterDeploymentStarted {
    /// The deployment.
    pub deployment_id: DeploymentId,
}

/// Payload of `cluster.deployment_finished`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ClusterDeploymentFinished {
    /// The deployment.
    pub deployment_id: DeploymentId,
    /// The version the cluster runs after it (the new one, or the previous one after a
    /// rollback).
    pub app_version: Option<AppVersion>,
}

/// The deployment commands of a cluster.
#[derive(Debug, Clone, PartialEq)]
pub enum ClusterDeploymentCommand {
    /// A deployment starts; refused while another runs.
    Start {
        /// The new deployment.
        deployment_id: DeploymentId,
    },
    /// The running deployment ended; nothing when it is not the one running.
    Finish {
        /// The deployment.
        deployment_id: DeploymentId,
        /// The version the cluster runs after it.
        app_version: Option<AppVersion>,
    },
}

impl Cluster {
    /// Decides a deployment command on a live cluster.
    pub(super) fn decide_deployment(
        &self,
        command: ClusterDeploymentCommand,
    ) -> Result<Vec<ClusterEvent>, ClusterError> {
        match command {
            ClusterDeploymentCommand::Start { deployment_id } => match &self.deployments.running {
                Some(running) if *running == deployment_id => Ok(Vec::new()),
                Some(running) => Err(ClusterError::DeploymentRunning {
                    deployment_id: running.clone(),
                }),
                None => Ok(vec![ClusterEvent::DeploymentStarted(
                    ClusterDeploymentStarted { deployment_id },
                )]),
            },
            ClusterDeploymentCommand::Finish {
                deployment_id,
                app_version,
            } => {
                if self.deployments.running.as_ref() != Some(&deployment_id) {
                    return Ok(Vec::new());
                }
                Ok(vec![ClusterEvent::DeploymentFinished(
                    ClusterDeploymentFinished {
                        deployment_id,
                        app_version,
                    },
                )])
            }
        }
    }

    /// Applies a deployment event.
    pub(super) fn apply_deployment(&mut self, event: ClusterEvent) {
        match event {
            ClusterEvent::DeploymentStarted(e) => {
                let history = &mut self.deployments.history;
                history.push(e.deployment_id.clone());
                let excess = history.len().saturating_sub(DEPLOYMENTS_KEPT);
                history.drain(..excess);
                self.deployments.running = Some(e.deployment_id);
            }
            ClusterEvent::DeploymentFinished(e) => {
                self.deployments.running = None;
                self.deployments.app_version = e.app_version;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::values::{ClusterId, ClusterName, Region};
    use crate::domain::{execute, ClusterCommand};

    fn cluster() -> Cluster {
        let mut cluster = Cluster::default();
        execute(
            &mut cluster,
            ClusterCommand::CreateCluster {
                id: ClusterId::new(),
                name: ClusterName::parse("web").unwrap(),
                region: Region::parse("fra1").unwrap(),
                provider: None,
            },
        )
        .unwrap();
        cluster
    }

    #[test]
    fn given_a_running_deployment_when_another_starts_then_it_conflicts() {
        let mut cluster = cluster();
        let first = DeploymentId::new();
        let start = |id: &DeploymentId| {
            ClusterCommand::Deployment(ClusterDeploymentCommand::Start {
                deployment_id: id.clone(),
            })
        };
        assert_eq!(execute(&mut cluster, start(&first)).unwrap().len(), 1);
        assert!(execute(&mut cluster, start(&first)).unwrap().is_empty());
        let second = DeploymentId::new();
        let error = execute(&mut cluster, start(&second)).unwrap_err();
        assert_eq!(
            error,
            ClusterError::DeploymentRunning {
                deployment_id: first.clone()
            }
        );
        let version = AppVersion::parse("v2").ok();
        let finish = |id: &DeploymentId| {
            ClusterCommand::Deployment(ClusterDeploymentCommand::Finish {
                deployment_id: id.clone(),
                app_version: version.clone(),
            })
        };
        assert!(execute(&mut cluster, finish(&second)).unwrap().is_empty());
        assert_eq!(execute(&mut cluster, finish(&first)).unwrap().len(), 1);
        assert_eq!(cluster.deployments.app_version, version);
        assert_eq!(execute(&mut cluster, start(&second)).unwrap().len(), 1);
        assert_eq!(cluster.deployments.history, vec![first, second]);
    }

    #[test]
    fn given_many_deployments_then_the_state_keeps_the_latest_ids_only() {
        // Given a cluster
        let mut cluster = cluster();
        // When more deployments than are kept start and finish
        let ids: Vec<DeploymentId> = (0..DEPLOYMENTS_KEPT + 20)
            .map(|_| DeploymentId::new())
            .collect();
        for id in &ids {
            let start = ClusterDeploymentCommand::Start {
                deployment_id: id.clone(),
            };
            assert_eq!(
                execute(&mut cluster, ClusterCommand::Deployment(start))
                    .unwrap()
                    .len(),
                1
            );
            let finish = ClusterDeploymentCommand::Finish {
                deployment_id: id.clone(),
                app_version: None,
            };
            assert_eq!(
                execute(&mut cluster, ClusterCommand::Deployment(finish))
                    .unwrap()
                    .len(),
                1
            );
        }
        // Then the state holds the newest ones, oldest first
        assert_eq!(cluster.deployments.history, ids[20..]);
    }
}
