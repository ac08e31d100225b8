// Jobs: the list, one job and its own events, and the commands that start and cancel jobs.
// Every key starts with `jobs`, which each `job.*` event of the live stream makes stale.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from './client';
import { fresh, observe } from '../live/position';
import type { operations } from './schema';

export type JobQuery = NonNullable<operations['listJobs']['parameters']['query']>;
export type JobStatus = NonNullable<JobQuery['status']>;
export type JobType = NonNullable<JobQuery['type']>;
export type JobSort = NonNullable<JobQuery['sort_by']>;
export type CreateJobBody = Schemas['CreateJobBody'];
export type CreatableJobType = 'scale_up' | 'scale_down' | 'diagnose' | 'monitor';

export const JOB_STATUSES = [
  'pending', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out',
] as const satisfies readonly JobStatus[];
export const JOB_TYPES = [
  'provision', 'destroy', 'resize', 'scale_up', 'scale_down', 'restart', 'diagnose', 'monitor',
  'power_on', 'power_off', 'migrate',
] as const satisfies readonly JobType[];
/** The types `POST /v1/jobs` starts (droplet jobs come from the droplet endpoints). */
export const CREATABLE_JOB_TYPES = [
  'scale_up', 'scale_down', 'diagnose', 'monitor',
] as const satisfies readonly (CreatableJobType & CreateJobBody['type'])[];

export function useJobs(query: JobQuery) {
  return useQuery({
    queryKey: ['jobs', query],
    queryFn: async () => unwrap(await api.GET('/v1/jobs', { params: { query: { ...query, ...fresh() } } })),
    placeholderData: (previous) => previous,
  });
}

export function useJob(id: string) {
  return useQuery({
    queryKey: ['jobs', 'detail', id],
    queryFn: async () => unwrap(await api.GET('/v1/jobs/{id}', { params: { path: { id }, query: fresh() } })),
    retry: false,
  });
}

/** The job's own events, in order (its attempts, progress and retries). */
export function useJobEvents(id: string) {
  return useQuery({
    queryKey: ['jobs', 'events', id],
    queryFn: async () =>
      unwrap(await api.GET('/v1/streams/{aggregate_type}/{id}', { params: { path: { aggregate_type: 'job', id } } })),
    retry: false,
  });
}

/** Clusters by name, to name and choose them (the first 500). */
export function useClusterChoices() {
  return useQuery({
    queryKey: ['clusters', { page_size: 500, sort_by: 'name', sort_dir: 'asc' }],
    queryFn: async () =>
      unwrap(await api.GET('/v1/clusters', { params: { query: { page_size: 500, sort_by: 'name', sort_dir: 'asc' } } })),
    staleTime: 10_000,
  });
}

export function useCreateJob() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (body: CreateJobBody) => unwrap(await api.POST('/v1/jobs', { body })),
    onSuccess: async (answer) => {
      observe(answer.position);
      await client.invalidateQueries({ queryKey: ['jobs'] });
    },
  });
}

export function useCancelJob(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (reason: string) =>
      unwrap(await api.POST('/v1/jobs/{id}/cancel', { params: { path: { id } }, body: reason ? { reason } : {} })),
    onSuccess: async (answer) => {
      observe(answer.position);
      await client.invalidateQueries({ queryKey: ['jobs'] });
    },
  });
}
