// What a droplet can be made of, and what it costs. Which regions and sizes each provider
// offers, and its price multiplier, come from `GET /v1/providers`; the API does not publish
// the catalog's images or list prices, so those are the catalog's own (docs/spec/PRODUCT.md,
// "Catalog"), keyed by the OpenAPI document's enums: a size or image added to or removed from
// the API fails the type check here.
import type { Schemas } from './client';

export type Size = Schemas['CreateDropletBody']['size'];
export type Image = Schemas['CreateDropletBody']['image'];
export type Region = Schemas['CreateDropletBody']['region'];
export type Provider = Schemas['ProviderListItem'];

/** Hours in a billing month: hourly price = monthly price / 720. */
export const HOURS_PER_MONTH = 720;

export interface SizeInfo {
  vcpus: number;
  memoryGb: number;
  /** List price per month in USD, before a provider's multiplier. */
  monthly: number;
  kind: 'general purpose' | 'CPU optimized' | 'memory optimized';
}

export const SIZES: Readonly<Record<Size, SizeInfo>> = {
  's-1vcpu-1gb': { vcpus: 1, memoryGb: 1, monthly: 6, kind: 'general purpose' },
  's-1vcpu-2gb': { vcpus: 1, memoryGb: 2, monthly: 12, kind: 'general purpose' },
  's-2vcpu-2gb': { vcpus: 2, memoryGb: 2, monthly: 18, kind: 'general purpose' },
  's-2vcpu-4gb': { vcpus: 2, memoryGb: 4, monthly: 24, kind: 'general purpose' },
  's-4vcpu-8gb': { vcpus: 4, memoryGb: 8, monthly: 48, kind: 'general purpose' },
  'c-2': { vcpus: 2, memoryGb: 4, monthly: 42, kind: 'CPU optimized' },
  'm-1vcpu-8gb': { vcpus: 1, memoryGb: 8, monthly: 48, kind: 'memory optimized' },
};

export const IMAGES: Readonly<Record<Image, string>> = {
  'ubuntu-22-04-x64': 'Ubuntu 22.04 x64',
  'ubuntu-20-04-x64': 'Ubuntu 20.04 x64',
  'centos-7-x64': 'CentOS 7 x64',
  'debian-11-x64': 'Debian 11 x64',
  'fedora-36-x64': 'Fedora 36 x64',
  'rocky-8-x64': 'Rocky Linux 8 x64',
};

/** The catalog's sizes in list order. */
export const SIZE_SLUGS = Object.keys(SIZES) as Size[];
export const IMAGE_SLUGS = Object.keys(IMAGES) as Image[];

export function isSize(value: string): value is Size {
  return Object.prototype.hasOwnProperty.call(SIZES, value);
}

/** `1 vCPU · 2 GB`, or the slug alone for a size this console does not know. */
export function describeSize(size: string): string {
  if (!isSize(size)) return size;
  const s = SIZES[size];
  return `${s.vcpus} vCPU${s.vcpus === 1 ? '' : 's'} · ${s.memoryGb} GB`;
}

export interface Quote {
  provider: string;
  monthly: number;
  hourly: number;
}

/** A provider's price for a size, or `null` when it does not offer the size (or the region). */
export function quote(provider: Provider, size: string, region?: string): Quote | null {
  if (!isSize(size) || !provider.sizes.includes(size)) return null;
  if (region !== undefined && !provider.regions.includes(region)) return null;
  const monthly = SIZES[size].monthly * provider.price_multiplier;
  return { provider: provider.name, monthly, hourly: monthly / HOURS_PER_MONTH };
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

/** The sizes that can be had in `region`: from `provider` if named, else from any provider there. */
export function offeredSizes(providers: readonly Provider[], region: string, provider?: string): Size[] {
  const candidates = providers.filter((p) => p.regions.includes(region) && (!provider || p.name === provider));
  return SIZE_SLUGS.filter((size) => candidates.some((p) => p.sizes.includes(size)));
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
