//! Billing: what droplets cost per hour and per month at their providers' prices, for one
//! cluster or for the whole fleet.
//!
//! Counted: droplets that are neither `destroyed` nor `failed` (a failed provisioning never
//! ran). A droplet still `provisioning` has no provider yet: it counts under the provider
//! it asked for, else the region's default one ([`ProviderName::default_for`]), at that
//! provider's price. A provider unknown to this process (none should be) is billed at the
//! catalog list price.
//!
//! Droplets are counted by what they are billed as ([`BilledAs`]: provider, region, size)
//! and each group is priced once, count times price: a cluster's bill groups its droplets
//! so, and the fleet's bill is priced from the read model's counts per group, so its cost
//! does not grow with the number of droplets.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Providers;
use crate::domain::catalog::HOURS_PER_MONTH;
use crate::domain::values::{ProviderName, Region, Size};
use crate::domain::Droplet;
use crate::views::DropletView;

/// The cost of one provider's (or region's) share.
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

/// `GET /v1/billing`: every billed droplet of the fleet.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FleetBilling {
    pub droplet_count: usize,
    /// USD per hour.
    pub hourly_cost: f64,
    /// USD per month (hourly x 720).
    pub monthly_cost: f64,
    pub by_provider: BTreeMap<String, ProviderCost>,
    /// Each region's share (the same shape as a provider's).
    pub by_region: BTreeMap<String, ProviderCost>,
    /// The log position of the last event that changed these counts (0: none yet).
    pub position: i64,
}

/// What a billed droplet is counted as: its provider, region and size.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BilledAs {
    pub provider: String,
    pub region: String,
    pub size: String,
}

impl BilledAs {
    /// What `droplet` is billed as, or `None` when it is not billed (never requested,
    /// destroyed, failed).
    pub fn of(droplet: &Droplet) -> Option<Self> {
        let (Some(region), Some(size)) = (&droplet.region, &droplet.size) else {
            return None;
        };
        Self::from_parts(
            droplet.status.as_str(),
            droplet.provider.as_ref().map(ProviderName::as_str),
            region.as_str(),
            size.as_str(),
        )
    }

    /// [`BilledAs::of`] a droplet as the read model shows it.
    pub fn of_view(droplet: &DropletView) -> Option<Self> {
        Self::from_parts(
            &droplet.status,
            droplet.provider.as_deref(),
            &droplet.region,
            &droplet.size,
        )
    }

    fn from_parts(status: &str, provider: Option<&str>, region: &str, size: &str) -> Option<Self> {
        if matches!(status, "destroyed" | "failed") {
            return None;
        }
        let (Ok(size), Ok(region)) = (Size::parse(size), Region::parse(region)) else {
            return None;
        };
        let provider = provider.map_or_else(
            || ProviderName::default_for(&region).to_string(),
            str::to_owned,
        );
        Some(Self {
            provider,
            region: region.as_str().to_owned(),
            size: size.as_str().to_owned(),
        })
    }

    /// USD per hour of one such droplet at `providers`' prices (`None`: an unknown size).
    pub fn hourly(&self, providers: &Providers) -> Option<f64> {
        let size = Size::parse(&self.size).ok()?;
        Some(
            providers
                .get(&self.provider)
                .map_or(size.info().price_hourly(), |p| p.spec().price_hourly(&size)),
        )
    }
}

/// Sums of droplets and hourly cost, rounded once at the end.
#[derive(Default)]
struct Tally {
    droplets: usize,
    hourly: f64,
}

impl Tally {
    fn add(&mut self, count: usize, hourly: f64) {
        self.droplets += count;
        self.hourly += hourly;
    }

    fn cost(&self) -> ProviderCost {
        ProviderCost {
            droplet_count: self.droplets,
            hourly_cost: micro(self.hourly),
            monthly_cost: cents(self.hourly * HOURS_PER_MONTH),
        }
    }
}

/// Groups priced: in total, by provider, by region.
#[derive(Default)]
struct Priced {
    total: Tally,
    by_provider: BTreeMap<String, Tally>,
    by_region: BTreeMap<String, Tally>,
}

fn price<'a>(
    groups: impl IntoIterator<Item = (&'a BilledAs, usize)>,
    providers: &Providers,
) -> Priced {
    let mut priced = Priced::default();
    for (group, count) in groups {
        let Some(each) = group.hourly(providers).filter(|_| count > 0) else {
            continue;
        };
        let hourly = each * count as f64;
        priced.total.add(count, hourly);
        let provider = priced.by_provider.entry(group.provider.clone());
        provider.or_default().add(count, hourly);
        let region = priced.by_region.entry(group.region.clone());
        region.or_default().add(count, hourly);
    }
    priced
}

fn costs(tallies: &BTreeMap<String, Tally>) -> BTreeMap<String, ProviderCost> {
    tallies.iter().map(|(k, t)| (k.clone(), t.cost())).collect()
}

/// Bills `droplets` (the cluster's, as the read model shows them) at `providers`' prices.
pub fn bill(cluster_id: &str, droplets: &[DropletView], providers: &Providers) -> Billing {
    let mut groups: BTreeMap<BilledAs, usize> = BTreeMap::new();
    for billed in droplets.iter().filter_map(BilledAs::of_view) {
        *groups.entry(billed).or_default() += 1;
    }
    let priced = price(groups.iter().map(|(g, n)| (g, *n)), providers);
    let total = priced.total.cost();
    Billing {
        cluster_id: cluster_id.to_owned(),
        droplet_count: total.droplet_count,
        hourly_cost: total.hourly_cost,
        monthly_cost: total.monthly_cost,
        by_provider: costs(&priced.by_provider),
    }
}

/// Bills the fleet from its droplet counts per group (as of log `position`) at
/// `providers`' prices.
pub fn bill_fleet<'a>(
    groups: impl IntoIterator<Item = (&'a BilledAs, usize)>,
    position: i64,
    providers: &Providers,
) -> FleetBilling {
    let priced = price(groups, providers);
    let total = priced.total.cost();
    FleetBilling {
        droplet_count: total.droplet_count,
        hourly_cost: total.hourly_cost,
        monthly_cost: total.monthly_cost,
        by_provider: costs(&priced.by_provider),
        by_region: costs(&priced.by_region),
        position,
    }
}

/// Rounded to a millionth of a dollar (hourly prices are fractions of a cent).
fn micro(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

/// Rounded to a cent.
fn cents(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}
