import type { Schemas } from '../api/client';
import {
  costRows, faultFieldErrors, NO_FAULTS, faultState, faultsToForm, jobPhase, monthlyUsd, nextAttemptAt, validateFaults,
  validateProvider, type ProviderForm,
} from './providerModel';

const form = { failurePct: '0', spikePct: '0', spikeMs: '0', outage: false };

test('fault percentages become rates, blanks are zero', () => {
  expect(validateFaults({ failurePct: '30', spikePct: '12.5', spikeMs: '5000', outage: true })).toEqual({
    faults: { failure_rate: 0.3, spike_rate: 0.125, spike_ms: 5000, outage: true }, errors: {},
  });
  expect(validateFaults({ failurePct: '', spikePct: ' ', spikeMs: '', outage: false }).faults)
    .toEqual({ failure_rate: 0, spike_rate: 0, spike_ms: 0, outage: false });
});

test('out-of-range or malformed faults are refused at their fields', () => {
  const result = validateFaults({ failurePct: '150', spikePct: '-1', spikeMs: '1.5', outage: false });
  expect(result.faults).toBeUndefined();
  expect(Object.keys(result.errors).sort()).toEqual(['failure_rate', 'spike_ms', 'spike_rate']);
  expect(validateFaults({ ...form, failurePct: 'abc' }).errors.failure_rate).toMatch(/percentage/);
  expect(validateFaults({ ...form, spikeMs: '600001' }).errors.spike_ms).toMatch(/600000/);
  expect(validateFaults({ ...form, failurePct: '100', spikeMs: '600000' }).faults?.failure_rate).toBe(1);
});

test('a spike rate needs a spike latency', () => {
  expect(validateFaults({ ...form, spikePct: '20' }).errors.spike_ms).toBe('a spike needs its extra latency');
});

test('the form shows faults back as percentages', () => {
  expect(faultsToForm({ failure_rate: 0.3, spike_rate: 0.125, spike_ms: 200, outage: true }))
    .toEqual({ failurePct: '30', spikePct: '12.5', spikeMs: '200', outage: true });
  expect(faultsToForm(null)).toEqual(form);
});

test("the API's fault field names map onto the form's", () => {
  expect(faultFieldErrors({ 'faults.failure_rate': 'must be between 0 and 1', body: 'x' }))
    .toEqual({ failure_rate: 'must be between 0 and 1' });
});

test('faults read as healthy, degraded or broken', () => {
  const with_ = (faults: Partial<typeof NO_FAULTS>) => ({ ...NO_FAULTS, ...faults });
  expect(faultState(NO_FAULTS).level).toBe('healthy');
  expect(faultState(with_({ failure_rate: 0.3 }))).toEqual({ level: 'degraded', summary: '30% of calls fail' });
  expect(faultState(with_({ spike_rate: 0.5, spike_ms: 5000 }))).toEqual({ level: 'degraded', summary: '50% of calls 5 s slower' });
  expect(faultState(with_({ failure_rate: 1 }))).toEqual({ level: 'broken', summary: '100% of calls fail' });
  expect(faultState(with_({ outage: true }))).toEqual({ level: 'broken', summary: 'outage: every call fails at once' });
  expect(faultState(with_({ spike_rate: 0.5, spike_ms: 0 })).level).toBe('healthy');
  expect(faultState(null).level).toBe('unknown');
});

test('monthly amounts have cents', () => {
  expect(monthlyUsd(1234.5)).toBe('$1,234.50');
  expect(monthlyUsd(5.4)).toBe('$5.40');
});

test('costs by provider: costliest first, each with its share of the total', () => {
  const billing: Schemas['Billing'] = {
    cluster_id: 'cl_1', droplet_count: 4, hourly_cost: 0.05, monthly_cost: 36,
    by_provider: {
      stratus: { droplet_count: 1, hourly_cost: 0.0075, monthly_cost: 5.4 },
      nimbus: { droplet_count: 2, hourly_cost: 0.0345, monthly_cost: 24.84 },
      edge: { droplet_count: 1, hourly_cost: 0.0075, monthly_cost: 5.4 },
    },
  };
  const rows = costRows(billing, [{ name: 'nimbus', display_name: 'Nimbus' }]);
  expect(rows.map((r) => r.provider)).toEqual(['nimbus', 'edge', 'stratus']);
  expect(rows[0]).toMatchObject({ label: 'Nimbus', droplets: 2, monthly: 24.84 });
  expect(rows[1]?.label).toBe('edge');
  expect(rows.reduce((sum, r) => sum + r.share, 0)).toBeCloseTo(1);
  expect(rows[0]?.share).toBeCloseTo(24.84 / 35.64);
  expect(costRows({ ...billing, by_provider: {} })).toEqual([]);
  expect(costRows({ ...billing, by_provider: { a: { droplet_count: 1, hourly_cost: 0, monthly_cost: 0 } } })[0]?.share).toBe(0);
});

test('a job whose attempt failed reads as a scheduled retry, then as retrying', () => {
  expect(jobPhase({ status: 'queued', attempts: 0, error: null })).toBe('queued');
  expect(jobPhase({ status: 'queued', attempts: 1, error: 'provider stratus: provision failed transiently' })).toBe('retry_scheduled');
  expect(jobPhase({ status: 'running', attempts: 1, error: null })).toBe('running');
  expect(jobPhase({ status: 'running', attempts: 2, error: 'x' })).toBe('retrying');
  expect(jobPhase({ status: 'succeeded', attempts: 3, error: null })).toBe('succeeded');
});

test('the next attempt is due its backoff after the last scheduled retry', () => {
  const event = (type: string, at: string, data: unknown = {}) =>
    ({ type, recorded_at: at, data }) as unknown as Schemas['RecordedEvent'];
  const scheduled = event('job.retry_scheduled', '2026-01-01T00:00:00.000Z', { attempt: 1, error: 'x', delay_ms: 2000 });
  expect(nextAttemptAt([event('job.started', '2025-12-31T23:59:59Z'), scheduled])).toBe('2026-01-01T00:00:02.000Z');
  expect(nextAttemptAt([scheduled, event('job.heartbeat', '2026-01-01T00:00:01Z')])).toBe('2026-01-01T00:00:02.000Z');
  expect(nextAttemptAt([scheduled, event('job.started', '2026-01-01T00:00:02Z')])).toBeNull();
  expect(nextAttemptAt([])).toBeNull();
});

test('a registration is checked as the API checks it', () => {
  const ok: ProviderForm = {
    name: ' edge ', displayName: '', regions: ['fra1', 'fra1'], sizes: ['c-2'], priceMultiplier: '0.8', capacity: '4',
    provisionMs: '2000',
  };
  expect(validateProvider(ok)).toEqual({
    body: {
      name: 'edge', regions: ['fra1'], sizes: ['c-2'], price_multiplier: 0.8, capacity_per_region: 4,
      latency: { provision_ms: 2000 },
    },
    errors: {},
  });
  const bad = validateProvider({
    ...ok, name: 'Edge-', regions: [], sizes: [], priceMultiplier: '0', capacity: '1.5', provisionMs: '700000',
  });
  expect(bad.body).toBeUndefined();
  expect(Object.keys(bad.errors).sort()).toEqual(
    ['capacity_per_region', 'latency.provision_ms', 'name', 'price_multiplier', 'regions', 'sizes'],
  );
  expect(validateProvider({ ...ok, name: 'edge-' }).errors.name).toMatch(/hyphen/);
  expect(validateProvider({ ...ok, priceMultiplier: '10.5' }).errors.price_multiplier).toBeDefined();
  expect(validateProvider({ ...ok, displayName: 'Edge Cloud', provisionMs: '' }).body)
    .toMatchObject({ display_name: 'Edge Cloud' });
  expect(validateProvider({ ...ok, provisionMs: '' }).body).not.toHaveProperty('latency');
});
