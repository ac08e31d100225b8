//! The published contract of the event log: every event type, its current
//! `schema_version` and the JSON Schema of its `data` (the value of its Kafka message).
//!
//! The schemas are generated from the Rust payload types with `schemars` (draft-07, the
//! *deserialize* contract: a schema accepts exactly what the payload type accepts when it
//! reads an event back, so a field of type `Option<_>` is not required). Value types with
//! custom serde (ids, names, catalog references) describe their own wire form; see
//! `domain::values`.
//!
//! [`aggregates`] is the one list of what is published; the tests in this module fail when
//! an event variant has no entry here or when a sample of it does not validate against its
//! schema. [`compat`] decides whether a changed schema is still backward compatible.

use cqrs_es::Aggregate;
use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::Value;

use crate::domain::ratelimit_rule::{self, RuleName};
use crate::domain::upcast::Upcasters;
use crate::domain::values::{ClusterId, DropletId, JobId, ProviderId};
use crate::domain::{autoscaler, Autoscaler};
use crate::domain::{
    cluster, diagnosis, droplet, job, Cluster, Diagnosis, Droplet, Job, ProviderConfig,
    ProviderSpec, RateLimitRule,
};

pub mod compat;
#[cfg(test)]
mod tests;

/// Where the event schemas are published; `$id` is this followed by the file name.
pub const SCHEMA_BASE_URL: &str = "https://clustergenie.dev/schemas/events/";

/// One event type at its current version.
#[derive(Debug, Clone, PartialEq)]
pub struct EventContract {
    /// The type as stored in the log, e.g. `cluster.created`.
    pub event_type: &'static str,
    /// The current `schema_version` of that type.
    pub version: i32,
    /// The JSON Schema (draft-07) of the event's `data`, without `$id` and `title` (see
    /// [`EventContract::document`]).
    pub schema: Value,
}

impl EventContract {
    /// The contract of the payload type `T`, published as `event_type`.
    fn of<T: JsonSchema>(event_type: &'static str) -> Self {
        let schema = SchemaSettings::draft07()
            .into_generator()
            .into_root_schema_for::<T>()
            .to_value();
        Self {
            event_type,
            version: Upcasters::standard().current(event_type),
            schema,
        }
    }

    /// The file the schema is published as: `<type>.v<version>.json`.
    pub fn file_name(&self) -> String {
        file_name(self.event_type, self.version)
    }

    /// `io.clustergenie.<type>.v<version>`, the CloudEvents `ce_type` of the event.
    pub fn cloudevents_type(&self) -> String {
        format!("io.clustergenie.{}.v{}", self.event_type, self.version)
    }

    /// The published schema document: the schema with its `$id` and a `title` naming the
    /// event type and version.
    pub fn document(&self) -> Value {
        let mut document = self.schema.clone();
        if let Value::Object(map) = &mut document {
            let id = format!("{SCHEMA_BASE_URL}{}", self.file_name());
            map.insert("$id".to_owned(), Value::String(id));
            let title = format!("{} v{}", self.event_type, self.version);
            map.insert("title".to_owned(), Value::String(title));
        }
        document
    }
}

/// The file name of version `version` of `event_type`: `<type>.v<version>.json`.
pub fn file_name(event_type: &str, version: i32) -> String {
    format!("{event_type}.v{version}.json")
}

/// Splits a file name made by [`file_name`] into the event type and the version.
pub fn parse_file_name(name: &str) -> Option<(&str, i32)> {
    let stem = name.strip_suffix(".json")?;
    let (event_type, version) = stem.rsplit_once(".v")?;
    let version: i32 = version.parse().ok()?;
    (version >= 1 && !event_type.is_empty()).then_some((event_type, version))
}

/// One aggregate type: its Kafka topic, its id (the message key) and its events.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateContract {
    /// The aggregate type, e.g. `cluster`.
    pub aggregate_type: &'static str,
    /// What the aggregate is (lowercase, no final stop: it follows a colon).
    pub description: &'static str,
    /// The name of its id type, e.g. `ClusterId`.
    pub id_name: String,
    /// The JSON Schema of its id, the message key.
    pub id_schema: Value,
    /// Its event types, in the order of its event enum.
    pub events: Vec<EventContract>,
}

impl AggregateContract {
    fn of<A: Aggregate, Id: JsonSchema>(
        description: &'static str,
        events: Vec<EventContract>,
    ) -> Self {
        let mut id_schema = SchemaSettings::draft07()
            .into_generator()
            .into_root_schema_for::<Id>()
            .to_value();
        if let Value::Object(map) = &mut id_schema {
            map.remove("$schema");
            map.remove("title");
        }
        Self {
            aggregate_type: A::TYPE,
            description,
            id_name: Id::schema_name().into_owned(),
            id_schema,
            events,
        }
    }

    /// `clustergenie.events.<aggregate_type>.v1`, the topic its events are published on.
    pub fn topic(&self) -> String {
        format!("clustergenie.events.{}.v1", self.aggregate_type)
    }
}

/// Every published aggregate type with its events.
pub fn aggregates() -> Vec<AggregateContract> {
    vec![
        AggregateContract::of::<Cluster, ClusterId>(
            "a named group of droplets in a region, with a health status",
            cluster_events(),
        ),
        AggregateContract::of::<Droplet, DropletId>(
            "a simulated virtual machine of a cluster",
            droplet_events(),
        ),
        AggregateContract::of::<Job, JobId>(
            "a unit of asynchronous work (provision, resize, power, destroy, ...) with \
             attempts and retries",
            job_events(),
        ),
        AggregateContract::of::<Diagnosis, ClusterId>(
            "the diagnoses of one cluster (the stream's id is the cluster id): what was \
             advised, by which engine, from which inputs, and which recommendation became \
             which job",
            diagnosis_events(),
        ),
        AggregateContract::of::<crate::domain::Deployment, crate::domain::DeploymentId>(
            "one rollout of an application version over a cluster's droplets (rolling, \
             canary or blue-green): its steps, health gates, promotion and rollback",
            deployment_events(),
        ),
        AggregateContract::of::<ProviderConfig, ProviderId>(
            "the configuration of a simulated cloud provider (regions, sizes, prices, \
             capacity, latencies); injected faults are not recorded",
            provider_events(),
        ),
        AggregateContract::of::<RateLimitRule, RuleName>(
            "a rate-limit rule (configuration): scope, rate, capacity and the endpoints it \
             guards; built-in rules exist without events",
            ratelimit_rule_events(),
        ),
        AggregateContract::of::<Autoscaler, ClusterId>(
            "the acting auto-scaling decisions of one cluster (the stream's id is the cluster \
             id): why it scaled, from which inputs, and the scale job it started",
            autoscaler_events(),
        ),
    ]
}

/// Every published event type, aggregate by aggregate.
pub fn events() -> Vec<EventContract> {
    aggregates().into_iter().flat_map(|a| a.events).collect()
}

fn cluster_events() -> Vec<EventContract> {
    vec![
        EventContract::of::<cluster::ClusterCreated>("cluster.created"),
        EventContract::of::<cluster::ClusterRenamed>("cluster.renamed"),
        EventContract::of::<cluster::ClusterMoved>("cluster.moved"),
        EventContract::of::<cluster::ClusterStatusChanged>("cluster.status_changed"),
        EventContract::of::<cluster::ClusterDropletAttached>("cluster.droplet_attached"),
        EventContract::of::<cluster::ClusterDropletDetached>("cluster.droplet_detached"),
        EventContract::of::<cluster::ClusterDeleted>("cluster.deleted"),
        EventContract::of::<cluster::ClusterDeploymentStarted>("cluster.deployment_started"),
        EventContract::of::<cluster::ClusterDeploymentFinished>("cluster.deployment_finished"),
        EventContract::of::<cluster::ClusterAutoscalingPolicySet>("cluster.autoscaling_policy_set"),
        EventContract::of::<cluster::ClusterAutoscalingPolicyRemoved>(
            "cluster.autoscaling_policy_removed",
        ),
    ]
}

fn droplet_events() -> Vec<EventContract> {
    vec![
        EventContract::of::<droplet::DropletRequested>("droplet.requested"),
        EventContract::of::<droplet::DropletProvisioned>("droplet.provisioned"),
        EventContract::of::<droplet::DropletProvisioningFailed>("droplet.provisioning_failed"),
        EventContract::of::<droplet::DropletResizeRequested>("droplet.resize_requested"),
        EventContract::of::<droplet::DropletResized>("droplet.resized"),
        EventContract::of::<droplet::DropletResizeFailed>("droplet.resize_failed"),
        EventContract::of::<droplet::DropletPowerRequested>("droplet.power_requested"),
        EventContract::of::<droplet::DropletPoweredOff>("droplet.powered_off"),
        EventContract::of::<droplet::DropletPoweredOn>("droplet.powered_on"),
        EventContract::of::<droplet::DropletRestarted>("droplet.restarted"),
        EventContract::of::<droplet::DropletPowerFailed>("droplet.power_failed"),
        EventContract::of::<droplet::DropletDestroyRequested>("droplet.destroy_requested"),
        EventContract::of::<droplet::DropletDestroyed>("droplet.destroyed"),
        EventContract::of::<droplet::DropletDestroyFailed>("droplet.destroy_failed"),
        EventContract::of::<droplet::DropletMigrationRequested>("droplet.migration_requested"),
        EventContract::of::<droplet::DropletMigrated>("droplet.migrated"),
        EventContract::of::<droplet::DropletMigrationFailed>("droplet.migration_failed"),
        EventContract::of::<droplet::DropletAppVersionSet>("droplet.app_version_set"),
    ]
}

fn job_events() -> Vec<EventContract> {
    vec![
        EventContract::of::<job::JobCreated>("job.created"),
        EventContract::of::<job::JobQueued>("job.queued"),
        EventContract::of::<job::JobStarted>("job.started"),
        EventContract::of::<job::JobProgressed>("job.progressed"),
        EventContract::of::<job::JobHeartbeat>("job.heartbeat"),
        EventContract::of::<job::JobRetryScheduled>("job.retry_scheduled"),
        EventContract::of::<job::JobSucceeded>("job.succeeded"),
        EventContract::of::<job::JobFailed>("job.failed"),
        EventContract::of::<job::JobTimedOut>("job.timed_out"),
        EventContract::of::<job::JobCancelRequested>("job.cancel_requested"),
        EventContract::of::<job::JobCancelled>("job.cancelled"),
    ]
}

fn diagnosis_events() -> Vec<EventContract> {
    vec![
        EventContract::of::<diagnosis::DiagnosisCompleted>("diagnosis.completed"),
        EventContract::of::<diagnosis::DiagnosisRecommendationImplemented>(
            "diagnosis.recommendation_implemented",
        ),
    ]
}

fn deployment_events() -> Vec<EventContract> {
    use crate::domain::deployment as d;
    vec![
        EventContract::of::<d::DeploymentStarted>("deployment.started"),
        EventContract::of::<d::DeploymentStepStarted>("deployment.step_started"),
        EventContract::of::<d::DeploymentStepCompleted>("deployment.step_completed"),
        EventContract::of::<d::DeploymentStepFailed>("deployment.step_failed"),
        EventContract::of::<d::DeploymentGateStarted>("deployment.gate_started"),
        EventContract::of::<d::GateVerdict>("deployment.gate_passed"),
        EventContract::of::<d::GateVerdict>("deployment.gate_failed"),
        EventContract::of::<d::DeploymentPromoted>("deployment.promoted"),
        EventContract::of::<d::DeploymentRollbackStarted>("deployment.rollback_started"),
        EventContract::of::<d::DeploymentRolledBack>("deployment.rolled_back"),
        EventContract::of::<d::DeploymentSucceeded>("deployment.succeeded"),
        EventContract::of::<d::DeploymentFailed>("deployment.failed"),
    ]
}

fn autoscaler_events() -> Vec<EventContract> {
    vec![EventContract::of::<autoscaler::AutoscalingDecided>(
        "autoscaling.decided",
    )]
}

fn provider_events() -> Vec<EventContract> {
    vec![
        EventContract::of::<ProviderSpec>("provider.registered"),
        EventContract::of::<ProviderSpec>("provider.updated"),
    ]
}

fn ratelimit_rule_events() -> Vec<EventContract> {
    vec![
        EventContract::of::<ratelimit_rule::RateLimitRuleSet>("ratelimit_rule.set"),
        EventContract::of::<ratelimit_rule::RateLimitRuleDeleted>("ratelimit_rule.deleted"),
    ]
}
