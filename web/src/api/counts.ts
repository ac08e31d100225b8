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

export const DASHBOARD_DROPLET_STATUSES = [
  'provisioning', 'active', 'resizing', 'off', 'failed',
] as const satisfies readonly DropletStatus[];
export const DASHBOARD_JOB_STATUSES = ['running', 'queued', 'failed'] as const satisfies readonly JobStatus[];

export function useDropletCounts() {
  return useQuery({
    queryKey: ['droplets', 'counts'],
    queryFn: async () => {
      const counts = await Promise.all(
        DASHBOARD_DROPLET_STATUSES.map(async (status) => {
          const page = unwrap(await api.GET('/v1/droplets', { params: { query: { status, page_size: 1 } } }));
          return [status, { total: page.total ?? 0, estimate: page.total_is_estimate }] as const;
        }),
      );
      return Object.fromEntries(counts) as Record<(typeof DASHBOARD_DROPLET_STATUSES)[number], Count>;
    },
  });
}

export function useJobCounts() {
  return useQuery({
    queryKey: ['jobs', 'counts'],
    queryFn: async () => {
      const counts = await Promise.all(
        DASHBOARD_JOB_STATUSES.map(async (status) => {
          const page = unwrap(await api.GET('/v1/jobs', { params: { query: { status, page_size: 1 } } }));
          return [status, { total: page.total ?? 0, estimate: page.total_is_estimate }] as const;
        }),
      );
      return Object.fromEntries(counts) as Record<(typeof DASHBOARD_JOB_STATUSES)[number], Count>;
    },
  });
}

/** A count as the Dashboard shows it: `≈` before an estimate, `…` while loading. */
export function countText(count: Count | undefined): string {
  if (!count) return '…';
  return `${count.estimate ? '≈' : ''}${count.total}`;
}
