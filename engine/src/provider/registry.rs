//! [`Providers`]: the named simulated providers of this process, and placement.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use super::{default_specs, Faults, Provider, ProviderError, Quote, SimSpeed, SimulatedProvider};
use crate::domain::values::{ProviderId, Region, Size};
use crate::domain::ProviderSpec;

/// How the simulation runs: speed, seed, and faults injected from configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimOptions {
    /// Latencies are divided by it; 0 = no latency.
    pub speed: f64,
    /// The seed of every provider's randomness (mixed with its name).
    pub seed: u64,
    /// Faults per provider name, applied when that provider exists (now or once
    /// registered).
    pub faults: BTreeMap<String, Faults>,
}

/// What placement is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementRequest {
    /// The droplet's region.
    pub region: Region,
    /// The droplet's size.
    pub size: Size,
    /// Tried first when it can take the droplet.
    pub preferred: Option<ProviderId>,
    /// Never chosen.
    pub avoided: Vec<ProviderId>,
}

/// Where placement put a droplet.
#[derive(Clone)]
pub struct Placement {
    /// The chosen provider.
    pub provider: Arc<dyn Provider>,
    /// Its price and room.
    pub quote: Quote,
}

/// The named providers: the defaults, overridden or joined by registered ones.
pub struct Providers {
    speed: SimSpeed,
    seed: u64,
    map: RwLock<BTreeMap<ProviderId, Arc<SimulatedProvider>>>,
    configured_faults: BTreeMap<String, Faults>,
    /// Where the droplets' metric samples are read (the clouds' monitoring), once set.
    monitoring: RwLock<Option<Arc<dyn crate::metrics::MetricsStore>>>,
}

impl Providers {
    /// The default providers (see [`default_specs`]) at `speed` with `seed`.
    pub fn new(speed: SimSpeed, seed: u64) -> Self {
        let providers = Self {
            speed,
            seed,
            map: RwLock::default(),
            configured_faults: BTreeMap::new(),
            monitoring: RwLock::default(),
        };
        for spec in default_specs() {
            providers.apply(spec);
        }
        providers
    }

    /// The defaults with the speed, seed and faults of `options` (validated).
    pub fn from_options(options: &SimOptions) -> Result<Self, ProviderError> {
        let mut providers = Self::new(SimSpeed::new(options.speed)?, options.seed);
        for faults in options.faults.values() {
            faults.validate()?;
        }
        providers.configured_faults = options.faults.clone();
        for provider in providers.list() {
            if let Some(faults) = providers.configured_faults.get(provider.name().as_str()) {
                provider.set_faults(*faults)?;
            }
        }
        Ok(providers)
    }

    /// The sim speed.
    pub fn speed(&self) -> SimSpeed {
        self.speed
    }

    /// Sets where the droplets' metric samples are read (what deployment health gates
    /// judge); until set, gates judge droplet health alone.
    pub fn set_monitoring(&self, store: Arc<dyn crate::metrics::MetricsStore>) {
        *self.monitoring.write().unwrap_or_else(|p| p.into_inner()) = Some(store);
    }

    /// Where the droplets' metric samples are read, if set.
    pub fn monitoring(&self) -> Option<Arc<dyn crate::metrics::MetricsStore>> {
        self.monitoring
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Registers a provider or replaces its configuration (its droplets and faults stay).
    pub fn apply(&self, spec: ProviderSpec) {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = map.get(&spec.name) {
            existing.set_spec(spec);
            return;
        }
        let name = spec.name.clone();
        let provider = SimulatedProvider::new(spec, self.speed, mix(self.seed, name.as_str()));
        if let Some(faults) = self.configured_faults.get(name.as_str()) {
            // Validated in from_options.
            let _ = provider.set_faults(*faults);
        }
        map.insert(name, Arc::new(provider));
    }

    /// The provider named `name`.
    pub fn get(&self, name: &str) -> Result<Arc<SimulatedProvider>, ProviderError> {
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        map.iter()
            .find(|(id, _)| id.as_str() == name)
            .map(|(_, p)| Arc::clone(p))
            .ok_or_else(|| ProviderError::UnknownProvider {
                name: name.to_owned(),
            })
    }

    /// Every provider, in name order.
    pub fn list(&self) -> Vec<Arc<SimulatedProvider>> {
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        map.values().cloned().collect()
    }

    /// The provider named `name`, as the droplet lifecycle sees it: through the trait.
    pub fn provider(&self, name: &str) -> Result<Arc<dyn Provider>, ProviderError> {
        Ok(self.get(name)?)
    }

    /// Every provider through the trait, in name order.
    pub fn providers(&self) -> Vec<Arc<dyn Provider>> {
        self.list()
            .into_iter()
            .map(|p| p as Arc<dyn Provider>)
            .collect()
    }

    /// Sets the injected faults of `name`.
    pub fn set_faults(&self, name: &str, faults: Faults) -> Result<(), ProviderError> {
        self.get(name)?.set_faults(faults)
    }

    /// Chooses a provider for a droplet: the preferred one when it offers the region and
    /// size, is not in an outage and has room; else the cheapest such provider for that
    /// size (ties by name); never an avoided one. Fails with a retryable
    /// [`ProviderError::Outage`] when only providers in an outage could take it, with
    /// [`ProviderError::NoCapacity`] when those offering it are full, else with
    /// [`ProviderError::NoPlacement`].
    pub fn place(&self, request: &PlacementRequest) -> Result<Placement, ProviderError> {
        let candidates: Vec<Arc<dyn Provider>> = self
            .providers()
            .into_iter()
            .filter(|p| !request.avoided.contains(p.name()))
            .collect();
        let takes = |p: &Arc<dyn Provider>| p.can_take(&request.region, &request.size);
        let preferred = request
            .preferred
            .as_ref()
            .and_then(|name| candidates.iter().find(|p| p.name() == name))
            .filter(|p| takes(p));
        let chosen = preferred.cloned().or_else(|| {
            let mut open: Vec<(f64, Arc<dyn Provider>)> = candidates
                .iter()
                .filter(|p| takes(p))
                .filter_map(|p| {
                    let quote = p.quote(&request.region, &request.size).ok()?;
                    Some((quote.price_hourly, Arc::clone(p)))
                })
                .collect();
            open.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.name().cmp(b.1.name())));
            open.into_iter().next().map(|(_, p)| p)
        });
        match chosen {
            Some(provider) => {
                let quote = provider.quote(&request.region, &request.size)?;
                Ok(Placement { provider, quote })
            }
            None => Err(no_placement(&candidates, request)),
        }
    }
}

/// Why nothing could take the droplet: an outage (retryable) first, then a full region.
fn no_placement(candidates: &[Arc<dyn Provider>], request: &PlacementRequest) -> ProviderError {
    let offering: Vec<&Arc<dyn Provider>> = candidates
        .iter()
        .filter(|p| p.quote(&request.region, &request.size).is_ok())
        .collect();
    if let Some(down) = offering.iter().find(|p| p.is_down()) {
        return ProviderError::Outage {
            provider: down.name().clone(),
        };
    }
    match offering.first() {
        Some(full) => ProviderError::NoCapacity {
            provider: full.name().clone(),
            region: request.region,
        },
        None => ProviderError::NoPlacement {
            region: request.region,
            size: request.size,
        },
    }
}

/// A provider's seed: the process seed mixed with its name (FNV-1a), stable across runs
/// and platforms.
fn mix(seed: u64, name: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    seed ^ hash
}
