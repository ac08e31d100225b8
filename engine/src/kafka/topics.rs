//! The topics ClusterGenie uses, created at start when missing.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

use super::{events_topic, KafkaConfig, KafkaError};

/// Commands sent by external systems.
pub const COMMANDS_TOPIC: &str = "clustergenie.commands.v1";
/// The outcome of each command, keyed by its `ce_id`.
pub const COMMAND_RESULTS_TOPIC: &str = "clustergenie.command-results.v1";
/// The aggregate types whose event topics exist from the start.
pub const AGGREGATE_TYPES: [&str; 8] = [
    "cluster",
    "droplet",
    "job",
    "diagnosis",
    "deployment",
    "provider",
    "ratelimit_rule",
    "autoscaler",
];

/// Every topic ClusterGenie writes or reads.
pub fn all_topics() -> Vec<String> {
    let mut topics: Vec<String> = AGGREGATE_TYPES.iter().map(|t| events_topic(t)).collect();
    topics.push(COMMANDS_TOPIC.into());
    topics.push(COMMAND_RESULTS_TOPIC.into());
    topics
}

/// Creates each of `topics` that does not exist yet, with the configured partitions and
/// replication factor. Topics that exist are left as they are.
pub async fn ensure_topics(config: &KafkaConfig, topics: &[String]) -> Result<(), KafkaError> {
    let admin: AdminClient<DefaultClientContext> = config.client_config().create()?;
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|name| {
            NewTopic::new(
                name,
                config.partitions,
                TopicReplication::Fixed(config.replication_factor),
            )
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    for result in admin.create_topics(&new, &options).await? {
        match result {
            Ok(topic) => tracing::info!(%topic, "kafka topic created"),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => return Err(KafkaError::CreateTopic { topic, code }),
        }
    }
    Ok(())
}
