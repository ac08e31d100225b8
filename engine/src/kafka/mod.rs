//! Kafka: how external systems see ClusterGenie. The [`relay`] publishes the log to one
//! topic per aggregate type, in position order, as CloudEvents ([`message`]); [`topics`]
//! creates what is missing; [`config`] turns settings into librdkafka properties;
//! [`group`] divides the jobs among worker processes through a consumer group.

pub mod config;
pub mod error;
pub mod group;
pub mod message;
pub mod relay;
pub mod topics;

pub use config::KafkaConfig;
pub use error::KafkaError;
pub use message::{ce_type, encode, events_topic, OutgoingMessage};
pub use relay::{Relay, RelayOptions, RelayStats, RELAY_NAME};
pub use topics::{ensure_topics, COMMANDS_TOPIC, COMMAND_RESULTS_TOPIC};
