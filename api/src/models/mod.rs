//! Request bodies and query parameters, and their validation into typed values; the
//! answers handlers build themselves.

pub mod bodies;
pub mod catalog;
pub mod deployments;
pub mod diagnoses;
pub mod metric_samples;
pub mod params;
pub mod replies;

pub use bodies::{
    CancelJobBody, CreateClusterBody, CreateDropletBody, CreateJobBody, LatencyBody, MigrateBody,
    PowerBody, RateLimitRuleBody, RegisterProviderBody, ResizeBody, UpdateClusterBody,
};
pub use diagnoses::DiagnoseBody;
pub use params::{AsOf, Params};
