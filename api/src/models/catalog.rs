//! `GET /v1/catalog` and the prices of `GET /v1/providers`: what a droplet can be made of
//! and what it costs, from the engine's catalog (PRODUCT.md, "Catalog").

use engine::domain::catalog::{self, HOURS_PER_MONTH};
use engine::domain::{Image, Region, Size, SizeClass};
use serde::Serialize;
use utoipa::ToSchema;

use crate::schemas::openapi::common::domain;

/// `GET /v1/catalog`: every region, size and image, in catalog order.
#[derive(Debug, Serialize, ToSchema)]
pub struct Catalog {
    pub regions: Vec<CatalogRegion>,
    pub sizes: Vec<CatalogSize>,
    pub images: Vec<CatalogImage>,
    /// Hours in a billing month: an hourly price is the monthly one divided by this.
    pub hours_per_month: u32,
}

/// A data-centre region.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogRegion {
    #[schema(schema_with = domain::<Region>)]
    pub id: String,
    /// For people, e.g. `New York 1`.
    pub name: String,
}

/// A droplet size and its list price (before a provider's `price_multiplier`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogSize {
    #[schema(schema_with = domain::<Size>)]
    pub slug: String,
    pub vcpus: u32,
    pub memory_gb: u32,
    pub class: SizeKind,
    /// USD per month.
    pub price_monthly: f64,
    /// USD per hour: monthly / `hours_per_month`, to a millionth.
    pub price_hourly: f64,
}

/// The class of a size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SizeKind {
    /// General purpose (shared CPU).
    General,
    /// CPU optimized.
    CpuOptimized,
    /// Memory optimized.
    MemoryOptimized,
}

impl From<SizeClass> for SizeKind {
    fn from(class: SizeClass) -> Self {
        match class {
            SizeClass::General => Self::General,
            SizeClass::CpuOptimized => Self::CpuOptimized,
            SizeClass::MemoryOptimized => Self::MemoryOptimized,
        }
    }
}

/// An operating-system image.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogImage {
    #[schema(schema_with = domain::<Image>)]
    pub slug: String,
    /// For people, e.g. `Ubuntu 22.04 x64`.
    pub name: String,
}

/// What a provider charges for a size: the list price times its `price_multiplier`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SizePrice {
    #[schema(schema_with = domain::<Size>)]
    pub size: String,
    /// USD per month, to the cent.
    pub price_monthly: f64,
    /// USD per hour (monthly / 720), to a millionth.
    pub price_hourly: f64,
}

impl Catalog {
    /// The engine's catalog.
    pub fn current() -> Self {
        Self {
            regions: catalog::regions()
                .iter()
                .map(|r| CatalogRegion {
                    id: r.id.to_owned(),
                    name: r.name.to_owned(),
                })
                .collect(),
            sizes: catalog::sizes()
                .iter()
                .map(|s| CatalogSize {
                    slug: s.slug.to_owned(),
                    vcpus: s.vcpus,
                    memory_gb: s.memory_gb,
                    class: s.class.into(),
                    price_monthly: cents(s.price_monthly),
                    price_hourly: micro(s.price_hourly()),
                })
                .collect(),
            images: catalog::images()
                .iter()
                .map(|i| CatalogImage {
                    slug: i.slug.to_owned(),
                    name: i.name.to_owned(),
                })
                .collect(),
            // 720 exactly: the cast cannot truncate.
            hours_per_month: HOURS_PER_MONTH as u32,
        }
    }
}

/// A provider's prices for `sizes` (its own, in its order) at `multiplier`; a slug the
/// catalog does not know (none should reach here) is left out.
pub fn prices(sizes: &[String], multiplier: f64) -> Vec<SizePrice> {
    sizes
        .iter()
        .filter_map(|slug| catalog::size(slug))
        .map(|s| {
            let monthly = s.price_monthly * multiplier;
            SizePrice {
                size: s.slug.to_owned(),
                price_monthly: cents(monthly),
                price_hourly: micro(monthly / HOURS_PER_MONTH),
            }
        })
        .collect()
}

/// Rounded to a cent.
fn cents(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// Rounded to a millionth of a dollar (hourly prices are fractions of a cent).
fn micro(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_is_the_engines() {
        // Given the engine's catalog, when it is published,
        let published = Catalog::current();
        // then every region, size and image is there, in order, with its list price.
        assert_eq!(published.regions.len(), catalog::regions().len());
        assert_eq!(published.images.len(), catalog::images().len());
        let first = &published.sizes[0];
        assert_eq!(
            (first.slug.as_str(), first.vcpus, first.memory_gb),
            ("s-1vcpu-1gb", 1, 1)
        );
        assert_eq!((first.price_monthly, first.price_hourly), (6.0, 0.008333));
        assert_eq!(published.hours_per_month, 720);
    }

    #[test]
    fn a_providers_price_is_the_list_price_times_its_multiplier() {
        // Given a provider at 1.15 offering two sizes (and a slug nobody knows),
        let sizes = [
            "c-2".to_owned(),
            "x-99".to_owned(),
            "s-1vcpu-1gb".to_owned(),
        ];
        // when its prices are listed,
        let listed = prices(&sizes, 1.15);
        // then each known size costs its list price times 1.15, rounded, in its order.
        assert_eq!(
            listed,
            [
                SizePrice {
                    size: "c-2".into(),
                    price_monthly: 48.3,
                    price_hourly: 0.067083,
                },
                SizePrice {
                    size: "s-1vcpu-1gb".into(),
                    price_monthly: 6.9,
                    price_hourly: 0.009583,
                },
            ]
        );
    }
}
