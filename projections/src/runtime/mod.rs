//! The projection runtime: one task tails the global log and applies each page of events
//! to every projection's read model together with their checkpoints in one transaction;
//! a rebuild fills one projection's shadow tables on its own; tables are analysed as they
//! grow (`statistics`) and the trigram indexes' pending lists merged on a clock
//! (`pending_lists`).

mod applier;
pub(crate) mod checkpoint;
mod pending_lists;
mod projection;
mod service;
mod statistics;
mod worker;

pub use applier::{is_poison, Applier};
pub use checkpoint::{apply_checkpointed, load_checkpoint};
pub use projection::{
    Projection, ProjectionStatus, RebuildState, RebuildStatus, RuntimeOptions, WorkerState,
};
pub use service::ProjectionRuntime;
pub use statistics::SAMPLE_TARGET;

pub use engine::error_chain;
