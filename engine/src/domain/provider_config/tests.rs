//! Given/when/then tests of the provider configuration aggregate.

use cqrs_es::test::TestFramework;
use cqrs_es::DomainEvent;
use serde_json::json;

use super::*;
use crate::domain::aggregate::{event_from_parts, event_parts, fold};
use crate::domain::values::{ProviderId, Region, Size};

type Framework = TestFramework<ProviderConfig>;

fn spec() -> ProviderSpec {
    ProviderSpec {
        name: ProviderId::parse("edge").expect("name"),
        display_name: "Edge Cloud".into(),
        regions: vec![Region::parse("fra1").expect("region")],
        sizes: vec![Size::parse("s-1vcpu-1gb").expect("size")],
        price_multiplier: 0.8,
        capacity_per_region: 3,
        latency: Latency::default(),
    }
}

fn register(spec: ProviderSpec) -> ProviderCommand {
    ProviderCommand::RegisterProvider { spec }
}

#[test]
fn given_nothing_when_registered_then_provider_registered() {
    Framework::with(())
        .given_no_previous_events()
        .when(register(spec()))
        .then_expect_events(vec![ProviderEvent::Registered(spec())]);
}

#[test]
fn given_registered_when_same_configuration_then_nothing_changes() {
    Framework::with(())
        .given(vec![ProviderEvent::Registered(spec())])
        .when(register(spec()))
        .then_expect_events(vec![]);
}

#[test]
fn given_registered_when_changed_then_provider_updated() {
    let changed = ProviderSpec {
        capacity_per_region: 10,
        ..spec()
    };
    Framework::with(())
        .given(vec![ProviderEvent::Registered(spec())])
        .when(register(changed.clone()))
        .then_expect_events(vec![ProviderEvent::Updated(changed)]);
}

#[test]
fn given_nothing_when_invalid_then_every_broken_field_is_named() {
    let invalid = ProviderSpec {
        display_name: " ".into(),
        regions: vec![],
        sizes: vec![spec().sizes[0], spec().sizes[0]],
        price_multiplier: f64::NAN,
        capacity_per_region: 0,
        latency: Latency {
            provision_ms: MAX_LATENCY_MS + 1,
            ..Latency::default()
        },
        ..spec()
    };
    let error = ProviderConfig::default()
        .decide(register(invalid))
        .expect_err("invalid");
    let ProviderConfigError::Invalid(errors) = &error;
    let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
    assert_eq!(
        fields,
        [
            "display_name",
            "regions",
            "sizes",
            "price_multiplier",
            "capacity_per_region",
            "latency.provision_ms"
        ]
    );
    assert_eq!(error.kind(), DomainErrorKind::Invalid);
    assert!(error
        .to_string()
        .contains("regions: must name at least one region"));
}

#[test]
fn price_multiplier_bounds() {
    for (m, ok) in [
        (0.0, false),
        (-1.0, false),
        (0.01, true),
        (10.0, true),
        (10.5, false),
    ] {
        let s = ProviderSpec {
            price_multiplier: m,
            ..spec()
        };
        assert_eq!(s.validate().is_empty(), ok, "{m}");
    }
}

#[test]
fn fold_keeps_the_latest_configuration_and_counts_updates() {
    let changed = ProviderSpec {
        price_multiplier: 1.2,
        ..spec()
    };
    let state: ProviderConfig = fold(vec![
        ProviderEvent::Registered(spec()),
        ProviderEvent::Updated(changed.clone()),
    ]);
    assert_eq!(state.spec, Some(changed));
    assert_eq!(state.updates, 1);
    assert!(state.exists());
    assert!(!ProviderConfig::default().exists());
}

#[test]
fn prices_apply_the_multiplier_and_720_hours() {
    let s = spec();
    let size = Size::parse("s-1vcpu-1gb").expect("size");
    assert!((s.price_monthly(&size) - 6.0 * 0.8).abs() < 1e-12);
    assert!((s.price_hourly(&size) - 6.0 * 0.8 / 720.0).abs() < 1e-12);
    assert!(s.offers_region(&Region::parse("fra1").expect("region")));
    assert!(!s.offers_region(&Region::parse("nyc1").expect("region")));
    assert!(!s.offers_size(&Size::parse("c-2").expect("size")));
}

#[test]
fn events_serialise_as_type_and_data() {
    let event = ProviderEvent::Registered(spec());
    assert_eq!(event.event_type(), "provider.registered");
    assert_eq!(event.event_version(), "1");
    let (event_type, data) = event_parts(&event).expect("parts");
    assert_eq!(event_type, "provider.registered");
    assert_eq!(data["name"], json!("edge"));
    assert_eq!(data["regions"], json!(["fra1"]));
    assert_eq!(data["latency"]["provision_ms"], json!(4000));
    let back: ProviderEvent = event_from_parts(&event_type, data).expect("back");
    assert_eq!(back, event);
    assert!(
        event_from_parts::<ProviderEvent>("provider.updated", json!({"name": "Bad!"})).is_err()
    );
}
