//! The [`Provider`] trait: what the droplet lifecycle needs from a cloud, and its types.

use async_trait::async_trait;
use serde::Serialize;

use super::{Instance, ProviderError};
use crate::domain::values::{ProviderId, Region, Size};
use crate::domain::PowerAction;

/// A droplet to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionRequest {
    /// Our droplet id (for the provider's records and logs).
    pub droplet_id: String,
    /// Where.
    pub region: Region,
    /// How big.
    pub size: Size,
}

/// A droplet the provider created.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provisioned {
    /// The provider that runs it.
    pub provider: ProviderId,
    /// The provider-side id, for later resize, power and destroy calls.
    pub resource_id: String,
    /// Its assigned private address.
    pub ip_address: String,
    /// What it costs per hour at this provider, in USD.
    pub price_hourly: f64,
}

/// What a provider would charge for a size in a region, and how much room it has there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quote {
    /// The provider.
    pub provider: ProviderId,
    /// The region.
    pub region: Region,
    /// The size.
    pub size: Size,
    /// USD per hour (monthly / 720).
    pub price_hourly: f64,
    /// USD per month.
    pub price_monthly: f64,
    /// Droplets it can still start in the region.
    pub available: u32,
}

/// A cloud provider, as the droplet lifecycle (placement, the executor's operations, the
/// live droplets followed from the log) uses it: all of it goes through this trait. Every
/// call may take (simulated) time; a failure says through [`ProviderError::is_retryable`]
/// whether to try again.
#[async_trait]
pub trait Provider: Send + Sync {
    /// The provider's name.
    fn name(&self) -> &ProviderId;

    /// Price and room for `size` in `region`, without creating anything. Fails when the
    /// region or size is not offered (never for a full region: `available` is then 0).
    fn quote(&self, region: &Region, size: &Size) -> Result<Quote, ProviderError>;

    /// Whether placement may pick it for `size` in `region` now: offered, up, with room.
    fn can_take(&self, region: &Region, size: &Size) -> bool;

    /// Whether it is down (every call would fail with [`ProviderError::Outage`]).
    fn is_down(&self) -> bool;

    /// The provider-side id of our droplet `droplet_id` (resources are named after our
    /// ids, so a repeated provision finds the droplet made before).
    fn resource_id_for(&self, droplet_id: &str) -> String;

    /// Takes note of a droplet our log says it runs, if it does not know it yet (so its
    /// capacity counts it, and operations on it find it). Answers whether it was unknown.
    fn adopt(&self, instance: Instance) -> bool;

    /// Forgets our droplet `droplet_id` (the log says it was destroyed or moved away), if
    /// it still holds it. Answers whether it did.
    fn release(&self, droplet_id: &str) -> bool;

    /// Creates a droplet; answers its provider-side id and address.
    async fn provision(&self, request: &ProvisionRequest) -> Result<Provisioned, ProviderError>;

    /// Changes a droplet's size (the size must be offered; the region keeps its slot).
    async fn resize(&self, resource_id: &str, size: &Size) -> Result<(), ProviderError>;

    /// Powers a droplet off, on, or restarts it.
    async fn power(&self, resource_id: &str, action: PowerAction) -> Result<(), ProviderError>;

    /// Puts application version `app_version` (None: none) on a droplet: takes a power
    /// cycle's (simulated) time and fails as every operation does under injected faults.
    async fn deploy(
        &self,
        resource_id: &str,
        app_version: Option<&str>,
    ) -> Result<(), ProviderError>;

    /// Deletes a droplet and frees its slot. Destroying an unknown id is an
    /// [`ProviderError::UnknownResource`] error (callers treating destroy as idempotent
    /// may take it as done).
    async fn destroy(&self, resource_id: &str) -> Result<(), ProviderError>;
}
