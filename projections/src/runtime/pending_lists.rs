//! The trigram indexes' pending lists, merged on a clock (PostgreSQL).
//!
//! A GIN index takes new rows into a pending list that every search reads whole, and
//! merges it into the index when it outgrows its limit; a merge costs per trigram it
//! touches, so merges of a few rows each cost every insert dearly, and a long list costs
//! every search (see [`crate::read_models::search::PENDING_LIST_KB`]). The live worker
//! therefore marks the lists written whenever it commits rows of a projection that has a
//! searched table, and this task merges them at most once per
//! [`RuntimeOptions::search_merge_every`](super::RuntimeOptions) (a second by default):
//! searches read at most that long's new names, a merge takes in all of them, and an idle
//! server merges nothing (no statement at all while nothing is written).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::error_chain;
use crate::read_models::search::pg_merge_pending;
use crate::ReadDb;

/// The live tables with a trigram index, and whether rows were written to them since
/// their lists were last merged.
#[derive(Debug)]
pub struct PendingLists {
    tables: Vec<&'static str>,
    written: AtomicBool,
}

impl PendingLists {
    /// The lists of the indexes of `tables` (live table names), none written yet.
    pub fn new(tables: Vec<&'static str>) -> Self {
        Self {
            tables,
            written: AtomicBool::new(false),
        }
    }

    /// Rows were committed to the tables: the next tick merges their lists.
    pub fn written(&self) {
        self.written.store(true, Ordering::Release);
    }

    /// Whether rows were written since the last call.
    fn take(&self) -> bool {
        self.written.swap(false, Ordering::AcqRel)
    }

    /// Merges the lists every `every` while they are written, until `shutdown` turns true
    /// (PostgreSQL only: on SQLite the caller does not start it). A failed merge is logged
    /// once per distinct error and tried again at the next tick; the lists stay correct
    /// meanwhile, and their limit bounds them.
    pub async fn run(
        self: Arc<Self>,
        db: ReadDb,
        every: Duration,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut last_error: Option<String> = None;
        while !*shutdown.borrow() {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    continue;
                }
            }
            if !self.take() {
                continue;
            }
            match pg_merge_pending(&db, &self.tables).await {
                Ok(pages) => {
                    tracing::trace!(pages, "trigram pending lists merged");
                    last_error = None;
                }
                Err(error) => {
                    let text = error_chain(&error);
                    if last_error.as_deref() != Some(&text) {
                        tracing::warn!(error = %text, "could not merge the trigram indexes' pending lists");
                    }
                    last_error = Some(text);
                    // Try again at the next tick even if nothing more is written.
                    self.written();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_is_taken_once() {
        let lists = PendingLists::new(vec!["rm_clusters"]);
        assert!(!lists.take(), "nothing written yet");
        lists.written();
        lists.written();
        assert!(lists.take());
        assert!(!lists.take(), "merged: clean again");
    }
}
