//! The providers that exist when nothing is configured: the catalog's three (`simcloud`,
//! `nimbus`, `stratus`, see PRODUCT.md "Catalog" and [`crate::domain::catalog`]), with the
//! simulation settings below. Registering one of these names replaces its defaults.

use crate::domain::catalog::{self, SizeClass};
use crate::domain::values::{ProviderId, Region, Size};
use crate::domain::{Latency, ProviderSpec};

/// The default configurations, in name order.
///
/// | name | regions | sizes | price | capacity/region | provision / resize / power / destroy |
/// |---|---|---|---|---|---|
/// | `nimbus` | nyc1 nyc3 sfo3 lon1 fra1 sgp1 | all 7 | x1.15 | 20 | 6 s / 4 s / 1.5 s / 2.5 s |
/// | `simcloud` | all 11 | all 7 | x1.0 | 50 | 4 s / 3 s / 1 s / 2 s |
/// | `stratus` | nyc2 sfo2 tor1 blr1 fra1 | general purpose (5) | x0.9 | 10 | 3 s / 2.5 s / 0.8 s / 1.5 s |
pub fn default_specs() -> Vec<ProviderSpec> {
    let mut specs: Vec<ProviderSpec> = catalog::providers()
        .iter()
        .map(|p| {
            let (capacity, latency, general_only) = match p.name {
                "nimbus" => (20, latency(6_000, 4_000, 1_500, 2_500), false),
                "stratus" => (10, latency(3_000, 2_500, 800, 1_500), true),
                _ => (50, Latency::default(), false),
            };
            ProviderSpec {
                name: ProviderId::parse(p.name).expect("catalog provider names are valid"),
                display_name: p.display_name.to_owned(),
                regions: p
                    .regions
                    .iter()
                    .filter_map(|r| Region::parse(r).ok())
                    .collect(),
                sizes: catalog::sizes()
                    .iter()
                    .filter(|s| !general_only || s.class == SizeClass::General)
                    .filter_map(|s| Size::parse(s.slug).ok())
                    .collect(),
                price_multiplier: p.price_multiplier,
                capacity_per_region: capacity,
                latency,
            }
        })
        .collect();
    specs.sort_by(|a, b| a.name.cmp(&b.name));
    specs
}

fn latency(provision_ms: u64, resize_ms: u64, power_ms: u64, destroy_ms: u64) -> Latency {
    Latency {
        provision_ms,
        resize_ms,
        power_ms,
        destroy_ms,
    }
}
