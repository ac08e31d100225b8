//! [`LiveDroplets`]: the droplets the log says are live, and at which provider, so each
//! simulated provider counts every droplet it runs against its capacity: those this
//! process created, those created before a restart and those other processes created.
//! [`sync`](super::sync) folds `droplet` events into it at start-up and while following.

use std::collections::HashMap;

use super::{Instance, Providers};
use crate::domain::{DropletEvent, ProviderName, Region, Size};

/// What the log says of one droplet that a provider cares about.
#[derive(Debug, Clone)]
struct Tracked {
    region: Region,
    size: Size,
    /// The provider running it, once provisioned.
    provider: Option<ProviderName>,
    ip_address: String,
    powered_on: bool,
}

/// The requested and not destroyed droplets, folded from `droplet` events.
#[derive(Debug, Default)]
pub struct LiveDroplets {
    droplets: HashMap<String, Tracked>,
}

impl LiveDroplets {
    /// How many droplets run at a provider.
    pub fn running(&self) -> usize {
        self.droplets
            .values()
            .filter(|d| d.provider.is_some())
            .count()
    }

    /// Folds one event of droplet `id` and tells the providers: a provisioned droplet is
    /// adopted by its provider, a migrated one moves to the target, a destroyed one is
    /// released (each a no-op when the provider's simulation already knows).
    pub fn apply(&mut self, providers: &Providers, id: &str, event: DropletEvent) {
        match event {
            DropletEvent::Requested(e) => {
                let tracked = Tracked {
                    region: e.region,
                    size: e.size,
                    provider: None,
                    ip_address: String::new(),
                    powered_on: true,
                };
                self.droplets.insert(id.to_owned(), tracked);
            }
            DropletEvent::Provisioned(e) => {
                if let Some(tracked) = self.droplets.get_mut(id) {
                    tracked.provider = Some(e.provider);
                    tracked.ip_address = e.ip_address;
                    adopt(providers, id, tracked);
                }
            }
            DropletEvent::ProvisioningFailed(_) => {
                // Never ran; a later destroy has nothing to free.
                if let Some(tracked) = self.droplets.get_mut(id) {
                    tracked.provider = None;
                }
            }
            DropletEvent::Resized(e) => self.update(id, |t| t.size = e.size),
            DropletEvent::PoweredOff(_) => self.update(id, |t| t.powered_on = false),
            DropletEvent::PoweredOn(_) | DropletEvent::Restarted(_) => {
                self.update(id, |t| t.powered_on = true);
            }
            DropletEvent::Migrated(e) => {
                release(providers, id, &e.from_provider);
                if let Some(tracked) = self.droplets.get_mut(id) {
                    tracked.provider = Some(e.provider);
                    tracked.ip_address = e.ip_address;
                    adopt(providers, id, tracked);
                }
            }
            DropletEvent::Destroyed(_) => {
                if let Some(provider) = self.droplets.remove(id).and_then(|t| t.provider) {
                    release(providers, id, &provider);
                }
            }
            _ => {}
        }
    }

    fn update(&mut self, id: &str, change: impl FnOnce(&mut Tracked)) {
        if let Some(tracked) = self.droplets.get_mut(id) {
            change(tracked);
        }
    }
}

fn adopt(providers: &Providers, id: &str, tracked: &Tracked) {
    let Some(name) = &tracked.provider else {
        return;
    };
    match providers.provider(name.as_str()) {
        Ok(provider) => {
            provider.adopt(Instance {
                droplet_id: id.to_owned(),
                region: tracked.region,
                size: tracked.size,
                powered_on: tracked.powered_on,
                ip_address: tracked.ip_address.clone(),
            });
        }
        Err(error) => tracing::warn!(droplet = id, %error, "a live droplet's provider is unknown"),
    }
}

fn release(providers: &Providers, id: &str, provider: &ProviderName) {
    if let Ok(provider) = providers.provider(provider.as_str()) {
        provider.release(id);
    }
}
