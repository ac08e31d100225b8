// Server state through TanStack Query: one hook per read, keys the live stream invalidates
// (see live/stream.ts), and commands that record their position for read-your-writes.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from './client';
import { fresh, observe } from '../live/position';
import { countEach } from './counts';
import type { operations } from './schema';

export type ClusterQuery = NonNullable<operations['listClusters']['parameters']['query']>;
export type ClusterStatus = NonNullable<ClusterQuery['status']>;
export type ClusterSort = NonNullable<ClusterQuery['sort_by']>;
export const CLUSTER_STATUSES = ['healthy', 'warning', 'critical'] as const satisfies readonly ClusterStatus[];

export function useClusters(query: ClusterQuery) {
  return useQuery({
    queryKey: ['clusters', query],
    queryFn: async () => unwrap(await api.GET('/v1/clusters', { params: { query: { ...query, ...fresh() } } })),
    placeholderData: (previous) => previous,
  });
}

/** How many clusters have each status (exact up to the list's count bound). */
export function useClusterCounts() {
  return useQuery({
    queryKey: ['clusters', 'counts'],
    queryFn: () =>
      countEach(CLUSTER_STATUSES, async (status) =>
        unwrap(await api.GET('/v1/clusters', { params: { query: { status, page_size: 1 } } }))),
  });
}

export function useCluster(id: string) {
  return useQuery({
    queryKey: ['cluster', id],
    queryFn: async () =>
      unwrap(await api.GET('/v1/clusters/{id}', { params: { path: { id }, query: fresh() } })),
    retry: false,
  });
}

export function useClusterSummary(id: string) {
  return useQuery({
    queryKey: ['cluster', id, 'summary'],
    queryFn: async () =>
      unwrap(await api.GET('/v1/clusters/{id}/summary', { params: { path: { id }, query: fresh() } })),
    retry: false,
  });
}

export function useClusterDroplets(clusterId: string) {
  return useQuery({
    queryKey: ['droplets', { cluster_id: clusterId }],
    queryFn: async () =>
      unwrap(await api.GET('/v1/droplets', { params: { query: { cluster_id: clusterId, page_size: 100, ...fresh() } } })),
  });
}

export function useClusterJobs(clusterId: string) {
  return useQuery({
    queryKey: ['jobs', { cluster_id: clusterId }],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/jobs', {
          params: { query: { cluster_id: clusterId, page_size: 50, sort_dir: 'desc', ...fresh() } },
        }),
      ),
  });
}

/** One aggregate's events, in order. */
export function useStream(aggregateType: string, id: string) {
  return useQuery({
    queryKey: [aggregateType, id, 'stream'],
    queryFn: async () =>
      unwrap(await api.GET('/v1/streams/{aggregate_type}/{id}', { params: { path: { aggregate_type: aggregateType, id } } })),
  });
}

/** The last `limit` events before `head` (the log's head, from the projections). */
export function useRecentEvents(limit: number, head: number | undefined) {
  return useQuery({
    queryKey: ['dashboard', 'events', limit, head],
    enabled: head !== undefined,
    queryFn: async () => {
      const after = Math.max(0, (head ?? 0) - limit);
      return unwrap(await api.GET('/v1/events', { params: { query: { after, limit } } }));
    },
    placeholderData: (previous) => previous,
  });
}

/** The log's head as the projections report it. */
export function logHead(projections: Schemas['ProjectionList'] | undefined): number | undefined {
  return projections && Math.max(0, ...projections.items.map((p) => p.position + p.lag));
}

export function useProjections() {
  return useQuery({
    queryKey: ['dashboard', 'projections'],
    queryFn: async () => unwrap(await api.GET('/v1/projections')),
  });
}

export function useWorkers() {
  return useQuery({
    queryKey: ['dashboard', 'workers'],
    queryFn: async () => unwrap(await api.GET('/v1/workers')),
  });
}

export function useReadiness() {
  return useQuery({
    queryKey: ['dashboard', 'readiness'],
    // `503` still carries the readiness document.
    queryFn: async () => {
      const result = await api.GET('/readyz');
      return (result.data ?? result.error) as Schemas['Readiness'];
    },
  });
}

/** Runs a command, records its position, and refreshes what it changed. */
function useCommand<I, O extends { position?: number }>(run: (input: I) => Promise<O>, keys: string[][]) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess: async (answer) => {
      observe(answer.position);
      await Promise.all(keys.map((queryKey) => client.invalidateQueries({ queryKey })));
    },
  });
}

export function useCreateCluster() {
  return useCommand(
    async (body: Schemas['CreateClusterBody']) => unwrap(await api.POST('/v1/clusters', { body })),
    [['clusters'], ['dashboard']],
  );
}

export function useUpdateCluster(id: string) {
  return useCommand(
    async (body: Schemas['UpdateClusterBody']) =>
      unwrap(await api.PATCH('/v1/clusters/{id}', { params: { path: { id } }, body })),
    [['clusters'], ['cluster', id]],
  );
}

export function useDeleteCluster(id: string) {
  return useCommand(
    async () => unwrap(await api.DELETE('/v1/clusters/{id}', { params: { path: { id } } })),
    [['clusters'], ['dashboard']],
  );
}

export function useProviders() {
  return useQuery({
    queryKey: ['provider', 'list'],
    queryFn: async () => unwrap(await api.GET('/v1/providers')),
    staleTime: 60_000,
  });
}
