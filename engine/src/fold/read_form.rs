//! The form a fold takes where it is only read.

use crate::domain::{Droplet, Job, ProviderConfig, RateLimitRule};

/// An aggregate whose fold, when it is kept only to be read (a read model's row), may drop
/// what only decisions need: such a row is rewritten with every event of its stream, so
/// what it carries is written again each time.
///
/// Folding events onto the read form gives the read form of the full fold: the events
/// were decided on the full one.
pub trait ReadForm {
    /// Drops what only decisions need (nothing, by default).
    fn to_read_form(&mut self) {}
}

impl ReadForm for Droplet {}
impl ReadForm for Job {}
impl ReadForm for ProviderConfig {}
impl ReadForm for RateLimitRule {}
