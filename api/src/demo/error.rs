//! What loading a scene can fail with.

use std::time::Duration;

use serde_json::Value;

/// Why a scene could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// `--url` is not the address of an HTTP server.
    #[error("{url} is not an http:// or https:// URL")]
    BadUrl { url: String },
    /// The server did not answer (not running, wrong address, connection dropped).
    #[error("{what}: no answer from {base} (is `clustergenie serve` running there?)")]
    Unreachable {
        what: String,
        base: String,
        #[source]
        source: reqwest::Error,
    },
    /// The server refused a command or a read with a problem document.
    #[error("{what} was refused ({status} {title}): {detail}{fields}")]
    Refused {
        what: String,
        status: u16,
        title: String,
        detail: String,
        /// The problem's field errors, rendered (`; name: must …`), or empty.
        fields: String,
    },
    /// An answer that is neither what was asked for nor a problem document.
    #[error("{what}: unexpected answer {status}: {body}")]
    Unexpected {
        what: String,
        status: u16,
        body: String,
    },
    /// Something the scene waits for did not happen in time.
    #[error("gave up after {}s waiting for {what} (last seen: {last})", waited.as_secs())]
    TimedOut {
        what: String,
        waited: Duration,
        last: String,
    },
    /// A job the scene waited for ended without succeeding.
    #[error("{what}: job {job_id} ended {status}{}", error_suffix(error))]
    JobEnded {
        what: String,
        job_id: String,
        status: String,
        error: Option<String>,
    },
    /// The server is not in a state the scene can run in.
    #[error("{0}")]
    Precondition(String),
    /// Interrupted (Ctrl-C) while the scene was running.
    #[error("interrupted")]
    Interrupted,
    /// The provider the scene broke could not be healed: it still has faults injected.
    #[error(
        "{provider} still has faults injected: healing it failed ({heal}); heal it on the \
         console's Providers page or with PUT /v1/admin/providers/{provider}/faults {{}}"
    )]
    StillFaulted {
        provider: String,
        heal: Box<DemoError>,
        /// What stopped the scene before it healed the provider, if anything did.
        #[source]
        cause: Option<Box<DemoError>>,
    },
}

fn error_suffix(error: &Option<String>) -> String {
    error
        .as_deref()
        .map(|e| format!(": {e}"))
        .unwrap_or_default()
}

impl DemoError {
    /// The error for a non-2xx answer: [`DemoError::Refused`] with the problem's detail and
    /// field errors when the body is a problem document, else [`DemoError::Unexpected`].
    pub fn answered(what: &str, status: u16, body: &str) -> Self {
        let problem: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        match problem["detail"].as_str() {
            Some(detail) => {
                let fields = problem["errors"]
                    .as_object()
                    .map(|errors| {
                        errors
                            .iter()
                            .map(|(field, message)| {
                                format!("; {field}: {}", message.as_str().unwrap_or_default())
                            })
                            .collect::<String>()
                    })
                    .unwrap_or_default();
                DemoError::Refused {
                    what: what.to_owned(),
                    status,
                    title: problem["title"].as_str().unwrap_or_default().to_owned(),
                    detail: detail.to_owned(),
                    fields,
                }
            }
            None => DemoError::Unexpected {
                what: what.to_owned(),
                status,
                body: body.chars().take(500).collect(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_document_is_told_with_its_detail_and_fields() {
        let body = r#"{"type": "urn:clustergenie:problem:unprocessable-entity",
            "title": "Unprocessable Entity", "status": 422,
            "detail": "the request is invalid", "errors": {"region": "unknown region ams3"}}"#;
        let error = DemoError::answered("create cluster web-1a2b", 422, body);
        assert_eq!(
            error.to_string(),
            "create cluster web-1a2b was refused (422 Unprocessable Entity): the request is \
             invalid; region: unknown region ams3"
        );
        let other = DemoError::answered("read job job_1", 502, "Bad Gateway");
        assert_eq!(
            other.to_string(),
            "read job job_1: unexpected answer 502: Bad Gateway"
        );
    }
}
