// The providers page's logic, apart from React: prices, fault forms and states, costs by
// provider, a job's retry phase, and the registration form's checks.
import type { Schemas } from '../api/client';
import type { Billing, Faults, Job, SizeSlug } from '../api/providers';
import { REGIONS, type Region } from './ClusterForm';

const usd2 = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const usd6 = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 6 });

/** A monthly amount in dollars and cents, e.g. `$5.40`. */
export function monthlyUsd(amount: number): string {
  return usd2.format(amount);
}

/** An hourly amount to the millionth of a dollar, e.g. `$0.0075`. */
export function hourlyUsd(amount: number): string {
  return usd6.format(amount);
}

// ---- Faults -------------------------------------------------------------------------------

/** The fault form as typed: rates in percent, the spike in milliseconds. */
export interface FaultForm {
  failurePct: string;
  spikePct: string;
  spikeMs: string;
  outage: boolean;
}

export type FaultField = 'failure_rate' | 'spike_rate' | 'spike_ms';

export const NO_FAULTS: Required<Faults> = { failure_rate: 0, spike_rate: 0, spike_ms: 0, outage: false };

/** One-click fault sets for a demo. */
export const FAULT_PRESETS: readonly { id: string; label: string; faults: Required<Faults> }[] = [
  { id: 'fail', label: 'Fail every call', faults: { ...NO_FAULTS, failure_rate: 1 } },
  { id: 'flaky', label: 'Flaky (30% fail)', faults: { ...NO_FAULTS, failure_rate: 0.3 } },
  { id: 'slow', label: 'Latency spikes', faults: { ...NO_FAULTS, spike_rate: 0.5, spike_ms: 5000 } },
  { id: 'outage', label: 'Outage', faults: { ...NO_FAULTS, outage: true } },
];

function percent(rate: number | undefined): string {
  return String(Math.round((rate ?? 0) * 10000) / 100);
}

export function faultsToForm(faults: Faults | null | undefined): FaultForm {
  return {
    failurePct: percent(faults?.failure_rate),
    spikePct: percent(faults?.spike_rate),
    spikeMs: String(faults?.spike_ms ?? 0),
    outage: faults?.outage ?? false,
  };
}

/** A number from a field (blank is 0), or NaN when it is not one. */
function numberOf(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : Number(trimmed);
}

/** Checks the fault form as the API would; `faults` only when nothing is wrong. */
export function validateFaults(form: FaultForm): { faults?: Required<Faults>; errors: Partial<Record<FaultField, string>> } {
  const errors: Partial<Record<FaultField, string>> = {};
  const failure = numberOf(form.failurePct);
  const spike = numberOf(form.spikePct);
  const spikeMs = numberOf(form.spikeMs);
  if (!Number.isFinite(failure) || failure < 0 || failure > 100) errors.failure_rate = 'a percentage from 0 to 100';
  if (!Number.isFinite(spike) || spike < 0 || spike > 100) errors.spike_rate = 'a percentage from 0 to 100';
  if (!Number.isInteger(spikeMs) || spikeMs < 0 || spikeMs > 600_000) {
    errors.spike_ms = 'whole milliseconds from 0 to 600000 (ten minutes)';
  } else if (spike > 0 && spikeMs === 0 && !errors.spike_rate) {
    errors.spike_ms = 'a spike needs its extra latency';
  }
  if (Object.keys(errors).length) return { errors };
  return {
    faults: {
      failure_rate: Math.round(failure * 100) / 10000,
      spike_rate: Math.round(spike * 100) / 10000,
      spike_ms: spikeMs,
      outage: form.outage,
    },
    errors,
  };
}

/** The API names fault fields `faults.<field>`: the form's names for them. */
export function faultFieldErrors(errors: Record<string, string>): Partial<Record<FaultField, string>> {
  const out: Partial<Record<FaultField, string>> = {};
  for (const [key, message] of Object.entries(errors)) {
    const field = key.replace(/^faults\./, '');
    if (field === 'failure_rate' || field === 'spike_rate' || field === 'spike_ms') out[field] = message;
  }
  return out;
}

export type FaultLevel = 'healthy' | 'degraded' | 'broken' | 'unknown';

/** What a provider's faults amount to: broken (an outage, or most calls fail), degraded
 * (some calls fail or are slow) or healthy; unknown when this process has none to show. */
export function faultState(faults: Faults | null | undefined): { level: FaultLevel; summary: string } {
  if (!faults) return { level: 'unknown', summary: 'faults unknown in this process' };
  const parts: string[] = [];
  if (faults.outage) parts.push('outage: every call fails at once');
  const failure = faults.failure_rate ?? 0;
  const spikeRate = faults.spike_rate ?? 0;
  const spikeMs = faults.spike_ms ?? 0;
  if (failure > 0) parts.push(`${percent(failure)}% of calls fail`);
  if (spikeRate > 0 && spikeMs > 0) parts.push(`${percent(spikeRate)}% of calls ${spikeMs / 1000} s slower`);
  if (parts.length === 0) return { level: 'healthy', summary: 'no faults injected' };
  return { level: faults.outage || failure >= 0.5 ? 'broken' : 'degraded', summary: parts.join(' · ') };
}

// ---- Costs --------------------------------------------------------------------------------

export interface CostRow {
  provider: string;
  label: string;
  droplets: number;
  hourly: number;
  monthly: number;
  /** Of the cluster's (or fleet's) monthly total, 0 to 1. */
  share: number;
}

/** A cluster's (or the fleet's) billing as rows, the costliest provider first (ties by
 * name), each with its share of the total. */
export function costRows(
  billing: Pick<Billing, 'by_provider'>,
  providers: readonly { name: string; display_name: string }[] = [],
): CostRow[] {
  const rows = Object.entries(billing.by_provider).map(([provider, cost]) => ({
    provider,
    label: providers.find((p) => p.name === provider)?.display_name ?? provider,
    droplets: cost.droplet_count,
    hourly: cost.hourly_cost,
    monthly: cost.monthly_cost,
    share: 0,
  }));
  const total = rows.reduce((sum, row) => sum + row.monthly, 0);
  for (const row of rows) row.share = total > 0 ? row.monthly / total : 0;
  return rows.sort((a, b) => b.monthly - a.monthly || a.provider.localeCompare(b.provider));
}

// ---- Jobs ---------------------------------------------------------------------------------

/** Where a job is, with retries told apart: `retry_scheduled` (an attempt failed, the next
 * waits for its backoff) and `retrying` (a later attempt runs). */
export function jobPhase(job: Pick<Job, 'status' | 'attempts' | 'error'>): string {
  if (job.status === 'queued' && job.attempts > 0 && job.error) return 'retry_scheduled';
  if (job.status === 'running' && job.attempts > 1) return 'retrying';
  return job.status;
}

/** When the next attempt is due: after the job's last `job.retry_scheduled`, unless the job
 * moved on since (heartbeats aside). */
export function nextAttemptAt(events: readonly Schemas['RecordedEvent'][]): string | null {
  const moves = events.filter((e) => e.type !== 'job.heartbeat');
  const last = moves[moves.length - 1];
  if (!last || last.type !== 'job.retry_scheduled') return null;
  const delay = Number((last.data as { delay_ms?: number }).delay_ms ?? 0);
  return new Date(new Date(last.recorded_at).getTime() + delay).toISOString();
}

// ---- Registration -------------------------------------------------------------------------

export interface ProviderForm {
  name: string;
  displayName: string;
  regions: Region[];
  sizes: SizeSlug[];
  priceMultiplier: string;
  capacity: string;
  provisionMs: string;
}

/** Checks a registration as the API does (docs/providers.md); errors are keyed by the API's
 * field names, so its own `422` lands on the same fields. */
export function validateProvider(form: ProviderForm): {
  body?: Schemas['RegisterProviderBody'];
  errors: Record<string, string>;
} {
  const errors: Record<string, string> = {};
  const name = form.name.trim();
  if (!name) errors.name = 'required';
  else if (name.length > 63) errors.name = 'at most 63 characters';
  else if (!/^[a-z]([a-z0-9-]*[a-z0-9])?$/.test(name)) {
    errors.name = 'lowercase letters, digits and hyphens; starts with a letter, does not end with a hyphen';
  }
  const displayName = form.displayName.trim();
  if (displayName.length > 100) errors.display_name = 'at most 100 characters';
  if (form.regions.length === 0) errors.regions = 'pick at least one region';
  else if (form.regions.some((r) => !REGIONS.includes(r))) errors.regions = 'not a catalog region';
  if (form.sizes.length === 0) errors.sizes = 'pick at least one size';
  const multiplier = form.priceMultiplier.trim() === '' ? 1 : Number(form.priceMultiplier);
  if (!Number.isFinite(multiplier) || multiplier <= 0 || multiplier > 10) {
    errors.price_multiplier = 'a number above 0 and at most 10';
  }
  const capacity = form.capacity.trim() === '' ? 50 : Number(form.capacity);
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > 100_000) {
    errors.capacity_per_region = 'a whole number from 1 to 100000';
  }
  const provisionMs = form.provisionMs.trim() === '' ? null : Number(form.provisionMs);
  if (provisionMs !== null && (!Number.isInteger(provisionMs) || provisionMs < 0 || provisionMs > 600_000)) {
    errors['latency.provision_ms'] = 'whole milliseconds from 0 to 600000';
  }
  if (Object.keys(errors).length) return { errors };
  return {
    body: {
      name,
      regions: [...new Set(form.regions)],
      sizes: [...new Set(form.sizes)],
      price_multiplier: multiplier,
      capacity_per_region: capacity,
      ...(displayName ? { display_name: displayName } : {}),
      ...(provisionMs !== null ? { latency: { provision_ms: provisionMs } } : {}),
    },
    errors,
  };
}
