//! The answers of the deployment routes that are not a command's (`{deployment}` with
//! `position` is [`engine::commands::DeploymentAccepted`]).

use engine::deploy::DeploymentView;
use serde::Serialize;
use utoipa::ToSchema;

/// `GET /v1/clusters/{id}/deployments`: the cluster's deployments, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeploymentList {
    pub items: Vec<DeploymentView>,
}
