//! Deployments beside their aggregate: the view the API shows ([`view`]) and the health
//! gate's judgement of a step's droplets over a metric window ([`gate`]). The commands
//! that start, promote and roll back a deployment are in `commands::deployments`; the
//! jobs that do its steps are in `executor::deploy`.

pub mod gate;
pub mod view;

pub use gate::{judge, GateInput, GateSample};
pub use view::{
    DeploymentDropletView, DeploymentView, GateResultView, GateView, LogView, StepView,
};
