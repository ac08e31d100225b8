//! Who issues a command, under which correlation, trace and idempotency key.

use uuid::Uuid;

use crate::store::EventMetadata;

/// An `Idempotency-Key` with the digest of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    pub key: String,
    pub fingerprint: String,
}

/// The circumstances of one command; becomes the metadata of every event it appends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandContext {
    pub actor: String,
    pub correlation_id: String,
    pub causation_id: String,
    pub traceparent: String,
    pub idempotency: Option<Idempotency>,
}

impl CommandContext {
    /// A context for `actor` with fresh correlation and trace ids.
    pub fn new(actor: impl Into<String>) -> Self {
        let correlation = Uuid::now_v7().to_string();
        Self {
            actor: actor.into(),
            causation_id: correlation.clone(),
            correlation_id: correlation,
            traceparent: new_traceparent(),
            idempotency: None,
        }
    }

    /// The context of the system itself (the job executor, timers).
    pub fn system() -> Self {
        Self::new("system")
    }

    /// Sets the idempotency key and request digest.
    pub fn with_idempotency(
        mut self,
        key: impl Into<String>,
        fingerprint: impl Into<String>,
    ) -> Self {
        self.idempotency = Some(Idempotency {
            key: key.into(),
            fingerprint: fingerprint.into(),
        });
        self
    }

    /// A follow-up context: same correlation and trace, caused by `causation_id`.
    pub fn caused_by(&self, causation_id: impl Into<String>) -> Self {
        Self {
            causation_id: causation_id.into(),
            idempotency: None,
            ..self.clone()
        }
    }

    /// The trace id part of the traceparent (32 hex digits).
    pub fn trace_id(&self) -> String {
        self.traceparent
            .split('-')
            .nth(1)
            .unwrap_or_default()
            .to_owned()
    }

    /// The metadata stored with the command's events.
    pub fn metadata(&self) -> EventMetadata {
        EventMetadata {
            actor: self.actor.clone(),
            correlation_id: self.correlation_id.clone(),
            causation_id: self.causation_id.clone(),
            traceparent: self.traceparent.clone(),
            idempotency_key: self.idempotency.as_ref().map(|i| i.key.clone()),
        }
    }
}

/// A new W3C `traceparent` (version 00, sampled).
pub fn new_traceparent() -> String {
    let trace = Uuid::new_v4().simple().to_string();
    let span = &Uuid::new_v4().simple().to_string()[..16];
    format!("00-{trace}-{span}-01")
}

/// True when `value` is a well-formed W3C `traceparent`.
pub fn is_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    parts.len() == 4
        && hex(parts[0], 2)
        && hex(parts[1], 32)
        && hex(parts[2], 16)
        && hex(parts[3], 2)
        && parts[1] != "00000000000000000000000000000000"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_traceparents_are_valid_and_carry_the_trace_id() {
        let ctx = CommandContext::new("alice");
        assert!(is_traceparent(&ctx.traceparent));
        assert_eq!(ctx.trace_id().len(), 32);
        assert!(!is_traceparent("00-abc-def-01"));
    }

    #[test]
    fn follow_up_keeps_correlation_and_drops_the_key() {
        let ctx = CommandContext::new("bob").with_idempotency("k", "f");
        let next = ctx.caused_by("evt-1");
        assert_eq!(next.correlation_id, ctx.correlation_id);
        assert_eq!(next.causation_id, "evt-1");
        assert_eq!(next.idempotency, None);
        assert_eq!(ctx.metadata().idempotency_key.as_deref(), Some("k"));
    }
}
