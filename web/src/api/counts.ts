// Counts by status for the Dashboard: one single-row page per status, whose `total` is exact
// up to the list's count bound (an estimate above it, flagged). The keys sit under the lists'
// own, so the live stream refreshes them with the lists.
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from './client';
import type { DropletStatus } from './droplets';
import type { JobStatus } from './jobs';

export interface Count {
  total: number;
  estimate: boolean;
}

/** One page per status, a single row each: their totals, by status. */
export async function countEach<S extends string>(
  statuses: readonly S[],
  page: (status: S) => Promise<{ total?: number | null; total_is_estimate: boolean }>,
): Promise<Record<S, Count>> {
  const counts = await Promise.all(
    statuses.map(async (status) => {
      const { total, total_is_estimate } = await page(status);
      return [status, { total: total ?? 0, estimate: total_is_estimate }] as const;
    }),
  );
  return Object.fromEntries(counts) as Record<S, Count>;
}

export const DASHBOARD_DROPLET_STATUSES = [
  'provisioning', 'active', 'resizing', 'off', 'failed',
] as const satisfies readonly DropletStatus[];
export const DASHBOARD_JOB_STATUSES = ['running', 'queued', 'failed'] as const satisfies readonly JobStatus[];

export function useDropletCounts() {
  return useQuery({
    queryKey: ['droplets', 'counts'],
    queryFn: () =>
      countEach(DASHBOARD_DROPLET_STATUSES, async (status) =>
        unwrap(await api.GET('/v1/droplets', { params: { query: { status, page_size: 1 } } }))),
  });
}

export function useJobCounts() {
  return useQuery({
    queryKey: ['jobs', 'counts'],
    queryFn: () =>
      countEach(DASHBOARD_JOB_STATUSES, async (status) =>
        unwrap(await api.GET('/v1/jobs', { params: { query: { status, page_size: 1 } } }))),
  });
}

/** A count as the Dashboard shows it: `≈` before an estimate, `…` while loading. */
export function countText(count: Count | undefined): string {
  if (!count) return '…';
  return `${count.estimate ? '≈' : ''}${count.total}`;
}
