//! The AsyncAPI 3.0 document of the Kafka topics (`schemas/asyncapi.yaml`).
//!
//! One channel per aggregate type (`clustergenie.events.<aggregate_type>.v1`) with one
//! message per event type: its payload is a `$ref` to the event's JSON Schema file, its
//! headers the CloudEvents binary-mode headers of the event log contract, its Kafka key the
//! aggregate id. Plus the channels of commands from outside and of their outcomes, at the
//! level of detail the contract fixes today.

use engine::contract::{AggregateContract, EventContract};

use crate::command_topic::{Outcome, COMMAND_TYPES};
use serde_json::{json, Map, Value};

/// The version of this document (the topics themselves are all `v1`).
const DOCUMENT_VERSION: &str = "1.0.0";

/// How the event payload schemas are written.
const PAYLOAD_FORMAT: &str = "application/schema+json;version=draft-07";

/// The Kafka bindings version used.
const KAFKA_BINDING: &str = "0.5.0";

/// The AsyncAPI document for `aggregates`; `schema_dir` is where the event schema files
/// are, relative to the document (`./events/`).
pub fn document(
    aggregates: &[AggregateContract],
    schema_dir: &str,
) -> Result<Value, serde_json::Error> {
    let mut channels = Map::new();
    let mut operations = Map::new();
    let mut messages = Map::new();
    for aggregate in aggregates {
        let channel = format!("{}-events", aggregate.aggregate_type);
        let mut refs = Map::new();
        for event in &aggregate.events {
            let id = message_id(event);
            let reference = json!({ "$ref": format!("#/components/messages/{id}") });
            refs.insert(id.clone(), reference);
            messages.insert(id, event_message(aggregate, event, schema_dir));
        }
        let operation_messages: Vec<Value> = refs
            .keys()
            .map(|id| json!({ "$ref": format!("#/channels/{channel}/messages/{id}") }))
            .collect();
        channels.insert(channel.clone(), event_channel(aggregate, refs));
        operations.insert(
            format!("publish-{channel}"),
            operation(
                "send",
                &channel,
                operation_messages,
                "ClusterGenie publishes every event of the log, in position order, at least once.",
            ),
        );
    }
    add_command_channels(&mut channels, &mut operations, &mut messages);
    let mut schemas = Map::new();
    for aggregate in aggregates {
        schemas.insert(aggregate.id_name.clone(), aggregate.id_schema.clone());
    }
    schemas.insert("EventHeaders".to_owned(), event_headers());
    schemas.insert("CommandHeaders".to_owned(), command_headers());
    schemas.insert("CommandResult".to_owned(), command_result()?);
    Ok(json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "ClusterGenie event log",
            "version": DOCUMENT_VERSION,
            "description": "The events of ClusterGenie's log as published on Kafka, and the \
                commands it accepts from Kafka. Generated from the Rust types by \
                `clustergenie schemas export`; do not edit by hand.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": schemas,
        },
    }))
}

/// The message id of an event version: `<type>.v<version>`.
fn message_id(event: &EventContract) -> String {
    format!("{}.v{}", event.event_type, event.version)
}

fn event_channel(aggregate: &AggregateContract, messages: Map<String, Value>) -> Value {
    json!({
        "address": aggregate.topic(),
        "title": format!("{} events", aggregate.aggregate_type),
        "description": format!(
            "Every event of the `{}` aggregate: {}. Partitioned by the message key, the \
             aggregate id, so one aggregate's events stay in order.",
            aggregate.aggregate_type, aggregate.description
        ),
        "messages": messages,
    })
}

fn operation(action: &str, channel: &str, messages: Vec<Value>, description: &str) -> Value {
    json!({
        "action": action,
        "channel": { "$ref": format!("#/channels/{channel}") },
        "description": description,
        "messages": messages,
    })
}

fn event_message(aggregate: &AggregateContract, event: &EventContract, schema_dir: &str) -> Value {
    let id = json!({ "$ref": format!("#/components/schemas/{}", aggregate.id_name) });
    let headers = json!({
        "allOf": [
            { "$ref": "#/components/schemas/EventHeaders" },
            {
                "type": "object",
                "properties": {
                    "ce_type": { "const": event.cloudevents_type() },
                    "ce_subject": id,
                },
            },
        ],
    });
    let mut message = json!({
        "name": event.event_type,
        "title": format!("{} v{}", event.event_type, event.version),
        "contentType": "application/json",
        "headers": headers,
        "payload": {
            "schemaFormat": PAYLOAD_FORMAT,
            "schema": { "$ref": format!("{schema_dir}{}", event.file_name()) },
        },
        "bindings": {
            // Inline: the bindings schema cannot tell a lone `$ref` key from a schema.
            "kafka": { "key": aggregate.id_schema, "bindingVersion": KAFKA_BINDING },
        },
    });
    if let Some(summary) = event.schema.get("description") {
        message["summary"] = summary.clone();
    }
    message
}

/// A Kafka header carrying a decimal number.
fn decimal_header(description: &str) -> Value {
    json!({ "type": "string", "pattern": "^[1-9][0-9]*$", "description": description })
}

fn event_headers() -> Value {
    json!({
        "type": "object",
        "description": "CloudEvents binary content mode headers of an event, plus the log's \
            position and sequence and the W3C trace context.",
        "required": [
            "ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject",
            "content-type", "cg_position", "cg_sequence",
        ],
        "properties": {
            "ce_specversion": { "const": "1.0" },
            "ce_id": {
                "type": "string",
                "format": "uuid",
                "description": "The event id; consumers deduplicate on it.",
            },
            "ce_source": { "const": "clustergenie" },
            "ce_type": {
                "type": "string",
                "pattern": "^io\\.clustergenie\\.[a-z_]+\\.[a-z_]+\\.v[1-9][0-9]*$",
                "description": "`io.clustergenie.<type>.v<schema_version>`.",
            },
            "ce_time": {
                "type": "string",
                "format": "date-time",
                "description": "When the event was recorded (RFC 3339).",
            },
            "ce_subject": { "type": "string", "description": "The aggregate id." },
            "content-type": { "const": "application/json" },
            "cg_position": decimal_header(
                "The event's position in the global log: gap-free and increasing.",
            ),
            "cg_sequence": decimal_header("The event's sequence in its aggregate, from 1."),
            "traceparent": {
                "type": "string",
                "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": "The W3C trace context of the command that recorded the event.",
            },
        },
    })
}

fn command_headers() -> Value {
    json!({
        "type": "object",
        "description": "CloudEvents binary content mode headers of a command.",
        "required": ["ce_id", "ce_type"],
        "properties": {
            "ce_specversion": { "const": "1.0" },
            "ce_id": {
                "type": "string",
                "minLength": 1,
                "description": "The command's idempotency key: a command sent twice with the \
                    same id is applied once.",
            },
            "ce_source": { "type": "string", "description": "Who sends the command." },
            "ce_type": {
                "type": "string",
                "enum": COMMAND_TYPES.iter().map(|(t, _, _)| *t).collect::<Vec<_>>(),
                "description": "Names the command (see docs/kafka.md for each one's value).",
            },
            "cg_actor": {
                "type": "string",
                "description": "Who asks (recorded as the events' actor); default                     `kafka:<ce_source>`.",
            },
            "content-type": { "const": "application/json" },
            "traceparent": { "type": "string", "description": "W3C trace context." },
        },
    })
}

/// The schema of [`Outcome`], from the type itself.
fn command_result() -> Result<Value, serde_json::Error> {
    let schema = schemars::generate::SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<Outcome>();
    let mut value = serde_json::to_value(schema)?;
    if let Some(map) = value.as_object_mut() {
        map.remove("$schema");
    }
    Ok(value)
}

fn add_command_channels(
    channels: &mut Map<String, Value>,
    operations: &mut Map<String, Value>,
    messages: &mut Map<String, Value>,
) {
    channels.insert(
        "commands".to_owned(),
        json!({
            "address": "clustergenie.commands.v1",
            "title": "commands",
            "description": "Commands from outside, as CloudEvents; `ce_type` names the \
                command and `ce_id` is its idempotency key.",
            "messages": { "command": { "$ref": "#/components/messages/command" } },
        }),
    );
    channels.insert(
        "command-results".to_owned(),
        json!({
            "address": "clustergenie.command-results.v1",
            "title": "command results",
            "description": "One outcome per command, keyed by the command's `ce_id`.",
            "messages": { "command-result": { "$ref": "#/components/messages/command-result" } },
        }),
    );
    operations.insert(
        "receive-commands".to_owned(),
        operation(
            "receive",
            "commands",
            vec![json!({ "$ref": "#/channels/commands/messages/command" })],
            "ClusterGenie applies each command once per `ce_id`.",
        ),
    );
    operations.insert(
        "publish-command-results".to_owned(),
        operation(
            "send",
            "command-results",
            vec![json!({ "$ref": "#/channels/command-results/messages/command-result" })],
            "ClusterGenie answers each command with its outcome.",
        ),
    );
    messages.insert(
        "command".to_owned(),
        json!({
            "name": "command",
            "title": "A command",
            "contentType": "application/json",
            "headers": { "$ref": "#/components/schemas/CommandHeaders" },
            "payload": {
                "type": "object",
                "description": "The command's arguments: the body of the HTTP request for \
                    the same command; commands on an existing resource add its `id` and may \
                    add `expected_version` (the HTTP `If-Match`).",
            },
        }),
    );
    messages.insert(
        "command-result".to_owned(),
        json!({
            "name": "command-result",
            "title": "The outcome of a command",
            "contentType": "application/json",
            "payload": { "$ref": "#/components/schemas/CommandResult" },
            "bindings": {
                "kafka": {
                    "key": { "type": "string", "description": "The command's `ce_id`." },
                    "bindingVersion": KAFKA_BINDING,
                },
            },
        }),
    );
}
