// The three default providers as `GET /v1/providers` lists them (docs/providers.md).
import type { Provider } from '../api/catalog';

const ALL_SIZES = ['s-1vcpu-1gb', 's-1vcpu-2gb', 's-2vcpu-2gb', 's-2vcpu-4gb', 's-4vcpu-8gb', 'c-2', 'm-1vcpu-8gb'];

function provider(name: string, display_name: string, price_multiplier: number, regions: string[], sizes = ALL_SIZES): Provider {
  return {
    name, display_name, price_multiplier, regions, sizes, capacity_per_region: 10, source: 'default', version: 0,
    latency: { provision_ms: 4000, resize_ms: 3000, power_ms: 1000, destroy_ms: 2000 },
    sim_speed: 1, usage: { live_droplets: 0, by_region: {} }, faults: null,
  } as Provider;
}

export const PROVIDERS: Provider[] = [
  provider('nimbus', 'Nimbus', 1.15, ['nyc1', 'nyc3', 'sfo3', 'lon1', 'fra1', 'sgp1']),
  provider('simcloud', 'SimCloud', 1.0,
    ['nyc1', 'nyc2', 'nyc3', 'sfo1', 'sfo2', 'sfo3', 'lon1', 'fra1', 'tor1', 'blr1', 'sgp1']),
  provider('stratus', 'Stratus', 0.9, ['nyc2', 'sfo2', 'tor1', 'blr1', 'fra1'], ALL_SIZES.slice(0, 5)),
];
