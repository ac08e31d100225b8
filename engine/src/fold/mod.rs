//! Folding a stream: an aggregate with what the log says about it ([`Loaded`]), read
//! from a snapshot and the events after it ([`load`]).
//!
//! The fold sits below the command service and the read side alike: a command's answer
//! and a read-model row are built by the same code from the same fold. It depends on the
//! domain and the store only.

pub mod error;
pub mod first_seen;
pub mod loaded;
pub mod read_form;

pub use error::FoldError;
pub use first_seen::{FirstSeen, TIMED_EVENT_TYPES};
pub use loaded::{load, load_with, Loaded};
pub use read_form::ReadForm;
