// The three default providers as `GET /v1/providers` lists them (docs/providers.md).
import type { Provider } from '../api/catalog';
import { CATALOG } from './catalog';

const ALL_SIZES = CATALOG.sizes.map((s) => s.slug);

/** What a provider at `multiplier` charges for `sizes`, rounded as the API rounds. */
export function pricesAt(multiplier: number, sizes: readonly string[]): Provider['prices'] {
  return CATALOG.sizes.filter((s) => sizes.includes(s.slug)).map((s) => {
    const monthly = s.price_monthly * multiplier;
    return {
      size: s.slug, price_monthly: Math.round(monthly * 100) / 100, price_hourly: Math.round((monthly / 720) * 1e6) / 1e6,
    };
  });
}

function provider(name: string, display_name: string, price_multiplier: number, regions: string[], sizes = ALL_SIZES): Provider {
  return {
    name, display_name, price_multiplier, regions, sizes, capacity_per_region: 10, source: 'default', version: 0,
    latency: { provision_ms: 4000, resize_ms: 3000, power_ms: 1000, destroy_ms: 2000 },
    sim_speed: 1, usage: { live_droplets: 0, by_region: {} }, faults: null, prices: pricesAt(price_multiplier, sizes),
  } as Provider;
}

export const PROVIDERS: Provider[] = [
  provider('nimbus', 'Nimbus', 1.15, ['nyc1', 'nyc3', 'sfo3', 'lon1', 'fra1', 'sgp1']),
  provider('simcloud', 'SimCloud', 1.0,
    ['nyc1', 'nyc2', 'nyc3', 'sfo1', 'sfo2', 'sfo3', 'lon1', 'fra1', 'tor1', 'blr1', 'sgp1']),
  provider('stratus', 'Stratus', 0.9, ['nyc2', 'sfo2', 'tor1', 'blr1', 'fra1'], ALL_SIZES.slice(0, 5)),
];
