// The limits page's logic, apart from React: the rule form's checks (as docs/ratelimits.md
// states them) and how a bucket reads.
import { ProblemError } from '../api/client';
import { RateLimitedError, type Bucket, type Rule, type RuleBody } from '../api/limits';

export type Scope = RuleBody['scope'];
export type Endpoint = NonNullable<RuleBody['endpoints']>[number];
export const SCOPES: readonly Scope[] = ['global', 'user', 'cluster'];

/** The routes a rule may guard; `cluster`: the route names a cluster (path id or body
 * `cluster_id`), so a `cluster`-scoped rule may guard it. */
export const ENDPOINTS: readonly { name: Endpoint; route: string; cluster: boolean }[] = [
  { name: 'clusters.create', route: 'POST /v1/clusters', cluster: false },
  { name: 'clusters.update', route: 'PATCH /v1/clusters/{id}', cluster: true },
  { name: 'clusters.delete', route: 'DELETE /v1/clusters/{id}', cluster: true },
  { name: 'clusters.diagnose', route: 'POST /v1/clusters/{id}/diagnose', cluster: true },
  { name: 'droplets.create', route: 'POST /v1/droplets', cluster: true },
  { name: 'droplets.resize', route: 'POST /v1/droplets/{id}/resize', cluster: false },
  { name: 'droplets.power', route: 'POST /v1/droplets/{id}/power', cluster: false },
  { name: 'droplets.migrate', route: 'POST /v1/droplets/{id}/migrate', cluster: false },
  { name: 'droplets.delete', route: 'DELETE /v1/droplets/{id}', cluster: false },
  { name: 'jobs.create', route: 'POST /v1/jobs', cluster: true },
  { name: 'jobs.cancel', route: 'POST /v1/jobs/{id}/cancel', cluster: false },
];

export interface RuleForm {
  name: string;
  scope: Scope;
  rate: string;
  capacity: string;
  /** None: the default (a built-in rule's own routes, else every route the scope allows). */
  endpoints: Endpoint[];
}

export const EMPTY_RULE: RuleForm = { name: '', scope: 'user', rate: '1', capacity: '10', endpoints: [] };

export function ruleToForm(rule: Rule): RuleForm {
  return {
    name: rule.name,
    scope: (SCOPES as readonly string[]).includes(rule.scope) ? (rule.scope as Scope) : 'global',
    rate: String(rule.rate_per_sec),
    capacity: String(rule.capacity),
    endpoints: rule.endpoints.filter((e): e is Endpoint => ENDPOINTS.some((x) => x.name === e)),
  };
}

/** Checks a rule; errors are keyed by the API's field names so its `422` lands on the same
 * fields. `taken`: names that exist (a new rule may not reuse one). */
export function validateRule(form: RuleForm, taken: readonly string[] = []): {
  body?: RuleBody & { name: string };
  errors: Record<string, string>;
} {
  const errors: Record<string, string> = {};
  const name = form.name.trim();
  if (!name) errors.name = 'required';
  else if (name.length > 63) errors.name = 'at most 63 characters';
  else if (!/^[a-z][a-z0-9_-]*$/.test(name)) errors.name = "lowercase letters, digits, '_' and '-'; starts with a letter";
  else if (taken.includes(name)) errors.name = 'a rule of this name exists: edit it instead';
  if (!SCOPES.includes(form.scope)) errors.scope = 'global, user or cluster';
  const rate = form.rate.trim() === '' ? NaN : Number(form.rate);
  if (!Number.isFinite(rate) || rate <= 0 || rate > 10_000) errors.rate_per_sec = 'a number above 0 and at most 10000';
  const capacity = form.capacity.trim() === '' ? NaN : Number(form.capacity);
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1_000_000) {
    errors.capacity = 'a whole number from 1 to 1000000';
  }
  if (form.scope === 'cluster') {
    const without = form.endpoints.filter((e) => !ENDPOINTS.find((x) => x.name === e)?.cluster);
    if (without.length) errors.endpoints = `a cluster scope needs routes that name a cluster; ${without.join(', ')} ${without.length === 1 ? 'does' : 'do'} not`;
  }
  if (Object.keys(errors).length) return { errors };
  const endpoints = [...new Set(form.endpoints)];
  return {
    body: { name, scope: form.scope, rate_per_sec: rate, capacity, ...(endpoints.length ? { endpoints } : {}) },
    errors,
  };
}

/** A rate as words: `2 per second`, or `1 every 10 s` below one a second. */
export function rateText(rate: number): string {
  if (rate >= 1) return `${rate} per second`;
  const every = 1 / rate;
  return `1 every ${Number.isInteger(every) ? every : every.toFixed(1)} s`;
}

/** How full a bucket is (0 to 1) and what that means for the next request. */
export function bucketReading(bucket: Bucket): { fill: number; tokens: string; note: string; empty: boolean } {
  const fill = bucket.capacity > 0 ? Math.min(1, Math.max(0, bucket.available / bucket.capacity)) : 0;
  const tokens = `${bucket.remaining} of ${bucket.capacity} tokens`;
  if (bucket.remaining < 1) {
    return { fill, tokens, empty: true, note: `empty: requests get 429, retry in ${Math.max(1, bucket.retry_after_secs)} s` };
  }
  if (bucket.reset_after_secs > 0) return { fill, tokens, empty: false, note: `full again in ${bucket.reset_after_secs} s` };
  return { fill, tokens, empty: false, note: 'full' };
}

/** An error as the operator should read it: a `429` with its retry time, a `412` as a
 * concurrent change. */
export function errorText(error: Error): string {
  if (error instanceof RateLimitedError) return `${error.message} (rate limited: retry in ${error.retryAfter} s)`;
  if (error instanceof ProblemError && error.status === 412) {
    return `The rule changed since this page read it (${error.message}); close and try again on the current version.`;
  }
  return error.message;
}
