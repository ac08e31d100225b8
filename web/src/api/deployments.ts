// Deployments: start one on a cluster (`POST /v1/clusters/{id}/deployments`), a cluster's list
// (newest first), one deployment, and its Rollback and Promote. The types are written by hand
// and mirror the OpenAPI schemas of the same names; once `schema.d.ts` is regenerated they
// become `Schemas['DeploymentView']` (and so on) aliases. Keys start with `deployment` (the
// `deployment` stream's events make them stale); a running deployment is also read again every
// 2 s while shown, so its droplets and steps move live.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { untyped } from './untyped';
import { unwrapAnswer } from './autoscaling';
import { fresh, observe } from '../live/position';
import type { MetricType } from './genie';

export type Strategy = 'rolling' | 'canary' | 'blue_green';
export const STRATEGIES = ['rolling', 'canary', 'blue_green'] as const satisfies readonly Strategy[];
export type DeploymentStatus = 'running' | 'succeeded' | 'rolled_back' | 'failed';
export type StepKind = 'batch' | 'canary' | 'rest' | 'green' | 'switch' | 'retire' | 'rollback';
export type StepStatus = 'pending' | 'running' | 'completed' | 'failed';

export interface HealthGate {
  metric: MetricType;
  max: number;
  window_seconds: number;
}

/** `POST /v1/clusters/{id}/deployments`'s body. */
export interface StartDeploymentInput {
  strategy: Strategy;
  version: string;
  target_percent?: number;
  batch_size?: number;
  health_gate?: HealthGate;
  auto_promote?: boolean;
}

export interface DeploymentStep {
  index: number;
  kind: StepKind;
  droplet_ids: string[];
  status: StepStatus;
  job_id?: string | null;
  started_at?: string | null;
  completed_at?: string | null;
}

export interface GateResult {
  after_step: number;
  passed: boolean;
  reason: string;
  metric: string;
  max: number;
  observed?: number | null;
  unhealthy_droplets: string[];
  window_seconds: number;
  at: string;
}

export interface DeploymentLog {
  at: string;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface DeploymentDroplet {
  droplet_id: string;
  name: string;
  app_version: string | null;
  status: string;
}

export interface DeploymentView {
  id: string;
  cluster_id: string;
  strategy: Strategy;
  version: string;
  previous_version: string | null;
  status: DeploymentStatus;
  phase: string;
  waiting_for_promotion: boolean;
  target_percent?: number | null;
  batch_size?: number | null;
  auto_promote: boolean;
  health_gate: HealthGate;
  steps: DeploymentStep[];
  gates: GateResult[];
  logs: DeploymentLog[];
  droplets: DeploymentDroplet[];
  created_at: string;
  updated_at: string;
  finished_at?: string | null;
  /** Events on the deployment's stream (`version` is the application version). */
  stream_version?: number;
}

/** A command's answer (`202`). */
export interface DeploymentAccepted {
  deployment: DeploymentView;
  position?: number;
}

export interface DeploymentList {
  items: DeploymentView[];
}

/** How often a running deployment (or a list with one) is read again while shown. */
export const DEPLOYMENT_REFRESH_MS = 2_000;

const running = (d: DeploymentView | undefined) => d?.status === 'running';

export const deploymentsKey = (clusterId: string) => ['deployment', 'cluster', clusterId];
export const deploymentKey = (id: string) => ['deployment', id];

/** A cluster's deployments, newest first. */
export function useDeployments(clusterId: string | undefined) {
  return useQuery({
    queryKey: deploymentsKey(clusterId ?? ''),
    enabled: !!clusterId,
    queryFn: async () =>
      unwrapAnswer(await untyped.GET<DeploymentList>('/v1/clusters/{id}/deployments', {
        params: { path: { id: clusterId! }, query: fresh() },
      })),
    refetchInterval: (query) => (query.state.data?.items.some(running) ? DEPLOYMENT_REFRESH_MS : false),
    placeholderData: (previous) => previous,
    retry: false,
  });
}

/** One deployment; read again every 2 s while it runs. */
export function useDeployment(id: string) {
  return useQuery({
    queryKey: deploymentKey(id),
    queryFn: async () =>
      unwrapAnswer(await untyped.GET<DeploymentView>('/v1/deployments/{id}', { params: { path: { id }, query: fresh() } })),
    refetchInterval: (query) => (running(query.state.data) ? DEPLOYMENT_REFRESH_MS : false),
    retry: false,
  });
}

/** After a command: its position known, its deployment shown as answered, the rest refreshed. */
function useAccepted() {
  const client = useQueryClient();
  return async (answer: DeploymentAccepted) => {
    observe(answer.position);
    client.setQueryData(deploymentKey(answer.deployment.id), answer.deployment);
    await Promise.all([['deployment'], ['droplets'], ['jobs'], ['autoscaler']].map((queryKey) =>
      client.invalidateQueries({ queryKey })));
  };
}

export function useStartDeployment(clusterId: string) {
  const accepted = useAccepted();
  return useMutation({
    mutationFn: async (body: StartDeploymentInput) =>
      unwrapAnswer(await untyped.POST<DeploymentAccepted>('/v1/clusters/{id}/deployments', {
        params: { path: { id: clusterId } }, body,
      })),
    onSuccess: accepted,
  });
}

export function useRollback(id: string) {
  const accepted = useAccepted();
  return useMutation({
    mutationFn: async () =>
      unwrapAnswer(await untyped.POST<DeploymentAccepted>('/v1/deployments/{id}/rollback', { params: { path: { id } } })),
    onSuccess: accepted,
  });
}

export function usePromote(id: string) {
  const accepted = useAccepted();
  return useMutation({
    mutationFn: async () =>
      unwrapAnswer(await untyped.POST<DeploymentAccepted>('/v1/deployments/{id}/promote', { params: { path: { id } } })),
    onSuccess: accepted,
  });
}
