//! Views read straight from a stored fold (a [`Loaded`](crate::fold::Loaded) as JSON, the
//! read models' `state` column), without building the aggregate: a list page renders 50
//! rows. A cluster's row keeps the number of its droplets (its
//! [`ReadForm`](crate::fold::ReadForm)); a row written before it did holds the id of every
//! droplet, which the view only counts: that array is skipped over, not built (a validated
//! id and a tree node per droplet were most of a clusters page's time at 40 droplets a
//! cluster).
//!
//! The result is the same view as [`ClusterView::from_loaded`] of the full parse (tested
//! below on folds of every shape).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{IgnoredAny, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::ClusterView;
use crate::domain::ClusterStatus;

/// The fields of a stored cluster fold its view reads.
#[derive(Deserialize)]
struct StoredCluster {
    state: ClusterFields,
    #[serde(default)]
    version: u64,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    updated_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct ClusterFields {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    status: ClusterStatus,
    #[serde(default)]
    droplets: Counted,
}

/// The length of a JSON array, its elements skipped; or a number (a counted
/// [`DropletSet`](crate::domain::cluster::DropletSet)).
#[derive(Default)]
struct Counted(usize);

impl<'de> Deserialize<'de> for Counted {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Count;
        impl<'de> Visitor<'de> for Count {
            type Value = Counted;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array or a number")
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Counted, E> {
                usize::try_from(n)
                    .map(Counted)
                    .map_err(|_| E::custom("too many droplets"))
            }
            fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Counted, S::Error> {
                let mut n = 0;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Counted(n))
            }
        }
        deserializer.deserialize_any(Count)
    }
}

impl ClusterView {
    /// The view of a stored cluster fold (`rm_clusters.state`).
    pub fn from_stored(json: &str) -> Result<Self, serde_json::Error> {
        let stored: StoredCluster = serde_json::from_str(json)?;
        let s = stored.state;
        Ok(Self {
            id: s.id.unwrap_or_default(),
            name: s.name.unwrap_or_default(),
            region: s.region.unwrap_or_default(),
            provider: s.provider,
            status: s.status.as_str().to_owned(),
            droplet_count: s.droplets.0,
            version: stored.version,
            created_at: stored.created_at,
            updated_at: stored.updated_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::values::{ClusterId, ClusterName, DropletId, ProviderName, Region};
    use crate::domain::Cluster;
    use crate::fold::{Loaded, ReadForm};

    use super::*;

    fn same_view(loaded: &Loaded<Cluster>) {
        let json = serde_json::to_string(loaded).expect("json");
        let view = ClusterView::from_stored(&json).expect("stored view");
        assert_eq!(view, ClusterView::from_loaded(loaded), "{json}");
    }

    fn cluster(droplets: usize, provider: Option<&str>, deleted: bool) -> Loaded<Cluster> {
        Loaded {
            state: Cluster {
                id: ClusterId::parse("cl_0190f3a1b2c37d4e8f9a0b1c2d3e4f50").ok(),
                name: ClusterName::parse("web \"one\"").ok(),
                region: Region::parse("fra1").ok(),
                provider: provider.map(|p| ProviderName::parse(p).expect("provider")),
                status: ClusterStatus::Warning,
                droplets: (0..droplets)
                    .map(|n| DropletId::parse(&format!("dr_{n:032x}")).expect("droplet"))
                    .collect(),
                deleted,
                ..Cluster::default()
            },
            version: 7 + droplets as u64,
            created_at: Some(Utc::now()),
            updated_at: Some(Utc::now()),
            last_position: 42,
            ..Loaded::default()
        }
    }

    #[test]
    fn the_stored_view_is_the_full_folds_view() {
        same_view(&Loaded::default());
        for droplets in [0, 1, 40] {
            for provider in [None, Some("simcloud")] {
                for deleted in [false, true] {
                    let mut loaded = cluster(droplets, provider, deleted);
                    same_view(&loaded);
                    loaded.state.to_read_form();
                    same_view(&loaded);
                }
            }
        }
    }

    #[test]
    fn a_fold_stored_before_optional_fields_existed_still_reads() {
        let old = r#"{"state":{"id":"cl_0190f3a1b2c37d4e8f9a0b1c2d3e4f50","name":"web","region":"nyc1","status":"healthy","droplets":["dr_00000000000000000000000000000001"],"deleted":false},"version":2,"created_at":"2026-11-26T10:00:00Z","updated_at":null,"last_position":9}"#;
        let full: Loaded<Cluster> = serde_json::from_str(old).expect("full parse");
        assert_eq!(
            ClusterView::from_stored(old).expect("stored view"),
            ClusterView::from_loaded(&full)
        );
        assert_eq!(
            ClusterView::from_stored(old).expect("view").droplet_count,
            1
        );
    }

    #[test]
    fn a_fold_that_is_not_json_is_an_error() {
        assert!(ClusterView::from_stored("{\"state\":{\"droplets\":\"3\"}}").is_err());
        assert!(ClusterView::from_stored("{\"state\":{\"droplets\":-3}}").is_err());
        assert!(ClusterView::from_stored("nope").is_err());
    }
}
