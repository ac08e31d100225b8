//! Billing of a cluster: what its droplets cost per hour and per month at their
//! providers' prices.
//!
//! Counted: droplets that are neither `destroyed` nor `failed` (a failed provisioning never
//! ran). A droplet still `provisioning` has no provider yet: it counts under the provider
//! it asked for, else the region's default one ([`ProviderName::default_for`]), at that
//! provider's price. A provider unknown to this process (none should be) is billed at the
//! catalog list price.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Providers;
use crate::domain::catalog::HOURS_PER_MONTH;
use crate::domain::values::{ProviderName, Region, Size};
use crate::views::DropletView;

/// The cost of one provider's share.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProviderCost {
    pub droplet_count: usize,
    pub hourly_cost: f64,
    pub monthly_cost: f64,
}

/// `GET /v1/clusters/{id}/billing`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Billing {
    pub cluster_id: String,
    pub droplet_count: usize,
    /// USD per hour.
    pub hourly_cost: f64,
    /// USD per month (hourly x 720).
    pub monthly_cost: f64,
    pub by_provider: BTreeMap<String, ProviderCost>,
}

/// Bills `droplets` (the cluster's, as the read model shows them) at `providers`' prices.
pub fn bill(cluster_id: &str, droplets: &[DropletView], providers: &Providers) -> Billing {
    let mut billing = Billing {
        cluster_id: cluster_id.to_owned(),
        ..Billing::default()
    };
    for droplet in droplets
        .iter()
        .filter(|d| !matches!(d.status.as_str(), "destroyed" | "failed"))
    {
        let (Ok(size), Ok(region)) = (Size::parse(&droplet.size), Region::parse(&droplet.region))
        else {
            continue;
        };
        let provider = droplet
            .provider
            .clone()
            .unwrap_or_else(|| ProviderName::default_for(&region).to_string());
        let hourly = providers
            .get(&provider)
            .map_or(size.info().price_hourly(), |p| p.spec().price_hourly(&size));
        let share = billing.by_provider.entry(provider).or_default();
        share.droplet_count += 1;
        share.hourly_cost += hourly;
        billing.droplet_count += 1;
        billing.hourly_cost += hourly;
    }
    for share in billing.by_provider.values_mut() {
        share.monthly_cost = cents(share.hourly_cost * HOURS_PER_MONTH);
        share.hourly_cost = micro(share.hourly_cost);
    }
    billing.monthly_cost = cents(billing.hourly_cost * HOURS_PER_MONTH);
    billing.hourly_cost = micro(billing.hourly_cost);
    billing
}

/// Rounded to a millionth of a dollar (hourly prices are fractions of a cent).
fn micro(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

/// Rounded to a cent.
fn cents(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}
