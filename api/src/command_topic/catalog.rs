//! Which command each `ce_type` names, and the HTTP request it stands for.
//!
//! `ce_type` is `io.clustergenie.<resource>.<verb>.v1`; the message value is the JSON the
//! HTTP body would be. Commands on an existing resource carry its `id` in the value (and
//! may carry `expected_version`, the HTTP `If-Match`); both are taken out of the body.

use serde_json::{Map, Value};
use warp::http::Method;

/// Every command type the topic takes, with its method and path (`{id}` from the value).
pub const COMMAND_TYPES: [(&str, &str, &str); 11] = [
    ("io.clustergenie.cluster.create.v1", "POST", "/v1/clusters"),
    (
        "io.clustergenie.cluster.update.v1",
        "PATCH",
        "/v1/clusters/{id}",
    ),
    (
        "io.clustergenie.cluster.delete.v1",
        "DELETE",
        "/v1/clusters/{id}",
    ),
    ("io.clustergenie.droplet.create.v1", "POST", "/v1/droplets"),
    (
        "io.clustergenie.droplet.resize.v1",
        "POST",
        "/v1/droplets/{id}/resize",
    ),
    (
        "io.clustergenie.droplet.power.v1",
        "POST",
        "/v1/droplets/{id}/power",
    ),
    (
        "io.clustergenie.droplet.migrate.v1",
        "POST",
        "/v1/droplets/{id}/migrate",
    ),
    (
        "io.clustergenie.droplet.delete.v1",
        "DELETE",
        "/v1/droplets/{id}",
    ),
    ("io.clustergenie.job.create.v1", "POST", "/v1/jobs"),
    (
        "io.clustergenie.job.cancel.v1",
        "POST",
        "/v1/jobs/{id}/cancel",
    ),
    (
        "io.clustergenie.provider.register.v1",
        "POST",
        "/v1/providers",
    ),
];

/// A command as the HTTP request it stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandRequest {
    pub method: Method,
    pub path: String,
    pub body: Vec<u8>,
    /// `If-Match`, from `expected_version`.
    pub if_match: Option<u64>,
}

/// Why a message is not a command (answered with a 400 problem).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NotACommand {
    #[error("the ce_type header is missing")]
    NoType,
    #[error("unknown command type {0:?}; known: {known}", known = known_types())]
    UnknownType(String),
    #[error("the value is not a JSON object: {0}")]
    NotJson(String),
    #[error("`id` must be a string of letters, digits, '-' or '_' (1 to 100)")]
    BadId,
    #[error("`expected_version` must be a non-negative integer")]
    BadVersion,
}

fn known_types() -> String {
    COMMAND_TYPES
        .iter()
        .map(|(t, _, _)| *t)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The request `ce_type` and `value` stand for.
pub fn request_for(ce_type: Option<&str>, value: &[u8]) -> Result<CommandRequest, NotACommand> {
    let ce_type = ce_type.ok_or(NotACommand::NoType)?;
    let (_, method, path) = COMMAND_TYPES
        .iter()
        .find(|(t, _, _)| *t == ce_type)
        .ok_or_else(|| NotACommand::UnknownType(ce_type.chars().take(200).collect()))?;
    let mut fields = object(value)?;
    let if_match = match fields.remove("expected_version") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or(NotACommand::BadVersion)?),
    };
    let path = if path.contains("{id}") {
        let id = match fields.remove("id") {
            Some(Value::String(id)) if is_id(&id) => id,
            _ => return Err(NotACommand::BadId),
        };
        path.replace("{id}", &id)
    } else {
        (*path).to_owned()
    };
    let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::POST);
    let body = if method == Method::DELETE && fields.is_empty() {
        Vec::new()
    } else {
        serde_json::to_vec(&Value::Object(fields))
            .map_err(|e| NotACommand::NotJson(e.to_string()))?
    };
    Ok(CommandRequest {
        method,
        path,
        body,
        if_match,
    })
}

/// The value as a JSON object (an empty value is an empty object).
fn object(value: &[u8]) -> Result<Map<String, Value>, NotACommand> {
    if value.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(value) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(NotACommand::NotJson(format!("found {}", kind(&other)))),
        Err(error) => Err(NotACommand::NotJson(error.to_string())),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Ids go into a path: only characters that need no escaping.
fn is_id(id: &str) -> bool {
    (1..=100).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_create_is_a_post_of_the_value() {
        let value = br#"{"name":"web","region":"nyc1"}"#;
        let request = request_for(Some("io.clustergenie.cluster.create.v1"), value).unwrap();
        assert_eq!(request.method, Method::POST);
        assert_eq!(request.path, "/v1/clusters");
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body, serde_json::json!({"name": "web", "region": "nyc1"}));
        assert_eq!(request.if_match, None);
    }

    #[test]
    fn id_and_expected_version_leave_the_body_for_the_path_and_if_match() {
        let value = br#"{"id":"c-1","name":"api","expected_version":3}"#;
        let request = request_for(Some("io.clustergenie.cluster.update.v1"), value).unwrap();
        assert_eq!(request.method, Method::PATCH);
        assert_eq!(request.path, "/v1/clusters/c-1");
        assert_eq!(request.if_match, Some(3));
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body, serde_json::json!({"name": "api"}));
        let delete = request_for(Some("io.clustergenie.droplet.delete.v1"), br#"{"id":"d"}"#);
        assert_eq!(delete.unwrap().body, Vec::<u8>::new());
    }

    #[test]
    fn garbage_is_not_a_command() {
        let create = Some("io.clustergenie.cluster.create.v1");
        assert_eq!(request_for(None, b"{}"), Err(NotACommand::NoType));
        assert!(matches!(
            request_for(Some("io.clustergenie.cluster.explode.v1"), b"{}"),
            Err(NotACommand::UnknownType(_))
        ));
        assert!(matches!(
            request_for(create, b"\xff\x00"),
            Err(NotACommand::NotJson(_))
        ));
        assert!(matches!(
            request_for(create, b"[1,2]"),
            Err(NotACommand::NotJson(_))
        ));
        let update = Some("io.clustergenie.cluster.update.v1");
        assert_eq!(request_for(update, b"{}"), Err(NotACommand::BadId));
        assert_eq!(
            request_for(update, br#"{"id":"../x"}"#),
            Err(NotACommand::BadId)
        );
        assert_eq!(request_for(update, br#"{"id":7}"#), Err(NotACommand::BadId));
        assert_eq!(
            request_for(update, br#"{"id":"c","expected_version":"3"}"#),
            Err(NotACommand::BadVersion)
        );
    }
}
