//! Request bodies and query parameters, and their validation into typed values.

pub mod bodies;
pub mod params;

pub use bodies::{
    CancelJobBody, CreateClusterBody, CreateDropletBody, CreateJobBody, LatencyBody, MigrateBody,
    PowerBody, RateLimitRuleBody, RegisterProviderBody, ResizeBody, UpdateClusterBody,
};
pub use params::{AsOf, Params};
