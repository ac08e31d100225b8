//! Given/when/then tests of the cluster aggregate, one per command outcome.

use cqrs_es::test::TestFramework;
use cqrs_es::DomainEvent;
use serde_json::json;

use super::*;
use crate::domain::aggregate::{event_from_parts, event_parts, fold};

type Framework = TestFramework<Cluster>;

fn id() -> ClusterId {
    ClusterId::parse("cl_0190f3a1b2c37d4e8f9a0b1c2d3e4f50").expect("valid id")
}

fn droplet(n: u8) -> DropletId {
    DropletId::parse(&format!("dr_{n:032x}")).expect("valid id")
}

fn name(value: &str) -> ClusterName {
    ClusterName::parse(value).expect("valid name")
}

fn region(value: &str) -> Region {
    Region::parse(value).expect("valid region")
}

fn provider(value: &str) -> ProviderName {
    ProviderName::parse(value).expect("valid provider")
}

fn created() -> ClusterEvent {
    ClusterEvent::Created(ClusterCreated {
        id: id(),
        name: name("web"),
        region: region("nyc1"),
        provider: None,
    })
}

fn created_with(provider_name: &str) -> ClusterEvent {
    ClusterEvent::Created(ClusterCreated {
        id: id(),
        name: name("web"),
        region: region("nyc1"),
        provider: Some(provider(provider_name)),
    })
}

fn attached(n: u8) -> ClusterEvent {
    ClusterEvent::DropletAttached(ClusterDropletAttached {
        droplet_id: droplet(n),
    })
}

fn deleted() -> ClusterEvent {
    ClusterEvent::Deleted(ClusterDeleted {})
}

/// A built-in provider as the registry resolves it when nothing is registered.
fn offer(value: &str) -> ProviderOffer {
    ProviderOffer::builtin(value).expect("built-in provider")
}

fn create_command(provider: Option<ProviderOffer>) -> ClusterCommand {
    ClusterCommand::CreateCluster {
        id: id(),
        name: name("web"),
        region: region("nyc1"),
        provider,
    }
}

/// A move of a cluster without a provider.
fn move_to(value: &str) -> ClusterCommand {
    ClusterCommand::MoveCluster {
        region: region(value),
        provider: None,
    }
}

/// One instance of every command except create.
fn non_create_commands() -> Vec<ClusterCommand> {
    vec![
        ClusterCommand::RenameCluster { name: name("api") },
        move_to("lon1"),
        ClusterCommand::ChangeClusterStatus {
            status: ClusterStatus::Warning,
            reason: "cpu".into(),
            issues: Vec::new(),
        },
        ClusterCommand::AttachDroplet {
            droplet_id: droplet(1),
        },
        ClusterCommand::DetachDroplet {
            droplet_id: droplet(1),
        },
        ClusterCommand::DeleteCluster,
    ]
}

// --- create ---

#[test]
fn create_emits_created() {
    Framework::with(())
        .given_no_previous_events()
        .when(create_command(None))
        .then_expect_events(vec![created()]);
}

#[test]
fn create_with_a_provider_that_offers_the_region() {
    Framework::with(())
        .given_no_previous_events()
        .when(create_command(Some(offer("nimbus"))))
        .then_expect_events(vec![created_with("nimbus")]);
}

#[test]
fn create_with_a_provider_lacking_the_region_is_unprocessable() {
    let result = Framework::with(())
        .given_no_previous_events()
        .when(create_command(Some(offer("stratus"))))
        .inspect_result();
    let err = result.expect_err("stratus does not offer nyc1");
    assert_eq!(
        err.to_string(),
        "provider stratus does not offer region nyc1"
    );
    assert_eq!(err.kind(), DomainErrorKind::Unprocessable);
}

#[test]
fn create_twice_is_rejected() {
    Framework::with(())
        .given(vec![created()])
        .when(create_command(None))
        .then_expect_error_message("cluster already exists");
}

#[test]
fn create_after_delete_is_rejected() {
    Framework::with(())
        .given(vec![created(), deleted()])
        .when(create_command(None))
        .then_expect_error(ClusterError::AlreadyExists);
}

// --- missing and deleted ---

#[test]
fn every_command_on_a_missing_cluster_is_not_found() {
    for command in non_create_commands() {
        Framework::with(())
            .given_no_previous_events()
            .when(command)
            .then_expect_error_message("cluster not found");
    }
}

#[test]
fn every_command_on_a_deleted_cluster_is_rejected() {
    for command in non_create_commands() {
        Framework::with(())
            .given(vec![created(), deleted()])
            .when(command)
            .then_expect_error_message("cluster has been deleted");
    }
}

// --- rename ---

#[test]
fn rename_emits_renamed() {
    Framework::with(())
        .given(vec![created()])
        .when(ClusterCommand::RenameCluster { name: name("api") })
        .then_expect_events(vec![ClusterEvent::Renamed(ClusterRenamed {
            name: name("api"),
        })]);
}

#[test]
fn rename_to_the_same_name_is_a_no_op() {
    Framework::with(())
        .given(vec![created()])
        .when(ClusterCommand::RenameCluster { name: name("web") })
        .then_expect_events(vec![]);
}

// --- move ---

#[test]
fn move_emits_moved() {
    Framework::with(())
        .given(vec![created()])
        .when(move_to("sgp1"))
        .then_expect_events(vec![ClusterEvent::Moved(ClusterMoved {
            region: region("sgp1"),
        })]);
}

#[test]
fn move_to_the_same_region_is_a_no_op() {
    Framework::with(())
        .given(vec![created()])
        .when(move_to("nyc1"))
        .then_expect_events(vec![]);
}

#[test]
fn move_to_a_region_the_provider_lacks_is_unprocessable() {
    Framework::with(())
        .given(vec![created_with("nimbus")])
        .when(ClusterCommand::MoveCluster {
            region: region("tor1"),
            provider: Some(offer("nimbus")),
        })
        .then_expect_error(ClusterError::ProviderLacksRegion {
            provider: provider("nimbus"),
            region: region("tor1"),
        });
    // Without the cluster's provider's offer (or with another's), no region is offered.
    for other in [None, Some(offer("simcloud"))] {
        Framework::with(())
            .given(vec![created_with("nimbus")])
            .when(ClusterCommand::MoveCluster {
                region: region("lon1"),
                provider: other,
            })
            .then_expect_error(ClusterError::ProviderLacksRegion {
                provider: provider("nimbus"),
                region: region("lon1"),
            });
    }
}

#[test]
fn a_registered_provider_is_checked_by_its_own_regions() {
    // A provider outside the catalog, as its registered configuration has it.
    let edge = ProviderOffer {
        name: provider("edge"),
        regions: vec![region("nyc1"), region("lon1")],
    };
    Framework::with(())
        .given_no_previous_events()
        .when(create_command(Some(edge.clone())))
        .then_expect_events(vec![created_with("edge")]);
    Framework::with(())
        .given(vec![created_with("edge")])
        .when(ClusterCommand::MoveCluster {
            region: region("lon1"),
            provider: Some(edge.clone()),
        })
        .then_expect_events(vec![ClusterEvent::Moved(ClusterMoved {
            region: region("lon1"),
        })]);
    Framework::with(())
        .given(vec![created_with("edge")])
        .when(ClusterCommand::MoveCluster {
            region: region("sgp1"),
            provider: Some(edge),
        })
        .then_expect_error(ClusterError::ProviderLacksRegion {
            provider: provider("edge"),
            region: region("sgp1"),
        });
}

// --- status ---

#[test]
fn status_change_emits_from_to_and_reason() {
    Framework::with(())
        .given(vec![created()])
        .when(ClusterCommand::ChangeClusterStatus {
            status: ClusterStatus::Critical,
            reason: "memory 91% > 85%".into(),
            issues: Vec::new(),
        })
        .then_expect_events(vec![ClusterEvent::StatusChanged(ClusterStatusChanged {
            from: ClusterStatus::Healthy,
            to: ClusterStatus::Critical,
            reason: "memory 91% > 85%".into(),
            issues: Vec::new(),
        })]);
}

#[test]
fn status_change_carries_the_issues_behind_it() {
    let issue = HealthIssue {
        kind: IssueKind::Metric,
        severity: Severity::Critical,
        metric_type: Some(crate::domain::MetricType::Memory),
        value: Some(91.0),
        threshold: Some(85.0),
        droplet_id: None,
        message: "memory 91.0% > 85% over 60 s".into(),
    };
    Framework::with(())
        .given(vec![created()])
        .when(ClusterCommand::ChangeClusterStatus {
            status: worst_status(std::slice::from_ref(&issue)),
            reason: status_reason(std::slice::from_ref(&issue)),
            issues: vec![issue.clone()],
        })
        .then_expect_events(vec![ClusterEvent::StatusChanged(ClusterStatusChanged {
            from: ClusterStatus::Healthy,
            to: ClusterStatus::Critical,
            reason: "memory 91.0% > 85% over 60 s".into(),
            issues: vec![issue],
        })]);
}

#[test]
fn a_status_change_recorded_before_issues_existed_still_reads() {
    let event: ClusterEvent = serde_json::from_value(json!({
        "type": "cluster.status_changed",
        "data": {"from": "healthy", "to": "warning", "reason": "cpu"}
    }))
    .unwrap();
    let ClusterEvent::StatusChanged(changed) = event else {
        panic!("not a status change: {event:?}");
    };
    assert!(changed.issues.is_empty());
}

#[test]
fn status_change_to_the_same_status_is_a_no_op() {
    Framework::with(())
        .given(vec![created()])
        .when(ClusterCommand::ChangeClusterStatus {
            status: ClusterStatus::Healthy,
            reason: "all good".into(),
            issues: Vec::new(),
        })
        .then_expect_events(vec![]);
}

// --- attach / detach ---

#[test]
fn attach_emits_attached() {
    Framework::with(())
        .given(vec![created()])
        .when(ClusterCommand::AttachDroplet {
            droplet_id: droplet(1),
        })
        .then_expect_events(vec![attached(1)]);
}

#[test]
fn attach_twice_is_a_no_op() {
    Framework::with(())
        .given(vec![created(), attached(1)])
        .when(ClusterCommand::AttachDroplet {
            droplet_id: droplet(1),
        })
        .then_expect_events(vec![]);
}

#[test]
fn detach_emits_detached() {
    Framework::with(())
        .given(vec![created(), attached(1)])
        .when(ClusterCommand::DetachDroplet {
            droplet_id: droplet(1),
        })
        .then_expect_events(vec![ClusterEvent::DropletDetached(
            ClusterDropletDetached {
                droplet_id: droplet(1),
            },
        )]);
}

#[test]
fn detach_of_a_droplet_not_attached_is_a_no_op() {
    Framework::with(())
        .given(vec![created(), attached(1)])
        .when(ClusterCommand::DetachDroplet {
            droplet_id: droplet(2),
        })
        .then_expect_events(vec![]);
}

// --- delete ---

#[test]
fn delete_emits_deleted() {
    Framework::with(())
        .given(vec![created()])
        .when(ClusterCommand::DeleteCluster)
        .then_expect_events(vec![deleted()]);
}

#[test]
fn delete_after_all_droplets_detached_emits_deleted() {
    let detached = ClusterEvent::DropletDetached(ClusterDropletDetached {
        droplet_id: droplet(1),
    });
    Framework::with(())
        .given(vec![created(), attached(1), detached])
        .when(ClusterCommand::DeleteCluster)
        .then_expect_events(vec![deleted()]);
}

#[test]
fn delete_with_live_droplets_is_a_conflict() {
    let result = Framework::with(())
        .given(vec![created(), attached(1), attached(2)])
        .when(ClusterCommand::DeleteCluster)
        .inspect_result();
    let err = result.expect_err("droplets attached");
    assert_eq!(err, ClusterError::HasLiveDroplets { count: 2 });
    assert_eq!(
        err.to_string(),
        "cluster still has 2 live droplet(s); destroy them first"
    );
    assert_eq!(err.kind(), DomainErrorKind::Conflict);
}

// --- state, classification, serialisation ---

#[test]
fn fold_builds_the_state() {
    let cluster: Cluster = fold([
        created_with("nimbus"),
        ClusterEvent::Renamed(ClusterRenamed { name: name("api") }),
        ClusterEvent::Moved(ClusterMoved {
            region: region("lon1"),
        }),
        attached(1),
        attached(2),
        ClusterEvent::DropletDetached(ClusterDropletDetached {
            droplet_id: droplet(1),
        }),
        ClusterEvent::StatusChanged(ClusterStatusChanged {
            from: ClusterStatus::Healthy,
            to: ClusterStatus::Warning,
            reason: "cpu".into(),
            issues: Vec::new(),
        }),
    ]);
    assert!(cluster.is_live());
    assert_eq!(cluster.id, Some(id()));
    assert_eq!(cluster.name, Some(name("api")));
    assert_eq!(cluster.region, Some(region("lon1")));
    assert_eq!(cluster.provider, Some(provider("nimbus")));
    assert_eq!(cluster.status, ClusterStatus::Warning);
    assert_eq!(
        cluster.droplets.iter().cloned().collect::<Vec<_>>(),
        vec![droplet(2)]
    );
    let gone: Cluster = fold([created(), deleted()]);
    assert!(gone.exists() && !gone.is_live());
    assert!(!Cluster::default().exists());
}

#[test]
fn errors_are_classified() {
    assert_eq!(ClusterError::NotFound.kind(), DomainErrorKind::NotFound);
    assert_eq!(
        ClusterError::AlreadyExists.kind(),
        DomainErrorKind::Conflict
    );
    assert_eq!(ClusterError::Deleted.kind(), DomainErrorKind::Conflict);
}

#[test]
fn created_serialises_to_its_type_and_data() {
    let (event_type, data) = event_parts(&created()).expect("parts");
    assert_eq!(event_type, "cluster.created");
    assert_eq!(
        data,
        json!({
            "id": "cl_0190f3a1b2c37d4e8f9a0b1c2d3e4f50",
            "name": "web",
            "region": "nyc1",
            "provider": null
        })
    );
    let back: ClusterEvent = event_from_parts(&event_type, data).expect("from parts");
    assert_eq!(back, created());
}

#[test]
fn status_changed_and_deleted_serialise_to_their_shapes() {
    let event = ClusterEvent::StatusChanged(ClusterStatusChanged {
        from: ClusterStatus::Healthy,
        to: ClusterStatus::Critical,
        reason: "disk".into(),
        issues: Vec::new(),
    });
    assert_eq!(
        event_parts(&event).expect("parts"),
        (
            "cluster.status_changed".to_owned(),
            json!({"from": "healthy", "to": "critical", "reason": "disk", "issues": []})
        )
    );
    assert_eq!(
        event_parts(&deleted()).expect("parts"),
        ("cluster.deleted".to_owned(), json!({}))
    );
}

#[test]
fn event_type_matches_the_serde_tag_for_every_variant() {
    let events = vec![
        created(),
        ClusterEvent::Renamed(ClusterRenamed { name: name("a") }),
        ClusterEvent::Moved(ClusterMoved {
            region: region("fra1"),
        }),
        ClusterEvent::StatusChanged(ClusterStatusChanged {
            from: ClusterStatus::Warning,
            to: ClusterStatus::Healthy,
            reason: String::new(),
            issues: Vec::new(),
        }),
        attached(3),
        ClusterEvent::DropletDetached(ClusterDropletDetached {
            droplet_id: droplet(3),
        }),
        deleted(),
        ClusterEvent::DeploymentStarted(ClusterDeploymentStarted {
            deployment_id: crate::domain::DeploymentId::new(),
        }),
        ClusterEvent::DeploymentFinished(ClusterDeploymentFinished {
            deployment_id: crate::domain::DeploymentId::new(),
            app_version: None,
        }),
        ClusterEvent::AutoscalingPolicySet(ClusterAutoscalingPolicySet {
            policy: AutoscalingPolicy::parse(&PolicyInput {
                policy_type: Some("time_of_day".into()),
                min_droplets: Some(0),
                max_droplets: Some(1),
                windows: Some(vec![WindowInput {
                    days: Some(vec!["mon".into()]),
                    start: Some("09:00".into()),
                    end: Some("17:00".into()),
                    time_zone: None,
                    desired_droplets: Some(1),
                }]),
                ..PolicyInput::default()
            })
            .expect("valid policy"),
        }),
        ClusterEvent::AutoscalingPolicyRemoved(ClusterAutoscalingPolicyRemoved {}),
    ];
    let types: Vec<String> = events.iter().map(DomainEvent::event_type).collect();
    assert_eq!(types, ClusterEvent::TYPES);
    for event in events {
        let (event_type, data) = event_parts(&event).expect("parts");
        assert_eq!(event_type, event.event_type());
        assert_eq!(event.event_version(), "1");
        assert!(data.is_object());
        assert_eq!(
            event_from_parts::<ClusterEvent>(&event_type, data).expect("back"),
            event
        );
    }
}

#[test]
fn invalid_data_does_not_deserialise() {
    let data = json!({"id": "cl_nope", "name": "web", "region": "nyc1", "provider": null});
    assert!(event_from_parts::<ClusterEvent>("cluster.created", data).is_err());
    let data = json!({"name": "Web"});
    assert!(event_from_parts::<ClusterEvent>("cluster.renamed", data).is_err());
}

#[test]
fn status_parses_its_wire_names() {
    assert_eq!(
        ClusterStatus::parse("critical"),
        Ok(ClusterStatus::Critical)
    );
    assert_eq!(ClusterStatus::default(), ClusterStatus::Healthy);
    assert_eq!(
        ClusterStatus::parse("ok").expect_err("unknown").field,
        "status"
    );
}

#[test]
fn state_round_trips_through_json() {
    let cluster: Cluster = fold([created_with("simcloud"), attached(1)]);
    let json = serde_json::to_value(&cluster).expect("serialise");
    assert_eq!(json["status"], "healthy");
    let back: Cluster = serde_json::from_value(json).expect("deserialise");
    assert_eq!(back, cluster);
}
