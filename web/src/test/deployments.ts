// Deployments as the deployment endpoints answer them, for tests.
import type { DeploymentView } from '../api/deployments';

export const deployment = (overrides: Partial<DeploymentView> = {}): DeploymentView => ({
  id: 'dep_1', cluster_id: 'cl_1', strategy: 'rolling', version: '1.1.0', previous_version: '1.0.0',
  status: 'running', phase: 'gate after batch 1 of 2', waiting_for_promotion: false, batch_size: 1, auto_promote: true,
  health_gate: { metric: 'cpu', max: 90, window_seconds: 30 },
  steps: [
    { index: 1, kind: 'batch', droplet_ids: ['dr_1'], status: 'completed', job_id: 'job_1',
      started_at: '2026-01-01T12:00:00Z', completed_at: '2026-01-01T12:00:05Z' },
    { index: 2, kind: 'batch', droplet_ids: ['dr_2'], status: 'pending' },
  ],
  gates: [{
    after_step: 1, passed: true, reason: 'cpu averaged 42 %, at most 90 %', metric: 'cpu', max: 90, observed: 42,
    unhealthy_droplets: [], window_seconds: 30, at: '2026-01-01T12:00:10Z',
  }],
  logs: [{ at: '2026-01-01T12:00:00Z', level: 'info', message: 'batch 1 of 2: web-1' }],
  droplets: [
    { droplet_id: 'dr_1', name: 'web-1', app_version: '1.1.0', status: 'active' },
    { droplet_id: 'dr_2', name: 'web-2', app_version: '1.0.0', status: 'active' },
  ],
  created_at: '2026-01-01T12:00:00Z', updated_at: '2026-01-01T12:00:10Z', finished_at: null, ...overrides,
});
