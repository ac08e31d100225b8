// What the Autoscaling tab computes, apart from React: the policy editor's form (text fields, as
// typed), its checks (the API's rules, keyed by the API's field names so a `422` lands on the
// same fields), the body it sends, how a decision reads, and the chart's rows. Pure, tested
// without a server.
import type {
  AutoscalingDecisionView, AutoscalingPolicyInput, AutoscalingPolicyView, DecisionKind, PolicyType, ScheduleWindow,
  Weekday,
} from '../api/autoscaling';
import { WEEKDAYS } from '../api/autoscaling';
import { METRIC_TYPES, type MetricType } from '../api/genie';
import { UNIT_OF } from './monitoringModel';

export interface WindowForm {
  days: Weekday[];
  start: string;
  end: string;
  time_zone: string;
  desired: string;
}

export interface PolicyForm {
  type: PolicyType;
  enabled: boolean;
  min: string;
  max: string;
  cooldown: string;
  metric: MetricType;
  up: string;
  down: string;
  window: string;
  windows: WindowForm[];
  cost: string;
}

export const POLICY_TYPE_LABELS: Record<PolicyType, string> = {
  metrics: 'Metrics', time_of_day: 'Time of day', cost: 'Cost cap',
};

export const DAY_LABELS: Record<Weekday, string> = {
  mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat', sun: 'Sun',
};

export const NEW_WINDOW: WindowForm = {
  days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '08:00', end: '20:00', time_zone: 'UTC', desired: '3',
};

export const EMPTY_POLICY: PolicyForm = {
  type: 'metrics', enabled: true, min: '1', max: '5', cooldown: '300', metric: 'cpu', up: '80', down: '30',
  window: '300', windows: [NEW_WINDOW], cost: '',
};

const text = (n: number | null | undefined, fallback = '') => (n == null ? fallback : String(n));

/** The form of a policy the API shows (what it does not use keeps the defaults). */
export function policyToForm(policy: AutoscalingPolicyView): PolicyForm {
  return {
    type: policy.type,
    enabled: policy.enabled,
    min: text(policy.min_droplets),
    max: text(policy.max_droplets),
    cooldown: text(policy.cooldown_seconds, EMPTY_POLICY.cooldown),
    metric: policy.metric_type ?? EMPTY_POLICY.metric,
    up: text(policy.scale_up_threshold, EMPTY_POLICY.up),
    down: text(policy.scale_down_threshold, EMPTY_POLICY.down),
    window: text(policy.evaluation_window_seconds, EMPTY_POLICY.window),
    windows: policy.windows?.length
      ? policy.windows.map((w) => ({
        days: [...w.days], start: w.start, end: w.end, time_zone: w.time_zone ?? 'UTC', desired: text(w.desired_droplets),
      }))
      : [NEW_WINDOW],
    cost: text(policy.cost_limit_per_hour),
  };
}

/** A field's key for a window's field (the API's, normalised: see `fieldKey`). */
export const windowField = (index: number, field: string) => `windows.${index}.${field}`;

/** An API field name as the form keys it: `windows[0].start` and `windows/0/start` read `windows.0.start`. */
export function fieldKey(field: string): string {
  return field.replace(/^\//, '').replace(/\[(\d+)\]/g, '.$1').replace(/\//g, '.');
}

/** The API's field errors, keyed as the form keys them. */
export function serverErrors(errors: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(errors).map(([field, message]) => [fieldKey(field), message]));
}

/** The API fields the editor shows a field (and its message) for, with `form` as it is. */
export function shownFields(form: PolicyForm): Set<string> {
  const keys = ['min_droplets', 'max_droplets', 'cooldown_seconds', 'cost_limit_per_hour'];
  if (form.type !== 'time_of_day') {
    keys.push('metric_type', 'scale_up_threshold', 'scale_down_threshold', 'evaluation_window_seconds');
  } else {
    keys.push('windows');
    form.windows.forEach((_, i) => {
      for (const f of ['days', 'start', 'end', 'time_zone', 'desired_droplets']) keys.push(windowField(i, f));
    });
  }
  return new Set(keys);
}

/** A whole number from a field, or NaN. */
function int(value: string): number {
  const t = value.trim();
  return /^-?\d+$/.test(t) ? Number(t) : NaN;
}

/** A number from a field, or NaN. */
function num(value: string): number {
  const t = value.trim();
  return t === '' ? NaN : Number(t);
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** Whether the browser knows `zone` as an IANA time zone. */
export function validZone(zone: string): boolean {
  if (!zone.trim()) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone.trim() });
    return true;
  } catch {
    return false;
  }
}

/** Whether values of `metric` are percents (0–100). */
export const isPercent = (metric: MetricType) => UNIT_OF[metric] === 'percent';

/** Checks the form; the body to send when it passes. */
export function validatePolicy(form: PolicyForm): { body?: AutoscalingPolicyInput; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const min = int(form.min);
  const max = int(form.max);
  if (!(min >= 0)) errors.min_droplets = 'a whole number, 0 or more';
  if (!(max >= 0) || max > 100) errors.max_droplets = 'a whole number, at most 100';
  else if (min >= 0 && max < min) errors.max_droplets = 'at least the minimum';
  const cooldown = int(form.cooldown);
  if (!(cooldown >= 0 && cooldown <= 86400)) errors.cooldown_seconds = 'a whole number of seconds, 0 to 86400';
  const body: AutoscalingPolicyInput = {
    type: form.type, enabled: form.enabled, min_droplets: min, max_droplets: max, cooldown_seconds: cooldown,
  };
  if (form.type === 'metrics' || form.type === 'cost') checkMetric(form, body, errors);
  if (form.type === 'time_of_day') checkWindows(form, body, errors, min, max);
  const cost = num(form.cost);
  if (form.cost.trim() === '') {
    if (form.type === 'cost') errors.cost_limit_per_hour = 'required: the most the cluster may cost per hour';
  } else if (!(cost > 0)) errors.cost_limit_per_hour = 'a number above 0';
  else body.cost_limit_per_hour = cost;
  return Object.keys(errors).length ? { errors } : { body, errors };
}

function checkMetric(form: PolicyForm, body: AutoscalingPolicyInput, errors: Record<string, string>) {
  if (!METRIC_TYPES.includes(form.metric)) errors.metric_type = 'cpu, memory, disk or network';
  const up = num(form.up);
  const down = num(form.down);
  const percent = isPercent(form.metric);
  const bad = (v: number) => !Number.isFinite(v) || (percent && (v < 0 || v > 100));
  const expect = percent ? 'a percent, 0 to 100' : 'a number';
  if (bad(up)) errors.scale_up_threshold = expect;
  if (bad(down)) errors.scale_down_threshold = expect;
  else if (!bad(up) && down >= up) errors.scale_down_threshold = 'below the scale-up threshold (the band between them keeps it steady)';
  const window = int(form.window);
  if (!(window >= 30 && window <= 3600)) errors.evaluation_window_seconds = 'a whole number of seconds, 30 to 3600';
  Object.assign(body, {
    metric_type: form.metric, scale_up_threshold: up, scale_down_threshold: down, evaluation_window_seconds: window,
  });
}

function checkWindows(
  form: PolicyForm, body: AutoscalingPolicyInput, errors: Record<string, string>, min: number, max: number,
) {
  if (form.windows.length === 0) {
    errors.windows = 'at least one window';
    return;
  }
  const windows: ScheduleWindow[] = form.windows.map((w, i) => {
    const days = WEEKDAYS.filter((d) => w.days.includes(d));
    if (days.length === 0) errors[windowField(i, 'days')] = 'at least one day';
    if (!HHMM.test(w.start)) errors[windowField(i, 'start')] = 'a time, HH:MM';
    if (!HHMM.test(w.end)) errors[windowField(i, 'end')] = 'a time, HH:MM';
    else if (w.end === w.start) errors[windowField(i, 'end')] = 'not the start (an end before the start crosses midnight)';
    const zone = w.time_zone.trim() || 'UTC';
    if (!validZone(zone)) errors[windowField(i, 'time_zone')] = 'an IANA time zone, e.g. Europe/Paris';
    const desired = int(w.desired);
    if (!(desired >= 0)) errors[windowField(i, 'desired_droplets')] = 'a whole number';
    else if (min >= 0 && max >= min && (desired < min || desired > max)) {
      errors[windowField(i, 'desired_droplets')] = `within the minimum and maximum (${min} to ${max})`;
    }
    return { days, start: w.start, end: w.end, time_zone: zone, desired_droplets: desired };
  });
  body.windows = windows;
}

/** `Scale up by 2`, `Scale down by 1`, `No change`. */
export function decisionText(d: Pick<AutoscalingDecisionView, 'decision' | 'count'>): string {
  switch (d.decision) {
    case 'scale_up': return `Scale up by ${d.count}`;
    case 'scale_down': return `Scale down by ${d.count}`;
    default: return 'No change';
  }
}

export const DECISION_TONE: Record<DecisionKind, 'ok' | 'warn' | 'info' | 'muted'> = {
  scale_up: 'warn', scale_down: 'info', none: 'muted',
};

/** One point of the decisions' chart (ms; the metric's average, the droplets, the thresholds). */
export interface DecisionRow {
  t: number;
  average: number | null;
  droplets: number;
  up: number | null;
  down: number | null;
  /** The desired count of a time-of-day window (null outside windows and for other types). */
  desired: number | null;
}

/** The decisions (newest first, as listed) as chart rows, oldest first: one at each decision's
 * first and (when later) latest evaluation, so a long-lasting outcome is a flat stretch. */
export function decisionRows(decisions: readonly AutoscalingDecisionView[]): DecisionRow[] {
  const rows: DecisionRow[] = [];
  for (const d of [...decisions].reverse()) {
    const row = {
      average: d.inputs.metric_average ?? null,
      droplets: d.inputs.droplets,
      up: d.inputs.scale_up_threshold ?? null,
      down: d.inputs.scale_down_threshold ?? null,
      desired: d.inputs.desired_droplets ?? null,
    };
    const first = Date.parse(d.at);
    const last = Date.parse(d.last_at);
    rows.push({ t: first, ...row });
    if (last > first) rows.push({ t: last, ...row });
  }
  return rows.sort((a, b) => a.t - b.t);
}

/** The chart said in words, for assistive tech and as its caption. */
export function chartSentence(decisions: readonly AutoscalingDecisionView[]): string {
  const latest = decisions[0];
  if (!latest) return 'No decision yet.';
  const i = latest.inputs;
  const parts = [`${decisions.length} decision${decisions.length === 1 ? '' : 's'}; now ${i.droplets} droplet${i.droplets === 1 ? '' : 's'}`];
  if (i.metric_average != null) parts.push(`${i.metric_type ?? 'metric'} average ${Math.round(i.metric_average * 10) / 10}`);
  if (i.scale_up_threshold != null && i.scale_down_threshold != null) {
    parts.push(`scale up above ${i.scale_up_threshold}, down below ${i.scale_down_threshold}`);
  }
  if (i.desired_droplets != null) parts.push(`desired ${i.desired_droplets}${i.window ? ` in ${i.window}` : ''}`);
  return `${parts.join(', ')}.`;
}

/** What a policy does, in a line (the Autoscaling page's list). */
export function policySummary(p: AutoscalingPolicyView): string {
  const bounds = `${p.min_droplets}–${p.max_droplets} droplets`;
  switch (p.type) {
    case 'metrics':
      return `${p.metric_type} above ${p.scale_up_threshold} up, below ${p.scale_down_threshold} down; ${bounds}`;
    case 'time_of_day':
      return `${p.windows?.length ?? 0} window${p.windows?.length === 1 ? '' : 's'}; ${bounds}`;
    case 'cost':
      return `at most $${p.cost_limit_per_hour}/h on ${p.metric_type}; ${bounds}`;
  }
}
