//! Given/when/then tests of the rate-limit rule aggregate and its values.

use cqrs_es::test::TestFramework;
use serde_json::json;

use super::*;
use crate::domain::aggregate::{event_from_parts, event_parts};

type Framework = TestFramework<RateLimitRule>;

fn name(value: &str) -> RuleName {
    RuleName::parse(value).expect("valid name")
}

fn spec(scope: RuleScope, rate: f64, capacity: u64, endpoints: &[Endpoint]) -> RuleSpec {
    RuleSpec::new(
        scope,
        RatePerSec::parse(rate).expect("rate"),
        Capacity::parse(capacity).expect("capacity"),
        endpoints.to_vec(),
    )
    .expect("spec")
}

fn jobs_spec(capacity: u64) -> RuleSpec {
    spec(RuleScope::User, 0.5, capacity, &[Endpoint::JobsCreate])
}

fn set_event(capacity: u64) -> RateLimitRuleEvent {
    let spec = jobs_spec(capacity);
    RateLimitRuleEvent::Set(RateLimitRuleSet {
        name: name("jobs_create"),
        scope: spec.scope,
        rate_per_sec: spec.rate_per_sec,
        capacity: spec.capacity,
        endpoints: spec.endpoints,
    })
}

fn set(capacity: u64) -> RateLimitRuleCommand {
    RateLimitRuleCommand::SetRule {
        name: name("jobs_create"),
        spec: jobs_spec(capacity),
    }
}

fn deleted() -> RateLimitRuleEvent {
    RateLimitRuleEvent::Deleted(RateLimitRuleDeleted {
        name: name("jobs_create"),
    })
}

#[test]
fn given_no_rule_when_set_then_set_is_recorded() {
    Framework::with(())
        .given_no_previous_events()
        .when(set(3))
        .then_expect_events(vec![set_event(3)]);
}

#[test]
fn given_a_rule_when_set_with_other_values_then_set_is_recorded() {
    Framework::with(())
        .given(vec![set_event(3)])
        .when(set(1))
        .then_expect_events(vec![set_event(1)]);
}

#[test]
fn given_a_rule_when_set_with_the_same_values_then_nothing_happens() {
    Framework::with(())
        .given(vec![set_event(3)])
        .when(set(3))
        .then_expect_events(vec![]);
}

#[test]
fn given_a_rule_when_set_under_another_name_then_it_is_refused() {
    let command = RateLimitRuleCommand::SetRule {
        name: name("other"),
        spec: jobs_spec(3),
    };
    Framework::with(())
        .given(vec![set_event(3)])
        .when(command)
        .then_expect_error(RateLimitRuleError::NameMismatch {
            stream: "jobs_create".into(),
            name: "other".into(),
        });
}

#[test]
fn given_a_rule_when_deleted_then_deleted_is_recorded() {
    Framework::with(())
        .given(vec![set_event(3)])
        .when(RateLimitRuleCommand::DeleteRule)
        .then_expect_events(vec![deleted()]);
}

#[test]
fn given_no_rule_or_a_deleted_one_when_deleted_then_not_found() {
    Framework::with(())
        .given_no_previous_events()
        .when(RateLimitRuleCommand::DeleteRule)
        .then_expect_error(RateLimitRuleError::NotFound);
    Framework::with(())
        .given(vec![set_event(3), deleted()])
        .when(RateLimitRuleCommand::DeleteRule)
        .then_expect_error(RateLimitRuleError::NotFound);
}

#[test]
fn given_a_deleted_rule_when_set_again_then_it_is_live_again() {
    Framework::with(())
        .given(vec![set_event(3), deleted()])
        .when(set(3))
        .then_expect_events(vec![set_event(3)]);
    let mut rule = RateLimitRule::default();
    for event in [set_event(3), deleted(), set_event(2)] {
        rule.apply(event);
    }
    assert!(rule.is_live());
    assert_eq!(rule.rule().map(|r| r.spec.capacity.get()), Some(2));
}

#[test]
fn events_round_trip_through_their_parts() {
    for event in [set_event(3), deleted()] {
        let (event_type, data) = event_parts(&event).expect("parts");
        assert_eq!(event_type, event.type_str());
        let back: RateLimitRuleEvent = event_from_parts(&event_type, data).expect("back");
        assert_eq!(back, event);
    }
    let (_, data) = event_parts(&set_event(3)).expect("parts");
    assert_eq!(
        data,
        json!({"name": "jobs_create", "scope": "user", "rate_per_sec": 0.5, "capacity": 3,
               "endpoints": ["jobs.create"]})
    );
}

#[test]
fn invalid_stored_values_do_not_deserialise() {
    let bad = [
        json!({"name": "Jobs", "scope": "user", "rate_per_sec": 1.0, "capacity": 1, "endpoints": ["jobs.create"]}),
        json!({"name": "j", "scope": "team", "rate_per_sec": 1.0, "capacity": 1, "endpoints": ["jobs.create"]}),
        json!({"name": "j", "scope": "user", "rate_per_sec": 0.0, "capacity": 1, "endpoints": ["jobs.create"]}),
        json!({"name": "j", "scope": "user", "rate_per_sec": 1.0, "capacity": 0, "endpoints": ["jobs.create"]}),
        json!({"name": "j", "scope": "user", "rate_per_sec": 1.0, "capacity": 1, "endpoints": ["jobs.list"]}),
    ];
    for data in bad {
        assert!(
            event_from_parts::<RateLimitRuleEvent>("ratelimit_rule.set", data.clone()).is_err(),
            "{data}"
        );
    }
}

#[test]
fn names_follow_the_rules() {
    for good in ["diagnose", "jobs_create", "a", "cluster-updates-2"] {
        assert!(RuleName::parse(good).is_ok(), "{good}");
    }
    let long = "a".repeat(MAX_RULE_NAME_LEN + 1);
    for bad in [
        "",
        "Jobs",
        "1jobs",
        "_x",
        "jobs create",
        "jobs.create",
        long.as_str(),
    ] {
        let error = RuleName::parse(bad).expect_err(bad);
        assert_eq!(error.field, "name");
    }
}

#[test]
fn rates_and_capacities_are_bounded() {
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, MAX_RATE_PER_SEC * 2.0] {
        assert_eq!(
            RatePerSec::parse(bad).expect_err("bad rate").field,
            "rate_per_sec"
        );
    }
    assert!(RatePerSec::parse(0.01).is_ok());
    assert!(RatePerSec::parse(MAX_RATE_PER_SEC).is_ok());
    for bad in [0, u64::from(MAX_CAPACITY) + 1, u64::MAX] {
        assert_eq!(
            Capacity::parse(bad).expect_err("bad capacity").field,
            "capacity"
        );
    }
    assert_eq!(Capacity::parse(1).expect("one").get(), 1);
    assert_eq!(RuleScope::parse("team").expect_err("scope").field, "scope");
}

#[test]
fn a_spec_needs_endpoints_and_a_cluster_scope_needs_cluster_endpoints() {
    let rate = RatePerSec::parse(1.0).expect("rate");
    let capacity = Capacity::parse(1).expect("capacity");
    let empty = RuleSpec::new(RuleScope::User, rate, capacity, vec![]).expect_err("empty");
    assert_eq!(empty.field, "endpoints");
    let cluster = RuleSpec::new(
        RuleScope::Cluster,
        rate,
        capacity,
        vec![Endpoint::JobsCreate, Endpoint::JobsCancel],
    )
    .expect_err("jobs.cancel names no cluster");
    assert_eq!(cluster.field, "scope");
    let deduplicated = RuleSpec::new(
        RuleScope::Global,
        rate,
        capacity,
        vec![
            Endpoint::JobsCreate,
            Endpoint::ClustersCreate,
            Endpoint::JobsCreate,
        ],
    )
    .expect("valid");
    assert_eq!(
        deduplicated.endpoints,
        vec![Endpoint::ClustersCreate, Endpoint::JobsCreate]
    );
}

#[test]
fn the_builtin_rules_are_the_seeds_defaults() {
    let rules = builtin_rules();
    let diagnose = &rules[0];
    assert_eq!(diagnose.name.as_str(), "diagnose");
    assert_eq!(diagnose.spec.scope, RuleScope::Cluster);
    assert_eq!(diagnose.spec.rate_per_sec.get(), 0.2);
    assert_eq!(diagnose.spec.capacity.get(), 5);
    assert_eq!(diagnose.spec.endpoints, vec![Endpoint::ClustersDiagnose]);
    let jobs = builtin_rule("jobs_create").expect("jobs_create");
    assert_eq!(jobs.spec.scope, RuleScope::User);
    assert_eq!(jobs.spec.rate_per_sec.get(), 0.1);
    assert_eq!(jobs.spec.capacity.get(), 3);
    assert_eq!(jobs.spec.endpoints, vec![Endpoint::JobsCreate]);
    assert!(builtin_rule("nope").is_none());
}

#[test]
fn every_endpoint_parses_back_from_its_name() {
    for endpoint in Endpoint::ALL {
        assert_eq!(Endpoint::parse(endpoint.as_str()), Ok(endpoint));
        assert!(endpoint.route().contains("/v1/"));
    }
    assert_eq!(
        Endpoint::parse("jobs.list").expect_err("unknown").field,
        "endpoints"
    );
}

#[test]
fn a_rule_without_endpoints_guards_every_route_its_scope_allows() {
    assert_eq!(
        Endpoint::every_for(RuleScope::Global),
        Endpoint::ALL.to_vec()
    );
    assert_eq!(Endpoint::every_for(RuleScope::User), Endpoint::ALL.to_vec());
    let cluster = Endpoint::every_for(RuleScope::Cluster);
    assert_eq!(
        cluster,
        vec![
            Endpoint::ClustersUpdate,
            Endpoint::ClustersDelete,
            Endpoint::ClustersDiagnose,
            Endpoint::DropletsCreate,
            Endpoint::JobsCreate,
        ]
    );
    // Each default makes a valid rule of its scope.
    let rate = RatePerSec::parse(1.0).expect("rate");
    let capacity = Capacity::parse(1).expect("capacity");
    for scope in RuleScope::ALL {
        let spec = RuleSpec::new(scope, rate, capacity, Endpoint::every_for(scope))
            .expect("the default endpoints are valid");
        assert_eq!(spec.endpoints, Endpoint::every_for(scope));
    }
}
