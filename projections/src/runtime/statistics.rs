//! Planner statistics that keep up with the read models (PostgreSQL).
//!
//! A list's bounded count (`lists`) is only cheap while the planner knows how big a table
//! is: with statistics that still describe a few hundred rows, PostgreSQL may count the
//! first 1,001 rows of a 70,000-row table with a bitmap scan of the whole index instead of
//! a scan that stops there. Autovacuum analyses a table after it grew by 10%, but only
//! once a minute at most, so a table that grows fast (a burst of creations, a catch-up) is
//! planned for the size it had. The live worker therefore analyses a projection's tables
//! itself each time the rows it wrote since the last analysis reach the rows written
//! before it (at least [`Growth::FLOOR`]): doubling steps, so about twenty `ANALYZE`s take a
//! table from empty to a million rows.
//!
//! Those analyses are there to tell the planner a table's size, which a small sample tells
//! as well as a large one: each reads 3,000 rows ([`SAMPLE_TARGET`] set for its own
//! transaction), not the 30,000 of the default target. A full sample of a read model's
//! table costs the database as much CPU as a thousand cluster creations, and a burst of
//! creations on a young table asks for one every few seconds; the sampled one costs a
//! tenth. Autovacuum's own analyses, which follow within 10% more growth, still use the
//! database's target and refine the distributions (value frequencies, histograms).
//!
//! What was written before a worker started counts as written before: its count starts at
//! the projection's checkpoint (the log position it had applied, at least as many events
//! as it handled). A server started on a long log would otherwise take its tables for
//! empty and analyse them at 1,000, 2,000, 4,000… new rows: on a 1M-event log six
//! `ANALYZE`s of the droplets' table in the first seconds, 0.9 s of the database's CPU
//! each, on the path of the first commands. Autovacuum keeps the statistics of tables
//! that grow slowly relative to their size.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::ReadDb;

/// Rows a projection wrote since its tables were last analysed.
#[derive(Debug, Default)]
pub struct Growth {
    since: AtomicU64,
    base: AtomicU64,
}

impl Growth {
    /// The fewest rows written that call for an analysis.
    pub const FLOOR: u64 = 1_000;

    /// A count that takes `before` rows as already written (and analysed).
    pub fn starting_at(before: u64) -> Self {
        Self {
            since: AtomicU64::new(0),
            base: AtomicU64::new(before),
        }
    }

    /// Records `rows` written; `true` when the tables are due for an analysis (the count
    /// starts again from there).
    pub fn grew(&self, rows: u64) -> bool {
        let since = self.since.fetch_add(rows, Ordering::Relaxed) + rows;
        let base = self.base.load(Ordering::Relaxed);
        if since < base.max(Self::FLOOR) {
            return false;
        }
        self.since.store(0, Ordering::Relaxed);
        self.base.store(base + since, Ordering::Relaxed);
        true
    }
}

/// Analyses `tables` in the background (PostgreSQL; SQLite plans these lists from its
/// indexes without statistics). A failure is logged: the lists stay correct, only slower.
pub fn analyse(db: &ReadDb, tables: Vec<&'static str>) {
    if db.is_sqlite() {
        return;
    }
    let db = db.clone();
    tokio::spawn(async move {
        for table in tables {
            if let Err(error) = analyse_sampled(&db, table).await {
                tracing::warn!(%error, table, "could not analyse a read model's table");
            }
        }
    });
}

/// The statistics target of a growth analysis: a sample of 300 rows per unit.
pub const SAMPLE_TARGET: u32 = 10;

/// `ANALYZE table` on a sample of 3,000 rows (see [`SAMPLE_TARGET`]).
async fn analyse_sampled(db: &ReadDb, table: &str) -> Result<(), sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    let target = format!("SET LOCAL default_statistics_target = {SAMPLE_TARGET}");
    sqlx::query(&target).execute(&mut *tx).await?;
    sqlx::query(&format!("ANALYZE {table}"))
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analyses_come_in_doubling_steps() {
        let growth = Growth::default();
        let mut due = Vec::new();
        let mut written = 0;
        for _ in 0..1_000 {
            written += 100;
            if growth.grew(100) {
                due.push(written);
            }
        }
        assert_eq!(due, [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000]);
    }

    #[test]
    fn what_was_written_before_the_start_counts() {
        let growth = Growth::starting_at(1_000_000);
        assert!(!growth.grew(999_999), "short of as many again");
        assert!(growth.grew(1), "twice the start");
        assert!(!growth.grew(1_999_999));
        assert!(growth.grew(1));
    }
}
