//! Given/when/then tests of the droplet aggregate, one per command outcome.

use cqrs_es::test::TestFramework;
use cqrs_es::DomainEvent;
use serde_json::json;

use super::*;
use crate::domain::aggregate::{event_from_parts, event_parts, execute, fold, Decide};

type Framework = TestFramework<Droplet>;

fn id() -> DropletId {
    DropletId::parse("dr_0190f3a1b2c37d4e8f9a0b1c2d3e4f50").expect("valid id")
}

fn cluster_id() -> ClusterId {
    ClusterId::parse("cl_0190f3a1b2c37d4e8f9a0b1c2d3e4f51").expect("valid id")
}

fn job(n: u8) -> JobId {
    JobId::parse(&format!("job_{n:032x}")).expect("valid id")
}

fn size(slug: &str) -> Size {
    Size::parse(slug).expect("valid size")
}

fn region(value: &str) -> Region {
    Region::parse(value).expect("valid region")
}

fn provider(value: &str) -> ProviderName {
    ProviderName::parse(value).expect("valid provider")
}

/// A built-in provider as the registry resolves it when nothing is registered.
fn offer(value: &str) -> ProviderOffer {
    ProviderOffer::builtin(value).expect("built-in provider")
}

const SMALL: &str = "s-1vcpu-1gb";
const LARGE: &str = "s-2vcpu-4gb";

fn request(provider: Option<ProviderOffer>) -> DropletCommand {
    DropletCommand::RequestDroplet {
        id: id(),
        cluster_id: cluster_id(),
        name: DropletName::parse("web-1").expect("valid name"),
        region: region("nyc1"),
        size: size(SMALL),
        image: Image::parse("ubuntu-22-04-x64").expect("valid image"),
        provider,
        job_id: job(1),
        app_version: None,
    }
}

fn requested_with(provider: Option<ProviderName>) -> DropletEvent {
    DropletEvent::Requested(DropletRequested {
        id: id(),
        cluster_id: cluster_id(),
        name: DropletName::parse("web-1").expect("valid name"),
        region: region("nyc1"),
        size: size(SMALL),
        image: Image::parse("ubuntu-22-04-x64").expect("valid image"),
        provider,
        job_id: job(1),
        app_version: None,
    })
}

fn requested() -> DropletEvent {
    requested_with(None)
}

fn provisioned() -> DropletEvent {
    DropletEvent::Provisioned(DropletProvisioned {
        ip_address: "10.0.0.7".into(),
        provider: provider("simcloud"),
    })
}

fn power_requested(action: PowerAction) -> DropletEvent {
    DropletEvent::PowerRequested(DropletPowerRequested {
        action,
        job_id: job(2),
    })
}

fn resize_requested() -> DropletEvent {
    DropletEvent::ResizeRequested(DropletResizeRequested {
        from_size: size(SMALL),
        to_size: size(LARGE),
        job_id: job(3),
    })
}

fn destroy_requested() -> DropletEvent {
    DropletEvent::DestroyRequested(DropletDestroyRequested { job_id: job(4) })
}

fn provisioning() -> Vec<DropletEvent> {
    vec![requested()]
}

fn active() -> Vec<DropletEvent> {
    vec![requested(), provisioned()]
}

fn off() -> Vec<DropletEvent> {
    let mut events = active();
    events.extend([
        power_requested(PowerAction::Off),
        DropletEvent::PoweredOff(DropletPoweredOff {}),
    ]);
    events
}

fn failed() -> Vec<DropletEvent> {
    vec![
        requested(),
        DropletEvent::ProvisioningFailed(DropletProvisioningFailed {
            reason: "no capacity".into(),
        }),
    ]
}

fn with(mut events: Vec<DropletEvent>, more: DropletEvent) -> Vec<DropletEvent> {
    events.push(more);
    events
}

fn destroyed() -> Vec<DropletEvent> {
    let mut events = active();
    events.extend([
        destroy_requested(),
        DropletEvent::Destroyed(DropletDestroyed {}),
    ]);
    events
}

/// One instance of every command except the initial request.
fn later_commands() -> Vec<DropletCommand> {
    vec![
        DropletCommand::MarkProvisioned {
            ip_address: "10.0.0.7".into(),
            provider: offer("simcloud"),
        },
        DropletCommand::MarkProvisioningFailed { reason: "x".into() },
        DropletCommand::RequestResize {
            size: size(LARGE),
            job_id: job(9),
        },
        DropletCommand::CompleteResize,
        DropletCommand::FailResize { reason: "x".into() },
        DropletCommand::RequestPower {
            action: PowerAction::Off,
            job_id: job(9),
        },
        DropletCommand::CompletePower,
        DropletCommand::FailPower { reason: "x".into() },
        DropletCommand::RequestDestroy { job_id: job(9) },
        DropletCommand::CompleteDestroy,
        DropletCommand::FailDestroy { reason: "x".into() },
    ]
}

fn no_pending(command: &'static str) -> DropletError {
    DropletError::NoPendingAction { command }
}

fn invalid(status: DropletStatus, action: &'static str) -> DropletError {
    DropletError::InvalidTransition { status, action }
}

// --- missing and destroyed ---

#[test]
fn every_command_on_a_missing_droplet_is_not_found() {
    for command in later_commands() {
        Framework::with(())
            .given_no_previous_events()
            .when(command)
            .then_expect_error_message("droplet not found");
    }
}

#[test]
fn every_command_on_a_destroyed_droplet_is_rejected() {
    for command in later_commands() {
        Framework::with(())
            .given(destroyed())
            .when(command)
            .then_expect_error_message("droplet has been destroyed");
    }
    assert_eq!(
        DropletError::AlreadyDestroyed.kind(),
        DomainErrorKind::Conflict
    );
}

// --- request / provision ---

#[test]
fn request_emits_requested() {
    Framework::with(())
        .given_no_previous_events()
        .when(request(None))
        .then_expect_events(vec![requested()]);
}

#[test]
fn request_with_a_provider_offering_the_region() {
    Framework::with(())
        .given_no_previous_events()
        .when(request(Some(offer("nimbus"))))
        .then_expect_events(vec![requested_with(Some(provider("nimbus")))]);
}

#[test]
fn request_with_a_provider_lacking_the_region_is_unprocessable() {
    let err = Framework::with(())
        .given_no_previous_events()
        .when(request(Some(offer("stratus"))))
        .inspect_result()
        .expect_err("stratus lacks nyc1");
    assert_eq!(
        err,
        DropletError::ProviderLacksRegion {
            provider: provider("stratus"),
            region: region("nyc1")
        }
    );
    assert_eq!(err.kind(), DomainErrorKind::Unprocessable);
}

#[test]
fn request_twice_is_rejected() {
    Framework::with(())
        .given(provisioning())
        .when(request(None))
        .then_expect_error_message("droplet already exists");
}

#[test]
fn mark_provisioned_emits_provisioned() {
    Framework::with(())
        .given(provisioning())
        .when(DropletCommand::MarkProvisioned {
            ip_address: "10.0.0.7".into(),
            provider: offer("simcloud"),
        })
        .then_expect_events(vec![provisioned()]);
}

#[test]
fn mark_provisioned_rejects_a_bad_ip_address() {
    let err = Framework::with(())
        .given(provisioning())
        .when(DropletCommand::MarkProvisioned {
            ip_address: "10.0.0.300".into(),
            provider: offer("simcloud"),
        })
        .inspect_result()
        .expect_err("bad ip");
    assert_eq!(
        err.to_string(),
        "ip_address: \"10.0.0.300\" is not an IP address"
    );
    assert_eq!(err.kind(), DomainErrorKind::Invalid);
}

#[test]
fn mark_provisioned_by_a_provider_lacking_the_region_is_unprocessable() {
    Framework::with(())
        .given(provisioning())
        .when(DropletCommand::MarkProvisioned {
            ip_address: "10.0.0.7".into(),
            provider: offer("stratus"),
        })
        .then_expect_error(DropletError::ProviderLacksRegion {
            provider: provider("stratus"),
            region: region("nyc1"),
        });
}

#[test]
fn mark_provisioned_without_a_provision_in_flight_is_a_conflict() {
    let err = Framework::with(())
        .given(active())
        .when(DropletCommand::MarkProvisioned {
            ip_address: "10.0.0.8".into(),
            provider: offer("simcloud"),
        })
        .inspect_result()
        .expect_err("already active");
    assert_eq!(err, no_pending("MarkProvisioned"));
    assert_eq!(
        err.to_string(),
        "MarkProvisioned: no matching request is in flight"
    );
    assert_eq!(err.kind(), DomainErrorKind::Conflict);
}

#[test]
fn mark_provisioning_failed_emits_provisioning_failed() {
    Framework::with(())
        .given(provisioning())
        .when(DropletCommand::MarkProvisioningFailed {
            reason: "no capacity".into(),
        })
        .then_expect_events(vec![DropletEvent::ProvisioningFailed(
            DropletProvisioningFailed {
                reason: "no capacity".into(),
            },
        )]);
}

#[test]
fn mark_provisioning_failed_without_a_provision_in_flight_is_a_conflict() {
    Framework::with(())
        .given(failed())
        .when(DropletCommand::MarkProvisioningFailed {
            reason: "again".into(),
        })
        .then_expect_error(no_pending("MarkProvisioningFailed"));
}

// --- busy ---

#[test]
fn new_requests_while_a_job_is_in_flight_are_busy() {
    let requests = [
        DropletCommand::RequestResize {
            size: size(LARGE),
            job_id: job(9),
        },
        DropletCommand::RequestPower {
            action: PowerAction::Off,
            job_id: job(9),
        },
        DropletCommand::RequestDestroy { job_id: job(9) },
    ];
    let in_flight = [
        (provisioning(), job(1)),
        (with(active(), resize_requested()), job(3)),
        (
            with(active(), power_requested(PowerAction::Restart)),
            job(2),
        ),
        (with(active(), destroy_requested()), job(4)),
    ];
    for (given, job_id) in in_flight {
        for command in requests.clone() {
            let err = Framework::with(())
                .given(given.clone())
                .when(command)
                .inspect_result()
                .expect_err("busy");
            assert_eq!(
                err,
                DropletError::Busy {
                    job_id: job_id.clone()
                }
            );
            assert_eq!(err.kind(), DomainErrorKind::Conflict);
        }
    }
}

// --- resize ---

#[test]
fn resize_from_active_emits_resize_requested() {
    Framework::with(())
        .given(active())
        .when(DropletCommand::RequestResize {
            size: size(LARGE),
            job_id: job(3),
        })
        .then_expect_events(vec![resize_requested()]);
}

#[test]
fn resize_from_off_emits_resize_requested() {
    Framework::with(())
        .given(off())
        .when(DropletCommand::RequestResize {
            size: size(LARGE),
            job_id: job(3),
        })
        .then_expect_events(vec![resize_requested()]);
}

#[test]
fn resize_to_the_same_size_is_unprocessable() {
    let err = Framework::with(())
        .given(active())
        .when(DropletCommand::RequestResize {
            size: size(SMALL),
            job_id: job(3),
        })
        .inspect_result()
        .expect_err("same size");
    assert_eq!(err, DropletError::SameSize { size: size(SMALL) });
    assert_eq!(err.kind(), DomainErrorKind::Unprocessable);
}

#[test]
fn resize_of_a_failed_droplet_is_an_invalid_transition() {
    Framework::with(())
        .given(failed())
        .when(DropletCommand::RequestResize {
            size: size(LARGE),
            job_id: job(3),
        })
        .then_expect_error_message("cannot resize a droplet that is failed");
}

#[test]
fn complete_resize_emits_resized_and_restores_the_status() {
    for (given, status) in [
        (active(), DropletStatus::Active),
        (off(), DropletStatus::Off),
    ] {
        let given = with(
            given,
            DropletEvent::ResizeRequested(DropletResizeRequested {
                from_size: size(SMALL),
                to_size: size(LARGE),
                job_id: job(3),
            }),
        );
        Framework::with(())
            .given(given.clone())
            .when(DropletCommand::CompleteResize)
            .then_expect_events(vec![DropletEvent::Resized(DropletResized {
                size: size(LARGE),
            })]);
        let droplet: Droplet = fold(with(
            given,
            DropletEvent::Resized(DropletResized { size: size(LARGE) }),
        ));
        assert_eq!(droplet.status, status);
        assert_eq!(droplet.size, Some(size(LARGE)));
        assert_eq!(droplet.pending_job, None);
        assert_eq!(droplet.status_before_resize, None);
    }
}

#[test]
fn fail_resize_emits_resize_failed_and_keeps_the_size() {
    let given = with(off(), resize_requested());
    let failed = DropletEvent::ResizeFailed(DropletResizeFailed {
        reason: "quota".into(),
    });
    Framework::with(())
        .given(given.clone())
        .when(DropletCommand::FailResize {
            reason: "quota".into(),
        })
        .then_expect_events(vec![failed.clone()]);
    let droplet: Droplet = fold(with(given, failed));
    assert_eq!(droplet.status, DropletStatus::Off);
    assert_eq!(droplet.size, Some(size(SMALL)));
    assert_eq!(droplet.pending_job, None);
    assert_eq!(droplet.last_error.as_deref(), Some("quota"));
}

#[test]
fn resize_completions_without_a_resize_in_flight_are_conflicts() {
    for given in [active(), with(active(), power_requested(PowerAction::Off))] {
        Framework::with(())
            .given(given.clone())
            .when(DropletCommand::CompleteResize)
            .then_expect_error(no_pending("CompleteResize"));
        Framework::with(())
            .given(given)
            .when(DropletCommand::FailResize { reason: "x".into() })
            .then_expect_error(no_pending("FailResize"));
    }
}

// --- power ---

#[test]
fn power_requests_from_the_right_status_emit_power_requested() {
    let cases = [
        (active(), PowerAction::Off),
        (off(), PowerAction::On),
        (active(), PowerAction::Restart),
    ];
    for (given, action) in cases {
        Framework::with(())
            .given(given)
            .when(DropletCommand::RequestPower {
                action,
                job_id: job(2),
            })
            .then_expect_events(vec![power_requested(action)]);
    }
}

#[test]
fn power_requests_from_the_wrong_status_are_invalid_transitions() {
    let cases = [
        (
            off(),
            PowerAction::Off,
            invalid(DropletStatus::Off, "power off"),
        ),
        (
            active(),
            PowerAction::On,
            invalid(DropletStatus::Active, "power on"),
        ),
        (
            off(),
            PowerAction::Restart,
            invalid(DropletStatus::Off, "restart"),
        ),
        (
            failed(),
            PowerAction::On,
            invalid(DropletStatus::Failed, "power on"),
        ),
        (
            failed(),
            PowerAction::Restart,
            invalid(DropletStatus::Failed, "restart"),
        ),
    ];
    for (given, action, expected) in cases {
        let err = Framework::with(())
            .given(given)
            .when(DropletCommand::RequestPower {
                action,
                job_id: job(2),
            })
            .inspect_result()
            .expect_err("invalid transition");
        assert_eq!(err, expected);
        assert_eq!(err.kind(), DomainErrorKind::Conflict);
    }
    assert_eq!(
        invalid(DropletStatus::Off, "power off").to_string(),
        "cannot power off a droplet that is off"
    );
}

#[test]
fn complete_power_emits_the_matching_event() {
    let cases = [
        (
            active(),
            PowerAction::Off,
            DropletEvent::PoweredOff(DropletPoweredOff {}),
            DropletStatus::Off,
        ),
        (
            off(),
            PowerAction::On,
            DropletEvent::PoweredOn(DropletPoweredOn {}),
            DropletStatus::Active,
        ),
        (
            active(),
            PowerAction::Restart,
            DropletEvent::Restarted(DropletRestarted {}),
            DropletStatus::Active,
        ),
    ];
    for (given, action, expected, status) in cases {
        let given = with(given, power_requested(action));
        Framework::with(())
            .given(given.clone())
            .when(DropletCommand::CompletePower)
            .then_expect_events(vec![expected.clone()]);
        let droplet: Droplet = fold(with(given, expected));
        assert_eq!(droplet.status, status);
        assert_eq!(droplet.pending_job, None);
        assert_eq!(droplet.pending_action, None);
    }
}

#[test]
fn fail_power_emits_power_failed_and_keeps_the_status() {
    let given = with(active(), power_requested(PowerAction::Off));
    let failed = DropletEvent::PowerFailed(DropletPowerFailed {
        action: PowerAction::Off,
        reason: "stuck".into(),
    });
    Framework::with(())
        .given(given.clone())
        .when(DropletCommand::FailPower {
            reason: "stuck".into(),
        })
        .then_expect_events(vec![failed.clone()]);
    let droplet: Droplet = fold(with(given, failed));
    assert_eq!(droplet.status, DropletStatus::Active);
    assert_eq!(droplet.pending_job, None);
}

#[test]
fn power_completions_without_a_power_request_in_flight_are_conflicts() {
    for given in [active(), with(active(), resize_requested())] {
        Framework::with(())
            .given(given.clone())
            .when(DropletCommand::CompletePower)
            .then_expect_error(no_pending("CompletePower"));
        Framework::with(())
            .given(given)
            .when(DropletCommand::FailPower { reason: "x".into() })
            .then_expect_error(no_pending("FailPower"));
    }
}

// --- destroy ---

#[test]
fn destroy_from_active_off_or_failed_emits_destroy_requested() {
    for given in [active(), off(), failed()] {
        Framework::with(())
            .given(given)
            .when(DropletCommand::RequestDestroy { job_id: job(4) })
            .then_expect_events(vec![destroy_requested()]);
    }
}

#[test]
fn complete_destroy_emits_destroyed() {
    Framework::with(())
        .given(with(off(), destroy_requested()))
        .when(DropletCommand::CompleteDestroy)
        .then_expect_events(vec![DropletEvent::Destroyed(DropletDestroyed {})]);
    let droplet: Droplet = fold(destroyed());
    assert_eq!(droplet.status, DropletStatus::Destroyed);
    assert!(droplet.exists() && !droplet.is_live());
    assert_eq!(droplet.pending_job, None);
    assert_eq!(droplet.ip_address, None);
}

#[test]
fn complete_destroy_without_a_destroy_in_flight_is_a_conflict() {
    for given in [active(), with(active(), power_requested(PowerAction::Off))] {
        Framework::with(())
            .given(given)
            .when(DropletCommand::CompleteDestroy)
            .then_expect_error(no_pending("CompleteDestroy"));
    }
}

#[test]
fn fail_destroy_keeps_the_droplet_and_frees_it() {
    let failed = DropletEvent::DestroyFailed(DropletDestroyFailed {
        reason: "cancelled".into(),
    });
    Framework::with(())
        .given(with(off(), destroy_requested()))
        .when(DropletCommand::FailDestroy {
            reason: "cancelled".into(),
        })
        .then_expect_events(vec![failed.clone()]);
    let droplet: Droplet = fold([off(), vec![destroy_requested(), failed]].concat());
    assert_eq!(droplet.status, DropletStatus::Off);
    assert_eq!(droplet.pending_job, None);
    assert_eq!(droplet.last_error.as_deref(), Some("cancelled"));
}

#[test]
fn fail_destroy_without_a_destroy_in_flight_is_a_conflict() {
    Framework::with(())
        .given(active())
        .when(DropletCommand::FailDestroy { reason: "x".into() })
        .then_expect_error(no_pending("FailDestroy"));
}

// --- state and serialisation ---

#[test]
fn fold_tracks_the_pending_job() {
    let droplet: Droplet = fold(provisioning());
    assert_eq!(droplet.status, DropletStatus::Provisioning);
    assert_eq!(droplet.pending_job, Some(job(1)));
    assert_eq!(droplet.pending_action, Some(PendingAction::Provision));
    let droplet: Droplet = fold(active());
    assert_eq!(droplet.status, DropletStatus::Active);
    assert_eq!(droplet.ip_address.as_deref(), Some("10.0.0.7"));
    assert_eq!(droplet.provider, Some(provider("simcloud")));
    assert_eq!(droplet.pending_job, None);
    let droplet: Droplet = fold(with(active(), resize_requested()));
    assert_eq!(droplet.status, DropletStatus::Resizing);
    assert_eq!(droplet.status_before_resize, Some(DropletStatus::Active));
    assert_eq!(droplet.pending_job, Some(job(3)));
    let droplet: Droplet = fold(failed());
    assert_eq!(droplet.status, DropletStatus::Failed);
    assert_eq!(droplet.last_error.as_deref(), Some("no capacity"));
}

#[test]
fn requested_serialises_to_its_type_and_data() {
    let (event_type, data) = event_parts(&requested()).expect("parts");
    assert_eq!(event_type, "droplet.requested");
    assert_eq!(
        data,
        json!({
            "id": "dr_0190f3a1b2c37d4e8f9a0b1c2d3e4f50",
            "cluster_id": "cl_0190f3a1b2c37d4e8f9a0b1c2d3e4f51",
            "name": "web-1",
            "region": "nyc1",
            "size": "s-1vcpu-1gb",
            "image": "ubuntu-22-04-x64",
            "provider": null,
            "job_id": "job_00000000000000000000000000000001"
        })
    );
    assert_eq!(
        event_from_parts::<DropletEvent>(&event_type, data).expect("back"),
        requested()
    );
}

#[test]
fn power_and_resize_events_serialise_to_their_shapes() {
    assert_eq!(
        event_parts(&power_requested(PowerAction::Restart)).expect("parts"),
        (
            "droplet.power_requested".to_owned(),
            json!({"action": "restart", "job_id": "job_00000000000000000000000000000002"})
        )
    );
    assert_eq!(
        event_parts(&resize_requested()).expect("parts").1,
        json!({
            "from_size": "s-1vcpu-1gb",
            "to_size": "s-2vcpu-4gb",
            "job_id": "job_00000000000000000000000000000003"
        })
    );
    assert_eq!(
        event_parts(&DropletEvent::PoweredOff(DropletPoweredOff {})).expect("parts"),
        ("droplet.powered_off".to_owned(), json!({}))
    );
}

#[test]
fn event_type_matches_the_serde_tag_for_every_variant() {
    let events = vec![
        requested(),
        provisioned(),
        DropletEvent::ProvisioningFailed(DropletProvisioningFailed { reason: "r".into() }),
        resize_requested(),
        DropletEvent::Resized(DropletResized { size: size(LARGE) }),
        DropletEvent::ResizeFailed(DropletResizeFailed { reason: "r".into() }),
        power_requested(PowerAction::On),
        DropletEvent::PoweredOff(DropletPoweredOff {}),
        DropletEvent::PoweredOn(DropletPoweredOn {}),
        DropletEvent::Restarted(DropletRestarted {}),
        DropletEvent::PowerFailed(DropletPowerFailed {
            action: PowerAction::On,
            reason: "r".into(),
        }),
        destroy_requested(),
        DropletEvent::Destroyed(DropletDestroyed {}),
        DropletEvent::DestroyFailed(DropletDestroyFailed { reason: "r".into() }),
        migration_requested("nimbus"),
        DropletEvent::Migrated(DropletMigrated {
            from_provider: provider("simcloud"),
            provider: provider("nimbus"),
            ip_address: "10.0.0.9".into(),
        }),
        DropletEvent::MigrationFailed(DropletMigrationFailed { reason: "r".into() }),
        DropletEvent::AppVersionSet(DropletAppVersionSet {
            app_version: AppVersion::parse("v2").ok(),
            deployment_id: DeploymentId::new(),
        }),
    ];
    let types: Vec<String> = events.iter().map(DomainEvent::event_type).collect();
    assert_eq!(types, DropletEvent::TYPES);
    for event in events {
        let (event_type, data) = event_parts(&event).expect("parts");
        assert_eq!(event_type, event.event_type());
        assert_eq!(event.event_version(), "1");
        assert!(data.is_object());
        assert_eq!(
            event_from_parts::<DropletEvent>(&event_type, data).expect("back"),
            event
        );
    }
}

#[test]
fn status_and_action_parse_their_wire_names() {
    for status in DropletStatus::ALL {
        assert_eq!(DropletStatus::parse(status.as_str()), Ok(status));
        assert_eq!(
            serde_json::to_value(status).expect("serialise"),
            status.as_str()
        );
    }
    for action in PowerAction::ALL {
        assert_eq!(PowerAction::parse(action.as_str()), Ok(action));
    }
    assert_eq!(
        PowerAction::parse("reboot").expect_err("unknown").field,
        "action"
    );
}

#[test]
fn state_round_trips_through_json() {
    let droplet: Droplet = fold(with(off(), resize_requested()));
    let json = serde_json::to_value(&droplet).expect("serialise");
    assert_eq!(json["status"], "resizing");
    assert_eq!(
        json["pending_action"],
        json!({"kind": "resize", "to_size": "s-2vcpu-4gb"})
    );
    let back: Droplet = serde_json::from_value(json).expect("deserialise");
    assert_eq!(back, droplet);
}

// --- migrate ---

fn migration_requested(to: &str) -> DropletEvent {
    DropletEvent::MigrationRequested(DropletMigrationRequested {
        from_provider: provider("simcloud"),
        to_provider: provider(to),
        job_id: job(5),
    })
}

#[test]
fn a_registered_provider_is_checked_by_its_own_regions() {
    // A provider outside the catalog, as its registered configuration has it.
    let edge = |regions: &[&str]| ProviderOffer {
        name: provider("edge"),
        regions: regions.iter().map(|r| region(r)).collect(),
    };
    Framework::with(())
        .given_no_previous_events()
        .when(request(Some(edge(&["nyc1"]))))
        .then_expect_events(vec![requested_with(Some(provider("edge")))]);
    Framework::with(())
        .given_no_previous_events()
        .when(request(Some(edge(&["lon1"]))))
        .then_expect_error(DropletError::ProviderLacksRegion {
            provider: provider("edge"),
            region: region("nyc1"),
        });
    Framework::with(())
        .given(provisioning())
        .when(DropletCommand::MarkProvisioned {
            ip_address: "10.0.0.9".into(),
            provider: edge(&["nyc1"]),
        })
        .then_expect_events(vec![DropletEvent::Provisioned(DropletProvisioned {
            ip_address: "10.0.0.9".into(),
            provider: provider("edge"),
        })]);
    Framework::with(())
        .given(active())
        .when(DropletCommand::RequestMigration {
            to_provider: edge(&["nyc1", "fra1"]),
            job_id: job(5),
        })
        .then_expect_events(vec![migration_requested("edge")]);
    Framework::with(())
        .given(active())
        .when(DropletCommand::RequestMigration {
            to_provider: edge(&["fra1"]),
            job_id: job(5),
        })
        .then_expect_error(DropletError::ProviderLacksRegion {
            provider: provider("edge"),
            region: region("nyc1"),
        });
}

#[test]
fn migrate_an_active_or_off_droplet_requests_the_move() {
    for given in [active(), off()] {
        Framework::with(())
            .given(given)
            .when(DropletCommand::RequestMigration {
                to_provider: offer("nimbus"),
                job_id: job(5),
            })
            .then_expect_events(vec![migration_requested("nimbus")]);
    }
}

#[test]
fn migrate_to_the_same_provider_or_one_without_the_region_is_refused() {
    Framework::with(())
        .given(active())
        .when(DropletCommand::RequestMigration {
            to_provider: offer("simcloud"),
            job_id: job(5),
        })
        .then_expect_error(DropletError::SameProvider {
            provider: provider("simcloud"),
        });
    // stratus does not offer nyc1.
    Framework::with(())
        .given(active())
        .when(DropletCommand::RequestMigration {
            to_provider: offer("stratus"),
            job_id: job(5),
        })
        .then_expect_error(DropletError::ProviderLacksRegion {
            provider: provider("stratus"),
            region: region("nyc1"),
        });
    let mut busy = active();
    busy.push(migration_requested("nimbus"));
    Framework::with(())
        .given(busy)
        .when(DropletCommand::RequestMigration {
            to_provider: offer("nimbus"),
            job_id: job(6),
        })
        .then_expect_error(DropletError::Busy { job_id: job(5) });
}

#[test]
fn a_completed_migration_moves_provider_and_address() {
    let mut given = active();
    given.push(migration_requested("nimbus"));
    let migrated = DropletEvent::Migrated(DropletMigrated {
        from_provider: provider("simcloud"),
        provider: provider("nimbus"),
        ip_address: "10.0.0.42".into(),
    });
    Framework::with(())
        .given(given.clone())
        .when(DropletCommand::CompleteMigration {
            ip_address: "10.0.0.42".into(),
        })
        .then_expect_events(vec![migrated.clone()]);
    given.push(migrated);
    let droplet: Droplet = fold(given);
    assert_eq!(droplet.provider, Some(provider("nimbus")));
    assert_eq!(droplet.ip_address.as_deref(), Some("10.0.0.42"));
    assert_eq!(droplet.status, DropletStatus::Active);
    assert_eq!((droplet.pending_job, droplet.pending_action), (None, None));
}

#[test]
fn a_failed_migration_keeps_the_droplet_where_it_was() {
    let mut given = active();
    given.push(migration_requested("nimbus"));
    let failed = DropletEvent::MigrationFailed(DropletMigrationFailed {
        reason: "no capacity".into(),
    });
    Framework::with(())
        .given(given.clone())
        .when(DropletCommand::FailMigration {
            reason: "no capacity".into(),
        })
        .then_expect_events(vec![failed.clone()]);
    Framework::with(())
        .given(active())
        .when(DropletCommand::CompleteMigration {
            ip_address: "10.0.0.42".into(),
        })
        .then_expect_error(DropletError::NoPendingAction {
            command: "CompleteMigration",
        });
    given.push(failed);
    let droplet: Droplet = fold(given);
    assert_eq!(droplet.provider, Some(provider("simcloud")));
    assert_eq!(droplet.last_error.as_deref(), Some("no capacity"));
    assert_eq!(droplet.pending_job, None);
}

#[test]
fn given_a_droplet_when_a_deployment_sets_its_version_then_it_runs_it() {
    let mut droplet = fold::<Droplet>([requested(), provisioned()]);
    assert_eq!(droplet.app_version, None, "old events read as no version");
    let set = |version: &str| DropletCommand::SetAppVersion {
        app_version: AppVersion::parse(version).ok(),
        deployment_id: DeploymentId::parse(&format!("dep_{:032x}", 1)).unwrap(),
    };
    let events = execute(&mut droplet, set("v2")).expect("set");
    assert_eq!(events.len(), 1);
    assert_eq!(
        droplet.app_version.as_ref().map(AppVersion::as_str),
        Some("v2")
    );
    assert!(execute(&mut droplet, set("v2")).expect("again").is_empty());
    execute(
        &mut droplet,
        DropletCommand::RequestDestroy { job_id: job(9) },
    )
    .unwrap();
    execute(&mut droplet, DropletCommand::CompleteDestroy).unwrap();
    assert_eq!(
        droplet.decide(set("v3")).unwrap_err(),
        DropletError::AlreadyDestroyed
    );
}
