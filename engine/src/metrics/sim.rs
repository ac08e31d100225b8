//! Simulated load: the samples an active droplet would report at a time, as a pure
//! function of a seed, the droplet, its provider and the time (`serve --sim-load` calls it
//! every few seconds for every active droplet). A day-long curve (busiest mid-afternoon
//! UTC), noise, occasional spikes, and a character per provider: `nimbus` is noisy and
//! spiky, `stratus` moves a lot of network traffic, `simcloud` is calm.

use chrono::{DateTime, Timelike, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::model::MetricType;

/// How a provider's droplets behave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Character {
    /// Spread of the noise, in points of percent.
    pub noise: f64,
    /// Chance of a spike per sample.
    pub spike_rate: f64,
    /// Network traffic relative to a calm provider.
    pub network_scale: f64,
}

/// The character of `provider` (an unknown one gets a middling one).
pub fn character(provider: &str) -> Character {
    match provider {
        "simcloud" => Character {
            noise: 3.0,
            spike_rate: 0.01,
            network_scale: 1.0,
        },
        "nimbus" => Character {
            noise: 10.0,
            spike_rate: 0.05,
            network_scale: 1.0,
        },
        "stratus" => Character {
            noise: 5.0,
            spike_rate: 0.02,
            network_scale: 3.0,
        },
        _ => Character {
            noise: 6.0,
            spike_rate: 0.02,
            network_scale: 1.5,
        },
    }
}

/// FNV-1a over the parts: a hash that stays the same across builds and platforms.
fn stable_hash(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.iter().chain(&[0xff]) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// The day's curve at `t`: -1 at 03:00 UTC, +1 at 15:00 UTC.
pub fn diurnal(t: DateTime<Utc>) -> f64 {
    let day = f64::from(t.num_seconds_from_midnight()) / 86_400.0;
    (std::f64::consts::TAU * (day - 0.375)).sin()
}

/// Noise centred on 0 with a spread of about `spread` (a sum of uniforms).
fn noise(rng: &mut StdRng, spread: f64) -> f64 {
    let sum: f64 = (0..3).map(|_| rng.gen_range(-1.0..1.0)).sum();
    sum / 3.0 * spread
}

/// The samples `droplet` (on `provider`) reports at `t`: cpu, memory and disk in percent
/// (0 to 100), network in Mbps (0 to 100,000). The same arguments give the same values.
pub fn sample(
    seed: u64,
    droplet: &str,
    provider: &str,
    t: DateTime<Utc>,
) -> [(MetricType, f64); 4] {
    let c = character(provider);
    let mut own = StdRng::seed_from_u64(stable_hash(&[&seed.to_le_bytes(), droplet.as_bytes()]));
    let (cpu_base, memory_base, disk_base) = (
        own.gen_range(20.0..50.0),
        own.gen_range(35.0..65.0),
        own.gen_range(30.0..70.0),
    );
    let network_base = own.gen_range(20.0..200.0) * c.network_scale;
    let tick = t.timestamp().to_le_bytes();
    let mut rng = StdRng::seed_from_u64(stable_hash(&[
        &seed.to_le_bytes(),
        droplet.as_bytes(),
        &tick,
    ]));
    let day = diurnal(t);
    let spike = rng.gen_bool(c.spike_rate);
    let mut cpu = cpu_base + 20.0 * day + noise(&mut rng, c.noise);
    let mut network = network_base * (1.0 + 0.6 * day) + noise(&mut rng, c.noise) * c.network_scale;
    if spike {
        cpu += rng.gen_range(30.0..50.0);
        network *= rng.gen_range(2.0..4.0);
    }
    let memory = memory_base + 8.0 * day + noise(&mut rng, c.noise / 2.0);
    let disk = disk_base + noise(&mut rng, c.noise / 4.0);
    [
        (MetricType::Cpu, cpu.clamp(0.0, 100.0)),
        (MetricType::Memory, memory.clamp(0.0, 100.0)),
        (MetricType::Disk, disk.clamp(0.0, 100.0)),
        (MetricType::Network, network.clamp(0.0, 100_000.0)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    #[test]
    fn the_same_seed_droplet_and_time_give_the_same_values() {
        let first = sample(7, "dr_a", "nimbus", at(1_800_000_000));
        assert_eq!(first, sample(7, "dr_a", "nimbus", at(1_800_000_000)));
        assert_ne!(first, sample(8, "dr_a", "nimbus", at(1_800_000_000)));
        assert_ne!(first, sample(7, "dr_b", "nimbus", at(1_800_000_000)));
        assert_ne!(first, sample(7, "dr_a", "nimbus", at(1_800_000_010)));
    }

    #[test]
    fn values_stay_in_their_ranges_over_days_and_providers() {
        for provider in ["simcloud", "nimbus", "stratus", "other"] {
            for i in 0..2_000 {
                for (kind, value) in sample(42, &format!("dr_{}", i % 17), provider, at(i * 97)) {
                    let max = if kind == MetricType::Network {
                        100_000.0
                    } else {
                        100.0
                    };
                    assert!((0.0..=max).contains(&value), "{kind:?} {value}");
                }
            }
        }
    }

    #[test]
    fn afternoons_are_busier_than_nights_and_nimbus_is_noisier_than_simcloud() {
        let mean_cpu = |provider: &str, hour: i64| {
            let n = 400;
            (0..n)
                .map(|d| {
                    sample(
                        1,
                        &format!("dr_{d}"),
                        provider,
                        at(d * 86_400 + hour * 3600),
                    )[0]
                    .1
                })
                .sum::<f64>()
                / n as f64
        };
        assert!(mean_cpu("simcloud", 15) > mean_cpu("simcloud", 3) + 20.0);
        let spread = |provider: &str| {
            let values: Vec<f64> = (0..400)
                .map(|i| sample(3, "dr_x", provider, at(15 * 3600 + i * 86_400))[0].1)
                .collect();
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64
        };
        assert!(spread("nimbus") > 2.0 * spread("simcloud"));
    }
}
