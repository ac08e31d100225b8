//! Tests of the simulated provider, the registry's placement and billing. Latencies are
//! checked in paused (virtual) time; randomness comes from fixed seeds, so nothing here
//! can flake.

use std::time::Duration;

use tokio::time::Instant;

use super::*;
use crate::domain::values::{ProviderId, Region, Size};
use crate::domain::{Latency, PowerAction, ProviderSpec};
use crate::views::DropletView;

fn region(id: &str) -> Region {
    Region::parse(id).expect("region")
}

fn size(slug: &str) -> Size {
    Size::parse(slug).expect("size")
}

fn spec(name: &str, capacity: u32) -> ProviderSpec {
    ProviderSpec {
        name: ProviderId::parse(name).expect("name"),
        display_name: name.to_uppercase(),
        regions: vec![region("fra1"), region("lon1")],
        sizes: vec![size("s-1vcpu-1gb"), size("s-2vcpu-4gb")],
        price_multiplier: 1.0,
        capacity_per_region: capacity,
        latency: Latency {
            provision_ms: 4_000,
            resize_ms: 3_000,
            power_ms: 1_000,
            destroy_ms: 2_000,
        },
    }
}

fn request(n: u32) -> ProvisionRequest {
    ProvisionRequest {
        droplet_id: format!("dr_{n}"),
        region: region("fra1"),
        size: size("s-1vcpu-1gb"),
    }
}

fn faults(failure_rate: f64, spike_rate: f64, spike_ms: u64) -> Faults {
    Faults {
        failure_rate,
        spike_rate,
        spike_ms,
        outage: false,
    }
}

/// Provisions `n` droplets one after the other (destroying each success, so capacity
/// never runs out) and records each outcome with the virtual time it took.
type Outcome = (Result<String, ProviderError>, Duration, Option<bool>);

async fn run(provider: &SimulatedProvider, n: u32) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for i in 0..n {
        let start = Instant::now();
        let result = provider.provision(&request(i)).await;
        let took = start.elapsed();
        let destroyed = match &result {
            Ok(done) => Some(provider.destroy(&done.resource_id).await.is_ok()),
            Err(_) => None,
        };
        outcomes.push((result.map(|d| d.ip_address), took, destroyed));
    }
    outcomes
}

#[tokio::test(start_paused = true)]
async fn the_same_seed_gives_the_same_failures_latencies_and_addresses() {
    let make = |seed| {
        let p = SimulatedProvider::new(spec("sim", 100), SimSpeed::REAL_TIME, seed);
        p.set_faults(faults(0.3, 0.2, 5_000)).expect("faults");
        p
    };
    let first = run(&make(7), 50).await;
    let again = run(&make(7), 50).await;
    let other = run(&make(8), 50).await;
    assert_eq!(first, again);
    assert_ne!(first, other, "another seed draws differently");
    assert!(first.iter().any(|(r, _, _)| r.is_err()));
    assert!(first
        .iter()
        .any(|(_, took, _)| *took == Duration::from_secs(9)));
    assert!(first
        .iter()
        .any(|(_, took, _)| *took == Duration::from_secs(4)));
}

#[tokio::test(start_paused = true)]
async fn the_observed_failure_rate_matches_the_configured_one() {
    let provider = SimulatedProvider::new(spec("sim", 100_000), SimSpeed::INSTANT, 42);
    provider.set_faults(faults(0.25, 0.0, 0)).expect("faults");
    let mut failed: u32 = 0;
    for i in 0..4_000 {
        match provider.provision(&request(i)).await {
            Ok(_) => {}
            Err(error) => {
                assert!(error.is_retryable(), "{error}");
                assert!(matches!(
                    error,
                    ProviderError::Transient {
                        operation: Operation::Provision,
                        ..
                    }
                ));
                failed += 1;
            }
        }
    }
    let rate = f64::from(failed) / 4_000.0;
    // Fixed seed: the count is always the same; the bound only documents that it is close.
    assert!((0.22..=0.28).contains(&rate), "observed {rate}");
    assert_eq!(provider.usage().live_instances, 4_000 - failed as usize);
    assert_eq!(provider.usage().failures, u64::from(failed));
}

#[tokio::test(start_paused = true)]
async fn an_outage_fails_every_call_retryably_until_it_ends() {
    let provider = SimulatedProvider::new(spec("sim", 10), SimSpeed::REAL_TIME, 1);
    let done = provider.provision(&request(0)).await.expect("up");
    provider
        .set_faults(Faults {
            outage: true,
            ..Faults::NONE
        })
        .expect("faults");
    let start = Instant::now();
    let errors = vec![
        provider.provision(&request(1)).await.expect_err("down"),
        provider
            .resize(&done.resource_id, &size("s-2vcpu-4gb"))
            .await
            .expect_err("down"),
        provider
            .power(&done.resource_id, PowerAction::Off)
            .await
            .expect_err("down"),
        provider.destroy(&done.resource_id).await.expect_err("down"),
    ];
    assert_eq!(start.elapsed(), Duration::ZERO, "an outage answers at once");
    for error in errors {
        assert!(matches!(error, ProviderError::Outage { .. }), "{error}");
        assert!(error.is_retryable());
    }
    provider.set_faults(Faults::NONE).expect("faults");
    provider.provision(&request(2)).await.expect("recovered");
    provider
        .destroy(&done.resource_id)
        .await
        .expect("recovered");
}

#[tokio::test(start_paused = true)]
async fn an_outage_starting_during_an_operation_fails_it() {
    let provider = std::sync::Arc::new(SimulatedProvider::new(
        spec("sim", 10),
        SimSpeed::REAL_TIME,
        1,
    ));
    let running = {
        let provider = std::sync::Arc::clone(&provider);
        tokio::spawn(async move { provider.provision(&request(0)).await })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    provider
        .set_faults(Faults {
            outage: true,
            ..Faults::NONE
        })
        .expect("faults");
    let error = running.await.expect("task").expect_err("outage");
    assert!(error.is_retryable());
    assert_eq!(provider.usage().live_instances, 0, "its slot is freed");
}

#[tokio::test(start_paused = true)]
async fn a_full_region_is_a_non_retryable_error_until_a_droplet_goes() {
    let provider = SimulatedProvider::new(spec("sim", 2), SimSpeed::INSTANT, 3);
    let a = provider.provision(&request(0)).await.expect("first");
    provider.provision(&request(1)).await.expect("second");
    let error = provider.provision(&request(2)).await.expect_err("full");
    assert!(matches!(error, ProviderError::NoCapacity { .. }), "{error}");
    assert!(!error.is_retryable());
    // Another region has its own capacity.
    let lon = ProvisionRequest {
        region: region("lon1"),
        ..request(3)
    };
    provider.provision(&lon).await.expect("lon1 has room");
    assert_eq!(
        provider
            .quote(&region("fra1"), &size("s-1vcpu-1gb"))
            .expect("quote")
            .available,
        0
    );
    provider.destroy(&a.resource_id).await.expect("destroy");
    provider.provision(&request(4)).await.expect("room again");
}

#[tokio::test(start_paused = true)]
async fn concurrent_provisions_never_exceed_capacity() {
    let provider = std::sync::Arc::new(SimulatedProvider::new(
        spec("sim", 3),
        SimSpeed::REAL_TIME,
        3,
    ));
    let tasks: Vec<_> = (0..5)
        .map(|i| {
            let provider = std::sync::Arc::clone(&provider);
            tokio::spawn(async move { provider.provision(&request(i)).await })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        if task.await.expect("task").is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 3);
}

#[tokio::test(start_paused = true)]
async fn unsupported_regions_sizes_and_unknown_droplets_are_not_retryable() {
    let provider = SimulatedProvider::new(spec("sim", 2), SimSpeed::INSTANT, 3);
    let nyc = ProvisionRequest {
        region: region("nyc1"),
        ..request(0)
    };
    let big = ProvisionRequest {
        size: size("c-2"),
        ..request(0)
    };
    for error in [
        provider.provision(&nyc).await.expect_err("region"),
        provider.provision(&big).await.expect_err("size"),
        provider.destroy("sim-999999").await.expect_err("unknown"),
    ] {
        assert!(!error.is_retryable(), "{error}");
    }
    let done = provider.provision(&request(1)).await.expect("ok");
    let error = provider
        .resize(&done.resource_id, &size("c-2"))
        .await
        .expect_err("size");
    assert!(matches!(error, ProviderError::UnsupportedSize { .. }));
    assert!(provider
        .quote(&region("nyc1"), &size("s-1vcpu-1gb"))
        .is_err());
}

#[tokio::test(start_paused = true)]
async fn latencies_are_divided_by_the_sim_speed() {
    for (speed, provision, resize, power, destroy) in [
        (1.0, 4_000, 3_000, 1_000, 2_000),
        (4.0, 1_000, 750, 250, 500),
        (0.0, 0, 0, 0, 0),
    ] {
        let provider =
            SimulatedProvider::new(spec("sim", 5), SimSpeed::new(speed).expect("speed"), 9);
        let timed = |ms: u64| Duration::from_millis(ms);
        let start = Instant::now();
        let done = provider.provision(&request(0)).await.expect("provision");
        assert_eq!(start.elapsed(), timed(provision), "provision at {speed}");
        let start = Instant::now();
        provider
            .resize(&done.resource_id, &size("s-2vcpu-4gb"))
            .await
            .expect("resize");
        assert_eq!(start.elapsed(), timed(resize), "resize at {speed}");
        let start = Instant::now();
        provider
            .power(&done.resource_id, PowerAction::Restart)
            .await
            .expect("power");
        assert_eq!(start.elapsed(), timed(power), "power at {speed}");
        let start = Instant::now();
        provider.destroy(&done.resource_id).await.expect("destroy");
        assert_eq!(start.elapsed(), timed(destroy), "destroy at {speed}");
    }
}

#[tokio::test(start_paused = true)]
async fn spikes_add_their_delay_scaled_by_the_sim_speed() {
    let provider = SimulatedProvider::new(spec("sim", 5), SimSpeed::new(2.0).expect("speed"), 9);
    provider
        .set_faults(faults(0.0, 1.0, 6_000))
        .expect("faults");
    let start = Instant::now();
    provider.provision(&request(0)).await.expect("provision");
    assert_eq!(start.elapsed(), Duration::from_millis((4_000 + 6_000) / 2));
}

#[tokio::test(start_paused = true)]
async fn addresses_and_ids_are_unique_and_state_follows_the_calls() {
    let provider = SimulatedProvider::new(spec("sim", 200), SimSpeed::INSTANT, 5);
    let mut ips = std::collections::BTreeSet::new();
    let mut ids = std::collections::BTreeSet::new();
    for i in 0..300 {
        let done = provider.provision(&request(i)).await.expect("provision");
        assert!(ips.insert(done.ip_address.clone()));
        assert!(ids.insert(done.resource_id.clone()));
        if i % 2 == 0 {
            provider.destroy(&done.resource_id).await.expect("destroy");
        }
    }
    assert!(ips.contains("10.0.0.2") && ips.contains("10.0.1.45"));
    assert_eq!(nth_address(255), "10.0.1.0");
    let id = ids.iter().next_back().expect("an id").clone();
    provider.power(&id, PowerAction::Off).await.expect("off");
    provider
        .resize(&id, &size("s-2vcpu-4gb"))
        .await
        .expect("resize");
    let instance = provider.instance(&id).expect("live");
    assert!(!instance.powered_on);
    assert_eq!(instance.size, size("s-2vcpu-4gb"));
    assert_eq!(provider.usage().live_instances, 150);
}

#[test]
fn fault_and_speed_settings_are_validated() {
    assert!(faults(1.5, 0.0, 0).validate().is_err());
    assert!(faults(0.0, -0.1, 0).validate().is_err());
    assert!(faults(0.0, 0.5, 10_000_000).validate().is_err());
    assert!(faults(1.0, 1.0, 600_000).validate().is_ok());
    assert!(SimSpeed::new(-1.0).is_err());
    assert!(SimSpeed::new(f64::INFINITY).is_err());
    assert_eq!(SimSpeed::INSTANT.scale(5_000), Duration::ZERO);
    let provider = SimulatedProvider::new(spec("sim", 1), SimSpeed::INSTANT, 1);
    assert!(provider.set_faults(faults(2.0, 0.0, 0)).is_err());
    assert_eq!(provider.faults(), Faults::NONE);
}

fn place(
    providers: &Providers,
    region_id: &str,
    size_slug: &str,
    preferred: Option<&str>,
    avoided: &[&str],
) -> Result<String, ProviderError> {
    let request = PlacementRequest {
        region: region(region_id),
        size: size(size_slug),
        preferred: preferred.map(|p| ProviderId::parse(p).expect("name")),
        avoided: avoided
            .iter()
            .map(|p| ProviderId::parse(p).expect("name"))
            .collect(),
    };
    providers
        .place(&request)
        .map(|p| p.provider.name().to_string())
}

#[test]
fn the_defaults_are_the_catalog_providers() {
    let providers = Providers::new(SimSpeed::INSTANT, 1);
    let names: Vec<String> = providers
        .list()
        .iter()
        .map(|p| p.name().to_string())
        .collect();
    assert_eq!(names, ["nimbus", "simcloud", "stratus"]);
    let simcloud = providers.get("simcloud").expect("default").spec();
    assert_eq!(simcloud.regions.len(), 11);
    assert_eq!(simcloud.sizes.len(), 7);
    let stratus = providers.get("stratus").expect("default").spec();
    assert_eq!(stratus.sizes.len(), 5, "general purpose only");
    for spec in default_specs() {
        assert!(spec.validate().is_empty(), "{}", spec.name);
    }
}

#[test]
fn placement_prefers_then_cheapest_and_never_an_avoided_provider() {
    let providers = Providers::new(SimSpeed::INSTANT, 1);
    // fra1 is offered by all three; stratus (x0.9) is cheapest for general sizes.
    assert_eq!(
        place(&providers, "fra1", "s-1vcpu-1gb", None, &[]).unwrap(),
        "stratus"
    );
    assert_eq!(
        place(&providers, "fra1", "s-1vcpu-1gb", Some("nimbus"), &[]).unwrap(),
        "nimbus"
    );
    assert_eq!(
        place(&providers, "fra1", "s-1vcpu-1gb", None, &["stratus"]).unwrap(),
        "simcloud"
    );
    // Preferred and avoided: avoided wins.
    assert_eq!(
        place(
            &providers,
            "fra1",
            "s-1vcpu-1gb",
            Some("stratus"),
            &["stratus"]
        )
        .unwrap(),
        "simcloud"
    );
    // A preferred provider that lacks the region or size is passed over.
    assert_eq!(
        place(&providers, "lon1", "s-1vcpu-1gb", Some("stratus"), &[]).unwrap(),
        "simcloud"
    );
    assert_eq!(
        place(&providers, "fra1", "c-2", Some("stratus"), &[]).unwrap(),
        "simcloud"
    );
    let error = place(&providers, "tor1", "c-2", None, &["simcloud"]).unwrap_err();
    assert!(
        matches!(error, ProviderError::NoPlacement { .. }),
        "{error}"
    );
    assert!(!error.is_retryable());
}

#[tokio::test(start_paused = true)]
async fn placement_skips_full_providers_and_those_in_an_outage() {
    let providers = Providers::new(SimSpeed::INSTANT, 1);
    providers.apply(spec("tiny", 1));
    let tiny = providers.get("tiny").expect("registered");
    assert_eq!(
        place(&providers, "fra1", "s-1vcpu-1gb", Some("tiny"), &[]).unwrap(),
        "tiny"
    );
    tiny.provision(&request(0)).await.expect("fills it");
    assert_eq!(
        place(&providers, "fra1", "s-1vcpu-1gb", Some("tiny"), &[]).unwrap(),
        "stratus"
    );
    let only_tiny = ["nimbus", "simcloud", "stratus"];
    let error = place(&providers, "fra1", "s-1vcpu-1gb", None, &only_tiny).unwrap_err();
    assert!(matches!(error, ProviderError::NoCapacity { .. }), "{error}");
    providers
        .set_faults(
            "stratus",
            Faults {
                outage: true,
                ..Faults::NONE
            },
        )
        .expect("faults");
    assert_eq!(
        place(&providers, "tor1", "s-1vcpu-1gb", None, &[]).unwrap(),
        "simcloud"
    );
    let error = place(&providers, "tor1", "s-1vcpu-1gb", None, &["simcloud"]).unwrap_err();
    assert!(matches!(error, ProviderError::Outage { .. }) && error.is_retryable());
}

#[test]
fn registering_replaces_a_configuration_and_options_inject_faults() {
    let options = SimOptions {
        speed: 10.0,
        seed: 3,
        faults: [("edge".to_owned(), faults(0.5, 0.0, 0))].into(),
    };
    let providers = Providers::from_options(&options).expect("options");
    assert_eq!(providers.speed().factor(), 10.0);
    providers.apply(spec("edge", 4));
    assert_eq!(
        providers.get("edge").expect("edge").faults().failure_rate,
        0.5
    );
    providers.apply(ProviderSpec {
        capacity_per_region: 8,
        ..spec("edge", 4)
    });
    let edge = providers.get("edge").expect("edge");
    assert_eq!(edge.spec().capacity_per_region, 8);
    assert_eq!(
        edge.faults().failure_rate,
        0.5,
        "faults survive a new configuration"
    );
    assert!(matches!(
        providers.get("nope"),
        Err(ProviderError::UnknownProvider { .. })
    ));
    let bad = SimOptions {
        faults: [("simcloud".to_owned(), faults(3.0, 0.0, 0))].into(),
        ..SimOptions::default()
    };
    assert!(Providers::from_options(&bad).is_err());
}

fn droplet(provider: Option<&str>, region_id: &str, size_slug: &str, status: &str) -> DropletView {
    DropletView {
        id: "dr_x".into(),
        cluster_id: "cl_x".into(),
        cluster_name: None,
        name: "web".into(),
        region: region_id.into(),
        size: size_slug.into(),
        image: "debian-11-x64".into(),
        provider: provider.map(str::to_owned),
        status: status.into(),
        ip_address: None,
        pending_job_id: None,
        last_error: None,
        app_version: None,
        price_hourly: 0.0,
        version: 1,
        created_at: None,
        updated_at: None,
    }
}

#[test]
fn billing_sums_live_droplets_by_provider_at_their_prices() {
    let providers = Providers::new(SimSpeed::INSTANT, 1);
    let droplets = [
        droplet(Some("nimbus"), "fra1", "s-4vcpu-8gb", "active"), // 48 x 1.15
        droplet(Some("stratus"), "fra1", "s-1vcpu-1gb", "off"),   // 6 x 0.9
        droplet(None, "lon1", "s-1vcpu-2gb", "provisioning"),     // 12, default simcloud
        droplet(Some("simcloud"), "nyc1", "c-2", "destroyed"),    // not billed
        droplet(Some("simcloud"), "nyc1", "c-2", "failed"),       // not billed
    ];
    let billing = bill("cl_x", &droplets, &providers);
    assert_eq!(billing.droplet_count, 3);
    let monthly = 48.0 * 1.15 + 6.0 * 0.9 + 12.0;
    assert!(
        (billing.monthly_cost - monthly).abs() < 0.005,
        "{billing:?}"
    );
    assert!(
        (billing.hourly_cost - monthly / 720.0).abs() < 1e-5,
        "{billing:?}"
    );
    let names: Vec<&str> = billing.by_provider.keys().map(String::as_str).collect();
    assert_eq!(names, ["nimbus", "simcloud", "stratus"]);
    assert_eq!(billing.by_provider["simcloud"].droplet_count, 1);
    assert!((billing.by_provider["nimbus"].monthly_cost - 55.2).abs() < 0.005);
    assert_eq!(bill("cl_y", &[], &providers).monthly_cost, 0.0);
}

#[test]
fn a_droplet_is_billed_as_its_view_is() {
    use crate::domain::values::ProviderName;
    use crate::domain::{Droplet, DropletStatus};
    let mut state = Droplet {
        region: Region::parse("lon1").ok(),
        size: Size::parse("s-1vcpu-2gb").ok(),
        status: DropletStatus::Provisioning,
        ..Droplet::default()
    };
    let expected = |provider: &str| BilledAs {
        provider: provider.into(),
        region: "lon1".into(),
        size: "s-1vcpu-2gb".into(),
    };
    assert_eq!(
        BilledAs::of(&state),
        Some(expected("simcloud")),
        "the region's default"
    );
    let view = droplet(None, "lon1", "s-1vcpu-2gb", "provisioning");
    assert_eq!(BilledAs::of(&state), BilledAs::of_view(&view));
    state.provider = Some(ProviderName::parse("nimbus").expect("name"));
    state.status = DropletStatus::Off;
    assert_eq!(BilledAs::of(&state), Some(expected("nimbus")));
    for status in [DropletStatus::Destroyed, DropletStatus::Failed] {
        state.status = status;
        assert_eq!(BilledAs::of(&state), None, "{status:?}");
        let view = droplet(Some("nimbus"), "lon1", "s-1vcpu-2gb", status.as_str());
        assert_eq!(BilledAs::of_view(&view), None);
    }
    assert_eq!(BilledAs::of(&Droplet::default()), None, "never requested");
}

#[test]
fn the_fleet_is_billed_from_counts_as_its_droplets_one_by_one() {
    let providers = Providers::new(SimSpeed::INSTANT, 1);
    let mut droplets = Vec::new();
    for _ in 0..250 {
        droplets.push(droplet(Some("nimbus"), "fra1", "s-4vcpu-8gb", "active"));
        droplets.push(droplet(Some("stratus"), "fra1", "s-1vcpu-1gb", "off"));
        droplets.push(droplet(None, "lon1", "m-1vcpu-8gb", "provisioning"));
    }
    droplets.push(droplet(Some("simcloud"), "nyc1", "c-2", "destroyed"));
    let one_by_one = bill("cl_x", &droplets, &providers);
    let mut counts: std::collections::BTreeMap<BilledAs, usize> = Default::default();
    for billed in droplets.iter().filter_map(BilledAs::of_view) {
        *counts.entry(billed).or_default() += 1;
    }
    let fleet = bill_fleet(counts.iter().map(|(g, n)| (g, *n)), 42, &providers);
    assert_eq!(fleet.droplet_count, 750);
    assert_eq!(fleet.hourly_cost, one_by_one.hourly_cost);
    assert_eq!(fleet.monthly_cost, one_by_one.monthly_cost);
    assert_eq!(fleet.by_provider, one_by_one.by_provider);
    assert_eq!(fleet.position, 42);
    let regions: Vec<&str> = fleet.by_region.keys().map(String::as_str).collect();
    assert_eq!(regions, ["fra1", "lon1"]);
    assert_eq!(fleet.by_region["fra1"].droplet_count, 500);
    let monthly = 250.0 * (48.0 * 1.15 + 6.0 * 0.9);
    assert!(
        (fleet.by_region["fra1"].monthly_cost - monthly).abs() < 0.005,
        "{fleet:?}"
    );
    let empty = bill_fleet([], 0, &providers);
    assert_eq!((empty.droplet_count, empty.hourly_cost), (0, 0.0));
    assert!(empty.by_provider.is_empty() && empty.by_region.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_repeated_provision_of_one_droplet_makes_it_once() {
    let provider = SimulatedProvider::new(spec("sim", 5), SimSpeed::new(1.0).expect("speed"), 1);
    let first = provider.provision(&request(7)).await.expect("provision");
    let again = provider.provision(&request(7)).await.expect("repeat");
    assert_eq!(again, first);
    assert_eq!(first.resource_id, provider.resource_id_for("dr_7"));
    let usage = provider.usage();
    assert_eq!((usage.live_instances, usage.provisioned), (1, 1));
    // A droplet the log knows but this process's simulation does not is taken back once.
    let known = Instance {
        droplet_id: "dr_8".into(),
        region: region("lon1"),
        size: size("s-1vcpu-1gb"),
        powered_on: true,
        ip_address: "10.0.0.9".into(),
    };
    assert!(provider.adopt(known.clone()));
    assert!(!provider.adopt(known));
    provider
        .power(&provider.resource_id_for("dr_8"), PowerAction::Off)
        .await
        .expect("power off the adopted droplet");
    assert_eq!(provider.usage().provisioned, 1);
}

#[tokio::test(start_paused = true)]
async fn a_provision_given_up_on_gives_its_slot_back() {
    let provider = SimulatedProvider::new(spec("sim", 1), SimSpeed::new(1.0).expect("speed"), 1);
    // The caller stops waiting half-way (a cancelled or timed-out job drops the future).
    let abandoned = tokio::time::timeout(
        Duration::from_millis(2_000),
        provider.provision(&request(1)),
    )
    .await;
    assert!(abandoned.is_err());
    assert_eq!(
        provider.usage().by_region.get("fra1").copied().unwrap_or(0),
        0
    );
    // The one slot of the region is free again.
    provider.provision(&request(2)).await.expect("room again");
}

#[test]
fn address_numbers_undo_nth_address() {
    for n in [1, 2, 254, 255, 256, 65_535, 70_000] {
        assert_eq!(
            address_number(&nth_address(n)),
            Some(n),
            "{}",
            nth_address(n)
        );
    }
    for other in ["10.0.0.1", "192.168.0.2", "10.0.0", "10.0.0.256", "x"] {
        assert_eq!(address_number(other), None, "{other}");
    }
}

#[tokio::test(start_paused = true)]
async fn new_addresses_go_on_after_the_adopted_ones() {
    let provider = SimulatedProvider::new(spec("sim", 10), SimSpeed::INSTANT, 1);
    // What an earlier run handed out, known from the log.
    for (i, address) in ["10.0.0.2", "10.0.0.3"].into_iter().enumerate() {
        assert!(provider.adopt(Instance {
            droplet_id: format!("dr_old{i}"),
            region: region("nyc1"),
            size: size("s-1vcpu-1gb"),
            powered_on: true,
            ip_address: address.into(),
        }));
    }
    let fresh = provider.provision(&request(1)).await.expect("provision");
    assert_eq!(fresh.ip_address, "10.0.0.4");
}

#[tokio::test(start_paused = true)]
async fn a_deploy_takes_a_power_cycle_and_honours_faults() {
    let provider = SimulatedProvider::new(spec("sim", 5), SimSpeed::new(2.0).expect("speed"), 1);
    let made = provider.provision(&request(1)).await.expect("provision");
    let started = tokio::time::Instant::now();
    provider
        .deploy(&made.resource_id, Some("v2"))
        .await
        .expect("deploy");
    let power_ms = provider.spec().latency.power_ms;
    assert_eq!(started.elapsed(), Duration::from_millis(power_ms / 2));
    let unknown = provider.deploy("sim-dr_nope", Some("v2")).await;
    assert!(matches!(
        unknown,
        Err(ProviderError::UnknownResource { .. })
    ));
    provider
        .set_faults(Faults {
            outage: true,
            ..Faults::NONE
        })
        .expect("faults");
    let down = provider.deploy(&made.resource_id, Some("v3")).await;
    assert!(
        matches!(down, Err(ProviderError::Outage { .. })),
        "{down:?}"
    );
    assert!(down.unwrap_err().is_retryable());
}
