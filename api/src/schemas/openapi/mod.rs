//! The OpenAPI 3.1 document of the HTTP API (`schemas/openapi.yaml`, served at
//! `GET /v1/openapi.json`), generated with utoipa from the code: the operations from the
//! `#[utoipa::path]` attributes of the handlers, the schemas from the types they read
//! and answer (`ToSchema`), the shared headers, parameters and problem responses from
//! [`common`].
//!
//! The route table the router is built from ([`crate::filters::table`]) and this document
//! are compared by the tests, both ways.

use std::sync::OnceLock;

use engine::commands::{DropletCreated, JobAccepted};
use engine::diagnosis::DiagnosisView;
use engine::views::{ClusterView, JobView, ProviderView, RateLimitRuleView};
use serde_json::Value;
use utoipa::openapi::{InfoBuilder, LicenseBuilder};
use utoipa::{Modify, OpenApi};

use crate::handlers;
use crate::models::replies::Positioned;
use links::Links;

pub mod common;
pub mod links;

/// The version of this document.
const DOCUMENT_VERSION: &str = "1.0.0";

const DESCRIPTION: &str = "ClusterGenie's HTTP API: clusters, droplets and jobs as commands \
on an event log and queries of its read models, the log itself, rate-limit rules and \
simulated providers. Generated from the Rust code by `clustergenie schemas export`; do not \
edit by hand.\n\n\
Conventions:\n\
- Commands answer with the resource (or `{job}` when work is asynchronous) plus \
`position`, the log position of their last event (also in `X-Position`): `201` created, \
`202` a job was started, `200` otherwise. `Idempotency-Key` makes them safe to retry; \
`If-Match` (the `ETag` of a read) guards changes to an existing resource (`412` when \
stale).\n\
- Reads take `min_position` (or `X-Min-Position`) to wait for the read models to reach a \
command's `position` (read-your-writes; `504` after the timeout).\n\
- Errors are `application/problem+json` (see `Problem`): `errors` maps the fields of bad \
input to messages. A path no route serves is a `404`, a known path with another method a \
`405`.\n\
- Rate-limited routes answer `429` with `Retry-After` and `RateLimit-*` headers, which \
allowed requests of a limited route carry too.";

#[derive(OpenApi)]
#[openapi(
    paths(
        handlers::system::healthz,
        handlers::system::readyz,
        handlers::system::metrics,
        handlers::system::openapi,
        handlers::clusters::create,
        handlers::clusters::list,
        handlers::clusters::get,
        handlers::clusters::summary,
        handlers::clusters::update,
        handlers::clusters::delete,
        handlers::providers::billing,
        handlers::droplets::create,
        handlers::droplets::list,
        handlers::droplets::get,
        handlers::droplets::destroy,
        handlers::droplets::resize,
        handlers::droplets::power,
        handlers::droplets::migrate,
        handlers::jobs::create,
        handlers::jobs::list,
        handlers::jobs::get,
        handlers::jobs::cancel,
        handlers::diagnoses::diagnose,
        handlers::diagnoses::list,
        handlers::diagnoses::implement,
        handlers::deployments::create,
        handlers::deployments::list,
        handlers::deployments::get,
        handlers::deployments::rollback,
        handlers::deployments::promote,
        handlers::autoscaling::get,
        handlers::autoscaling::put,
        handlers::autoscaling::delete,
        handlers::autoscaling::evaluate,
        handlers::autoscaling::decisions,
        handlers::system::workers,
        handlers::events::list,
        handlers::events::live,
        handlers::events::stream_of,
        handlers::system::projections,
        handlers::system::dead_letters,
        handlers::system::retry_dead_letter,
        handlers::projections::rebuild,
        handlers::ratelimits::list,
        handlers::ratelimits::put_named_in_body,
        handlers::ratelimits::get,
        handlers::ratelimits::put,
        handlers::ratelimits::delete,
        handlers::ratelimits::status,
        handlers::providers::catalog,
        handlers::providers::list,
        handlers::providers::register,
        handlers::providers::get_faults,
        handlers::providers::put_faults,
        handlers::providers::fleet_billing,
        handlers::metric_samples::ingest,
        handlers::metric_samples::list,
        handlers::cluster_health::get,
    ),
    components(schemas(
        crate::errors::Problem,
        Positioned<ClusterView>,
        Positioned<DropletCreated>,
        Positioned<JobAccepted>,
        Positioned<DiagnosisView>,
        Positioned<engine::commands::DeploymentAccepted>,
        Positioned<JobView>,
        Positioned<RateLimitRuleView>,
        Positioned<ProviderView>,
    ), responses(
        common::BadRequest,
        common::NotFound,
        common::Conflict,
        common::PreconditionFailed,
        common::Unprocessable,
        common::LengthRequired,
        common::PayloadTooLarge,
        common::TooManyRequests,
        common::Internal,
        common::Unavailable,
        common::GatewayTimeout,
        common::ClusterReply,
        common::DropletCreatedReply,
        common::JobStartedReply,
        common::DiagnosisReply,
        common::DeploymentReply,
        common::JobCancelReply,
        common::RuleReply,
        common::ProviderReply,
    )),
    tags(
        (name = "system", description = "Health, readiness, metrics and this document."),
        (name = "clusters", description = "Clusters: created, renamed, moved, deleted."),
        (name = "droplets", description = "Droplets of a cluster and the jobs that act on them."),
        (name = "jobs", description = "Asynchronous work, run by the job runtime."),
        (name = "autoscaling", description = "Auto-scaling policies of a cluster (metrics, time of day, cost), manual evaluation and the decision history."),
        (name = "diagnosis", description = "The genie's diagnosis of a cluster (rules engine or an LLM) and implementing its recommendations."),
        (name = "deployments", description = "Rollouts of an application version over a cluster's droplets (rolling, canary, blue-green) with health gates, promotion and rollback."),
        (name = "events", description = "The event log: pages, a live tail, one aggregate's stream."),
        (name = "projections", description = "The read models built from the log."),
        (name = "ratelimits", description = "Rate-limit rules and their buckets."),
        (name = "providers", description = "Simulated cloud providers, their faults and billing."),
        (name = "metrics", description = "Metric samples (telemetry, not events): ingest, list, series."),
    ),
    modifiers(&Info, &Links)
)]
struct ApiDoc;

/// Sets the title, version and description.
struct Info;

impl Modify for Info {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.info = InfoBuilder::new()
            .title("ClusterGenie HTTP API")
            .version(DOCUMENT_VERSION)
            .description(Some(DESCRIPTION))
            .license(Some(
                LicenseBuilder::new()
                    .name("Apache-2.0")
                    .identifier(Some("Apache-2.0"))
                    .build(),
            ))
            .build();
    }
}

/// The document as JSON.
pub fn document() -> Result<Value, serde_json::Error> {
    serde_json::to_value(ApiDoc::openapi())
}

/// The document, built once per process (what `GET /v1/openapi.json` answers).
pub fn served() -> Result<&'static Value, serde_json::Error> {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    if let Some(document) = DOCUMENT.get() {
        return Ok(document);
    }
    let built = document()?;
    Ok(DOCUMENT.get_or_init(|| built))
}
