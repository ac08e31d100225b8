//! What the results topic says about a command.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use warp::http::StatusCode;

use crate::errors::Problem;

/// The longest `ce_id` (the command's idempotency key, as the HTTP `Idempotency-Key`) and
/// `ce_type` a command may carry, and the longest an outcome echoes them.
pub const MAX_HEADER_LEN: usize = crate::filters::common::MAX_IDEMPOTENCY_KEY_LEN;

/// `text` cut to [`MAX_HEADER_LEN`] characters.
pub fn clip(text: &str) -> String {
    text.chars().take(MAX_HEADER_LEN).collect()
}

/// The outcome of one command, keyed by its `ce_id` on the results topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Outcome {
    /// The command's `ce_id` (or `topic/partition/offset` when it had none).
    pub command_id: String,
    /// The command's `ce_type`, as sent.
    pub command_type: Option<String>,
    /// Whether the command was carried out.
    pub accepted: bool,
    /// The HTTP status the same request gets from the API.
    pub status: u16,
    /// The log position of its last event (accepted commands).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    /// True when this answers a command already carried out (the same `ce_id` again):
    /// the first answer, replayed; nothing was done twice.
    #[serde(default)]
    pub replayed: bool,
    /// The API's answer (accepted commands).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// The problem document (rejected commands).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<Value>,
}

impl Outcome {
    /// The outcome the API's response gives.
    pub fn from_response(
        command_id: String,
        command_type: Option<String>,
        status: StatusCode,
        replayed: bool,
        body: &[u8],
    ) -> Self {
        let document: Option<Value> = serde_json::from_slice(body).ok();
        let accepted = status.is_success();
        let position = document
            .as_ref()
            .and_then(|d| d.get("position"))
            .and_then(Value::as_i64);
        let (body, problem) = if accepted {
            (document, None)
        } else {
            (None, document)
        };
        Self {
            command_id,
            command_type,
            accepted,
            status: status.as_u16(),
            position: position.filter(|_| accepted),
            replayed,
            body,
            problem,
        }
    }

    /// A message that is not a command: a 400 problem (the echoed `ce_id` and `ce_type`
    /// cut to [`MAX_HEADER_LEN`] characters).
    pub fn rejected(command_id: &str, command_type: Option<&str>, detail: String) -> Self {
        let problem = Problem::new(StatusCode::BAD_REQUEST, detail, None);
        Self {
            command_id: clip(command_id),
            command_type: command_type.map(clip),
            accepted: false,
            status: StatusCode::BAD_REQUEST.as_u16(),
            position: None,
            replayed: false,
            body: None,
            problem: serde_json::to_value(problem).ok(),
        }
    }

    /// What is left when the whole outcome cannot be published (the broker refuses it as
    /// too large): the same verdict, status and position, without the API's answer; a
    /// rejection keeps a short problem saying so.
    pub fn minimal(&self, why: &str) -> Self {
        let problem = (!self.accepted).then(|| {
            let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
            let detail = format!("the full outcome could not be published: {why}");
            let problem = Problem::new(status, detail, None);
            serde_json::to_value(&problem)
                .inspect_err(|error| tracing::error!(%error, ?problem, "could not serialise a problem; the outcome goes without it"))
                .ok()
        });
        Self {
            command_id: clip(&self.command_id),
            command_type: self.command_type.as_deref().map(clip),
            body: None,
            problem: problem.flatten(),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accepted_command_carries_its_position_and_answer() {
        let body = br#"{"id":"c-1","position":42}"#;
        let outcome = Outcome::from_response("k".into(), None, StatusCode::CREATED, false, body);
        assert!(outcome.accepted);
        assert_eq!(outcome.position, Some(42));
        assert_eq!(outcome.body.unwrap()["id"], "c-1");
        assert!(outcome.problem.is_none());
    }

    #[test]
    fn a_refused_command_carries_the_problem() {
        let body = br#"{"type":"urn:x","title":"Unprocessable Entity","status":422,"detail":"no"}"#;
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        let outcome = Outcome::from_response("k".into(), None, status, false, body);
        assert!(!outcome.accepted);
        assert_eq!(outcome.status, 422);
        assert_eq!(outcome.problem.unwrap()["detail"], "no");
        assert!(outcome.position.is_none() && outcome.body.is_none());
        let garbage = Outcome::rejected("k", Some("x"), "bad".into());
        assert_eq!(garbage.status, 400);
        assert_eq!(garbage.problem.unwrap()["detail"], "bad");
    }

    #[test]
    fn echoed_headers_are_cut_and_a_minimal_outcome_keeps_the_verdict() {
        let long = "é".repeat(MAX_HEADER_LEN + 10);
        let rejected = Outcome::rejected(&long, Some(&long), "too long".into());
        assert_eq!(rejected.command_id.chars().count(), MAX_HEADER_LEN);
        assert_eq!(
            rejected.command_type.unwrap().chars().count(),
            MAX_HEADER_LEN
        );

        let body = br#"{"id":"c-1","position":42}"#;
        let accepted = Outcome::from_response(long.clone(), None, StatusCode::CREATED, false, body);
        let minimal = accepted.minimal("too large");
        assert!(minimal.accepted && minimal.body.is_none() && minimal.problem.is_none());
        assert_eq!((minimal.status, minimal.position), (201, Some(42)));
        assert_eq!(minimal.command_id.chars().count(), MAX_HEADER_LEN);

        let status = StatusCode::CONFLICT;
        let refused = Outcome::from_response("k".into(), None, status, false, b"{}");
        let minimal = refused.minimal("too large");
        assert_eq!((minimal.accepted, minimal.status), (false, 409));
        let detail = minimal.problem.unwrap()["detail"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(detail.contains("too large"), "{detail}");
    }
}
