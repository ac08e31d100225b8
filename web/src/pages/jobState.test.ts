import { at, ev, job, retried } from '../test/jobs';
import {
  attemptsOf, backoffs, eventSummary, formatMs, jobPhase, jobQueryFrom, pendingRetry, shortId,
} from './jobState';
import { withChanges } from './urlState';

describe('the phase of a job', () => {
  test('a job back in the queue after a failed attempt is retrying, with the attempt to come and its time', () => {
    const phase = jobPhase(job({ status: 'queued', attempts: 1, error: 'provider down' }), retried());
    expect(phase).toEqual({ badge: 'retrying', text: 'retrying — attempt 2 of 5', nextTryAt: at(3) });
  });

  test('without its events a retrying job is still retrying, only without the time', () => {
    expect(jobPhase(job({ status: 'queued', attempts: 2 }))).toEqual({ badge: 'retrying', text: 'retrying — attempt 3 of 5' });
  });

  test('a retry is no longer pending once the next attempt started', () => {
    const events = [...retried(), ev('job.started', { attempt: 2, worker: 'w-1' }, 3)];
    expect(pendingRetry(events)).toBeNull();
    expect(pendingRetry(retried())).toEqual({ attempt: 1, error: 'provider down', delayMs: 1000, dueAt: at(3) });
    expect(jobPhase(job({ status: 'running', attempts: 2 }), events)).toEqual({ badge: 'running', text: 'running — attempt 2 of 5' });
  });

  test('a job that never ran is queued or pending, not retrying', () => {
    expect(jobPhase(job({ status: 'queued', attempts: 0 })).badge).toBe('queued');
    expect(jobPhase(job({ status: 'pending', attempts: 0 })).text).toBe('pending — not yet queued');
  });

  test('a running job whose cancel was asked for is cancelling', () => {
    expect(jobPhase(job({ cancel_requested: true }))).toEqual({
      badge: 'cancelling', text: 'cancelling — attempt 1 of 5, cancellation requested',
    });
  });

  test('finished jobs say how they ended and on which attempt', () => {
    expect(jobPhase(job({ status: 'succeeded', attempts: 2 })).text).toBe('succeeded — attempt 2 of 5');
    expect(jobPhase(job({ status: 'failed', attempts: 5 })).text).toBe('failed — attempt 5 of 5');
    expect(jobPhase(job({ status: 'timed_out', attempts: 3, max_attempts: 3 })).badge).toBe('timed_out');
    expect(jobPhase(job({ status: 'cancelled', attempts: 0 })).text).toBe('cancelled — before it ran');
    expect(jobPhase(job({ status: 'cancelled', attempts: 2 })).text).toBe('cancelled — attempt 2 of 5');
    // A finished job is never retrying, whatever its last events were.
    expect(jobPhase(job({ status: 'failed', attempts: 1 }), retried()).nextTryAt).toBeUndefined();
  });
});

describe('the attempts of a job', () => {
  test('each attempt has its worker, progress, outcome and error; a retry its next try', () => {
    const events = [
      ...retried(),
      ev('job.started', { attempt: 2, worker: 'w-1' }, 3),
      ev('job.heartbeat', { attempt: 2 }, 4),
      ev('job.timed_out', { attempt: 2 }, 5),
    ];
    expect(attemptsOf(events)).toEqual([
      { number: 1, worker: 'w-0', startedAt: at(1), endedAt: at(2), outcome: 'retry', error: 'provider down', progress: 30, nextTryAt: at(3) },
      { number: 2, worker: 'w-1', startedAt: at(3), endedAt: at(5), outcome: 'timed_out', error: 'attempt 2 timed out', progress: 0 },
    ]);
  });

  test('the last attempt ends as the job does', () => {
    const ok = attemptsOf([...retried(), ev('job.started', { attempt: 2, worker: 'w-1' }, 3), ev('job.succeeded', { result: {} }, 4)]);
    expect(ok[1]).toMatchObject({ number: 2, outcome: 'succeeded', progress: 100, endedAt: at(4) });
    const failed = attemptsOf([ev('job.started', { attempt: 1, worker: 'w' }, 1), ev('job.failed', { error: 'no capacity' }, 2)]);
    expect(failed).toEqual([expect.objectContaining({ outcome: 'failed', error: 'no capacity' })]);
    const cancelled = attemptsOf([ev('job.started', { attempt: 1, worker: 'w' }, 1), ev('job.cancel_requested', { reason: null }, 2), ev('job.cancelled', null, 3)]);
    expect(cancelled).toEqual([expect.objectContaining({ outcome: 'cancelled', endedAt: at(3) })]);
  });

  test('a job cancelled before it ran has no attempt', () => {
    expect(attemptsOf([ev('job.created', {}, 0), ev('job.cancel_requested', {}, 1), ev('job.cancelled', null, 1)])).toEqual([]);
    expect(attemptsOf(undefined)).toEqual([]);
  });
});

test('backoffs grow by the coefficient up to the longest interval', () => {
  const policy = {
    initial_interval_ms: 1000, backoff_coefficient: 2, max_interval_ms: 5000, max_attempts: 6,
    attempt_timeout_ms: 1, heartbeat_timeout_ms: 1, non_retryable: [],
  };
  expect(backoffs(policy)).toEqual([1000, 2000, 4000, 5000, 5000]);
  expect(backoffs(policy, 1)).toEqual([]);
});

test('durations read as people say them', () => {
  expect(formatMs(500)).toBe('500 ms');
  expect(formatMs(1000)).toBe('1 s');
  expect(formatMs(1500)).toBe('1.5 s');
  expect(formatMs(90_000)).toBe('1 min 30 s');
  expect(formatMs(120_000)).toBe('2 min');
});

test('each event of a job says what happened in a line', () => {
  const [created, queued, started, progressed, retry] = retried();
  expect(eventSummary(created!)).toBe('provision on cl_1 / dr_1, up to 5 attempts');
  expect(eventSummary(queued!)).toBe('queued for a worker');
  expect(eventSummary(started!)).toBe('attempt 1 started on w-0');
  expect(eventSummary(progressed!)).toBe('30% — placed');
  expect(eventSummary(retry!)).toBe('attempt 1 failed: provider down; next try in 1 s');
  expect(eventSummary(ev('job.cancel_requested', { reason: 'too slow' }, 1))).toBe('cancellation requested: too slow');
  expect(eventSummary(ev('job.cancelled', null, 1))).toBe('cancelled');
  expect(eventSummary(ev('job.mystery', null, 1))).toBe('');
});

describe('the list in the URL', () => {
  test('the query string gives the filters, the sort and the page; newest first by default', () => {
    expect(jobQueryFrom(new URLSearchParams(''))).toEqual({ page: 1, page_size: 20, sort_by: 'created_at', sort_dir: 'desc' });
    expect(jobQueryFrom(new URLSearchParams('status=failed&type=scale_up&cluster_id=cl_9&sort_by=id&sort_dir=asc&page=3')))
      .toEqual({ page: 3, page_size: 20, sort_by: 'id', sort_dir: 'asc', status: 'failed', type: 'scale_up', cluster_id: 'cl_9' });
  });

  test('values the API does not know are dropped rather than sent', () => {
    expect(jobQueryFrom(new URLSearchParams('status=retrying&type=bake&sort_by=name&page=-4&sort_dir=up')))
      .toEqual({ page: 1, page_size: 20, sort_by: 'created_at', sort_dir: 'desc' });
    expect(jobQueryFrom(new URLSearchParams('droplet_id=dr_1')).droplet_id).toBeUndefined();
    expect(jobQueryFrom(new URLSearchParams(`droplet_id=DR_${'a'.repeat(32)}`)).droplet_id).toBeUndefined();
  });

  test("a droplet's jobs are a filter of the list", () => {
    const droplet = `dr_${'0123456789abcdef'.repeat(2)}`;
    expect(jobQueryFrom(new URLSearchParams(`droplet_id=${droplet}&status=failed`)))
      .toEqual({ page: 1, page_size: 20, sort_by: 'created_at', sort_dir: 'desc', status: 'failed', droplet_id: droplet });
  });

  test('a change goes back to the first page unless it is the page; an empty value removes the key', () => {
    const params = new URLSearchParams('status=failed&page=4');
    expect(withChanges(params, { type: 'diagnose' }).toString()).toBe('status=failed&type=diagnose');
    expect(withChanges(params, { status: '' }).toString()).toBe('');
    expect(withChanges(params, { page: '5' }).toString()).toBe('status=failed&page=5');
  });
});

test('long ids are shortened to their prefix and last digits', () => {
  expect(shortId('job_01a247fd863f75cd97281c60fa167a84')).toBe('job_…fa167a84');
  expect(shortId('job_1')).toBe('job_1');
});
