//! Property: random command sequences never break the cluster's invariants, and the
//! read form folds to what the full fold's read form is.

use proptest::prelude::*;

use super::*;
use crate::domain::aggregate::execute;
use crate::fold::ReadForm;

/// Builds a command from two random numbers, over a small pool of values so that
/// sequences hit the interesting cases (same name, same droplet, ...).
fn command(selector: u8, param: u8) -> ClusterCommand {
    let names = ["web", "api"];
    let regions = ["nyc1", "tor1", "sgp1"];
    let providers = [None, Some("nimbus"), Some("stratus")];
    let p = usize::from(param);
    let droplet_id = DropletId::parse(&format!("dr_{:032x}", param % 3)).expect("valid droplet id");
    match selector % 7 {
        0 => ClusterCommand::CreateCluster {
            id: ClusterId::parse(&format!("cl_{:032x}", 1)).expect("valid cluster id"),
            name: ClusterName::parse(names[p % 2]).expect("valid name"),
            region: Region::parse(regions[p % 3]).expect("valid region"),
            provider: providers[(p / 3) % 3].and_then(ProviderOffer::builtin),
        },
        1 => ClusterCommand::RenameCluster {
            name: ClusterName::parse(names[p % 2]).expect("valid name"),
        },
        // The offer is drawn too: it is the cluster's provider only some of the time.
        2 => ClusterCommand::MoveCluster {
            region: Region::parse(regions[p % 3]).expect("valid region"),
            provider: providers[(p / 3) % 3].and_then(ProviderOffer::builtin),
        },
        3 => ClusterCommand::ChangeClusterStatus {
            status: ClusterStatus::ALL[p % 3],
            reason: "check".into(),
            issues: Vec::new(),
        },
        // Attach twice as often as the others, so deletes meet attached droplets.
        4 | 5 => ClusterCommand::AttachDroplet { droplet_id },
        _ if param.is_multiple_of(2) => ClusterCommand::DetachDroplet { droplet_id },
        _ => ClusterCommand::DeleteCluster,
    }
}

proptest! {
    #[test]
    fn random_commands_keep_the_invariants(
        steps in proptest::collection::vec((any::<u8>(), any::<u8>()), 0..60)
    ) {
        let mut cluster = Cluster::default();
        let mut history = Vec::new();
        for (selector, param) in steps {
            let before = cluster.clone();
            match execute(&mut cluster, command(selector, param)) {
                Ok(events) => {
                    // No events after deletion.
                    prop_assert!(!before.deleted || events.is_empty());
                    history.extend(events);
                }
                Err(err) => {
                    prop_assert_eq!(&cluster, &before);
                    // Classification is total.
                    let _ = err.kind();
                }
            }
            // Never deleted with attached droplets.
            prop_assert!(!cluster.deleted || cluster.droplets.is_empty());
            // A deleted cluster stays deleted.
            prop_assert!(!before.deleted || cluster.deleted);
            // A cluster with a provider is in a region that provider offers.
            if let (Some(provider), Some(region)) = (&cluster.provider, &cluster.region) {
                let offer = ProviderOffer::builtin(provider.as_str()).expect("built-in");
                prop_assert!(offer.offers(region));
            }
        }
        // The state is exactly the fold of the accepted events.
        prop_assert_eq!(crate::domain::aggregate::fold::<Cluster>(history.clone()), cluster.clone());
        // Folded onto the read form, kept in it after each event (as a read model's row
        // is), the events give the read form of the full fold, which stores the same.
        let mut kept = Cluster::default();
        kept.to_read_form();
        for event in history {
            kept.apply(event);
            kept.to_read_form();
        }
        cluster.to_read_form();
        prop_assert_eq!(&kept, &cluster);
        let stored = serde_json::to_string(&kept).expect("json");
        prop_assert_eq!(serde_json::from_str::<Cluster>(&stored).expect("parse"), kept);
    }
}
