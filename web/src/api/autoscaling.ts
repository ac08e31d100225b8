// Auto-scaling: a cluster's policy (`GET/PUT/DELETE /v1/clusters/{id}/autoscaling`), an
// evaluation on demand (`POST .../autoscaling/evaluate`) and the decisions, newest first
// (`GET .../autoscaling/decisions`). The types are written by hand and mirror the OpenAPI
// schemas of the same names; once `schema.d.ts` is regenerated they become
// `Schemas['AutoscalingPolicyView']` (and so on) aliases, with the values the API states in
// words made exact as in genie.ts. Keys: the policy is `['cluster', id, 'autoscaling']` (the
// `cluster.autoscaling_policy_*` events refresh it with the cluster); decisions are
// `['autoscaler', id, ...]` (the `autoscaler` stream's events, and polled: they follow samples,
// which are telemetry, not events).
import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { ProblemError, type Problem } from './client';
import { CommandError } from './droplets';
import { untyped, type Answer } from './untyped';
import { fresh, observe } from '../live/position';
import type { MetricType } from './genie';

export type PolicyType = 'metrics' | 'time_of_day' | 'cost';
export const POLICY_TYPES = ['metrics', 'time_of_day', 'cost'] as const satisfies readonly PolicyType[];
export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const satisfies readonly Weekday[];

/** One time-of-day window: on these days, from `start` to `end` ("HH:MM", in `time_zone`). */
export interface ScheduleWindow {
  days: Weekday[];
  start: string;
  end: string;
  time_zone?: string;
  desired_droplets: number;
}

/** `PUT /v1/clusters/{id}/autoscaling`'s body. */
export interface AutoscalingPolicyInput {
  type: PolicyType;
  enabled?: boolean;
  min_droplets: number;
  max_droplets: number;
  cooldown_seconds?: number;
  metric_type?: MetricType;
  scale_up_threshold?: number;
  scale_down_threshold?: number;
  evaluation_window_seconds?: number;
  windows?: ScheduleWindow[];
  cost_limit_per_hour?: number | null;
}

/** A cluster's policy as the API shows it. */
export interface AutoscalingPolicyView extends AutoscalingPolicyInput {
  cluster_id: string;
  enabled: boolean;
  cooldown_seconds: number;
  updated_at: string;
  version: number;
}

export type DecisionKind = 'scale_up' | 'scale_down' | 'none';
export type DecisionCode =
  | 'above_threshold' | 'below_threshold' | 'within_band' | 'no_samples' | 'cooldown' | 'scale_job_running'
  | 'droplets_pending' | 'below_min' | 'above_max' | 'at_max' | 'at_min' | 'cost_cap' | 'window'
  | 'outside_windows' | 'at_desired' | 'disabled' | 'deployment_running';

/** What a decision was made from. */
export interface DecisionInputs {
  droplets: number;
  pending_droplets: number;
  metric_type?: string;
  metric_average?: number;
  samples?: number;
  window_seconds?: number;
  scale_up_threshold?: number;
  scale_down_threshold?: number;
  desired_droplets?: number;
  window?: string;
  hourly_cost: number;
  droplet_hourly_cost: number;
  cost_limit_per_hour?: number;
  cooldown_remaining_seconds?: number;
  running_job_id?: string;
}

/** One outcome of the evaluator, with how many consecutive evaluations gave it. */
export interface AutoscalingDecisionView {
  id: string;
  cluster_id: string;
  at: string;
  last_at: string;
  evaluations: number;
  trigger: 'schedule' | 'manual';
  decision: DecisionKind;
  count: number;
  code: DecisionCode | (string & {});
  reason: string;
  inputs: DecisionInputs;
  job_id?: string | null;
  event_position?: number | null;
}

export interface DecisionList {
  items: AutoscalingDecisionView[];
}

/** How often the decisions are read again while shown. */
export const DECISIONS_REFRESH_MS = 5_000;
/** How many decisions the timeline and its chart show. */
export const DECISIONS_LIMIT = 50;

/** The data of an answer (none for a `204`), or its problem thrown with `Retry-After`. */
export function unwrapAnswer<T>(result: Answer<T>): T {
  if (result.response.ok) return result.data as T;
  const retry = Number(result.response.headers.get('Retry-After'));
  throw new CommandError(
    result.response.status,
    (result.error ?? {}) as Partial<Problem>,
    result.response.headers.has('Retry-After') && Number.isFinite(retry) ? retry : null,
  );
}

const path = (id: string) => ({ path: { id } });

async function readPolicy(clusterId: string): Promise<AutoscalingPolicyView | null> {
  try {
    return unwrapAnswer(await untyped.GET<AutoscalingPolicyView>('/v1/clusters/{id}/autoscaling', {
      params: { ...path(clusterId), query: fresh() },
    }));
  } catch (e) {
    // No policy (or no cluster: the page around says so) is not an error here.
    if (e instanceof ProblemError && e.status === 404) return null;
    throw e;
  }
}

export const policyKey = (clusterId: string) => ['cluster', clusterId, 'autoscaling'];
export const decisionsKey = (clusterId: string) => ['autoscaler', clusterId, 'decisions'];

/** A cluster's policy, or `null` when it has none. */
export function useAutoscalingPolicy(clusterId: string) {
  return useQuery({ queryKey: policyKey(clusterId), queryFn: () => readPolicy(clusterId), retry: false });
}

/** The policies of several clusters (the Autoscaling page's list). */
export function useAutoscalingPolicies(clusterIds: readonly string[]) {
  return useQueries({
    queries: clusterIds.map((id) => ({ queryKey: policyKey(id), queryFn: () => readPolicy(id), retry: false })),
  });
}

/** The latest decisions, newest first; read again every 5 s while shown. */
export function useAutoscalingDecisions(clusterId: string, limit = DECISIONS_LIMIT) {
  return useQuery({
    queryKey: [...decisionsKey(clusterId), limit],
    queryFn: async () =>
      unwrapAnswer(await untyped.GET<DecisionList>('/v1/clusters/{id}/autoscaling/decisions', {
        params: { ...path(clusterId), query: { limit, ...fresh() } },
      })),
    refetchInterval: DECISIONS_REFRESH_MS,
    placeholderData: (previous) => previous,
    retry: false,
  });
}

function useRefresh(clusterId: string) {
  const client = useQueryClient();
  return async (position?: number | null) => {
    observe(position ?? undefined);
    await Promise.all(
      [policyKey(clusterId), decisionsKey(clusterId), ['clusters'], ['jobs']].map((queryKey) =>
        client.invalidateQueries({ queryKey })),
    );
  };
}

/** Sets (creates or replaces) the cluster's policy. */
export function useSavePolicy(clusterId: string) {
  const client = useQueryClient();
  const refresh = useRefresh(clusterId);
  return useMutation({
    mutationFn: async (body: AutoscalingPolicyInput) =>
      unwrapAnswer(await untyped.PUT<AutoscalingPolicyView & { position?: number }>('/v1/clusters/{id}/autoscaling', {
        params: path(clusterId), body,
      })),
    onSuccess: async (policy) => {
      client.setQueryData(policyKey(clusterId), policy);
      await refresh(policy.position);
    },
  });
}

/** Removes the cluster's policy. */
export function useRemovePolicy(clusterId: string) {
  const client = useQueryClient();
  const refresh = useRefresh(clusterId);
  return useMutation({
    mutationFn: async () =>
      unwrapAnswer(await untyped.DELETE<unknown>('/v1/clusters/{id}/autoscaling', { params: path(clusterId) })),
    onSuccess: async () => {
      client.setQueryData(policyKey(clusterId), null);
      await refresh();
    },
  });
}

/** Evaluates the policy now; the answer is the decision it made. */
export function useEvaluateNow(clusterId: string) {
  const refresh = useRefresh(clusterId);
  return useMutation({
    mutationFn: async () =>
      unwrapAnswer(await untyped.POST<AutoscalingDecisionView>('/v1/clusters/{id}/autoscaling/evaluate', {
        params: path(clusterId),
      })),
    onSuccess: async (decision) => refresh(decision.event_position),
  });
}
