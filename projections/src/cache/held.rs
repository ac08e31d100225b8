//! [`Held`]: the records of the in-process cache, within a size budget.
//!
//! Records are kept in least-recently-used order (a read of a view or a write of a
//! record makes it the most recent; the runner reading folds does not) and counted in
//! approximate bytes: the key, the view, the fold and a fixed overhead per record (see
//! [`record_bytes`]). When a write takes the total past the budget, the least recently
//! used records are dropped until it fits again. A dropped record is simply absent: a
//! read of it is a miss (answered from SQL), and the runner refolds it from the log when
//! an event for it comes (see `fold.rs`).

use lru::LruCache;

use super::backend::{CacheUsage, Record, RecordKey};

/// What one record costs beyond the bytes of its id, view and fold: the key and record
/// structs (about 90 bytes), the LRU list links and hash table slot (about 40), and the
/// allocator's headers of the three strings and the list node (about 60).
pub const RECORD_OVERHEAD: usize = 192;

/// The approximate bytes one record holds in memory.
pub fn record_bytes(key: &RecordKey, record: &Record) -> usize {
    key.id.len() + record.view.len() + record.state.len() + RECORD_OVERHEAD
}

/// Records in LRU order, at most `budget` bytes of them.
pub struct Held {
    records: LruCache<RecordKey, Record>,
    bytes: usize,
    budget: usize,
    evictions: u64,
}

impl Held {
    /// Nothing held yet; at most `budget` bytes later.
    pub fn new(budget: usize) -> Self {
        Self {
            records: LruCache::unbounded(),
            bytes: 0,
            budget,
            evictions: 0,
        }
    }

    /// The record of `key`, leaving its place in the LRU order alone.
    pub fn peek(&self, key: &RecordKey) -> Option<&Record> {
        self.records.peek(key)
    }

    /// The record of `key`, which becomes the most recently used.
    pub fn get(&mut self, key: &RecordKey) -> Option<&Record> {
        self.records.get(key)
    }

    /// Stores `record` as the most recently used (replacing the one of `key`), then
    /// drops the least recently used records while the total is over the budget (the
    /// new record too, if it alone is larger than the budget).
    pub fn insert(&mut self, key: RecordKey, record: Record) {
        self.bytes += record_bytes(&key, &record);
        if let Some((old_key, old)) = self.records.push(key, record) {
            self.bytes = self.bytes.saturating_sub(record_bytes(&old_key, &old));
        }
        while self.bytes > self.budget {
            let Some((key, record)) = self.records.pop_lru() else {
                break;
            };
            self.bytes = self.bytes.saturating_sub(record_bytes(&key, &record));
            self.evictions += 1;
        }
    }

    /// Drops every record (not counted as evictions).
    pub fn clear(&mut self) {
        self.records.clear();
        self.bytes = 0;
    }

    /// Number of records held.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// What is held, against the budget.
    pub fn usage(&self) -> CacheUsage {
        CacheUsage {
            records: self.records.len() as u64,
            bytes: self.bytes as u64,
            budget_bytes: self.budget as u64,
            evictions: self.evictions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::backend::Kind;
    use super::*;

    fn record(position: i64, view: &str) -> Record {
        Record {
            position,
            view: view.into(),
            state: "{}".into(),
        }
    }

    fn key(id: &str) -> RecordKey {
        RecordKey::new(Kind::Job, id)
    }

    #[test]
    fn counts_bytes_and_replacements() {
        let mut held = Held::new(10_000);
        held.insert(key("a"), record(1, "x"));
        let one = record_bytes(&key("a"), &record(1, "x"));
        assert_eq!(held.usage().bytes, one as u64);
        held.insert(key("a"), record(2, "xyz"));
        assert_eq!(held.usage().bytes, one as u64 + 2);
        assert_eq!((held.len(), held.usage().evictions), (1, 0));
        held.clear();
        assert_eq!((held.len(), held.usage().bytes), (0, 0));
    }

    #[test]
    fn evicts_the_least_recently_used_to_stay_within_the_budget() {
        let size = record_bytes(&key("a"), &record(1, "x"));
        let mut held = Held::new(3 * size);
        for id in ["a", "b", "c"] {
            held.insert(key(id), record(1, "x"));
        }
        // A read makes "a" the most recent; a peek leaves "b" the least recent.
        assert!(held.get(&key("a")).is_some());
        assert!(held.peek(&key("b")).is_some());
        held.insert(key("d"), record(1, "x"));
        assert!(
            held.peek(&key("b")).is_none(),
            "b was the least recently used"
        );
        for id in ["a", "c", "d"] {
            assert!(held.peek(&key(id)).is_some(), "{id} stays");
        }
        let usage = held.usage();
        assert_eq!((usage.records, usage.evictions), (3, 1));
        assert!(usage.bytes <= usage.budget_bytes);
    }

    #[test]
    fn a_record_larger_than_the_budget_is_not_kept() {
        let mut held = Held::new(RECORD_OVERHEAD);
        held.insert(key("big"), record(1, &"x".repeat(1000)));
        assert_eq!((held.len(), held.usage().bytes), (0, 0));
        assert_eq!(held.usage().evictions, 1);
    }
}
