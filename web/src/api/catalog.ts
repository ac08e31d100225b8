// What a droplet can be made of, and what it costs, as the API publishes it: the catalog's
// regions, sizes (with their list prices) and images from `GET /v1/catalog`, fetched once
// per page load (it changes only with a new server version); which regions and sizes each
// provider offers, and what it charges for each (`prices`), from `GET /v1/providers`.
import { useQuery } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from './client';

export type Catalog = Schemas['Catalog'];
export type CatalogSize = Schemas['CatalogSize'];
export type Size = CatalogSize['slug'];
export type Image = Schemas['CatalogImage']['slug'];
export type Region = Schemas['CatalogRegion']['id'];
export type Provider = Schemas['ProviderListItem'];

/** Hours in a billing month (the catalog's `hours_per_month`): hourly = monthly / 720. */
export const HOURS_PER_MONTH = 720;

/** `GET /v1/catalog`. */
export async function fetchCatalog(): Promise<Catalog> {
  return unwrap(await api.GET('/v1/catalog'));
}

/** The catalog, read once and kept for the page's life. */
export function useCatalog() {
  return useQuery({ queryKey: ['catalog'], queryFn: fetchCatalog, staleTime: Infinity, gcTime: Infinity });
}

const KIND: Readonly<Record<CatalogSize['class'], string>> = {
  general: 'general purpose',
  cpu_optimized: 'CPU optimized',
  memory_optimized: 'memory optimized',
};

/** The catalog's entry for a size slug. */
export function findSize(catalog: Catalog | undefined, slug: string): CatalogSize | undefined {
  return catalog?.sizes.find((s) => s.slug === slug);
}

export function isSize(catalog: Catalog | undefined, value: string): value is Size {
  return findSize(catalog, value) !== undefined;
}

export function isImage(catalog: Catalog, value: string): value is Image {
  return catalog.images.some((i) => i.slug === value);
}

/** `1 vCPU · 2 GB`, or the slug alone for a size the catalog does not know (or not yet). */
export function describeSize(catalog: Catalog | undefined, size: string): string {
  const s = findSize(catalog, size);
  if (!s) return size;
  return `${s.vcpus} vCPU${s.vcpus === 1 ? '' : 's'} · ${s.memory_gb} GB`;
}

/** `general purpose`, `CPU optimized` or `memory optimized`; empty for an unknown size. */
export function sizeKind(catalog: Catalog | undefined, size: string): string {
  const s = findSize(catalog, size);
  return s ? KIND[s.class] : '';
}

export interface Quote {
  provider: string;
  monthly: number;
  hourly: number;
}

/** A provider's price for a size, or `null` when it does not offer the size (or the region). */
export function quote(provider: Provider, size: string, region?: string): Quote | null {
  if (region !== undefined && !provider.regions.includes(region)) return null;
  const price = provider.prices.find((p) => p.size === size);
  if (!price) return null;
  return { provider: provider.name, monthly: price.price_monthly, hourly: price.price_hourly };
}

/**
 * The cheapest offer for a size in a region among `providers` (placement's choice when no
 * provider is named and the cheapest has room); ties go to the name first in order, as
 * placement breaks them.
 */
export function cheapestQuote(providers: readonly Provider[], region: string, size: string): Quote | null {
  let best: Quote | null = null;
  for (const provider of providers) {
    const q = quote(provider, size, region);
    if (q && (!best || q.monthly < best.monthly || (q.monthly === best.monthly && q.provider < best.provider))) best = q;
  }
  return best;
}

/** Every region some provider offers, sorted. */
export function offeredRegions(providers: readonly Provider[]): string[] {
  return [...new Set(providers.flatMap((p) => p.regions))].sort();
}

/**
 * The sizes that can be had in `region` (from `provider` if named, else from any provider
 * there), in catalog order.
 */
export function offeredSizes(catalog: Catalog, providers: readonly Provider[], region: string, provider?: string): Size[] {
  const candidates = providers.filter((p) => p.regions.includes(region) && (!provider || p.name === provider));
  return catalog.sizes.map((s) => s.slug).filter((size) => candidates.some((p) => p.sizes.includes(size)));
}

const money = (digits: { min: number; max: number }) =>
  new Intl.NumberFormat('en-US', {
    style: 'currency', currency: 'USD', minimumFractionDigits: digits.min, maximumFractionDigits: digits.max,
  });
const monthlyFormat = money({ min: 2, max: 2 });
const hourlyFormat = money({ min: 2, max: 4 });

/** `$5.40/mo` */
export function formatMonthly(usd: number): string {
  return `${monthlyFormat.format(usd)}/mo`;
}

/** `$0.0075/h`: hourly prices are fractions of a cent, so up to four decimals. */
export function formatHourly(usd: number): string {
  return `${hourlyFormat.format(usd)}/h`;
}

/** `$5.40/mo · $0.0075/h` */
export function formatPrice(q: { monthly: number; hourly: number }): string {
  return `${formatMonthly(q.monthly)} · ${formatHourly(q.hourly)}`;
}

/** The monthly and hourly price of a droplet from its hourly price (as the API shows it). */
export function fromHourly(hourly: number): { monthly: number; hourly: number } {
  return { hourly, monthly: hourly * HOURS_PER_MONTH };
}
