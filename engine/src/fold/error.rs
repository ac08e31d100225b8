//! The fold's one error type.

use crate::domain::upcast::UpcastError;
use crate::store::StoreError;

/// Why an aggregate could not be folded from its stream.
#[derive(Debug, thiserror::Error)]
pub enum FoldError {
    /// The stream or its snapshot could not be read.
    #[error("event store failure")]
    Store(#[from] StoreError),
    /// A stored event's data does not decode as its type.
    #[error("a stored event could not be decoded")]
    Serde(#[from] serde_json::Error),
    /// A stored event of an older version could not be brought to the current one.
    #[error("a stored event could not be read in its current version")]
    Upcast(#[from] UpcastError),
}
