//! Property: random command sequences never break the droplet's invariants.

use proptest::prelude::*;

use super::*;
use crate::domain::aggregate::{execute, fold};

fn job(n: u8) -> JobId {
    JobId::parse(&format!("job_{n:032x}")).expect("valid job id")
}

/// A built-in provider as the registry resolves it when nothing is registered.
fn provider(n: u8) -> ProviderOffer {
    let names = ["simcloud", "nimbus", "stratus"];
    ProviderOffer::builtin(names[usize::from(n % 3)]).expect("built-in provider")
}

/// Builds a command from two random numbers, over small pools of values; destruction is
/// rarer than the other requests so that sequences get through several of them.
fn command(selector: u8, param: u8) -> DropletCommand {
    let sizes = ["s-1vcpu-1gb", "s-2vcpu-4gb", "c-2"];
    let regions = ["nyc1", "tor1"];
    match selector % 20 {
        0 => DropletCommand::RequestDroplet {
            id: DropletId::parse(&format!("dr_{:032x}", 1)).expect("valid droplet id"),
            cluster_id: ClusterId::parse(&format!("cl_{:032x}", 1)).expect("valid cluster id"),
            name: DropletName::parse("web-1").expect("valid name"),
            region: Region::parse(regions[usize::from(param % 2)]).expect("valid region"),
            size: Size::parse(sizes[usize::from(param % 3)]).expect("valid size"),
            image: Image::parse("debian-11-x64").expect("valid image"),
            provider: (param % 4 != 3).then(|| provider(param / 4)),
            job_id: job(param),
            app_version: None,
        },
        1 | 2 => DropletCommand::MarkProvisioned {
            ip_address: if param.is_multiple_of(8) {
                "nope".into()
            } else {
                format!("10.0.0.{param}")
            },
            provider: provider(param),
        },
        3 => DropletCommand::MarkProvisioningFailed {
            reason: "failed".into(),
        },
        4 | 5 => DropletCommand::RequestResize {
            size: Size::parse(sizes[usize::from(param % 3)]).expect("valid size"),
            job_id: job(param),
        },
        6 | 7 => DropletCommand::CompleteResize,
        8 => DropletCommand::FailResize {
            reason: "failed".into(),
        },
        9 | 10 => DropletCommand::RequestPower {
            action: PowerAction::ALL[usize::from(param % 3)],
            job_id: job(param),
        },
        11 | 12 => DropletCommand::CompletePower,
        13 => DropletCommand::FailPower {
            reason: "failed".into(),
        },
        14 => DropletCommand::RequestDestroy { job_id: job(param) },
        15 => DropletCommand::FailDestroy {
            reason: "cancelled".into(),
        },
        17 => DropletCommand::RequestMigration {
            to_provider: provider(param),
            job_id: job(param),
        },
        18 if param.is_multiple_of(2) => DropletCommand::CompleteMigration {
            ip_address: format!("10.1.0.{param}"),
        },
        18 => DropletCommand::FailMigration {
            reason: "failed".into(),
        },
        _ => DropletCommand::CompleteDestroy,
    }
}

fn check_invariants(droplet: &Droplet) -> Result<(), TestCaseError> {
    // pending_job is set exactly while a request is in flight.
    prop_assert_eq!(
        droplet.pending_job.is_some(),
        droplet.pending_action.is_some()
    );
    let resizing = matches!(droplet.pending_action, Some(PendingAction::Resize { .. }));
    prop_assert_eq!(droplet.status == DropletStatus::Resizing, resizing);
    prop_assert_eq!(droplet.status_before_resize.is_some(), resizing);
    if droplet.exists() {
        let provisioning = droplet.pending_action == Some(PendingAction::Provision);
        prop_assert_eq!(droplet.status == DropletStatus::Provisioning, provisioning);
    }
    if droplet.status == DropletStatus::Destroyed {
        prop_assert!(droplet.pending_job.is_none());
    }
    if let (Some(provider), Some(region)) = (&droplet.provider, &droplet.region) {
        let offer = ProviderOffer::builtin(provider.as_str()).expect("built-in provider");
        prop_assert!(offer.offers(region));
    }
    Ok(())
}

proptest! {
    #[test]
    fn random_commands_keep_the_invariants(
        steps in proptest::collection::vec((any::<u8>(), any::<u8>()), 0..80)
    ) {
        let mut droplet = Droplet::default();
        let mut history = Vec::new();
        for (selector, param) in steps {
            let before = droplet.clone();
            match execute(&mut droplet, command(selector, param)) {
                Ok(events) => {
                    // Every accepted command changes something, and nothing follows destroyed.
                    prop_assert_eq!(events.len(), 1);
                    prop_assert!(before.status != DropletStatus::Destroyed || !before.exists());
                    history.extend(events);
                }
                Err(err) => {
                    prop_assert_eq!(&droplet, &before);
                    let _ = err.kind();
                }
            }
            // Never leaves destroyed.
            if before.exists() && before.status == DropletStatus::Destroyed {
                prop_assert_eq!(droplet.status, DropletStatus::Destroyed);
            }
            check_invariants(&droplet)?;
        }
        prop_assert_eq!(fold::<Droplet>(history), droplet);
    }
}
