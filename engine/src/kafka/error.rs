//! What can go wrong talking to Kafka.

use crate::store::StoreError;

/// An error of the Kafka layer.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    /// The client or broker refused something.
    #[error("kafka: {0}")]
    Client(#[from] rdkafka::error::KafkaError),
    /// Creating a topic failed (other than it already existing).
    #[error("could not create topic {topic}: {code}")]
    CreateTopic {
        topic: String,
        code: rdkafka::types::RDKafkaErrorCode,
    },
    /// The log could not be read or the acknowledged position written.
    #[error("event store")]
    Store(#[from] StoreError),
    /// The broker did not take a message; the relay starts again from its acknowledged
    /// position.
    #[error("delivery of position {position} failed")]
    Delivery {
        position: i64,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The producer dropped a delivery report (it was shut down).
    #[error("delivery report of position {0} lost")]
    DeliveryLost(i64),
    /// The worker group could not be joined.
    #[error("worker group: {0}")]
    Worker(String),
    /// A message could not be encoded.
    #[error("could not encode a message")]
    Encode(#[from] serde_json::Error),
}
