//! [`ProviderOffer`]: what a cluster or droplet command needs to know of the provider it
//! names, resolved before `decide` so deciding stays a pure function of state and command.

use crate::domain::catalog;
use crate::domain::values::{ProviderName, Region};

use super::ProviderSpec;

/// A provider as a command names it: its name and the regions it offers now.
///
/// The command handler resolves it from the provider registry (a registered
/// configuration, else a built-in default) and hands it to `decide`, which checks that the
/// provider offers the region it is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderOffer {
    /// The provider.
    pub name: ProviderName,
    /// The regions it offers.
    pub regions: Vec<Region>,
}

impl ProviderOffer {
    /// A built-in provider as it is while no configuration of its name is registered (the
    /// catalog's regions); `None` for other names.
    pub fn builtin(name: &str) -> Option<Self> {
        let provider = catalog::provider(name)?;
        Some(Self {
            name: ProviderName::parse(provider.name).ok()?,
            regions: provider
                .regions
                .iter()
                .filter_map(|r| Region::parse(r).ok())
                .collect(),
        })
    }

    /// Whether the provider offers `region`.
    pub fn offers(&self, region: &Region) -> bool {
        self.regions.contains(region)
    }
}

impl From<&ProviderSpec> for ProviderOffer {
    fn from(spec: &ProviderSpec) -> Self {
        Self {
            name: ProviderName::from(&spec.name),
            regions: spec.regions.clone(),
        }
    }
}
