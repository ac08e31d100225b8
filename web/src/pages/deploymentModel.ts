// What the Deployments pages compute, apart from React: the start form (text fields, as typed),
// its checks (the API's rules, keyed by the API's field names so a `422` lands on the same
// fields), the body it sends, which commands apply to a deployment, and its droplets' progress.
// Pure, tested without a server.
import type { DeploymentView, StartDeploymentInput, Strategy } from '../api/deployments';
import { METRIC_TYPES, type MetricType } from '../api/genie';

export interface DeployForm {
  strategy: Strategy;
  version: string;
  batch: string;
  percent: string;
  autoPromote: boolean;
  /** Off: the server's default gate. */
  gate: boolean;
  metric: MetricType;
  max: string;
  window: string;
}

export const EMPTY_DEPLOY: DeployForm = {
  strategy: 'rolling', version: '', batch: '1', percent: '25', autoPromote: true, gate: false, metric: 'cpu',
  max: '90', window: '30',
};

export const STRATEGY_LABELS: Record<Strategy, string> = {
  rolling: 'Rolling', canary: 'Canary', blue_green: 'Blue-green',
};

export const STRATEGY_HINTS: Record<Strategy, string> = {
  rolling: 'Updates the droplets a batch at a time, checking the health gate after each batch.',
  canary: 'Updates a share of the droplets first; after its gate passes, the rest (or waits for Promote).',
  blue_green: 'Brings up a green set at the new version, switches to it after its gate, then retires the blue one.',
};

const VERSION = /^[A-Za-z0-9._-]{1,64}$/;

function int(value: string): number {
  const t = value.trim();
  return /^-?\d+$/.test(t) ? Number(t) : NaN;
}

/** Checks the form; the body to send when it passes. */
export function validateDeploy(form: DeployForm): { body?: StartDeploymentInput; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const version = form.version.trim();
  if (!version) errors.version = 'required, e.g. 1.4.2';
  else if (!VERSION.test(version)) errors.version = "1 to 64 letters, digits, '.', '_' or '-'";
  const body: StartDeploymentInput = { strategy: form.strategy, version };
  if (form.strategy === 'rolling') {
    const batch = int(form.batch);
    if (!(batch >= 1)) errors.batch_size = 'a whole number, 1 or more';
    else body.batch_size = batch;
  }
  if (form.strategy === 'canary') {
    const percent = int(form.percent);
    if (!(percent >= 1 && percent <= 100)) errors.target_percent = 'a whole percent, 1 to 100';
    else body.target_percent = percent;
    body.auto_promote = form.autoPromote;
  }
  if (form.gate) {
    if (!METRIC_TYPES.includes(form.metric)) errors['health_gate.metric'] = 'cpu, memory, disk or network';
    const max = form.max.trim() === '' ? NaN : Number(form.max);
    if (!Number.isFinite(max)) errors['health_gate.max'] = 'a number';
    const window = int(form.window);
    if (!(window >= 5 && window <= 3600)) errors['health_gate.window_seconds'] = 'a whole number of seconds, 5 to 3600';
    body.health_gate = { metric: form.metric, max, window_seconds: window };
  }
  return Object.keys(errors).length ? { errors } : { body, errors };
}

/** An API field name as the form keys it (`health_gate/max`, `health_gate[max]` read `health_gate.max`). */
export function deployField(field: string): string {
  return field.replace(/^\//, '').replace(/\[(\w+)\]/g, '.$1').replace(/\//g, '.');
}

/** Rollback applies while the deployment runs (a finished one answers `409`). */
export const canRollback = (d: DeploymentView) => d.status === 'running';

/** Promote applies to a canary waiting at its target. */
export const canPromote = (d: DeploymentView) => waiting(d);

/** A canary stopped at its target until promoted (shown as a badge). */
export const waiting = (d: DeploymentView) => d.status === 'running' && d.waiting_for_promotion;

/** The phase, unless the badge already says it. */
export const phaseText = (d: DeploymentView) =>
  waiting(d) && /^waiting for promotion\.?$/i.test(d.phase.trim()) ? '' : d.phase;

/** How many of the deployment's droplets run its version (of those not destroyed: a
 * blue-green deployment retires the blue ones). */
export function dropletProgress(d: DeploymentView): { done: number; total: number; percent: number } {
  const live = d.droplets.filter((x) => x.status !== 'destroyed');
  const total = live.length;
  const done = live.filter((x) => x.app_version === d.version).length;
  return { done, total, percent: total ? Math.round((done / total) * 100) : 0 };
}

/** `rolling, batches of 2`, `canary to 25 %, then waits for Promote`, `blue-green`. */
export function strategyText(d: Pick<DeploymentView, 'strategy' | 'batch_size' | 'target_percent' | 'auto_promote'>): string {
  switch (d.strategy) {
    case 'rolling':
      return `rolling, ${d.batch_size ?? 1} droplet${(d.batch_size ?? 1) === 1 ? '' : 's'} a batch`;
    case 'canary':
      return `canary to ${d.target_percent ?? 25} %, then ${d.auto_promote ? 'the rest after its gate' : 'waits for Promote'}`;
    default:
      return 'blue-green';
  }
}

export const LOG_TONE: Record<string, string> = { info: 'muted', warn: 'warn', error: 'danger' };
