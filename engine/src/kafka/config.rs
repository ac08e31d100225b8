//! Connection settings, turned into librdkafka properties.

use std::collections::BTreeMap;

use rdkafka::ClientConfig;
use serde::{Deserialize, Serialize};

/// How to reach the brokers and how to lay topics out.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KafkaConfig {
    /// `host:port,host:port` (`KAFKA_BROKERS`).
    pub brokers: String,
    /// The client id brokers see.
    pub client_id: String,
    /// `plaintext`, `ssl`, `sasl_plaintext` or `sasl_ssl` (librdkafka's default when unset).
    pub security_protocol: Option<String>,
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub sasl_mechanism: Option<String>,
    /// SASL user name.
    pub sasl_username: Option<String>,
    /// SASL password (never logged).
    pub sasl_password: Option<String>,
    /// CA certificate file for TLS.
    pub ssl_ca_location: Option<String>,
    /// Partitions of a topic ClusterGenie creates.
    pub partitions: i32,
    /// Replication factor of a topic ClusterGenie creates.
    pub replication_factor: i32,
    /// Create missing topics through the admin API at start (off where the client may not,
    /// or where the broker creates topics on first use, like librdkafka's mock cluster).
    pub create_topics: bool,
    /// Any further librdkafka properties, passed as they are.
    pub properties: BTreeMap<String, String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: String::new(),
            client_id: "clustergenie".into(),
            security_protocol: None,
            sasl_mechanism: None,
            sasl_username: None,
            sasl_password: None,
            ssl_ca_location: None,
            partitions: 6,
            replication_factor: 1,
            create_topics: true,
            properties: BTreeMap::new(),
        }
    }
}

impl std::fmt::Debug for KafkaConfig {
    // The SASL password is a secret: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaConfig")
            .field("brokers", &self.brokers)
            .field("client_id", &self.client_id)
            .field("security_protocol", &self.security_protocol)
            .field("sasl_mechanism", &self.sasl_mechanism)
            .field("sasl_username", &self.sasl_username)
            .field("sasl_password", &self.sasl_password.as_ref().map(|_| "***"))
            .field("partitions", &self.partitions)
            .field("replication_factor", &self.replication_factor)
            .finish()
    }
}

impl KafkaConfig {
    /// Settings for the brokers at `brokers`, everything else default.
    pub fn new(brokers: impl Into<String>) -> Self {
        Self {
            brokers: brokers.into(),
            ..Self::default()
        }
    }

    /// Properties every client shares: brokers, identity and security.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.brokers)
            .set("client.id", &self.client_id);
        let optional = [
            ("security.protocol", &self.security_protocol),
            ("sasl.mechanism", &self.sasl_mechanism),
            ("sasl.username", &self.sasl_username),
            ("sasl.password", &self.sasl_password),
            ("ssl.ca.location", &self.ssl_ca_location),
        ];
        for (key, value) in optional {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                config.set(key, value);
            }
        }
        for (key, value) in &self.properties {
            config.set(key, value);
        }
        config
    }

    /// Properties of the relay's producer: idempotent (no duplicates or reordering from
    /// its own retries), every replica acknowledging, no message timeout, so a broker
    /// that is down makes the relay wait, never skip, and keys placed by CRC-32 (the
    /// worker group relies on it, see [`super::group::partition_of`]).
    pub fn producer_config(&self) -> ClientConfig {
        let mut config = self.client_config();
        config
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("message.timeout.ms", "0")
            .set("linger.ms", "5")
            .set("partitioner", "consistent_random");
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_never_printed() {
        let config = KafkaConfig {
            sasl_password: Some("hunter2".into()),
            ..KafkaConfig::new("b:9092")
        };
        let printed = format!("{config:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("***"));
    }

    #[test]
    fn security_settings_reach_librdkafka_and_empty_ones_do_not() {
        let config = KafkaConfig {
            security_protocol: Some("sasl_ssl".into()),
            sasl_mechanism: Some("SCRAM-SHA-512".into()),
            sasl_username: Some("cg".into()),
            sasl_password: Some("secret".into()),
            ssl_ca_location: Some(String::new()),
            ..KafkaConfig::new("b1:9092,b2:9092")
        };
        let producer = config.producer_config();
        assert_eq!(producer.get("bootstrap.servers"), Some("b1:9092,b2:9092"));
        assert_eq!(producer.get("security.protocol"), Some("sasl_ssl"));
        assert_eq!(producer.get("sasl.mechanism"), Some("SCRAM-SHA-512"));
        assert_eq!(producer.get("sasl.password"), Some("secret"));
        assert_eq!(producer.get("ssl.ca.location"), None);
        assert_eq!(producer.get("enable.idempotence"), Some("true"));
    }
}
