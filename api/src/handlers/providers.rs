//! `/v1/catalog`, `/v1/providers`, `/v1/admin/providers/{name}/faults`,
//! `/v1/clusters/{id}/billing` and `/v1/billing`.

use std::collections::BTreeMap;

use bytes::Bytes;
use engine::commands::{ProviderInput, RegisterProvider, Reply};
use engine::provider::{
    bill, bill_fleet, default_specs, Billing, Faults, FleetBilling, ProviderError,
    SimulatedProvider,
};
use engine::views::{DropletView, ProviderView};
use warp::reply::Response;

use super::commands::{execute, Guard};
use super::{not_found, ok, read_your_writes};
use crate::errors::ApiError;
use crate::filters::common::RequestMeta;
use crate::models::bodies::parse;
use crate::models::catalog::{prices, Catalog};
use crate::models::replies::{Listed, ProviderFaults, ProviderListItem, Usage};
use crate::models::{Params, RegisterProviderBody};
use crate::schemas::openapi::common::{
    BadRequest, BodyProblems, CommandHeaders, CommandProblems, MinPosition, MinPositionHeader,
    NotFound, ProviderReply, ReadProblems,
};
use crate::state::AppState;

/// `GET /v1/providers`: the built-in defaults, replaced or joined by registered ones.
#[utoipa::path(
    get, path = "/v1/providers", tag = "providers", operation_id = "listProviders",
    summary = "The simulated providers",
    description = "The built-in defaults, replaced or joined by registered ones, with this \
process's faults and sim speed, and their live droplets.",
    params(MinPosition, MinPositionHeader),
    responses(
        (status = 200, description = "The providers, by name.", body = Listed<ProviderListItem>),
        ReadProblems,
    )
)]
pub async fn list(
    state: AppState,
    meta: RequestMeta,
    params: Params,
) -> Result<Response, ApiError> {
    read_your_writes(&state, &meta, &params).await?;
    let mut views: BTreeMap<String, ProviderView> = default_specs()
        .iter()
        .map(|spec| (spec.name.to_string(), ProviderView::from_spec(spec, 0)))
        .collect();
    for view in state.read.providers().await? {
        views.insert(view.name.clone(), view);
    }
    let mut usage = usage(&state.read.billable_droplets(None).await?);
    let speed = state.providers.speed().factor();
    let items: Vec<ProviderListItem> = views
        .into_values()
        .map(|view| ProviderListItem {
            faults: state.providers.get(&view.name).ok().map(|p| p.faults()),
            sim_speed: speed,
            usage: usage.remove(&view.name).unwrap_or_default(),
            prices: prices(&view.sizes, view.price_multiplier),
            view,
        })
        .collect();
    let total = items.len();
    ok(&Listed { items, total })
}

/// `GET /v1/catalog`: the catalog's regions, sizes with their list prices, and images.
#[utoipa::path(
    get, path = "/v1/catalog", tag = "providers", operation_id = "getCatalog",
    summary = "Regions, sizes with their list prices, and images",
    description = "What a droplet can be made of, in catalog order. A provider offers a \
subset of the regions and sizes (`GET /v1/providers`) and charges the list price times its \
`price_multiplier` (its `prices`). The catalog is fixed: it changes only with a new version.",
    responses(
        (status = 200, description = "The catalog.", body = Catalog),
    )
)]
pub async fn catalog() -> Result<Response, ApiError> {
    ok(&Catalog::current())
}

fn usage(droplets: &[DropletView]) -> BTreeMap<String, Usage> {
    let mut usage: BTreeMap<String, Usage> = BTreeMap::new();
    for droplet in droplets {
        let Some(provider) = &droplet.provider else {
            continue;
        };
        let entry = usage.entry(provider.clone()).or_default();
        entry.live_droplets += 1;
        *entry.by_region.entry(droplet.region.clone()).or_default() += 1;
    }
    usage
}

/// `POST /v1/providers`: registers a provider or replaces its configuration (`201` when
/// new, `200` otherwise); `faults`, if given, are injected into this process only.
#[utoipa::path(
    post, path = "/v1/providers", tag = "providers", operation_id = "registerProvider",
    summary = "Register a provider or replace its configuration",
    description = "`201` when new, `200` otherwise. `faults`, if given, are injected into \
this process only (not recorded).",
    params(CommandHeaders),
    request_body = RegisterProviderBody,
    responses(
        (status = 200, response = ProviderReply),
        (status = 201, response = ProviderReply),
        CommandProblems,
        BodyProblems,
    )
)]
pub async fn register(
    state: AppState,
    meta: RequestMeta,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: RegisterProviderBody = parse(&body)?;
    if let Some(faults) = &input.faults {
        faults.validate().map_err(provider_error)?;
    }
    let command = RegisterProvider::parse(ProviderInput {
        name: input.name,
        display_name: input.display_name,
        regions: input.regions,
        sizes: input.sizes,
        price_multiplier: input.price_multiplier,
        capacity_per_region: input.capacity_per_region,
        latency: input.latency.as_ref().map(|l| l.latency()),
    })?;
    let ctx = meta.context(&body);
    let executed = execute(&state, &meta, &ctx, Guard::Open, &command).await?;
    // The follower applies the event too; applying now makes the provider usable by
    // this process as soon as the answer is out.
    if let Reply::Fresh { .. } = &executed.reply {
        state.providers.apply(command.spec.clone());
    }
    if let Some(faults) = input.faults {
        state
            .providers
            .set_faults(command.spec.name.as_str(), faults)
            .map_err(provider_error)?;
    }
    executed.respond()
}

/// The faults answer: the provider, its faults and the sim speed.
fn faults_reply(provider: &SimulatedProvider) -> Result<Response, ApiError> {
    ok(&ProviderFaults::new(
        provider_name(provider),
        provider.faults(),
        provider.speed().factor(),
    ))
}

fn provider_name(provider: &SimulatedProvider) -> String {
    use engine::provider::Provider as _;
    provider.name().to_string()
}

/// `GET /v1/admin/providers/{name}/faults`.
#[utoipa::path(
    get, path = "/v1/admin/providers/{name}/faults", tag = "providers", operation_id = "getProviderFaults",
    summary = "The faults injected into a provider in this process",
    params(("name" = String, Path, description = "The provider's name.")),
    responses(
        (status = 200, description = "Its faults and sim speed.", body = ProviderFaults),
        (status = 404, response = NotFound),
    )
)]
pub async fn get_faults(state: AppState, name: String) -> Result<Response, ApiError> {
    let provider = state.providers.get(&name).map_err(provider_error)?;
    faults_reply(&provider)
}

/// `PUT /v1/admin/providers/{name}/faults`: replaces this process's injected faults
/// (omitted fields are 0 / false).
#[utoipa::path(
    put, path = "/v1/admin/providers/{name}/faults", tag = "providers", operation_id = "putProviderFaults",
    summary = "Inject faults into a provider in this process (chaos)",
    description = "Replaces the provider's faults in this process; omitted fields are 0 or \
false. Not recorded as events.",
    params(("name" = String, Path, description = "The provider's name.")),
    request_body = Faults,
    responses(
        (status = 200, description = "Its faults and sim speed.", body = ProviderFaults),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        BodyProblems,
    )
)]
pub async fn put_faults(state: AppState, name: String, body: Bytes) -> Result<Response, ApiError> {
    let faults: Faults = parse(&body)?;
    let provider = state.providers.get(&name).map_err(provider_error)?;
    provider.set_faults(faults).map_err(provider_error)?;
    tracing::info!(provider = %name, ?faults, "provider faults set");
    faults_reply(&provider)
}

/// `GET /v1/clusters/{id}/billing`.
#[utoipa::path(
    get, path = "/v1/clusters/{id}/billing", tag = "providers", operation_id = "getClusterBilling",
    summary = "What a cluster's droplets cost",
    params(("id" = String, Path, description = "The cluster id."), MinPosition, MinPositionHeader),
    responses(
        (status = 200, description = "The cluster's costs, in total and by provider (USD).", body = Billing),
        (status = 404, response = NotFound),
        ReadProblems,
    )
)]
pub async fn billing(
    state: AppState,
    id: String,
    meta: RequestMeta,
    params: Params,
) -> Result<Response, ApiError> {
    read_your_writes(&state, &meta, &params).await?;
    if state.read.cluster(&id).await?.is_none() {
        return Err(not_found("cluster", &id));
    }
    let droplets = state.read.billable_droplets(Some(&id)).await?;
    ok(&bill(&id, &droplets, &state.providers))
}

/// `GET /v1/billing`: the fleet's costs, priced from the read model's counts of billed
/// droplets per provider, region and size (never a sum over the droplets).
#[utoipa::path(
    get, path = "/v1/billing", tag = "providers", operation_id = "getFleetBilling",
    summary = "What every droplet of the fleet costs",
    description = "The same rule as a cluster's bill (droplets neither destroyed nor failed, \
at their providers' current prices), over every cluster: in total, by provider and by \
region. Read from counts kept per provider, region and size, so it costs the same for any \
number of droplets. `position` is the log position of the last event that changed a count.",
    params(MinPosition, MinPositionHeader),
    responses(
        (status = 200, description = "The fleet's costs, in total, by provider and by region (USD).", body = FleetBilling),
        ReadProblems,
    )
)]
pub async fn fleet_billing(
    state: AppState,
    meta: RequestMeta,
    params: Params,
) -> Result<Response, ApiError> {
    read_your_writes(&state, &meta, &params).await?;
    let (counts, position) = state.read.billing_totals().await?;
    let groups = counts.iter().map(|(group, count)| (group, *count));
    ok(&bill_fleet(groups, position, &state.providers))
}

/// A provider error as a problem: unknown provider 404, a bad fault setting 422.
fn provider_error(error: ProviderError) -> ApiError {
    match error {
        ProviderError::UnknownProvider { name } => not_found("provider", &name),
        ProviderError::InvalidFaults { field, message } => {
            ApiError::invalid_field(format!("faults.{field}"), message)
        }
        other => ApiError::Conflict(other.to_string()),
    }
}
