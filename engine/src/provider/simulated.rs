//! [`SimulatedProvider`]: a [`Provider`] that keeps its droplets in memory, takes
//! configured (and sim-speed scaled) time per operation, and fails as its injected
//! [`Faults`] say, deterministically for a given seed.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::SimSpeed;
use super::{Faults, Operation, Provider, ProviderError, ProvisionRequest, Provisioned, Quote};
use crate::domain::values::{ProviderId, Region, Size};
use crate::domain::{PowerAction, ProviderSpec};

/// One simulated droplet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Instance {
    /// Our droplet id.
    pub droplet_id: String,
    /// Its region.
    pub region: Region,
    /// Its size.
    pub size: Size,
    /// Whether it is powered on.
    pub powered_on: bool,
    /// Its address.
    pub ip_address: String,
}

/// What a simulated provider runs right now.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SimUsage {
    /// Live droplets this process's simulation created and has not destroyed.
    pub live_instances: usize,
    /// Live droplets per region (with provisions in flight).
    pub by_region: BTreeMap<String, u32>,
    /// Operations attempted since start (each draws once from the seeded RNG).
    pub operations: u64,
    /// Of those, how many failed (faults, outage, capacity, unsupported).
    pub failures: u64,
    /// Droplets created (a repeated provision of the same droplet is not counted).
    pub provisioned: u64,
}

struct Inner {
    spec: ProviderSpec,
    faults: Faults,
    rng: StdRng,
    issued: u64,
    provisioned: u64,
    live: BTreeMap<String, Instance>,
    /// How many of `live` are in each region (kept with it: placement asks per request).
    live_by_region: BTreeMap<Region, u32>,
    in_flight: BTreeMap<Region, u32>,
    operations: u64,
    failures: u64,
}

/// The dice of one operation, thrown before it starts.
struct Roll {
    delay: Duration,
    fails: bool,
}

/// A region slot held by a provision in flight; given back on release or drop.
struct InFlight<'a> {
    provider: &'a SimulatedProvider,
    /// None once released.
    region: Option<Region>,
}

impl<'a> InFlight<'a> {
    /// Gives the slot back and keeps the lock for what follows.
    fn release(&mut self) -> MutexGuard<'a, Inner> {
        let mut inner = self.provider.lock();
        if let Some(n) = self
            .region
            .take()
            .and_then(|region| inner.in_flight.get_mut(&region))
        {
            *n = n.saturating_sub(1);
        }
        inner
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.region.is_some() {
            drop(self.release());
        }
    }
}

/// A simulated provider (see the [module docs](super)).
pub struct SimulatedProvider {
    name: ProviderId,
    speed: SimSpeed,
    inner: Mutex<Inner>,
}

impl SimulatedProvider {
    /// A provider configured by `spec`, running at `speed`, whose randomness comes from
    /// `seed` (the same seed and the same calls give the same latencies, failures,
    /// resource ids and addresses).
    pub fn new(spec: ProviderSpec, speed: SimSpeed, seed: u64) -> Self {
        Self {
            name: spec.name.clone(),
            speed,
            inner: Mutex::new(Inner {
                spec,
                faults: Faults::NONE,
                rng: StdRng::seed_from_u64(seed),
                issued: 0,
                provisioned: 0,
                live: BTreeMap::new(),
                live_by_region: BTreeMap::new(),
                in_flight: BTreeMap::new(),
                operations: 0,
                failures: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The state stays consistent between statements, so a poisoned lock is usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current configuration.
    pub fn spec(&self) -> ProviderSpec {
        self.lock().spec.clone()
    }

    /// Replaces the configuration; droplets already running stay (even in a region no
    /// longer offered, until destroyed).
    pub fn set_spec(&self, spec: ProviderSpec) {
        self.lock().spec = spec;
    }

    /// The injected faults.
    pub fn faults(&self) -> Faults {
        self.lock().faults
    }

    /// Replaces the injected faults (validated).
    pub fn set_faults(&self, faults: Faults) -> Result<(), ProviderError> {
        faults.validate()?;
        self.lock().faults = faults;
        Ok(())
    }

    /// The sim-speed factor.
    pub fn speed(&self) -> SimSpeed {
        self.speed
    }

    /// What it runs now.
    pub fn usage(&self) -> SimUsage {
        let inner = self.lock();
        let mut by_region: BTreeMap<String, u32> = BTreeMap::new();
        for instance in inner.live.values() {
            *by_region.entry(instance.region.to_string()).or_default() += 1;
        }
        for (region, n) in &inner.in_flight {
            *by_region.entry(region.to_string()).or_default() += n;
        }
        SimUsage {
            live_instances: inner.live.len(),
            by_region,
            operations: inner.operations,
            failures: inner.failures,
            provisioned: inner.provisioned,
        }
    }

    /// A live droplet by its provider-side id.
    pub fn instance(&self, resource_id: &str) -> Option<Instance> {
        self.lock().live.get(resource_id).cloned()
    }

    /// Starts an operation: counts it, fails at once on an outage (or what `check`
    /// refuses), else throws the dice for its latency and failure.
    fn begin(
        &self,
        operation: Operation,
        check: impl FnOnce(&mut Inner) -> Result<(), ProviderError>,
    ) -> Result<Roll, ProviderError> {
        let mut inner = self.lock();
        inner.operations += 1;
        let base_ms = match operation {
            Operation::Provision => inner.spec.latency.provision_ms,
            Operation::Resize => inner.spec.latency.resize_ms,
            Operation::Power => inner.spec.latency.power_ms,
            Operation::Destroy => inner.spec.latency.destroy_ms,
            // Putting a version on a droplet restarts its application: a power cycle's time.
            Operation::Deploy => inner.spec.latency.power_ms,
        };
        // Two draws per operation whatever the faults: the sequence a seed gives does not
        // depend on how the faults are set.
        let spike_draw: f64 = inner.rng.gen();
        let fail_draw: f64 = inner.rng.gen();
        let faults = inner.faults;
        let checked = if faults.outage {
            Err(ProviderError::Outage {
                provider: self.name.clone(),
            })
        } else {
            check(&mut inner)
        };
        if let Err(error) = checked {
            inner.failures += 1;
            return Err(error);
        }
        let spike = if spike_draw < faults.spike_rate {
            faults.spike_ms
        } else {
            0
        };
        Ok(Roll {
            delay: self.speed.scale(base_ms.saturating_add(spike)),
            fails: fail_draw < faults.failure_rate,
        })
    }

    /// Ends an operation after its latency: an outage that began meanwhile or a failure
    /// the dice chose turns it into a retryable error.
    fn finish(
        &self,
        inner: &mut Inner,
        operation: Operation,
        roll: &Roll,
    ) -> Result<(), ProviderError> {
        let error = if inner.faults.outage {
            ProviderError::Outage {
                provider: self.name.clone(),
            }
        } else if roll.fails {
            ProviderError::Transient {
                provider: self.name.clone(),
                operation,
            }
        } else {
            return Ok(());
        };
        inner.failures += 1;
        Err(error)
    }

    /// The answer to a provision of a droplet that is already live here.
    fn already_provisioned(&self, resource_id: &str) -> Option<Provisioned> {
        let inner = self.lock();
        let instance = inner.live.get(resource_id)?;
        Some(self.provisioned(&inner, resource_id, instance))
    }

    fn provisioned(&self, inner: &Inner, resource_id: &str, instance: &Instance) -> Provisioned {
        Provisioned {
            provider: self.name.clone(),
            resource_id: resource_id.to_owned(),
            ip_address: instance.ip_address.clone(),
            price_hourly: inner.spec.price_hourly(&instance.size),
        }
    }

    fn unknown(&self, resource_id: &str) -> ProviderError {
        ProviderError::UnknownResource {
            provider: self.name.clone(),
            resource: resource_id.to_owned(),
        }
    }

    /// Runs a resize, power or destroy on a live droplet: check, wait, finish, `apply`.
    async fn on_instance(
        &self,
        operation: Operation,
        resource_id: &str,
        check: impl FnOnce(&ProviderSpec) -> Result<(), ProviderError>,
        apply: impl FnOnce(&mut Inner),
    ) -> Result<(), ProviderError> {
        let roll = self.begin(operation, |inner| {
            if !inner.live.contains_key(resource_id) {
                return Err(self.unknown(resource_id));
            }
            check(&inner.spec)
        })?;
        tokio::time::sleep(roll.delay).await;
        let mut inner = self.lock();
        if !inner.live.contains_key(resource_id) {
            inner.failures += 1;
            return Err(self.unknown(resource_id));
        }
        self.finish(&mut inner, operation, &roll)?;
        apply(&mut inner);
        Ok(())
    }
}

impl Inner {
    /// Slots taken in `region`: live droplets plus provisions in flight.
    fn used(&self, region: &Region) -> u32 {
        let live = self.live_by_region.get(region).copied().unwrap_or(0);
        live + self.in_flight.get(region).copied().unwrap_or(0)
    }

    /// Records `instance` as live under `resource_id` (replacing any instance there).
    fn add_live(&mut self, resource_id: String, instance: Instance) {
        *self.live_by_region.entry(instance.region).or_default() += 1;
        if let Some(replaced) = self.live.insert(resource_id, instance) {
            self.forget_region(replaced.region);
        }
    }

    /// Removes the live instance under `resource_id`, if any.
    fn remove_live(&mut self, resource_id: &str) -> Option<Instance> {
        let removed = self.live.remove(resource_id)?;
        self.forget_region(removed.region);
        Some(removed)
    }

    fn forget_region(&mut self, region: Region) {
        if let Some(n) = self.live_by_region.get_mut(&region) {
            *n = n.saturating_sub(1);
        }
    }

    fn check_offer(
        &self,
        name: &ProviderId,
        region: &Region,
        size: &Size,
    ) -> Result<(), ProviderError> {
        if !self.spec.offers_region(region) {
            return Err(ProviderError::UnsupportedRegion {
                provider: name.clone(),
                region: *region,
            });
        }
        if !self.spec.offers_size(size) {
            return Err(ProviderError::UnsupportedSize {
                provider: name.clone(),
                size: *size,
            });
        }
        Ok(())
    }
}

/// The `n`-th address a provider hands out (n >= 1): 10.0.0.2, 10.0.0.3, ... within
/// 10.0.0.0/8, so unique per provider for 16 million provisions.
pub fn nth_address(n: u64) -> String {
    let host = (n + 1) & 0x00ff_ffff;
    format!("10.{}.{}.{}", host >> 16, (host >> 8) & 0xff, host & 0xff)
}

/// Which `n` [`nth_address`] gave `address` (`None` for an address it cannot give).
pub fn address_number(address: &str) -> Option<u64> {
    let octets: Vec<u64> = address
        .split('.')
        .map(|o| o.parse::<u8>().ok().map(u64::from))
        .collect::<Option<_>>()?;
    match octets[..] {
        [10, a, b, c] => ((a << 16) | (b << 8) | c)
            .checked_sub(1)
            .filter(|n| *n >= 1),
        _ => None,
    }
}

#[async_trait]
impl Provider for SimulatedProvider {
    fn name(&self) -> &ProviderId {
        &self.name
    }

    fn quote(&self, region: &Region, size: &Size) -> Result<Quote, ProviderError> {
        let inner = self.lock();
        inner.check_offer(&self.name, region, size)?;
        Ok(Quote {
            provider: self.name.clone(),
            region: *region,
            size: *size,
            price_hourly: inner.spec.price_hourly(size),
            price_monthly: inner.spec.price_monthly(size),
            available: inner
                .spec
                .capacity_per_region
                .saturating_sub(inner.used(region)),
        })
    }

    fn can_take(&self, region: &Region, size: &Size) -> bool {
        let inner = self.lock();
        !inner.faults.outage
            && inner.spec.offers_region(region)
            && inner.spec.offers_size(size)
            && inner.used(region) < inner.spec.capacity_per_region
    }

    fn is_down(&self) -> bool {
        self.lock().faults.outage
    }

    /// The simulation names resources after our ids.
    fn resource_id_for(&self, droplet_id: &str) -> String {
        format!("{}-{droplet_id}", self.name)
    }

    /// Its memory is the process's: after a restart the log is the record.
    fn adopt(&self, instance: Instance) -> bool {
        let resource_id = self.resource_id_for(&instance.droplet_id);
        let mut inner = self.lock();
        if inner.live.contains_key(&resource_id) {
            return false;
        }
        // Addresses go on after the highest one handed out before (by an earlier run of
        // this process or by another), so a new droplet never gets a live one's address.
        if let Some(n) = address_number(&instance.ip_address) {
            inner.issued = inner.issued.max(n);
        }
        inner.add_live(resource_id, instance);
        true
    }

    fn release(&self, droplet_id: &str) -> bool {
        let resource_id = self.resource_id_for(droplet_id);
        self.lock().remove_live(&resource_id).is_some()
    }

    async fn provision(&self, request: &ProvisionRequest) -> Result<Provisioned, ProviderError> {
        let region = request.region;
        let resource_id = self.resource_id_for(&request.droplet_id);
        if let Some(done) = self.already_provisioned(&resource_id) {
            return Ok(done);
        }
        let roll = self.begin(Operation::Provision, |inner| {
            inner.check_offer(&self.name, &region, &request.size)?;
            if inner.used(&region) >= inner.spec.capacity_per_region {
                return Err(ProviderError::NoCapacity {
                    provider: self.name.clone(),
                    region,
                });
            }
            // The slot is held while the droplet is being built.
            *inner.in_flight.entry(region).or_default() += 1;
            Ok(())
        })?;
        // The slot is given back however the wait ends, also when the caller gives up
        // (a cancelled or timed-out job drops this future).
        let mut slot = InFlight {
            provider: self,
            region: Some(region),
        };
        tokio::time::sleep(roll.delay).await;
        let mut inner = slot.release();
        self.finish(&mut inner, Operation::Provision, &roll)?;
        if let Some(instance) = inner.live.get(&resource_id) {
            // Another call for the same droplet finished first.
            return Ok(self.provisioned(&inner, &resource_id, instance));
        }
        inner.issued += 1;
        let ip_address = nth_address(inner.issued);
        let instance = Instance {
            droplet_id: request.droplet_id.clone(),
            region,
            size: request.size,
            powered_on: true,
            ip_address: ip_address.clone(),
        };
        inner.add_live(resource_id.clone(), instance);
        inner.provisioned += 1;
        Ok(Provisioned {
            provider: self.name.clone(),
            resource_id,
            ip_address,
            price_hourly: inner.spec.price_hourly(&request.size),
        })
    }

    async fn resize(&self, resource_id: &str, size: &Size) -> Result<(), ProviderError> {
        let size = *size;
        let name = self.name.clone();
        self.on_instance(
            Operation::Resize,
            resource_id,
            |spec| {
                if spec.offers_size(&size) {
                    Ok(())
                } else {
                    Err(ProviderError::UnsupportedSize {
                        provider: name,
                        size,
                    })
                }
            },
            |inner| {
                if let Some(instance) = inner.live.get_mut(resource_id) {
                    instance.size = size;
                }
            },
        )
        .await
    }

    async fn power(&self, resource_id: &str, action: PowerAction) -> Result<(), ProviderError> {
        self.on_instance(
            Operation::Power,
            resource_id,
            |_| Ok(()),
            |inner| {
                if let Some(instance) = inner.live.get_mut(resource_id) {
                    instance.powered_on = action != PowerAction::Off;
                }
            },
        )
        .await
    }

    async fn deploy(
        &self,
        resource_id: &str,
        _app_version: Option<&str>,
    ) -> Result<(), ProviderError> {
        self.on_instance(Operation::Deploy, resource_id, |_| Ok(()), |_| {})
            .await
    }

    async fn destroy(&self, resource_id: &str) -> Result<(), ProviderError> {
        self.on_instance(
            Operation::Destroy,
            resource_id,
            |_| Ok(()),
            |inner| {
                inner.remove_live(resource_id);
            },
        )
        .await
    }
}
