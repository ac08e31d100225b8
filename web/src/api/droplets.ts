// Droplets: the list, one droplet, the jobs working on it, and its commands. Every key starts
// with `droplets` or `jobs`, which the live stream marks stale on droplet and job events.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ProblemError, type Problem, type Schemas } from './client';
import { fresh, observe } from '../live/position';
import type { operations } from './schema';

export type Droplet = Schemas['DropletView'];
export type Job = Schemas['JobView'];
export type DropletQuery = NonNullable<operations['listDroplets']['parameters']['query']>;
export type DropletStatus = NonNullable<DropletQuery['status']>;
export type DropletSort = NonNullable<DropletQuery['sort_by']>;
export type PowerAction = Schemas['PowerBody']['action'];

/** A command's refusal, with the seconds to wait when the server says (`Retry-After`). */
export class CommandError extends ProblemError {
  constructor(
    status: number,
    problem: Partial<Problem>,
    readonly retryAfter: number | null,
  ) {
    super(status, problem);
  }
}

/** The data of a command's answer, or its problem thrown with `Retry-After`. */
function unwrapCommand<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data !== undefined && result.response.ok) return result.data;
  const retry = Number(result.response.headers.get('Retry-After'));
  throw new CommandError(
    result.response.status,
    (result.error ?? {}) as Partial<Problem>,
    result.response.headers.has('Retry-After') && Number.isFinite(retry) ? retry : null,
  );
}

/** The data of a read, or its problem thrown. */
function unwrapRead<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data !== undefined && result.response.ok) return result.data;
  throw new ProblemError(result.response.status, (result.error ?? {}) as Partial<Problem>);
}

/** What to tell the operator about a failed command. */
export function refusal(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (!(error instanceof ProblemError)) return error.message;
  const retry = error instanceof CommandError && error.retryAfter != null ? ` Try again in ${error.retryAfter} s.` : '';
  const said = error.message.replace(/\.?$/, '.');
  switch (error.status) {
    case 409:
    case 422:
      return `Refused: ${said}`;
    case 412:
      return `Refused: ${said} The droplet changed since it was shown; it is shown as it is now: check and try again.`;
    case 429:
      return `Too many requests: ${said}${retry}`;
    case 503:
      return `The service is busy: ${said}${retry}`;
    default:
      return error.message;
  }
}

export function useDroplets(query: DropletQuery) {
  return useQuery({
    queryKey: ['droplets', 'list', query],
    queryFn: async () => unwrapRead(await api.GET('/v1/droplets', { params: { query: { ...query, ...fresh() } } })),
    placeholderData: (previous) => previous,
  });
}

export function useDroplet(id: string) {
  return useQuery({
    queryKey: ['droplets', 'detail', id],
    queryFn: async () =>
      unwrapRead(await api.GET('/v1/droplets/{id}', { params: { path: { id }, query: fresh() } })),
    retry: false,
  });
}

/** One job (the one working on a droplet), refreshed by the job events of the live stream. */
export function useJob(id: string | null | undefined) {
  return useQuery({
    queryKey: ['jobs', 'detail', id],
    enabled: !!id,
    queryFn: async () => unwrapRead(await api.GET('/v1/jobs/{id}', { params: { path: { id: id! }, query: fresh() } })),
    placeholderData: (previous) => previous,
  });
}

/** Rows per page of a droplet's jobs. */
export const DROPLET_JOBS_PAGE_SIZE = 10;

/** A page of the droplet's jobs, newest first (`GET /v1/jobs?droplet_id=`). */
export function useDropletJobs(dropletId: string, page = 1) {
  const query = { droplet_id: dropletId, page, page_size: DROPLET_JOBS_PAGE_SIZE, sort_dir: 'desc' } as const;
  return useQuery({
    queryKey: ['jobs', query],
    queryFn: async () => unwrapRead(await api.GET('/v1/jobs', { params: { query: { ...query, ...fresh() } } })),
    placeholderData: (previous) => previous,
  });
}

/** The droplet's events, in order. */
export function useDropletHistory(id: string) {
  return useQuery({
    queryKey: ['droplets', 'stream', id],
    queryFn: async () =>
      unwrapRead(await api.GET('/v1/streams/{aggregate_type}/{id}', { params: { path: { aggregate_type: 'droplet', id } } })),
  });
}

/** Clusters to choose from (by name; the first 500). */
export function useClusterChoices() {
  return useQuery({
    queryKey: ['clusters', 'choices'],
    queryFn: async () =>
      unwrapRead(await api.GET('/v1/clusters', { params: { query: { page_size: 500, sort_by: 'name', ...fresh() } } })),
  });
}

const CHANGED = [['droplets'], ['jobs'], ['clusters'], ['cluster'], ['dashboard'], ['provider']];

/** Runs a command, records its position, and refreshes what it changed. */
function useCommand<I, O extends { position?: number }>(run: (input: I) => Promise<O>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess: async (answer) => {
      observe(answer.position);
      await Promise.all(CHANGED.map((queryKey) => client.invalidateQueries({ queryKey })));
    },
    onError: async (error) => {
      // A stale version: show the droplet as it is now.
      if (error instanceof ProblemError && error.status === 412) await client.invalidateQueries({ queryKey: ['droplets'] });
    },
  });
}

/** `If-Match` for the version the operator saw. */
const ifMatch = (version: number) => ({ 'If-Match': `"${version}"` });

export function useCreateDroplet() {
  return useCommand(async (body: Schemas['CreateDropletBody']) => unwrapCommand(await api.POST('/v1/droplets', { body })));
}

export function useResizeDroplet(id: string) {
  return useCommand(async ({ size, version }: Schemas['ResizeBody'] & { version: number }) =>
    unwrapCommand(
      await api.POST('/v1/droplets/{id}/resize', { params: { path: { id }, header: ifMatch(version) }, body: { size } }),
    ),
  );
}

export function usePowerDroplet(id: string) {
  return useCommand(async ({ action, version }: Schemas['PowerBody'] & { version: number }) =>
    unwrapCommand(
      await api.POST('/v1/droplets/{id}/power', { params: { path: { id }, header: ifMatch(version) }, body: { action } }),
    ),
  );
}

export function useMigrateDroplet(id: string) {
  return useCommand(async ({ target_provider, version }: Schemas['MigrateBody'] & { version: number }) =>
    unwrapCommand(
      await api.POST('/v1/droplets/{id}/migrate', {
        params: { path: { id }, header: ifMatch(version) }, body: { target_provider },
      }),
    ),
  );
}

/** Destroys a droplet at the version shown (its refusal thrown as a `CommandError`). */
export async function destroyDroplet(id: string, version: number) {
  return unwrapCommand(await api.DELETE('/v1/droplets/{id}', { params: { path: { id }, header: ifMatch(version) } }));
}

export function useDestroyDroplet(id: string) {
  return useCommand(async ({ version }: { version: number }) => destroyDroplet(id, version));
}

/** After commands sent outside `useCommand` (a bulk destroy): what they changed, read again. */
export function useRefreshAfterCommands() {
  const client = useQueryClient();
  return async (positions: readonly (number | undefined)[]) => {
    for (const position of positions) observe(position);
    await Promise.all(CHANGED.map((queryKey) => client.invalidateQueries({ queryKey })));
  };
}
