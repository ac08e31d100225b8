// The genie's endpoints: metric samples and series (`/v1/metrics`), a cluster's health, its
// diagnoses and the jobs that implement their recommendations. Same client, base and problem
// handling as every other module (the typed `api`, `X-User-Id` included); refusals keep their
// `Retry-After` (`CommandError`). The generated types are narrowed where the API states the
// values in words (types, units, engines, priorities, labels, actions). Keys: `metrics` (polled: samples are telemetry, not events),
// `cluster` (health follows `cluster.status_changed`), `diagnosis` (its events).
import { queryOptions, useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ProblemError, type Problem, type Schemas } from './client';
import { CommandError } from './droplets';
import { fresh, observe } from '../live/position';

export type MetricType = 'cpu' | 'memory' | 'disk' | 'network';
export type MetricUnit = 'percent' | 'mbps';
export const METRIC_TYPES = ['cpu', 'memory', 'disk', 'network'] as const satisfies readonly MetricType[];

// The generated metric types, with the type and unit (documented in words) made exact.
type SampleView = Schemas['Page_MetricSampleView']['items'][number];
export type MetricSample = Omit<SampleView, 'type' | 'unit'> & { type: MetricType; unit: MetricUnit };
export type MetricPage = Omit<Schemas['Page_MetricSampleView'], 'items'> & { items: MetricSample[] };
export type SeriesPoint = Schemas['SeriesPointView'];
export type MetricSeries = Omit<Schemas['SeriesView'], 'type' | 'unit'> & { type: MetricType; unit: MetricUnit };

export type HealthStatus = 'healthy' | 'warning' | 'critical';
export type HealthIssue = Schemas['HealthIssue'];
/** `GET /v1/clusters/{id}/health`, its status made exact. */
export type ClusterHealth = Omit<Schemas['ClusterHealth'], 'status'> & { status: HealthStatus };

export type Engine = 'rules' | 'llm';
export type Priority = 'high' | 'medium' | 'low';
export type ActionType = 'scale_up' | 'scale_down' | 'create_droplet' | 'resize' | 'restart' | 'monitor' | 'none';

/** What implementing a recommendation does: its type and the job's parameters. */
export interface RecommendationAction {
  type: ActionType;
  [param: string]: unknown;
}

// The generated diagnosis types, with the values the API documents in words made exact.
export type Recommendation = Omit<Schemas['Recommendation'], 'priority' | 'action'> & {
  priority: Priority;
  action: RecommendationAction;
};

export type Diagnosis = Omit<
  Schemas['DiagnosisView'], 'engine' | 'requested_engine' | 'health_label' | 'recommendations'
> & {
  engine: Engine;
  requested_engine: Engine;
  health_label: 'Excellent' | 'Good' | 'Needs Attention';
  recommendations: Recommendation[];
};

export type DiagnosisPage = Omit<Schemas['Page_DiagnosisView'], 'items'> & { items: Diagnosis[] };

export type Implemented = Schemas['Positioned_JobStarted'];

export interface HistoryQuery {
  cluster_id?: string;
  droplet_id?: string;
  type?: MetricType;
  since?: string;
  until?: string;
  page?: number;
  page_size: number;
  cursor?: string;
}

export interface SeriesQuery {
  type: MetricType;
  cluster_id: string;
  droplet_id?: string;
  since: string;
  until: string;
  step: number;
}

/** The data of an answer, or its problem thrown with `Retry-After` (a `429`). */
export function unwrapGenie<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data !== undefined && result.response.ok) return result.data;
  const retry = Number(result.response.headers.get('Retry-After'));
  throw new CommandError(
    result.response.status,
    (result.error ?? {}) as Partial<Problem>,
    result.response.headers.has('Retry-After') && Number.isFinite(retry) ? retry : null,
  );
}

/** How often charts, health and the newest samples are read again while shown. */
export const METRICS_REFRESH_MS = 10_000;

/** What a chart shows: a type over a cluster (or one droplet) for the last `seconds`, by `step`. */
export interface SeriesSpec {
  type: MetricType;
  cluster_id: string;
  droplet_id?: string;
  seconds: number;
  step: number;
}

/**
 * A chart's series, for the window ending when it is read; read again every 10 s while the
 * page is visible (the window moves with it). Options for `useQuery` / `useQueries`.
 */
export function seriesQuery(spec: SeriesSpec) {
  return queryOptions({
    queryKey: ['metrics', 'series', spec],
    queryFn: async () => {
      const { seconds, ...rest } = spec;
      const now = Date.now();
      const query: SeriesQuery = {
        ...rest,
        since: new Date(now - seconds * 1000).toISOString(),
        until: new Date(now).toISOString(),
      };
      return unwrapGenie(await api.GET('/v1/metrics', { params: { query } })) as MetricSeries;
    },
    refetchInterval: METRICS_REFRESH_MS,
    retry: false,
  });
}

/** The series of every metric type for one cluster (or droplet). */
export function useMetricSeries(specs: SeriesSpec[]) {
  return useQueries({ queries: specs.map(seriesQuery) });
}

/** A page of samples, newest first; the first page is read again every 10 s. */
export function useMetricHistory(query: HistoryQuery) {
  const first = !query.cursor && (query.page ?? 1) === 1;
  return useQuery({
    queryKey: ['metrics', 'history', query],
    queryFn: async () => unwrapGenie(await api.GET('/v1/metrics', { params: { query } })) as MetricPage,
    refetchInterval: first ? METRICS_REFRESH_MS : false,
    placeholderData: (previous) => previous,
    retry: false,
  });
}

/** A cluster's health: refreshed by its events, and polled where `poll` (its issues move with samples). */
export function useClusterHealth(id: string | undefined, poll = false) {
  return useQuery({
    queryKey: ['cluster', id, 'health'],
    enabled: !!id,
    queryFn: async () =>
      unwrapGenie(await api.GET('/v1/clusters/{id}/health', { params: { path: { id: id! }, query: fresh() } })) as ClusterHealth,
    refetchInterval: poll ? METRICS_REFRESH_MS : false,
    retry: false,
  });
}

/** Rows per page of a cluster's past diagnoses. */
export const DIAGNOSES_PAGE_SIZE = 10;

/** A page of a cluster's diagnoses, newest first. */
export function useDiagnoses(clusterId: string, page = 1) {
  const query = { page, page_size: DIAGNOSES_PAGE_SIZE };
  return useQuery({
    queryKey: ['diagnosis', clusterId, 'list', query],
    queryFn: async () =>
      unwrapGenie(await api.GET('/v1/clusters/{id}/diagnoses', {
        params: { path: { id: clusterId }, query: { ...query, ...fresh() } },
      })) as DiagnosisPage,
    placeholderData: (previous) => previous,
    retry: false,
  });
}

/** Runs a diagnosis of the cluster with an engine. */
export function useRunDiagnosis(clusterId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (engine: Engine) =>
      unwrapGenie(await api.POST('/v1/clusters/{id}/diagnose', { params: { path: { id: clusterId } }, body: { engine } })) as Diagnosis,
    onSuccess: async (answer) => {
      observe(answer.position);
      await client.invalidateQueries({ queryKey: ['diagnosis', clusterId] });
    },
  });
}

/** Starts (or finds again: it is idempotent) the job implementing a recommendation. */
export function useImplement(clusterId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (recId: string) =>
      unwrapGenie(await api.POST('/v1/clusters/{id}/recommendations/{rec_id}/implement', {
        params: { path: { id: clusterId, rec_id: recId } },
      })),
    onSuccess: async (answer) => {
      observe(answer.position);
      await Promise.all([['jobs'], ['diagnosis', clusterId]].map((queryKey) => client.invalidateQueries({ queryKey })));
    },
  });
}

/** Whether an error is the server saying the LLM engine is not configured (`422`). */
export function llmUnavailable(error: unknown): error is ProblemError {
  return error instanceof ProblemError && error.status === 422;
}
