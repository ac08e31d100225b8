// Jobs and job events for tests.
import type { Job, JobEvent } from '../pages/jobState';

/** `second` seconds past noon on 2026-01-01, as an RFC 3339 time. */
export const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, second)).toISOString();

let position = 0;
/** An event of job `job_1`, recorded at `second` seconds past noon. */
export function ev(type: string, data: unknown, second: number): JobEvent {
  position += 1;
  return {
    id: `00000000-0000-0000-0000-${String(position).padStart(12, '0')}`,
    position, sequence: position, aggregate_type: 'job', aggregate_id: 'job_1', type, schema_version: 1,
    recorded_at: at(second), data,
    metadata: { actor: 'system', correlation_id: 'c', causation_id: 'c', traceparent: 't' },
  };
}

export function job(overrides: Partial<Job> = {}): Job {
  return {
    id: 'job_1', type: 'provision', cluster_id: 'cl_1', droplet_id: 'dr_1', status: 'running', progress: 10,
    attempts: 1, max_attempts: 5, parameters: {}, cancel_requested: false, trace_id: 't', version: 3,
    ...overrides,
  };
}

/** A provision whose attempt 1 failed at :02, its next try due 1 s later. */
export const retried = () => [
  ev('job.created', { job_type: 'provision', cluster_id: 'cl_1', droplet_id: 'dr_1', max_attempts: 5 }, 0),
  ev('job.queued', {}, 0),
  ev('job.started', { attempt: 1, worker: 'w-0' }, 1),
  ev('job.progressed', { progress: 30, message: 'placed' }, 1),
  ev('job.retry_scheduled', { attempt: 1, error: 'provider down', delay_ms: 1000 }, 2),
];
