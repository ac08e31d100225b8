import {
  cheapestQuote, describeSize, formatHourly, formatMonthly, formatPrice, fromHourly, isSize, offeredRegions,
  offeredSizes, quote, sizeKind,
} from './catalog';
import { CATALOG } from '../test/catalog';
import { PROVIDERS, pricesAt } from '../test/providers';

const [nimbus, simcloud, stratus] = PROVIDERS as [typeof PROVIDERS[0], typeof PROVIDERS[0], typeof PROVIDERS[0]];

test('monthly prices have cents, hourly ones up to four decimals', () => {
  expect(formatMonthly(5.4)).toBe('$5.40/mo');
  expect(formatMonthly(1234.5)).toBe('$1,234.50/mo');
  expect(formatHourly(0.0075)).toBe('$0.0075/h');
  expect(formatHourly(6.9 / 720)).toBe('$0.0096/h');
  expect(formatHourly(0.03)).toBe('$0.03/h');
  expect(formatPrice({ monthly: 6, hourly: 6 / 720 })).toBe('$6.00/mo · $0.0083/h');
});

test("a droplet's monthly price is its hourly price times 720", () => {
  expect(formatMonthly(fromHourly(0.008333).monthly)).toBe('$6.00/mo');
  expect(fromHourly(0.03).monthly).toBeCloseTo(21.6);
  expect(formatMonthly(fromHourly(0.03).monthly)).toBe('$21.60/mo');
});

test("a provider's price is what it lists for the size", () => {
  const q = quote(nimbus, 's-1vcpu-1gb');
  expect(q?.monthly).toBeCloseTo(6.9);
  expect(q?.hourly).toBeCloseTo(6.9 / 720);
  expect(quote(stratus, 's-4vcpu-8gb')?.monthly).toBeCloseTo(43.2);
  // The API's prices, not a multiplication here: a provider listing another price shows it.
  const special = { ...stratus, prices: [{ size: 's-1vcpu-1gb' as const, price_monthly: 1, price_hourly: 0.001389 }] };
  expect(quote(special, 's-1vcpu-1gb')).toEqual({ provider: 'stratus', monthly: 1, hourly: 0.001389 });
  expect(quote(special, 's-1vcpu-2gb')).toBeNull();
  expect(pricesAt(0.9, ['s-1vcpu-1gb'])).toEqual([{ size: 's-1vcpu-1gb', price_monthly: 5.4, price_hourly: 0.0075 }]);
});

test('no quote for a size or region the provider does not offer', () => {
  expect(quote(stratus, 'c-2')).toBeNull();
  expect(quote(stratus, 's-1vcpu-1gb', 'sgp1')).toBeNull();
  expect(quote(simcloud, 'x-99')).toBeNull();
});

test('the cheapest offer is the one placement would take', () => {
  expect(cheapestQuote(PROVIDERS, 'fra1', 's-1vcpu-1gb')?.provider).toBe('stratus');
  // Stratus has no CPU-optimized sizes: SimCloud is next cheapest.
  expect(cheapestQuote(PROVIDERS, 'fra1', 'c-2')?.provider).toBe('simcloud');
  // Only Nimbus and SimCloud are in sgp1.
  expect(cheapestQuote(PROVIDERS, 'sgp1', 's-1vcpu-1gb')?.provider).toBe('simcloud');
  expect(cheapestQuote([], 'fra1', 'c-2')).toBeNull();
});

test('regions and sizes are those the providers offer', () => {
  expect(offeredRegions([nimbus, stratus])).toEqual(['blr1', 'fra1', 'lon1', 'nyc1', 'nyc2', 'nyc3', 'sfo2', 'sfo3', 'sgp1', 'tor1']);
  expect(offeredSizes(CATALOG, PROVIDERS, 'tor1', 'stratus')).toEqual(['s-1vcpu-1gb', 's-1vcpu-2gb', 's-2vcpu-2gb', 's-2vcpu-4gb', 's-4vcpu-8gb']);
  expect(offeredSizes(CATALOG, PROVIDERS, 'tor1')).toContain('c-2');
  expect(offeredSizes(CATALOG, PROVIDERS, 'sgp1', 'stratus')).toEqual([]);
  // In the catalog's order, whatever the providers' order.
  const reversed = PROVIDERS.map((p) => ({ ...p, sizes: [...p.sizes].reverse() }));
  expect(offeredSizes(CATALOG, reversed, 'tor1')[0]).toBe('s-1vcpu-1gb');
});

test('sizes are described by their CPUs, memory and class, from the catalog', () => {
  expect(describeSize(CATALOG, 's-1vcpu-2gb')).toBe('1 vCPU · 2 GB');
  expect(describeSize(CATALOG, 'c-2')).toBe('2 vCPUs · 4 GB');
  expect(describeSize(CATALOG, 'x-99')).toBe('x-99');
  expect(describeSize(undefined, 'c-2')).toBe('c-2');
  expect(sizeKind(CATALOG, 'c-2')).toBe('CPU optimized');
  expect(sizeKind(CATALOG, 's-1vcpu-1gb')).toBe('general purpose');
  expect(sizeKind(CATALOG, 'x-99')).toBe('');
  expect(isSize(CATALOG, 'm-1vcpu-8gb')).toBe(true);
  expect(isSize(CATALOG, 'x-99')).toBe(false);
});
