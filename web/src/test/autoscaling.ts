// Policies and decisions as the auto-scaling endpoints answer them, for tests.
import type { AutoscalingDecisionView, AutoscalingPolicyView } from '../api/autoscaling';

export const policy = (overrides: Partial<AutoscalingPolicyView> = {}): AutoscalingPolicyView => ({
  cluster_id: 'cl_1', type: 'metrics', enabled: true, min_droplets: 1, max_droplets: 5, cooldown_seconds: 300,
  metric_type: 'cpu', scale_up_threshold: 80, scale_down_threshold: 30, evaluation_window_seconds: 300,
  cost_limit_per_hour: null, updated_at: '2026-01-01T12:00:00Z', version: 4, ...overrides,
});

export const decision = (overrides: Partial<AutoscalingDecisionView> = {}): AutoscalingDecisionView => ({
  id: 'asd_1', cluster_id: 'cl_1', at: '2026-01-01T12:00:00Z', last_at: '2026-01-01T12:00:00Z', evaluations: 1,
  trigger: 'manual', decision: 'scale_up', count: 1, code: 'above_threshold',
  reason: 'cpu averaged 86.2 % over 300 s, above the scale-up threshold 80 %',
  inputs: {
    droplets: 2, pending_droplets: 0, metric_type: 'cpu', metric_average: 86.2, samples: 10, window_seconds: 300,
    scale_up_threshold: 80, scale_down_threshold: 30, hourly_cost: 0.02, droplet_hourly_cost: 0.01,
  },
  job_id: 'job_9', event_position: 77, ...overrides,
});
