import { ProblemError } from '../api/client';
import { parseRefusals, RateLimitedError, unwrapLimited } from '../api/limits';
import { bucketReading, errorText, rateText, ruleToForm, validateRule, type RuleForm } from './limitModel';

const form: RuleForm = { name: 'per_user', scope: 'user', rate: '0.5', capacity: '10', endpoints: [] };

test('a valid rule becomes its body; no routes picked leaves the default', () => {
  expect(validateRule(form)).toEqual({
    body: { name: 'per_user', scope: 'user', rate_per_sec: 0.5, capacity: 10 }, errors: {},
  });
  expect(validateRule({ ...form, endpoints: ['jobs.create', 'jobs.create'] }).body?.endpoints).toEqual(['jobs.create']);
});

test('each broken field is named, as the API names it', () => {
  const result = validateRule({ name: '9lives', scope: 'user', rate: '0', capacity: '2.5', endpoints: [] });
  expect(result.body).toBeUndefined();
  expect(Object.keys(result.errors).sort()).toEqual(['capacity', 'name', 'rate_per_sec']);
  expect(validateRule({ ...form, name: '' }).errors.name).toBe('required');
  expect(validateRule({ ...form, name: 'Upper' }).errors.name).toMatch(/lowercase/);
  expect(validateRule({ ...form, rate: '10001' }).errors.rate_per_sec).toBeDefined();
  expect(validateRule({ ...form, rate: '' }).errors.rate_per_sec).toBeDefined();
  expect(validateRule({ ...form, capacity: '1000001' }).errors.capacity).toBeDefined();
  expect(validateRule({ ...form, capacity: '1000000', rate: '10000' }).body).toBeDefined();
});

test('a new rule may not take a name in use; an edit keeps its own', () => {
  expect(validateRule(form, ['per_user']).errors.name).toMatch(/exists/);
  expect(validateRule(form, []).errors.name).toBeUndefined();
});

test('a cluster scope only guards routes that name a cluster', () => {
  const result = validateRule({ ...form, scope: 'cluster', endpoints: ['jobs.create', 'clusters.create', 'droplets.resize'] });
  expect(result.errors.endpoints).toBe(
    'a cluster scope needs routes that name a cluster; clusters.create, droplets.resize do not',
  );
  expect(validateRule({ ...form, scope: 'cluster', endpoints: ['jobs.create', 'droplets.create'] }).body).toBeDefined();
});

test('a rule read back fills the form', () => {
  expect(ruleToForm({
    name: 'jobs_create', scope: 'user', rate_per_sec: 0.1, capacity: 3, endpoints: ['jobs.create'], builtin: true,
    configured: false, version: 0,
  })).toEqual({ name: 'jobs_create', scope: 'user', rate: '0.1', capacity: '3', endpoints: ['jobs.create'] });
});

test('rates read as words', () => {
  expect(rateText(2)).toBe('2 per second');
  expect(rateText(0.1)).toBe('1 every 10 s');
  expect(rateText(0.3)).toBe('1 every 3.3 s');
});

test('a bucket reads as its tokens and what the next request meets', () => {
  const bucket = {
    name: 'r', scope: 'global', scope_id: 'global', available: 1.5, remaining: 1, capacity: 3, rate_per_sec: 1,
    reset_after_secs: 2, retry_after_secs: 0, endpoints: [], enforced: true, store: 'memory',
  };
  expect(bucketReading(bucket)).toEqual({ fill: 0.5, tokens: '1 of 3 tokens', empty: false, note: 'full again in 2 s' });
  expect(bucketReading({ ...bucket, available: 3, remaining: 3, reset_after_secs: 0 }).note).toBe('full');
  expect(bucketReading({ ...bucket, available: 0.2, remaining: 0, retry_after_secs: 98 })).toMatchObject({
    empty: true, note: 'empty: requests get 429, retry in 98 s',
  });
});

test('refusals are summed per rule from the metrics text', () => {
  const text = [
    '# HELP clustergenie_rate_limit_exceeded_total Requests refused with 429, by rule and scope',
    '# TYPE clustergenie_rate_limit_exceeded_total counter',
    'clustergenie_rate_limit_exceeded_total{rule="t1",scope="global"} 3',
    'clustergenie_rate_limit_exceeded_total{scope="user",rule="jobs_create"} 1',
    'clustergenie_rate_limit_exceeded_total{rule="jobs_create",scope="cluster"} 2',
    'clustergenie_rate_limit_available_tokens{rule="t1",scope="global"} 0.5',
  ].join('\n');
  expect(parseRefusals(text)).toEqual({ t1: 3, jobs_create: 3 });
  expect(parseRefusals('')).toEqual({});
});

test("a 429 keeps its Retry-After and says when to retry", () => {
  const response = new Response(null, { status: 429, headers: { 'Retry-After': '7' } });
  let caught: unknown;
  try {
    unwrapLimited({ error: { detail: 'rate limit t1 (global scope) exceeded' }, response });
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(RateLimitedError);
  expect((caught as RateLimitedError).retryAfter).toBe(7);
  expect(errorText(caught as Error)).toBe('rate limit t1 (global scope) exceeded (rate limited: retry in 7 s)');
  expect(errorText(new ProblemError(412, { detail: 'version 1 is stale' }))).toMatch(/changed since/);
  expect(errorText(new ProblemError(404, { detail: 'not found' }))).toBe('not found');
});
