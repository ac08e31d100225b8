//! The droplet state machine: which event each command produces, or why it is refused.

use std::net::IpAddr;

use super::{
    Droplet, DropletCommand, DropletDestroyFailed, DropletDestroyRequested, DropletDestroyed,
    DropletError, DropletEvent, DropletMigrated, DropletMigrationFailed, DropletMigrationRequested,
    DropletPowerFailed, DropletPowerRequested, DropletPoweredOff, DropletPoweredOn,
    DropletProvisioned, DropletProvisioningFailed, DropletRequested, DropletResizeFailed,
    DropletResizeRequested, DropletResized, DropletRestarted, DropletStatus, PendingAction,
    PowerAction,
};
use crate::domain::aggregate::Decide;
use crate::domain::provider_config::ProviderOffer;
use crate::domain::values::Region;

impl Droplet {
    /// Exists and is not destroyed.
    fn ensure_present(&self) -> Result<(), DropletError> {
        if !self.exists() {
            Err(DropletError::NotFound)
        } else if self.status == DropletStatus::Destroyed {
            Err(DropletError::AlreadyDestroyed)
        } else {
            Ok(())
        }
    }

    /// Present and with no request in flight.
    fn ensure_idle(&self) -> Result<(), DropletError> {
        self.ensure_present()?;
        match &self.pending_job {
            Some(job_id) => Err(DropletError::Busy {
                job_id: job_id.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Present and with a request in flight; returns it.
    fn pending(&self, command: &'static str) -> Result<PendingAction, DropletError> {
        self.ensure_present()?;
        self.pending_action
            .clone()
            .ok_or(DropletError::NoPendingAction { command })
    }

    /// Present with exactly `expected` in flight.
    fn require_pending(
        &self,
        expected: PendingAction,
        command: &'static str,
    ) -> Result<(), DropletError> {
        if self.pending(command)? == expected {
            Ok(())
        } else {
            Err(DropletError::NoPendingAction { command })
        }
    }

    fn ensure_status(
        &self,
        allowed: &[DropletStatus],
        action: &'static str,
    ) -> Result<(), DropletError> {
        if allowed.contains(&self.status) {
            Ok(())
        } else {
            Err(DropletError::InvalidTransition {
                status: self.status,
                action,
            })
        }
    }
}

fn check_provider(provider: &ProviderOffer, region: &Region) -> Result<(), DropletError> {
    if provider.offers(region) {
        Ok(())
    } else {
        Err(DropletError::ProviderLacksRegion {
            provider: provider.name.clone(),
            region: *region,
        })
    }
}

impl Decide for Droplet {
    fn decide(&self, command: DropletCommand) -> Result<Vec<DropletEvent>, DropletError> {
        use DropletCommand as C;
        use DropletEvent as E;
        let event = match command {
            C::RequestDroplet {
                id,
                cluster_id,
                name,
                region,
                size,
                image,
                provider,
                job_id,
                app_version,
            } => {
                if self.exists() {
                    return Err(DropletError::AlreadyExists);
                }
                if let Some(provider) = &provider {
                    check_provider(provider, &region)?;
                }
                E::Requested(DropletRequested {
                    id,
                    cluster_id,
                    name,
                    region,
                    size,
                    image,
                    provider: provider.map(|offer| offer.name),
                    job_id,
                    app_version,
                })
            }
            C::SetAppVersion {
                app_version,
                deployment_id,
            } => {
                self.ensure_present()?;
                if self.app_version == app_version {
                    return Ok(Vec::new());
                }
                E::AppVersionSet(super::DropletAppVersionSet {
                    app_version,
                    deployment_id,
                })
            }
            C::MarkProvisioned {
                ip_address,
                provider,
            } => {
                self.require_pending(PendingAction::Provision, "MarkProvisioned")?;
                if ip_address.parse::<IpAddr>().is_err() {
                    return Err(DropletError::InvalidIpAddress { value: ip_address });
                }
                if let Some(region) = &self.region {
                    check_provider(&provider, region)?;
                }
                E::Provisioned(DropletProvisioned {
                    ip_address,
                    provider: provider.name,
                })
            }
            C::MarkProvisioningFailed { reason } => {
                self.require_pending(PendingAction::Provision, "MarkProvisioningFailed")?;
                E::ProvisioningFailed(DropletProvisioningFailed { reason })
            }
            C::RequestResize { size, job_id } => {
                self.ensure_idle()?;
                self.ensure_status(&[DropletStatus::Active, DropletStatus::Off], "resize")?;
                let Some(from_size) = self.size else {
                    return Err(DropletError::NotFound);
                };
                if from_size == size {
                    return Err(DropletError::SameSize { size });
                }
                E::ResizeRequested(DropletResizeRequested {
                    from_size,
                    to_size: size,
                    job_id,
                })
            }
            C::CompleteResize => match self.pending("CompleteResize")? {
                PendingAction::Resize { to_size } => E::Resized(DropletResized { size: to_size }),
                _ => {
                    return Err(DropletError::NoPendingAction {
                        command: "CompleteResize",
                    })
                }
            },
            C::FailResize { reason } => match self.pending("FailResize")? {
                PendingAction::Resize { .. } => E::ResizeFailed(DropletResizeFailed { reason }),
                _ => {
                    return Err(DropletError::NoPendingAction {
                        command: "FailResize",
                    })
                }
            },
            C::RequestPower { action, job_id } => {
                self.ensure_idle()?;
                self.ensure_status(&[action.required_status()], action.transition_name())?;
                E::PowerRequested(DropletPowerRequested { action, job_id })
            }
            C::CompletePower => match self.pending("CompletePower")? {
                PendingAction::Power {
                    action: PowerAction::Off,
                } => E::PoweredOff(DropletPoweredOff {}),
                PendingAction::Power {
                    action: PowerAction::On,
                } => E::PoweredOn(DropletPoweredOn {}),
                PendingAction::Power {
                    action: PowerAction::Restart,
                } => E::Restarted(DropletRestarted {}),
                _ => {
                    return Err(DropletError::NoPendingAction {
                        command: "CompletePower",
                    })
                }
            },
            C::FailPower { reason } => match self.pending("FailPower")? {
                PendingAction::Power { action } => {
                    E::PowerFailed(DropletPowerFailed { action, reason })
                }
                _ => {
                    return Err(DropletError::NoPendingAction {
                        command: "FailPower",
                    })
                }
            },
            C::RequestDestroy { job_id } => {
                self.ensure_idle()?;
                self.ensure_status(
                    &[
                        DropletStatus::Active,
                        DropletStatus::Off,
                        DropletStatus::Failed,
                    ],
                    "destroy",
                )?;
                E::DestroyRequested(DropletDestroyRequested { job_id })
            }
            C::CompleteDestroy => {
                self.require_pending(PendingAction::Destroy, "CompleteDestroy")?;
                E::Destroyed(DropletDestroyed {})
            }
            C::FailDestroy { reason } => {
                self.require_pending(PendingAction::Destroy, "FailDestroy")?;
                E::DestroyFailed(DropletDestroyFailed { reason })
            }
            C::RequestMigration {
                to_provider,
                job_id,
            } => {
                self.ensure_idle()?;
                self.ensure_status(&[DropletStatus::Active, DropletStatus::Off], "migrate")?;
                let (Some(from_provider), Some(region)) = (self.provider.clone(), self.region)
                else {
                    return Err(DropletError::NotFound);
                };
                if from_provider == to_provider.name {
                    return Err(DropletError::SameProvider {
                        provider: to_provider.name,
                    });
                }
                check_provider(&to_provider, &region)?;
                E::MigrationRequested(DropletMigrationRequested {
                    from_provider,
                    to_provider: to_provider.name,
                    job_id,
                })
            }
            C::CompleteMigration { ip_address } => match self.pending("CompleteMigration")? {
                PendingAction::Migrate { to_provider } => {
                    if ip_address.parse::<IpAddr>().is_err() {
                        return Err(DropletError::InvalidIpAddress { value: ip_address });
                    }
                    let Some(from_provider) = self.provider.clone() else {
                        return Err(DropletError::NotFound);
                    };
                    E::Migrated(DropletMigrated {
                        from_provider,
                        provider: to_provider,
                        ip_address,
                    })
                }
                _ => {
                    return Err(DropletError::NoPendingAction {
                        command: "CompleteMigration",
                    })
                }
            },
            C::FailMigration { reason } => match self.pending("FailMigration")? {
                PendingAction::Migrate { .. } => {
                    E::MigrationFailed(DropletMigrationFailed { reason })
                }
                _ => {
                    return Err(DropletError::NoPendingAction {
                        command: "FailMigration",
                    })
                }
            },
        };
        Ok(vec![event])
    }
}
