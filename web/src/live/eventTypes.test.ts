import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { EVENT_TYPES } from './eventTypes';
import { staleKeys } from './stream';

test('the console listens to every event type the log has', () => {
  const documented = new Set(
    readdirSync(resolve(process.cwd(), '../schemas/events')).map((f) => f.replace(/\.v\d+\.json$/, '')),
  );
  expect([...documented].sort()).toEqual([...EVENT_TYPES].sort());
});

test('an event makes stale what it touched', () => {
  const keys = staleKeys({ position: 3, aggregate_type: 'cluster', aggregate_id: 'cl_1', type: 'cluster.renamed' });
  expect(keys).toContainEqual(['clusters']);
  expect(keys).toContainEqual(['cluster', 'cl_1']);
  expect(staleKeys({ position: 4, aggregate_type: 'droplet', aggregate_id: 'dr_1', type: 'droplet.resized' })).toContainEqual(['droplets']);
});

test('a status change refreshes the cluster wherever it is shown, and its health', () => {
  const keys = staleKeys({ position: 5, aggregate_type: 'cluster', aggregate_id: 'cl_1', type: 'cluster.status_changed' });
  // Lists (`['clusters', query]`), the Dashboard's counts and unhealthy card, the page and its health.
  expect(keys).toContainEqual(['clusters']);
  expect(keys).toContainEqual(['dashboard']);
  expect(keys).toContainEqual(['cluster', 'cl_1']);
});

test("a diagnosis event refreshes its cluster's diagnoses", () => {
  for (const type of ['diagnosis.completed', 'diagnosis.recommendation_implemented']) {
    expect(EVENT_TYPES).toContain(type);
    expect(staleKeys({ position: 6, aggregate_type: 'diagnosis', aggregate_id: 'cl_1', type })).toContainEqual(['diagnosis', 'cl_1']);
  }
});

test('auto-scaling and deployment events refresh what shows them', () => {
  // A policy set or removed is a cluster event: its key is under the cluster's.
  expect(staleKeys({ position: 7, aggregate_type: 'cluster', aggregate_id: 'cl_1', type: 'cluster.autoscaling_policy_set' }))
    .toContainEqual(['cluster', 'cl_1']);
  // Decisions (`['autoscaler', cluster, ...]`) and deployments (`['deployment', ...]`) by their stream's type.
  expect(staleKeys({ position: 8, aggregate_type: 'autoscaler', aggregate_id: 'cl_1', type: 'autoscaling.decided' }))
    .toContainEqual(['autoscaler']);
  expect(staleKeys({ position: 9, aggregate_type: 'deployment', aggregate_id: 'dep_1', type: 'deployment.step_completed' }))
    .toContainEqual(['deployment']);
});
