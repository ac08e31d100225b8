//! `clustergenie bench`: measurements against baselines in the same run, printed as ratios.
//! Each runs on scratch databases created on the same PostgreSQL server and dropped
//! afterwards: [`append`], [`rebuild`], [`relay`], [`jobs`], [`system`], [`metrics`] and
//! [`autoscale`]; [`run`]
//! dispatches to them.

pub mod append;
pub mod autoscale;
pub mod jobs;
pub mod metrics;
pub mod rebuild;
pub mod relay;
mod run;
pub mod system;

pub use run::run;
pub(crate) use run::{kept, Scratch};
