//! The static seed catalog: regions, droplet sizes, images and the simulated providers.
//!
//! The data is the seed system's (see PRODUCT.md, "Catalog"); the ids are what the API
//! accepts. Everything here is immutable and `'static`, so lookups hand out plain references.

use serde::Serialize;

/// Hours in a billing month: hourly price = monthly price / 720.
pub const HOURS_PER_MONTH: f64 = 720.0;

/// A data-centre region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RegionInfo {
    /// The id the API accepts, e.g. `nyc1`.
    pub id: &'static str,
    /// Human readable name, e.g. `New York 1`.
    pub name: &'static str,
}

/// The class of a droplet size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeClass {
    /// General purpose (shared CPU).
    General,
    /// CPU optimised.
    CpuOptimized,
    /// Memory optimised.
    MemoryOptimized,
}

/// A droplet size with its list price.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SizeInfo {
    /// The slug the API accepts, e.g. `s-1vcpu-1gb`.
    pub slug: &'static str,
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Memory in GB.
    pub memory_gb: u32,
    /// List price per month in USD (before any provider multiplier).
    pub price_monthly: f64,
    /// Size class.
    pub class: SizeClass,
}

impl SizeInfo {
    /// List price per hour in USD: monthly / 720.
    pub fn price_hourly(&self) -> f64 {
        self.price_monthly / HOURS_PER_MONTH
    }
}

/// An operating-system image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImageInfo {
    /// The slug the API accepts, e.g. `ubuntu-22-04-x64`.
    pub slug: &'static str,
    /// Human readable name.
    pub name: &'static str,
}

/// A simulated cloud provider.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProviderInfo {
    /// The name the API accepts, e.g. `simcloud`.
    pub name: &'static str,
    /// Human readable name.
    pub display_name: &'static str,
    /// Multiplier applied to the list prices of [`SizeInfo`].
    pub price_multiplier: f64,
    /// Ids of the regions this provider offers.
    pub regions: &'static [&'static str],
}

impl ProviderInfo {
    /// Whether this provider offers `region` (a region id).
    pub fn offers(&self, region: impl AsRef<str>) -> bool {
        let region = region.as_ref();
        self.regions.contains(&region)
    }

    /// This provider's hourly price for `size`, in USD.
    pub fn price_hourly(&self, size: &SizeInfo) -> f64 {
        size.price_hourly() * self.price_multiplier
    }

    /// This provider's monthly price for `size`, in USD.
    pub fn price_monthly(&self, size: &SizeInfo) -> f64 {
        size.price_monthly * self.price_multiplier
    }
}

static REGIONS: [RegionInfo; 11] = [
    RegionInfo {
        id: "nyc1",
        name: "New York 1",
    },
    RegionInfo {
        id: "nyc2",
        name: "New York 2",
    },
    RegionInfo {
        id: "nyc3",
        name: "New York 3",
    },
    RegionInfo {
        id: "sfo1",
        name: "San Francisco 1",
    },
    RegionInfo {
        id: "sfo2",
        name: "San Francisco 2",
    },
    RegionInfo {
        id: "sfo3",
        name: "San Francisco 3",
    },
    RegionInfo {
        id: "lon1",
        name: "London 1",
    },
    RegionInfo {
        id: "fra1",
        name: "Frankfurt 1",
    },
    RegionInfo {
        id: "tor1",
        name: "Toronto 1",
    },
    RegionInfo {
        id: "blr1",
        name: "Bangalore 1",
    },
    RegionInfo {
        id: "sgp1",
        name: "Singapore 1",
    },
];

const fn size_entry(
    slug: &'static str,
    vcpus: u32,
    memory_gb: u32,
    price_monthly: f64,
    class: SizeClass,
) -> SizeInfo {
    SizeInfo {
        slug,
        vcpus,
        memory_gb,
        price_monthly,
        class,
    }
}

/// The size a droplet gets when none is named (a scale-up's, a recommended new droplet's).
pub const DEFAULT_SIZE: &str = "s-1vcpu-1gb";
/// The image a droplet gets when none is named.
pub const DEFAULT_IMAGE: &str = "ubuntu-22-04-x64";

static SIZES: [SizeInfo; 7] = [
    size_entry("s-1vcpu-1gb", 1, 1, 6.0, SizeClass::General),
    size_entry("s-1vcpu-2gb", 1, 2, 12.0, SizeClass::General),
    size_entry("s-2vcpu-2gb", 2, 2, 18.0, SizeClass::General),
    size_entry("s-2vcpu-4gb", 2, 4, 24.0, SizeClass::General),
    size_entry("s-4vcpu-8gb", 4, 8, 48.0, SizeClass::General),
    size_entry("c-2", 2, 4, 42.0, SizeClass::CpuOptimized),
    size_entry("m-1vcpu-8gb", 1, 8, 48.0, SizeClass::MemoryOptimized),
];

static IMAGES: [ImageInfo; 6] = [
    ImageInfo {
        slug: "ubuntu-22-04-x64",
        name: "Ubuntu 22.04 x64",
    },
    ImageInfo {
        slug: "ubuntu-20-04-x64",
        name: "Ubuntu 20.04 x64",
    },
    ImageInfo {
        slug: "centos-7-x64",
        name: "CentOS 7 x64",
    },
    ImageInfo {
        slug: "debian-11-x64",
        name: "Debian 11 x64",
    },
    ImageInfo {
        slug: "fedora-36-x64",
        name: "Fedora 36 x64",
    },
    ImageInfo {
        slug: "rocky-8-x64",
        name: "Rocky Linux 8 x64",
    },
];

static PROVIDERS: [ProviderInfo; 3] = [
    ProviderInfo {
        name: "simcloud",
        display_name: "SimCloud",
        price_multiplier: 1.0,
        regions: &[
            "nyc1", "nyc2", "nyc3", "sfo1", "sfo2", "sfo3", "lon1", "fra1", "tor1", "blr1", "sgp1",
        ],
    },
    ProviderInfo {
        name: "nimbus",
        display_name: "Nimbus",
        price_multiplier: 1.15,
        regions: &["nyc1", "nyc3", "sfo3", "lon1", "fra1", "sgp1"],
    },
    ProviderInfo {
        name: "stratus",
        display_name: "Stratus",
        price_multiplier: 0.9,
        regions: &["nyc2", "sfo2", "tor1", "blr1", "fra1"],
    },
];

/// All regions, in catalog order.
pub fn regions() -> &'static [RegionInfo] {
    &REGIONS
}

/// All sizes, in catalog order.
pub fn sizes() -> &'static [SizeInfo] {
    &SIZES
}

/// All images, in catalog order.
pub fn images() -> &'static [ImageInfo] {
    &IMAGES
}

/// All simulated providers; `simcloud` first.
pub fn providers() -> &'static [ProviderInfo] {
    &PROVIDERS
}

/// The region with this id.
pub fn region(id: &str) -> Option<&'static RegionInfo> {
    REGIONS.iter().find(|r| r.id == id)
}

/// The size with this slug.
pub fn size(slug: &str) -> Option<&'static SizeInfo> {
    SIZES.iter().find(|s| s.slug == slug)
}

/// The image with this slug.
pub fn image(slug: &str) -> Option<&'static ImageInfo> {
    IMAGES.iter().find(|i| i.slug == slug)
}

/// The provider with this name.
pub fn provider(name: &str) -> Option<&'static ProviderInfo> {
    PROVIDERS.iter().find(|p| p.name == name)
}

/// The provider used when none is asked for: the first (simcloud first) that offers `region`.
///
/// `simcloud` offers every catalog region, so it is also the answer for an unknown region.
pub fn default_provider_for(region: impl AsRef<str>) -> &'static ProviderInfo {
    let region = region.as_ref();
    PROVIDERS
        .iter()
        .find(|p| p.offers(region))
        .unwrap_or(&PROVIDERS[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_counts_match_the_seed() {
        assert_eq!(regions().len(), 11);
        assert_eq!(sizes().len(), 7);
        assert_eq!(images().len(), 6);
        assert_eq!(providers().len(), 3);
        assert_eq!(providers()[0].name, "simcloud");
    }

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<_> = regions().iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 11);
        let mut slugs: Vec<_> = sizes().iter().map(|s| s.slug).collect();
        slugs.sort_unstable();
        slugs.dedup();
        assert_eq!(slugs.len(), 7);
    }

    #[test]
    fn hourly_price_is_monthly_over_720() {
        for s in sizes() {
            assert!((s.price_hourly() - s.price_monthly / 720.0).abs() < 1e-12);
        }
        let small = size("s-1vcpu-1gb").expect("seed size");
        assert!((small.price_hourly() - 6.0 / 720.0).abs() < 1e-12);
        assert_eq!(size("c-2").map(|s| s.class), Some(SizeClass::CpuOptimized));
        assert_eq!(
            size("m-1vcpu-8gb").map(|s| s.class),
            Some(SizeClass::MemoryOptimized)
        );
    }

    #[test]
    fn region_names_and_lookups() {
        assert_eq!(region("nyc1").map(|r| r.name), Some("New York 1"));
        assert_eq!(region("sfo2").map(|r| r.name), Some("San Francisco 2"));
        assert_eq!(region("blr1").map(|r| r.name), Some("Bangalore 1"));
        assert!(region("mars1").is_none());
        assert!(image("rocky-8-x64").is_some());
        assert!(image("windows").is_none());
        assert!(provider("nimbus").is_some());
        assert!(provider("aws").is_none());
    }

    #[test]
    fn providers_offer_their_regions_only() {
        let simcloud = provider("simcloud").expect("seed provider");
        assert!(regions().iter().all(|r| simcloud.offers(r.id)));
        let nimbus = provider("nimbus").expect("seed provider");
        assert!(nimbus.offers("sgp1"));
        assert!(!nimbus.offers("nyc2"));
        let stratus = provider("stratus").expect("seed provider");
        assert!(stratus.offers("tor1"));
        assert!(!stratus.offers("lon1"));
        assert!((stratus.price_multiplier - 0.9).abs() < f64::EPSILON);
        // Every provider region is a catalog region.
        for p in providers() {
            assert!(p.regions.iter().all(|r| region(r).is_some()), "{}", p.name);
        }
    }

    #[test]
    fn provider_prices_apply_the_multiplier() {
        let nimbus = provider("nimbus").expect("seed provider");
        let size = size("s-4vcpu-8gb").expect("seed size");
        assert!((nimbus.price_monthly(size) - 48.0 * 1.15).abs() < 1e-9);
        assert!((nimbus.price_hourly(size) - 48.0 * 1.15 / 720.0).abs() < 1e-12);
    }

    #[test]
    fn default_provider_is_simcloud_for_every_region() {
        for r in regions() {
            assert_eq!(default_provider_for(r.id).name, "simcloud");
        }
        assert_eq!(default_provider_for("unknown").name, "simcloud");
    }

    #[test]
    fn catalog_serialises_for_the_api() {
        let json = serde_json::to_value(size("c-2")).expect("serialise");
        assert_eq!(json["class"], "cpu_optimized");
        assert_eq!(json["vcpus"], 2);
        let json = serde_json::to_value(provider("stratus")).expect("serialise");
        assert_eq!(json["name"], "stratus");
        assert_eq!(json["regions"][0], "nyc2");
    }
}
