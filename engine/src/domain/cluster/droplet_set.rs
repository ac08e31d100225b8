//! The live droplets of a cluster: their ids where decisions are taken, their number where
//! the fold is only read.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::values::DropletId;

/// The live droplets of a cluster.
///
/// The aggregate the command service loads keeps their ids ([`DropletSet::Ids`]): attaching
/// a droplet twice, detaching one that is not attached and deleting the cluster while any
/// is left are decided on them. A fold kept only to be read (a read model's row, see
/// [`crate::fold::ReadForm`]) keeps their number alone ([`DropletSet::Counted`]): the
/// events it folds were decided on the ids, so each attach adds one and each detach takes
/// one away, and the fold no longer grows with the cluster's droplets.
///
/// Stored as a JSON array of ids, or as a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropletSet {
    /// The ids of the live droplets.
    Ids(BTreeSet<DropletId>),
    /// How many droplets are live (a fold kept for reading).
    Counted(usize),
}

impl Default for DropletSet {
    fn default() -> Self {
        Self::Ids(BTreeSet::new())
    }
}

impl DropletSet {
    /// How many droplets are live.
    pub fn len(&self) -> usize {
        match self {
            Self::Ids(ids) => ids.len(),
            Self::Counted(n) => *n,
        }
    }

    /// Whether no droplet is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `id` is attached. A counted set does not know: it answers `false`, and
    /// decisions are never taken on one.
    pub fn contains(&self, id: &DropletId) -> bool {
        match self {
            Self::Ids(ids) => ids.contains(id),
            Self::Counted(_) => false,
        }
    }

    /// Attaches `id` (an attach event: `id` was not attached).
    pub fn insert(&mut self, id: DropletId) {
        match self {
            Self::Ids(ids) => {
                ids.insert(id);
            }
            Self::Counted(n) => *n += 1,
        }
    }

    /// Detaches `id` (a detach event: `id` was attached).
    pub fn remove(&mut self, id: &DropletId) {
        match self {
            Self::Ids(ids) => {
                ids.remove(id);
            }
            Self::Counted(n) => *n = n.saturating_sub(1),
        }
    }

    /// The ids, in order (none in a counted set).
    pub fn iter(&self) -> std::collections::btree_set::Iter<'_, DropletId> {
        static NONE: BTreeSet<DropletId> = BTreeSet::new();
        match self {
            Self::Ids(ids) => ids.iter(),
            Self::Counted(_) => NONE.iter(),
        }
    }

    /// The same set, counted.
    pub fn counted(&self) -> Self {
        Self::Counted(self.len())
    }
}

impl FromIterator<DropletId> for DropletSet {
    fn from_iter<I: IntoIterator<Item = DropletId>>(iter: I) -> Self {
        Self::Ids(iter.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a DropletSet {
    type Item = &'a DropletId;
    type IntoIter = std::collections::btree_set::Iter<'a, DropletId>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl Serialize for DropletSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Ids(ids) => ids.serialize(serializer),
            Self::Counted(n) => serializer.serialize_u64(*n as u64),
        }
    }
}

impl<'de> Deserialize<'de> for DropletSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SetOrCount;
        impl<'de> Visitor<'de> for SetOrCount {
            type Value = DropletSet;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of droplet ids or a number of droplets")
            }

            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<DropletSet, E> {
                usize::try_from(n)
                    .map(DropletSet::Counted)
                    .map_err(|_| E::custom("too many droplets"))
            }

            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<DropletSet, S::Error> {
                let mut ids = BTreeSet::new();
                while let Some(id) = seq.next_element::<DropletId>()? {
                    ids.insert(id);
                }
                Ok(DropletSet::Ids(ids))
            }
        }
        deserializer.deserialize_any(SetOrCount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> DropletSet {
        (0..n).map(|_| DropletId::new()).collect()
    }

    #[test]
    fn ids_are_stored_as_an_array_and_read_back() {
        let set = ids(3);
        let json = serde_json::to_string(&set).expect("json");
        assert!(json.starts_with('['), "{json}");
        assert_eq!(
            serde_json::from_str::<DropletSet>(&json).expect("parse"),
            set
        );
    }

    #[test]
    fn a_counted_set_is_stored_as_a_number_and_read_back() {
        let set = ids(3).counted();
        assert_eq!(serde_json::to_string(&set).expect("json"), "3");
        assert_eq!(serde_json::from_str::<DropletSet>("3").expect("parse"), set);
    }

    #[test]
    fn a_counted_set_moves_by_one_per_attach_and_detach() {
        let (a, b) = (DropletId::new(), DropletId::new());
        let mut full = DropletSet::default();
        let mut counted = DropletSet::default().counted();
        for set in [&mut full, &mut counted] {
            set.insert(a.clone());
            set.insert(b.clone());
            set.remove(&a);
        }
        assert_eq!((full.len(), counted.len()), (1, 1));
        assert!(full.contains(&b));
        assert!(!counted.contains(&b), "a count knows no ids");
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in ["\"x\"", "-1", "[1]", "{}", "[\"not-an-id\"]"] {
            assert!(serde_json::from_str::<DropletSet>(bad).is_err(), "{bad}");
        }
    }
}
