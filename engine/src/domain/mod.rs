//! The domain: validated values, the static catalog and the `cluster`, `droplet`, `job`,
//! `diagnosis` and `deployment` aggregates plus the `provider` and `ratelimit_rule` configuration aggregates, each with a
//! `diagnosis` and `autoscaler` aggregates plus the `provider` and `ratelimit_rule` configuration aggregates, each with a
//! pure [`Decide`] step and a cqrs-es [`cqrs_es::Aggregate`] impl.

pub mod aggregate;
pub mod autoscaler;
pub mod catalog;
pub mod cluster;
pub mod deployment;
pub mod diagnosis;
pub mod droplet;
pub mod job;
pub mod provider_config;
pub mod ratelimit_rule;
pub mod upcast;
pub mod values;

pub use aggregate::{
    event_from_parts, event_from_ref, event_from_str, event_parts, execute, fold, Classify, Decide,
    DomainErrorKind,
};
pub use autoscaler::{
    Autoscaler, AutoscalerCommand, AutoscalerError, AutoscalerEvent, AutoscalingDecided,
    DecisionCode, DecisionInputs, ScaleDecision, Trigger,
};
pub use catalog::{ImageInfo, ProviderInfo, RegionInfo, SizeClass, SizeInfo};
pub use cluster::{
    status_reason, worst_status, AutoscalingPolicy, Cluster, ClusterCommand, ClusterError,
    ClusterEvent, ClusterStatus, HealthIssue, IssueKind, Severity,
};
pub use deployment::{
    Deployment, DeploymentCommand, DeploymentError, DeploymentEvent, DeploymentStatus, HealthGate,
    StepKind, Strategy,
};
pub use diagnosis::{
    Diagnosis, DiagnosisCommand, DiagnosisEngine, DiagnosisError, DiagnosisEvent, DiagnosisInputs,
    Recommendation, RecommendationId, RecommendedAction,
};
pub use droplet::{
    Droplet, DropletCommand, DropletError, DropletEvent, DropletStatus, PendingAction, PowerAction,
};
pub use job::{Job, JobCommand, JobError, JobEvent, JobStatus, JobType};
pub use provider_config::{
    Latency, ProviderCommand, ProviderConfig, ProviderConfigError, ProviderEvent, ProviderOffer,
    ProviderSpec,
};
pub use ratelimit_rule::{
    RateLimitRule, RateLimitRuleCommand, RateLimitRuleError, RateLimitRuleEvent, Rule, RuleName,
    RuleScope, RuleSpec,
};
pub use values::{
    AppVersion, ClusterId, ClusterName, DeploymentId, DiagnosisId, DropletId, DropletName, Image,
    JobId, MetricType, ProviderId, ProviderName, Region, Size, ValidationError,
};
