// What a destructive command on a cluster touches, read before it is confirmed: the cluster's
// droplets (not yet destroyed) and the unfinished jobs on it, from the list endpoints. And the
// bulk destroy itself: one `DELETE /v1/droplets/{id}` per droplet, one at a time, waiting as long
// as a `429` (or `503`) says before trying again.
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';
import { CommandError, refusal, type Droplet, type Job } from '../api/droplets';
import { fresh } from '../live/position';

/** Jobs not finished yet: they run, or wait to. */
export const UNFINISHED_JOB_STATUSES = ['running', 'queued', 'pending'] as const;

/** The most rows read for a preview (pages of 500). */
export const TOUCH_LIMIT = 5000;

export interface Touches {
  /** The droplets not yet destroyed, by name. */
  droplets: Droplet[];
  /** The unfinished jobs of the cluster (on its droplets or on the cluster itself). */
  jobs: Job[];
  /** False when there were more rows than `TOUCH_LIMIT`. */
  complete: boolean;
}

type Page<T> = { items: T[]; next_cursor?: string | null };

/** Every page of a list, following `next_cursor`, up to `limit` rows. */
export async function readAll<T>(read: (cursor?: string) => Promise<Page<T>>, limit = TOUCH_LIMIT) {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await read(cursor);
    items.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor && items.length < limit);
  return { items, complete: !cursor };
}

/** The jobs working on (or waiting for) `droplet`. */
export function jobsOn(touches: Pick<Touches, 'jobs'>, dropletId: string): Job[] {
  return touches.jobs.filter((j) => j.droplet_id === dropletId);
}

/** The cluster's droplets and unfinished jobs; read while `enabled` (its dialog is open), live. */
export function useClusterTouches(clusterId: string, enabled: boolean) {
  return useQuery({
    // Under `cluster`: droplet and job events of the live stream make it stale.
    queryKey: ['cluster', clusterId, 'touches'],
    enabled,
    queryFn: async (): Promise<Touches> => {
      const droplets = readAll(async (cursor) =>
        unwrap(await api.GET('/v1/droplets', {
          params: { query: { cluster_id: clusterId, page_size: 500, sort_by: 'name', sort_dir: 'asc', cursor, ...fresh() } },
        })));
      const jobs = UNFINISHED_JOB_STATUSES.map((status) =>
        readAll(async (cursor) =>
          unwrap(await api.GET('/v1/jobs', {
            params: { query: { cluster_id: clusterId, status, page_size: 500, cursor, ...fresh() } },
          }))));
      const [d, ...j] = await Promise.all([droplets, ...jobs]);
      return {
        droplets: d.items.filter((x) => x.status !== 'destroyed'),
        jobs: j.flatMap((page) => page.items),
        complete: d.complete && j.every((page) => page.complete),
      };
    },
  });
}

/** Where one droplet of a bulk destroy is. */
export type Progress =
  | { state: 'waiting' }
  | { state: 'sending' }
  | { state: 'retrying'; seconds: number; reason: string }
  | { state: 'requested'; jobId?: string }
  | { state: 'failed'; reason: string }
  | { state: 'not sent' };

export interface BulkOptions {
  /** Waits `ms` (a timer in the page, a fake in tests). */
  sleep: (ms: number) => Promise<void>;
  /** Checked before each droplet: true once the operator stopped the run. */
  stopped: () => boolean;
  /** Tries of one droplet at most, when told to wait and try again. */
  maxTries?: number;
}

/** The wait a refusal asks for before trying again, in seconds, or null when it is final. */
export function retryWait(error: unknown): number | null {
  if (!(error instanceof CommandError)) return null;
  if (error.status !== 429 && error.status !== 503) return null;
  return Math.min(60, Math.max(1, error.retryAfter ?? 1));
}

/**
 * Sends `destroy` for each droplet in turn, reporting each one's progress; a `429` or `503`
 * waits its `Retry-After` and tries again. Returns the positions of the commands accepted.
 */
export async function destroyEach<R extends { position?: number; job?: { id: string } }>(
  droplets: readonly Pick<Droplet, 'id' | 'version'>[],
  destroy: (id: string, version: number) => Promise<R>,
  report: (id: string, progress: Progress) => void,
  options: BulkOptions,
): Promise<number[]> {
  const positions: number[] = [];
  const maxTries = options.maxTries ?? 5;
  for (const [index, droplet] of droplets.entries()) {
    if (options.stopped()) {
      for (const rest of droplets.slice(index)) report(rest.id, { state: 'not sent' });
      break;
    }
    for (let attempt = 1; ; attempt += 1) {
      report(droplet.id, { state: 'sending' });
      try {
        const answer = await destroy(droplet.id, droplet.version);
        if (typeof answer.position === 'number') positions.push(answer.position);
        report(droplet.id, { state: 'requested', jobId: answer.job?.id });
        break;
      } catch (error) {
        const wait = retryWait(error);
        if (wait === null || attempt >= maxTries) {
          report(droplet.id, { state: 'failed', reason: refusal(error) });
          break;
        }
        report(droplet.id, { state: 'retrying', seconds: wait, reason: refusal(error) });
        await options.sleep(wait * 1000);
        if (options.stopped()) {
          report(droplet.id, { state: 'not sent' });
          break;
        }
      }
    }
  }
  return positions;
}
