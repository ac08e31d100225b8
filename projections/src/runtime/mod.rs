//! The projection runtime: one task per projection tails the global log from its stored
//! checkpoint and applies each batch of events to its read model together with the new
//! checkpoint in one transaction.

mod applier;
pub(crate) mod checkpoint;
mod projection;
mod service;
mod worker;

pub use applier::{is_poison, Applier};
pub use checkpoint::{apply_checkpointed, load_checkpoint};
pub use projection::{Projection, ProjectionStatus, RebuildStatus, RuntimeOptions};
pub use service::ProjectionRuntime;

/// The error and all its sources, joined by ": ".
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
