// What the Diagnosis tab says: a recommendation's action in words, the score's tone, the
// engine that answered, and refusals (LLM not configured, rate limited, outdated). Pure,
// tested alone.
import { ProblemError } from '../api/client';
import { CommandError, refusal } from '../api/droplets';
import type { Diagnosis, RecommendationAction } from '../api/genie';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** A param of an action, when it is a string or a number. */
function param(action: RecommendationAction, key: string): string | number | undefined {
  const value = action[key];
  return typeof value === 'string' || typeof value === 'number' ? value : undefined;
}

/** Params the summary does not name, as `key: value`. */
function others(action: RecommendationAction, named: readonly string[]): string {
  const rest = Object.entries(action)
    .filter(([key, value]) => key !== 'type' && !named.includes(key) && value !== null && value !== undefined)
    .map(([key, value]) => `${key.replace(/_/g, ' ')}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
  return rest.length ? ` (${rest.join(', ')})` : '';
}

/** What implementing the recommendation does, in words. */
export function actionSummary(action: RecommendationAction): string {
  const count = Number(param(action, 'count') ?? 1);
  const size = param(action, 'size');
  const droplet = param(action, 'droplet_id');
  const ofSize = size ? ` of size ${size}` : '';
  switch (action.type) {
    case 'scale_up':
      return `Scale up: add ${plural(count, 'droplet')}${ofSize}${others(action, ['count', 'size'])}`;
    case 'scale_down':
      return `Scale down: remove ${plural(count, 'droplet')}${others(action, ['count'])}`;
    case 'create_droplet':
      return `Create a droplet${ofSize}${others(action, ['size'])}`;
    case 'resize':
      return `Resize ${droplet ? `droplet ${droplet}` : 'the droplets'}${size ? ` to ${size}` : ''}${others(action, ['droplet_id', 'size'])}`;
    case 'restart':
      return `Restart ${droplet ? `droplet ${droplet}` : 'the failed droplets'}${others(action, ['droplet_id'])}`;
    case 'monitor':
      return `Start a monitoring job${others(action, [])}`;
    case 'none':
      return 'Nothing to do';
    default:
      return `${String(action.type).replace(/_/g, ' ')}${others(action, [])}`;
  }
}

/** Whether a recommendation has a job to start. */
export function implementable(action: RecommendationAction): boolean {
  return action.type !== 'none';
}

/** The score's tone: `ok` from 80 (Excellent), `warn` from 60 (Good), else `danger`. */
export function scoreTone(score: number): 'ok' | 'warn' | 'danger' {
  return score >= 80 ? 'ok' : score >= 60 ? 'warn' : 'danger';
}

/** The tone of a priority badge. */
export const PRIORITY_TONE = { high: 'danger', medium: 'warn', low: 'info' } as const;

/** Which engine answered, and why another did when the LLM was asked. */
export function engineText(d: Pick<Diagnosis, 'engine' | 'requested_engine' | 'model' | 'prompt_version' | 'fallback_reason'>): string {
  if (d.engine === 'llm') {
    const model = d.model ? ` ${d.model}` : '';
    const prompt = d.prompt_version ? `, prompt ${d.prompt_version}` : '';
    return `LLM${model}${prompt}`;
  }
  if (d.requested_engine === 'llm') {
    return `rules engine (the LLM was asked${d.fallback_reason ? ` but ${d.fallback_reason}` : ' but did not answer'})`;
  }
  return 'rules engine';
}

/** A half-circle arc from the left end to `fraction` of the way (0–1), for the gauge. */
export function gaugeArc(fraction: number, radius = 40, cx = 50, cy = 50): string {
  const f = Math.max(0, Math.min(1, fraction));
  const angle = Math.PI * (1 - f);
  const x = cx + radius * Math.cos(angle);
  const y = cy - radius * Math.sin(angle);
  return `M ${cx - radius} ${cy} A ${radius} ${radius} 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}`;
}

/** What to tell the operator about a refused diagnosis or implement. */
export function diagnosisRefusal(error: unknown): string {
  if (!(error instanceof ProblemError)) return refusal(error);
  const said = error.message.replace(/\.?$/, '.');
  switch (error.status) {
    case 409:
      return `This recommendation is outdated: ${said} Run a new diagnosis, or implement one of the latest.`;
    case 422:
      return `Refused: ${said}`;
    case 429: {
      const wait = error instanceof CommandError && error.retryAfter != null ? ` Try again in ${error.retryAfter} s.` : '';
      return `Too many diagnoses of this cluster: ${said}${wait}`;
    }
    default:
      return refusal(error);
  }
}
