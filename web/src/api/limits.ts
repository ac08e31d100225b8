// Rate-limit rules (the `ratelimit_rule` aggregate: its events mark `['ratelimit_rule']`
// stale), their buckets and the requests they refused.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ProblemError, unwrap, type Schemas } from './client';
import { fresh, observe } from '../live/position';

export type Rule = Schemas['RateLimitRuleView'];
export type RuleBody = Schemas['RateLimitRuleBody'];
export type Bucket = Schemas['BucketStatus'];

/** How often bucket levels are read again: a bucket refills with time, not with events. */
export const BUCKET_REFRESH_MS = 2000;

/** A `429`: the problem, with the seconds `Retry-After` gave. */
export class RateLimitedError extends ProblemError {
  constructor(
    problem: ProblemError,
    readonly retryAfter: number,
  ) {
    super(429, problem.problem);
  }
}

/** `unwrap`, keeping a `429`'s `Retry-After`. */
export function unwrapLimited<T>(result: { data?: T; error?: unknown; response: Response }): T {
  try {
    return unwrap(result);
  } catch (e) {
    const seconds = Number(result.response.headers.get('Retry-After'));
    if (e instanceof ProblemError && e.status === 429 && Number.isFinite(seconds)) throw new RateLimitedError(e, seconds);
    throw e;
  }
}

export function useRules() {
  return useQuery({
    queryKey: ['ratelimit_rule', 'list'],
    queryFn: async () => unwrap(await api.GET('/v1/ratelimits/rules', { params: { query: fresh() } })),
    placeholderData: (previous) => previous,
  });
}

/** A rule's bucket for a scope id (ignored for the global scope), read every few seconds. */
export function useBucket(rule: Pick<Rule, 'name' | 'scope'>, scopeId: string) {
  const needsId = rule.scope !== 'global';
  return useQuery({
    queryKey: ['ratelimit_rule', rule.name, 'bucket', rule.scope, needsId ? scopeId : ''],
    enabled: !needsId || scopeId !== '',
    queryFn: async () =>
      unwrap(await api.GET('/v1/ratelimits/status', {
        params: { query: { name: rule.name, scope: rule.scope, ...(needsId ? { scope_id: scopeId } : {}) } },
      })),
    refetchInterval: BUCKET_REFRESH_MS,
    placeholderData: (previous) => previous,
    retry: false,
  });
}

/** Requests refused with `429` since this server started, by rule (from `/metrics`;
 * `null` when the server exposes no metrics). */
export function useRefusals() {
  return useQuery({
    queryKey: ['ratelimit_rule', 'refusals'],
    queryFn: async () => {
      const response = await fetch('/metrics');
      if (!response.ok) return null;
      return parseRefusals(await response.text());
    },
    refetchInterval: BUCKET_REFRESH_MS * 2,
    retry: false,
  });
}

/** Sums `clustergenie_rate_limit_exceeded_total{rule=…}` per rule from Prometheus text. */
export function parseRefusals(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^clustergenie_rate_limit_exceeded_total\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!match) continue;
    const rule = /(?:^|,)\s*rule="((?:[^"\\]|\\.)*)"/.exec(match[1] ?? '')?.[1];
    const value = Number(match[2]);
    if (rule === undefined || !Number.isFinite(value)) continue;
    counts[rule] = (counts[rule] ?? 0) + value;
  }
  return counts;
}

/** Creates or replaces a rule; `version` (an edit) makes a concurrent change a `412`. */
export function usePutRule() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ body, version }: { body: RuleBody & { name: string }; version?: number }) =>
      unwrapLimited(await api.PUT('/v1/ratelimits/rules/{name}', {
        params: { path: { name: body.name }, header: version === undefined ? {} : { 'If-Match': `"${version}"` } },
        body,
      })),
    onSuccess: async (answer) => {
      observe(answer.position);
      await client.invalidateQueries({ queryKey: ['ratelimit_rule'] });
    },
  });
}

export function useDeleteRule() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async ({ name, version }: { name: string; version: number }) =>
      unwrapLimited(await api.DELETE('/v1/ratelimits/rules/{name}', {
        params: { path: { name }, header: { 'If-Match': `"${version}"` } },
      })),
    onSuccess: async (answer) => {
      observe(answer.position);
      await client.invalidateQueries({ queryKey: ['ratelimit_rule'] });
    },
  });
}
