// What a job is doing, in words: its phase (a job waiting to retry is `retrying`, never plain
// `queued` or `running`), its attempts folded from its own events, its retry schedule, and
// the list's filters in the URL. Pure functions, so they are tested without a server.
import type { Schemas } from '../api/client';
import type { JobQuery, JobSort, JobStatus, JobType } from '../api/jobs';
import { JOB_STATUSES, JOB_TYPES } from '../api/jobs';

export type Job = Schemas['JobView'];
export type JobEvent = Schemas['RecordedEvent'];
export type RetryPolicy = Schemas['RetryPolicy'];

const FINISHED = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);

/** Whether a job has reached its one end. */
export function isFinished(status: string): boolean {
  return FINISHED.has(status);
}

/** Reads a field of an event's data (untyped in the API). */
function field<T>(event: JobEvent, key: string): T | undefined {
  const data = event.data as Record<string, unknown> | null | undefined;
  return data && typeof data === 'object' ? (data[key] as T | undefined) : undefined;
}

/** When `ms` milliseconds after `at` is, as an RFC 3339 time. */
function after(at: string, ms: number): string {
  return new Date(new Date(at).getTime() + ms).toISOString();
}

/** The retry a job waits for: its last `job.retry_scheduled` with no attempt started since. */
export function pendingRetry(events: readonly JobEvent[] | undefined) {
  let retry: { attempt: number; error: string; delayMs: number; dueAt: string } | null = null;
  for (const event of events ?? []) {
    if (event.type === 'job.retry_scheduled') {
      const delayMs = field<number>(event, 'delay_ms') ?? 0;
      retry = {
        attempt: field<number>(event, 'attempt') ?? 0,
        error: field<string>(event, 'error') ?? '',
        delayMs,
        dueAt: after(event.recorded_at, delayMs),
      };
    } else if (event.type === 'job.started' || isFinished(event.type.replace(/^job\./, ''))) {
      retry = null;
    }
  }
  return retry;
}

/** A job's phase as the console shows it. */
export interface JobPhase {
  /** The badge: the job's status, or `retrying` / `cancelling`. */
  badge: string;
  /** The sentence, e.g. `retrying — attempt 2 of 5`. */
  text: string;
  /** When the next attempt is due (a job waiting to retry, once its events are read). */
  nextTryAt?: string;
}

/** `attempt n of m` (`m` omitted when the job has no limit recorded). */
function attemptOf(n: number, max: number): string {
  return max > 0 ? `attempt ${n} of ${max}` : `attempt ${n}`;
}

/**
 * The phase of `job`; `events` (its own stream, when read) gives a retry its due time.
 * A job back in the queue after a failed attempt is `retrying`, with the attempt to come.
 */
export function jobPhase(job: Job, events?: readonly JobEvent[]): JobPhase {
  const { attempts, max_attempts: max } = job;
  switch (job.status) {
    case 'succeeded':
      return { badge: 'succeeded', text: `succeeded — ${attemptOf(attempts, max)}` };
    case 'failed':
      return { badge: 'failed', text: attempts > 0 ? `failed — ${attemptOf(attempts, max)}` : 'failed' };
    case 'timed_out':
      return { badge: 'timed_out', text: `timed out — ${attemptOf(attempts, max)}` };
    case 'cancelled':
      return {
        badge: 'cancelled',
        text: attempts > 0 ? `cancelled — ${attemptOf(attempts, max)}` : 'cancelled — before it ran',
      };
    case 'running':
      return job.cancel_requested
        ? { badge: 'cancelling', text: `cancelling — ${attemptOf(attempts, max)}, cancellation requested` }
        : { badge: 'running', text: `running — ${attemptOf(attempts, max)}` };
  }
  if (attempts > 0) {
    const retry = pendingRetry(events);
    const next = Math.min(attempts + 1, max > 0 ? max : attempts + 1);
    return {
      badge: 'retrying',
      text: `retrying — ${attemptOf(next, max)}`,
      ...(retry ? { nextTryAt: retry.dueAt } : {}),
    };
  }
  if (job.status === 'queued') return { badge: 'queued', text: 'queued — waiting for a worker' };
  if (job.status === 'pending') return { badge: 'pending', text: 'pending — not yet queued' };
  return { badge: job.status, text: job.status.replace(/_/g, ' ') };
}

/** One attempt of a job, from its events. */
export interface Attempt {
  number: number;
  worker?: string;
  startedAt?: string;
  endedAt?: string;
  /** `running` while it runs; `retry` when it failed and another attempt was scheduled. */
  outcome: 'running' | 'retry' | 'succeeded' | 'failed' | 'timed_out' | 'cancelled';
  error?: string;
  /** The highest progress it reported. */
  progress: number;
  /** For `retry`: when the next attempt is due. */
  nextTryAt?: string;
}

/** The attempts of a job, in order, folded from its events. */
export function attemptsOf(events: readonly JobEvent[] | undefined): Attempt[] {
  const attempts: Attempt[] = [];
  const numbered = (n: number, at: string): Attempt => {
    let found = attempts.find((a) => a.number === n);
    if (!found) {
      found = { number: n, startedAt: at, outcome: 'running', progress: 0 };
      attempts.push(found);
    }
    return found;
  };
  const current = () => {
    const last = attempts[attempts.length - 1];
    return last && last.outcome === 'running' ? last : undefined;
  };
  const end = (attempt: Attempt | undefined, at: string, outcome: Attempt['outcome'], error?: string) => {
    if (!attempt) return;
    attempt.outcome = outcome;
    attempt.endedAt = at;
    if (error) attempt.error = error;
  };
  for (const event of events ?? []) {
    const at = event.recorded_at;
    switch (event.type) {
      case 'job.started': {
        const attempt = numbered(field<number>(event, 'attempt') ?? attempts.length + 1, at);
        attempt.worker = field<string>(event, 'worker');
        attempt.startedAt = at;
        break;
      }
      case 'job.progressed': {
        const attempt = current();
        if (attempt) attempt.progress = Math.max(attempt.progress, field<number>(event, 'progress') ?? 0);
        break;
      }
      case 'job.retry_scheduled': {
        const attempt = numbered(field<number>(event, 'attempt') ?? attempts.length, at);
        end(attempt, at, 'retry', field<string>(event, 'error'));
        attempt.nextTryAt = after(at, field<number>(event, 'delay_ms') ?? 0);
        break;
      }
      case 'job.timed_out': {
        const n = field<number>(event, 'attempt');
        end(n ? numbered(n, at) : current(), at, 'timed_out', n ? `attempt ${n} timed out` : 'timed out');
        break;
      }
      case 'job.failed':
        end(current(), at, 'failed', field<string>(event, 'error'));
        break;
      case 'job.succeeded': {
        const attempt = current();
        end(attempt, at, 'succeeded');
        if (attempt) attempt.progress = 100;
        break;
      }
      case 'job.cancelled':
        end(current(), at, 'cancelled');
        break;
    }
  }
  return attempts;
}

/** The backoff before each further attempt: after attempt 1, 2, … up to `maxAttempts - 1`. */
export function backoffs(policy: RetryPolicy, maxAttempts = policy.max_attempts): number[] {
  const delays: number[] = [];
  for (let n = 1; n < maxAttempts; n += 1) {
    const delay = policy.initial_interval_ms * policy.backoff_coefficient ** (n - 1);
    delays.push(Math.round(Math.min(delay, policy.max_interval_ms)));
  }
  return delays;
}

/** A duration for people: `500 ms`, `1.5 s`, `2 min 30 s`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${Number(seconds.toFixed(1))} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds - minutes * 60);
  return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
}

/** What an event of a job says, in one line. */
export function eventSummary(event: JobEvent): string {
  const get = <T>(key: string) => field<T>(event, key);
  switch (event.type) {
    case 'job.created': {
      const droplet = get<string | null>('droplet_id');
      return `${get<string>('job_type') ?? 'job'} on ${get<string>('cluster_id') ?? '?'}${droplet ? ` / ${droplet}` : ''}, `
        + `up to ${get<number>('max_attempts') ?? '?'} attempts`;
    }
    case 'job.queued':
      return 'queued for a worker';
    case 'job.started':
      return `attempt ${get<number>('attempt') ?? '?'} started on ${get<string>('worker') ?? 'a worker'}`;
    case 'job.progressed': {
      const message = get<string | null>('message');
      return `${get<number>('progress') ?? 0}%${message ? ` — ${message}` : ''}`;
    }
    case 'job.heartbeat':
      return `attempt ${get<number>('attempt') ?? '?'} is alive`;
    case 'job.retry_scheduled':
      return `attempt ${get<number>('attempt') ?? '?'} failed: ${get<string>('error') ?? ''}; `
        + `next try in ${formatMs(get<number>('delay_ms') ?? 0)}`;
    case 'job.succeeded':
      return 'succeeded';
    case 'job.failed':
      return `failed: ${get<string>('error') ?? ''}`;
    case 'job.timed_out':
      return `attempt ${get<number>('attempt') ?? '?'} timed out`;
    case 'job.cancel_requested': {
      const reason = get<string | null>('reason');
      return `cancellation requested${reason ? `: ${reason}` : ''}`;
    }
    case 'job.cancelled':
      return 'cancelled';
    default:
      return '';
  }
}

export const JOB_PAGE_SIZE = 20;
const SORTS: readonly JobSort[] = ['created_at', 'id'];

function oneOf<T extends string>(value: string | null, allowed: readonly T[]): T | undefined {
  return value !== null && (allowed as readonly string[]).includes(value) ? (value as T) : undefined;
}

/**
 * The list's filters, sort and page from the URL's query string (`droplet_id` comes from a
 * droplet's page). Values the API does not know are dropped (they would be a `400`); the
 * default order is newest first.
 */
export function jobQueryFrom(params: URLSearchParams): JobQuery {
  const status = oneOf<JobStatus>(params.get('status'), JOB_STATUSES);
  const type = oneOf<JobType>(params.get('type'), JOB_TYPES);
  const cluster = params.get('cluster_id');
  const droplet = params.get('droplet_id');
  return {
    page: Math.max(1, Math.floor(Number(params.get('page') ?? 1)) || 1),
    page_size: JOB_PAGE_SIZE,
    sort_by: oneOf(params.get('sort_by'), SORTS) ?? 'created_at',
    sort_dir: params.get('sort_dir') === 'asc' ? 'asc' : 'desc',
    ...(status ? { status } : {}),
    ...(type ? { type } : {}),
    ...(cluster ? { cluster_id: cluster } : {}),
    ...(droplet && DROPLET_ID.test(droplet) ? { droplet_id: droplet } : {}),
  };
}

/** A droplet id as the API takes it in `?droplet_id=` (another is a `400`). */
const DROPLET_ID = /^dr_[0-9a-f]{32}$/;


/** The tone of a phase's badge, for its progress bar. */
export function phaseTone(badge: string): 'ok' | 'warn' | 'danger' | 'info' | 'muted' {
  if (badge === 'succeeded') return 'ok';
  if (badge === 'failed' || badge === 'timed_out') return 'danger';
  if (badge === 'retrying') return 'warn';
  if (badge === 'cancelled' || badge === 'cancelling') return 'muted';
  return 'info';
}

/** A long id in short (`job_…1a2b3c4d`: its prefix and its last, random, digits). */
export function shortId(id: string): string {
  const cut = id.indexOf('_');
  return id.length <= 16 ? id : `${id.slice(0, cut + 1)}…${id.slice(-8)}`;
}
