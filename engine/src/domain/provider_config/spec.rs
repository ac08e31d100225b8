//! [`ProviderSpec`]: what one simulated provider offers and how fast it works.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::catalog::HOURS_PER_MONTH;
use crate::domain::values::{ProviderId, Region, Size, ValidationError};

/// Largest accepted price multiplier.
pub const MAX_PRICE_MULTIPLIER: f64 = 10.0;
/// Largest accepted capacity per region.
pub const MAX_CAPACITY: u32 = 100_000;
/// Largest accepted base latency of one operation (10 minutes).
pub const MAX_LATENCY_MS: u64 = 600_000;
/// Longest accepted display name.
const MAX_DISPLAY_NAME: usize = 100;

/// Base latencies of a provider's operations at sim speed 1, in milliseconds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, utoipa::ToSchema,
)]
pub struct Latency {
    /// Provisioning a droplet.
    pub provision_ms: u64,
    /// Resizing a droplet.
    pub resize_ms: u64,
    /// Powering a droplet off, on, or restarting it.
    pub power_ms: u64,
    /// Destroying a droplet.
    pub destroy_ms: u64,
}

impl Default for Latency {
    fn default() -> Self {
        Self {
            provision_ms: 4_000,
            resize_ms: 3_000,
            power_ms: 1_000,
            destroy_ms: 2_000,
        }
    }
}

/// The configuration of one simulated provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProviderSpec {
    /// The provider's name (its aggregate id).
    pub name: ProviderId,
    /// Human readable name.
    pub display_name: String,
    /// Catalog regions it offers (no duplicates).
    pub regions: Vec<Region>,
    /// Catalog sizes it offers (no duplicates).
    pub sizes: Vec<Size>,
    /// Multiplier over the catalog's list prices (0 < m <= 10).
    pub price_multiplier: f64,
    /// Live droplets it runs at most in each of its regions (1 to 100000).
    pub capacity_per_region: u32,
    /// Base latencies at sim speed 1.
    pub latency: Latency,
}

impl ProviderSpec {
    /// Every rule this configuration breaks (empty when valid).
    pub fn validate(&self) -> Vec<ValidationError> {
        let mut errors = Vec::new();
        let display = self.display_name.trim();
        if display.is_empty() || display.chars().count() > MAX_DISPLAY_NAME {
            errors.push(ValidationError::new(
                "display_name",
                format!("must be 1 to {MAX_DISPLAY_NAME} characters"),
            ));
        }
        check_list(&mut errors, "regions", &self.regions, "region");
        check_list(&mut errors, "sizes", &self.sizes, "size");
        let m = self.price_multiplier;
        if !(m.is_finite() && m > 0.0 && m <= MAX_PRICE_MULTIPLIER) {
            errors.push(ValidationError::new(
                "price_multiplier",
                format!("must be greater than 0 and at most {MAX_PRICE_MULTIPLIER}"),
            ));
        }
        if !(1..=MAX_CAPACITY).contains(&self.capacity_per_region) {
            errors.push(ValidationError::new(
                "capacity_per_region",
                format!("must be 1 to {MAX_CAPACITY}"),
            ));
        }
        let l = &self.latency;
        for (field, ms) in [
            ("latency.provision_ms", l.provision_ms),
            ("latency.resize_ms", l.resize_ms),
            ("latency.power_ms", l.power_ms),
            ("latency.destroy_ms", l.destroy_ms),
        ] {
            if ms > MAX_LATENCY_MS {
                errors.push(ValidationError::new(
                    field,
                    format!("must be at most {MAX_LATENCY_MS} ms"),
                ));
            }
        }
        errors
    }

    /// Whether it offers `region`.
    pub fn offers_region(&self, region: &Region) -> bool {
        self.regions.contains(region)
    }

    /// Whether it offers `size`.
    pub fn offers_size(&self, size: &Size) -> bool {
        self.sizes.contains(size)
    }

    /// Its monthly price for `size` in USD (list price times the multiplier).
    pub fn price_monthly(&self, size: &Size) -> f64 {
        size.info().price_monthly * self.price_multiplier
    }

    /// Its hourly price for `size` in USD: monthly / 720.
    pub fn price_hourly(&self, size: &Size) -> f64 {
        self.price_monthly(size) / HOURS_PER_MONTH
    }
}

fn check_list<T: PartialEq>(
    errors: &mut Vec<ValidationError>,
    field: &'static str,
    items: &[T],
    what: &str,
) {
    if items.is_empty() {
        errors.push(ValidationError::new(
            field,
            format!("must name at least one {what}"),
        ));
    } else if items
        .iter()
        .enumerate()
        .any(|(i, item)| items[..i].contains(item))
    {
        errors.push(ValidationError::new(
            field,
            format!("must not name a {what} twice"),
        ));
    }
}
