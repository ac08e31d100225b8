// Diagnoses, samples and series as the genie's endpoints answer them, for tests.
import type { Diagnosis, MetricSeries, Recommendation } from '../api/genie';

export const recommendation = (overrides: Partial<Recommendation> = {}): Recommendation => ({
  id: 'rec_1', title: 'Add droplets for redundancy', detail: 'One droplet is a single point of failure.',
  priority: 'high', action: { type: 'scale_up', count: 2, size: 's-1vcpu-1gb' }, ...overrides,
});

export const diagnosis = (overrides: Partial<Diagnosis> = {}): Diagnosis => ({
  diagnosis_id: 'dg_1', cluster_id: 'cl_1', engine: 'rules', requested_engine: 'rules', model: null,
  prompt_version: null, fallback_reason: null, health_score: 72, health_label: 'Good',
  insights: ['The cluster has 1 droplet.', 'CPU averaged 91 % over 5 minutes.'],
  recommendations: [
    recommendation(),
    recommendation({ id: 'rec_2', title: 'Configuration looks good', detail: 'Nothing else to do.', priority: 'low', action: { type: 'none' } }),
  ],
  inputs_digest: 'sha256:0123456789abcdef', created_at: '2026-01-01T12:00:00Z', position: 40, ...overrides,
});

export const pageOf = <T,>(items: T[], total = items.length, next: string | null = null) =>
  ({ items, page: 1, page_size: 10, total, total_is_estimate: false, next_cursor: next });

/** A series of `type` with one point per minute from noon (`[avg, min, max]` each). */
export const seriesOf = (type: MetricSeries['type'], points: [number, number, number][]): MetricSeries => ({
  type, unit: type === 'network' ? 'mbps' : 'percent', step: 15,
  since: '2026-01-01T12:00:00Z', until: '2026-01-01T13:00:00Z',
  points: points.map(([avg, min, max], i) => ({
    t: new Date(Date.UTC(2026, 0, 1, 12, i)).toISOString(), avg, min, max, count: 4,
  })),
});

/** An openapi-fetch answer. */
export function answer(status: number, body: unknown, headers: Record<string, string> = {}) {
  const response = new Response(null, { status, headers });
  return status < 400 ? { data: body, response } : { error: body, response };
}

export const problem = (status: number, detail: string) =>
  ({ type: 'urn:clustergenie:problem:x', title: 'x', status, detail });
