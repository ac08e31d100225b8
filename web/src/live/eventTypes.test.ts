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
