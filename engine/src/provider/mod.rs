//! The simulated cloud behind the [`Provider`] trait (knows nothing of HTTP).
//!
//! - [`Provider`]: provision (-> provider-side id and address), resize, power, destroy,
//!   and quotes, with a typed [`ProviderError`] that says whether a retry may help.
//! - [`SimulatedProvider`]: regions, sizes, a price multiplier and a capacity per region
//!   from a [`ProviderSpec`](crate::domain::ProviderSpec); latencies divided by a
//!   [`SimSpeed`] (0: none); injected [`Faults`] (failure rate, latency spikes, outage);
//!   deterministic for a seed (one seeded `StdRng` per provider).
//! - [`Providers`]: the named providers of this process (defaults from
//!   [`default_specs`], replaced or joined by registered ones through [`sync`]), and
//!   placement ([`Providers::place`]).
//! - [`LiveDroplets`]: the droplets the log says are live, adopted by their providers
//!   through [`sync`] so capacity counts them after a restart and across processes.
//! - [`billing`]: a cluster's hourly and monthly cost.
//!
//! Injected faults are operational state of one process, never events (see
//! `docs/providers.md`).
//!
//! # Example: provisioning through the trait
//!
//! ```
//! use engine::domain::values::{Region, Size};
//! use engine::provider::{PlacementRequest, Provider, Providers, ProvisionRequest, SimSpeed};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let providers = Providers::new(SimSpeed::INSTANT, 42);
//! let region = Region::parse("fra1").unwrap();
//! let size = Size::parse("s-1vcpu-1gb").unwrap();
//! // Placement: the preferred provider if it can take it, else the cheapest that can.
//! let placement = providers
//!     .place(&PlacementRequest { region, size, preferred: None, avoided: vec![] })
//!     .unwrap();
//! assert_eq!(placement.provider.name().as_str(), "stratus"); // x0.9 is the cheapest
//! let request = ProvisionRequest { droplet_id: "dr_1".into(), region, size };
//! match placement.provider.provision(&request).await {
//!     Ok(done) => {
//!         // Record `droplet.provisioned` with done.ip_address and done.provider; keep
//!         // done.resource_id for resize / power / destroy.
//!         assert_eq!(done.ip_address, "10.0.0.2");
//!         placement.provider.destroy(&done.resource_id).await.unwrap();
//!     }
//!     Err(error) if error.is_retryable() => { /* schedule another attempt */ }
//!     Err(_) => { /* fail the job: no capacity, unsupported region or size */ }
//! }
//! # });
//! ```

pub mod billing;
mod defaults;
mod error;
mod faults;
mod live;
mod registry;
mod simulated;
pub mod sync;
#[cfg(test)]
mod tests;
mod traits;

pub use billing::{bill, bill_fleet, BilledAs, Billing, FleetBilling, ProviderCost};
pub use defaults::default_specs;
pub use error::{Operation, ProviderError};
pub use faults::{Faults, SimSpeed};
pub use live::LiveDroplets;
pub use registry::{Placement, PlacementRequest, Providers, SimOptions};
pub use simulated::{address_number, nth_address, Instance, SimUsage, SimulatedProvider};
pub use traits::{Provider, ProvisionRequest, Provisioned, Quote};
