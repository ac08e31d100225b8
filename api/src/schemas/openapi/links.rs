//! Links of the OpenAPI document: how the answer of one operation feeds the next (the
//! cluster a command answered is what `getCluster` reads, the droplet's job what
//! `cancelJob` cancels). Clients and stateful tests (schemathesis) follow them from a
//! resource to what can be done with it.

use serde_json::{json, Value};
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::{OpenApi, RefOr};
use utoipa::Modify;

/// A link: the operation, and its parameters (or request body) as runtime expressions.
struct To {
    name: &'static str,
    operation_id: &'static str,
    parameters: &'static [(&'static str, &'static str)],
    body: Option<fn() -> Value>,
}

const fn to(
    name: &'static str,
    operation_id: &'static str,
    parameters: &'static [(&'static str, &'static str)],
) -> To {
    To {
        name,
        operation_id,
        parameters,
        body: None,
    }
}

const CLUSTER: &[(&str, &str)] = &[("id", "$response.body#/id")];
const DROPLET: &[(&str, &str)] = &[("id", "$response.body#/droplet/id")];
const JOB: &[(&str, &str)] = &[("id", "$response.body#/job/id")];
const JOB_ITSELF: &[(&str, &str)] = &[("id", "$response.body#/id")];
const RULE: &[(&str, &str)] = &[("name", "$response.body#/name")];
const PROVIDER: &[(&str, &str)] = &[("name", "$response.body#/name")];

/// A droplet in the cluster the answer is.
fn droplet_in_cluster() -> Value {
    json!({
        "cluster_id": "$response.body#/id",
        "name": "node",
        "region": "$response.body#/region",
        "size": "s-1vcpu-1gb",
        "image": "ubuntu-22-04-x64",
    })
}

/// A diagnosis of the cluster the answer is.
fn job_in_cluster() -> Value {
    json!({ "type": "diagnose", "cluster_id": "$response.body#/id" })
}

/// The links of each reusable response (see [`super::common`]).
fn links() -> Vec<(&'static str, Vec<To>)> {
    vec![
        (
            "ClusterReply",
            vec![
                to("GetCluster", "getCluster", CLUSTER),
                to("UpdateCluster", "updateCluster", CLUSTER),
                to("DeleteCluster", "deleteCluster", CLUSTER),
                to("GetClusterSummary", "getClusterSummary", CLUSTER),
                to("GetClusterBilling", "getClusterBilling", CLUSTER),
                To {
                    body: Some(droplet_in_cluster),
                    ..to("CreateDroplet", "createDroplet", &[])
                },
                To {
                    body: Some(job_in_cluster),
                    ..to("CreateJob", "createJob", &[])
                },
            ],
        ),
        (
            "DropletCreatedReply",
            vec![
                to("GetDroplet", "getDroplet", DROPLET),
                to("ResizeDroplet", "resizeDroplet", DROPLET),
                to("PowerDroplet", "powerDroplet", DROPLET),
                to("MigrateDroplet", "migrateDroplet", DROPLET),
                to("DestroyDroplet", "destroyDroplet", DROPLET),
                to("GetJob", "getJob", JOB),
                to("CancelJob", "cancelJob", JOB),
            ],
        ),
        (
            "JobStartedReply",
            vec![
                to("GetJob", "getJob", JOB),
                to("CancelJob", "cancelJob", JOB),
            ],
        ),
        ("JobCancelReply", vec![to("GetJob", "getJob", JOB_ITSELF)]),
        (
            "RuleReply",
            vec![
                to("GetRateLimitRule", "getRateLimitRule", RULE),
                to("PutRateLimitRule", "putRateLimitRule", RULE),
                to("DeleteRateLimitRule", "deleteRateLimitRule", RULE),
            ],
        ),
        (
            "ProviderReply",
            vec![
                to("GetProviderFaults", "getProviderFaults", PROVIDER),
                to("PutProviderFaults", "putProviderFaults", PROVIDER),
            ],
        ),
    ]
}

/// Adds [`links`] to the reusable responses.
pub struct Links;

impl Modify for Links {
    fn modify(&self, openapi: &mut OpenApi) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for (response, links) in links() {
            let Some(RefOr::T(response)) = components.responses.get_mut(response) else {
                continue;
            };
            for link in links {
                let mut builder = LinkBuilder::new().operation_id(link.operation_id);
                for (name, expression) in link.parameters {
                    builder = builder.parameter(*name, *expression);
                }
                builder = builder.request_body(link.body.map(|body| body()));
                response
                    .links
                    .insert(link.name.to_owned(), RefOr::T(builder.build()));
            }
        }
    }
}
