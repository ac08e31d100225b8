//! The command topic: external systems send commands on `clustergenie.commands.v1` and read
//! each outcome on `clustergenie.command-results.v1`.
//!
//! A command is a CloudEvent whose `ce_type` names it ([`catalog`]); it becomes the HTTP
//! request the API would get for it and runs through the very same routes (validation,
//! idempotency keyed by `ce_id`, problem+json), in process. The [`outcome`] is written to
//! the results topic keyed by `ce_id`, then the command's offset is committed
//! ([`consumer`]).

pub mod catalog;
pub mod consumer;
pub mod outcome;

pub use catalog::{CommandRequest, COMMAND_TYPES};
pub use consumer::{CommandConsumer, CommandConsumerOptions};
pub use outcome::Outcome;
