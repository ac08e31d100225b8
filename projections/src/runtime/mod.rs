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

pub use engine::error_chain;
