//! Idempotency records: the first answer to a command, stored with its events under the
//! caller's key and replayed when the key comes again.

use serde_json::Value;

use super::StoreError;

/// What kind of answer a command gave: it made something, it accepted work that goes on
/// after the answer (a job), or it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplyKind {
    /// The command created a resource.
    Created,
    /// The command started work that goes on after the answer (a job).
    Accepted,
    /// The command took effect (or changed nothing).
    Done,
}

impl ReplyKind {
    /// Every kind.
    pub const ALL: [Self; 3] = [Self::Created, Self::Accepted, Self::Done];

    /// The number an idempotency record stores for this kind. The numbers are those rows
    /// have always held (the status code of the first answer), so that records written by
    /// earlier versions replay the same; they mean nothing else here.
    pub fn stored_code(self) -> i32 {
        match self {
            Self::Done => 200,
            Self::Created => 201,
            Self::Accepted => 202,
        }
    }

    /// The kind an idempotency record's stored number stands for.
    pub fn from_stored_code(code: i64) -> Result<Self, StoreError> {
        Self::ALL
            .into_iter()
            .find(|kind| i64::from(kind.stored_code()) == code)
            .ok_or(StoreError::UnknownReplyKind(code))
    }
}

/// The idempotency record a command stores with its events.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotencyWrite {
    pub key: String,
    /// A digest of the request (method, path, body): the same key with another request is a conflict.
    pub fingerprint: String,
    /// The kind of the first answer.
    pub kind: ReplyKind,
    /// The first answer's body, without `position` (filled in on replay).
    pub body: Value,
}

/// An idempotency record as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotencyRecord {
    pub key: String,
    pub fingerprint: String,
    pub kind: ReplyKind,
    pub body: Value,
    pub position: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_codes_are_those_earlier_rows_hold() {
        let codes: Vec<(ReplyKind, i32)> = ReplyKind::ALL
            .into_iter()
            .map(|kind| (kind, kind.stored_code()))
            .collect();
        assert_eq!(
            codes,
            [
                (ReplyKind::Created, 201),
                (ReplyKind::Accepted, 202),
                (ReplyKind::Done, 200),
            ]
        );
        for (kind, code) in codes {
            assert_eq!(
                ReplyKind::from_stored_code(i64::from(code)).ok(),
                Some(kind)
            );
        }
    }

    #[test]
    fn an_unknown_stored_code_is_an_error_not_a_guess() {
        for code in [0, 204, 404, -1, i64::from(i32::MAX) + 1] {
            assert!(matches!(
                ReplyKind::from_stored_code(code),
                Err(StoreError::UnknownReplyKind(c)) if c == code
            ));
        }
    }
}
