import { decision, policy } from '../test/autoscaling';
import {
  chartSentence, decisionRows, decisionText, EMPTY_POLICY, fieldKey, NEW_WINDOW, policyToForm, serverErrors,
  shownFields, validatePolicy, type PolicyForm,
} from './autoscalingModel';

const form = (changes: Partial<PolicyForm> = {}): PolicyForm => ({ ...EMPTY_POLICY, ...changes });

test('a metrics policy passes and sends only its own fields', () => {
  expect(validatePolicy(form())).toEqual({
    errors: {},
    body: {
      type: 'metrics', enabled: true, min_droplets: 1, max_droplets: 5, cooldown_seconds: 300, metric_type: 'cpu',
      scale_up_threshold: 80, scale_down_threshold: 30, evaluation_window_seconds: 300,
    },
  });
});

test('bounds, cooldown and window are checked as the API does', () => {
  const { body, errors } = validatePolicy(form({ min: '4', max: '2', cooldown: '90000', window: '10' }));
  expect(body).toBeUndefined();
  expect(errors).toEqual({
    max_droplets: 'at least the minimum',
    cooldown_seconds: 'a whole number of seconds, 0 to 86400',
    evaluation_window_seconds: 'a whole number of seconds, 30 to 3600',
  });
  expect(validatePolicy(form({ min: '-1', max: '101' })).errors).toMatchObject({
    min_droplets: 'a whole number, 0 or more', max_droplets: 'a whole number, at most 100',
  });
  expect(validatePolicy(form({ min: '1.5' })).errors.min_droplets).toBeDefined();
});

test('the scale-down threshold must be below the scale-up one; percents stay in 0..100', () => {
  expect(validatePolicy(form({ up: '50', down: '50' })).errors).toEqual({
    scale_down_threshold: 'below the scale-up threshold (the band between them keeps it steady)',
  });
  expect(validatePolicy(form({ up: '120' })).errors).toEqual({ scale_up_threshold: 'a percent, 0 to 100' });
  // Network is in Mbps: no percent bound.
  expect(validatePolicy(form({ metric: 'network', up: '400', down: '100' })).errors).toEqual({});
  expect(validatePolicy(form({ up: '' })).errors.scale_up_threshold).toBe('a percent, 0 to 100');
});

test('a cost policy needs its cap; an optional cap elsewhere must be above 0', () => {
  expect(validatePolicy(form({ type: 'cost' })).errors).toEqual({
    cost_limit_per_hour: 'required: the most the cluster may cost per hour',
  });
  expect(validatePolicy(form({ type: 'cost', cost: '0.5' })).body).toMatchObject({
    type: 'cost', cost_limit_per_hour: 0.5, metric_type: 'cpu',
  });
  expect(validatePolicy(form({ cost: '0' })).errors).toEqual({ cost_limit_per_hour: 'a number above 0' });
  expect(validatePolicy(form({ cost: '2' })).body?.cost_limit_per_hour).toBe(2);
});

test('time-of-day windows: days, times, zone and a desired count within the bounds', () => {
  const ok = validatePolicy(form({ type: 'time_of_day', windows: [{ ...NEW_WINDOW, days: ['fri', 'mon'], time_zone: 'Europe/Paris' }] }));
  expect(ok.body).toEqual({
    type: 'time_of_day', enabled: true, min_droplets: 1, max_droplets: 5, cooldown_seconds: 300,
    windows: [{ days: ['mon', 'fri'], start: '08:00', end: '20:00', time_zone: 'Europe/Paris', desired_droplets: 3 }],
  });
  const bad = validatePolicy(form({
    type: 'time_of_day',
    windows: [
      { days: [], start: '25:00', end: '08:00', time_zone: 'Mars/Olympus', desired: '9' },
      { ...NEW_WINDOW, start: '22:00', end: '22:00' },
    ],
  }));
  expect(bad.errors).toEqual({
    'windows.0.days': 'at least one day',
    'windows.0.start': 'a time, HH:MM',
    'windows.0.time_zone': 'an IANA time zone, e.g. Europe/Paris',
    'windows.0.desired_droplets': 'within the minimum and maximum (1 to 5)',
    'windows.1.end': 'not the start (an end before the start crosses midnight)',
  });
  expect(validatePolicy(form({ type: 'time_of_day', windows: [] })).errors).toEqual({ windows: 'at least one window' });
  // A window crossing midnight is fine; an empty zone is UTC.
  expect(validatePolicy(form({ type: 'time_of_day', windows: [{ ...NEW_WINDOW, start: '22:00', end: '06:00', time_zone: '' }] }))
    .body?.windows?.[0]).toMatchObject({ time_zone: 'UTC', start: '22:00', end: '06:00' });
});

test("the API's field names land on the form's fields", () => {
  expect(fieldKey('windows[0].start')).toBe('windows.0.start');
  expect(fieldKey('/windows/1/time_zone')).toBe('windows.1.time_zone');
  expect(fieldKey('min_droplets')).toBe('min_droplets');
  expect(serverErrors({ 'windows[2].desired_droplets': 'too many' })).toEqual({ 'windows.2.desired_droplets': 'too many' });
  const shown = shownFields(form({ type: 'time_of_day', windows: [NEW_WINDOW] }));
  expect(shown.has('windows.0.end')).toBe(true);
  expect(shown.has('windows.1.end')).toBe(false);
  expect(shown.has('scale_up_threshold')).toBe(false);
  expect(shownFields(form()).has('scale_up_threshold')).toBe(true);
});

test('a policy read back fills the form', () => {
  const f = policyToForm(policy({ type: 'time_of_day', windows: [{ days: ['sat'], start: '10:00', end: '02:00', desired_droplets: 2 }] }));
  expect(f.windows).toEqual([{ days: ['sat'], start: '10:00', end: '02:00', time_zone: 'UTC', desired: '2' }]);
  expect(f.cost).toBe('');
  expect(policyToForm(policy()).up).toBe('80');
});

test('decisions read as text and chart rows, oldest first, a lasting one as a flat stretch', () => {
  expect(decisionText({ decision: 'scale_up', count: 2 })).toBe('Scale up by 2');
  expect(decisionText({ decision: 'none', count: 0 })).toBe('No change');
  const newer = decision({ id: 'b', at: '2026-01-01T12:05:00Z', last_at: '2026-01-01T12:10:00Z', evaluations: 3, decision: 'none',
    count: 0, code: 'cooldown', inputs: { ...decision().inputs, droplets: 3, metric_average: 70 } });
  const rows = decisionRows([newer, decision()]);
  expect(rows.map((r) => [new Date(r.t).toISOString(), r.droplets, r.average, r.up, r.down])).toEqual([
    ['2026-01-01T12:00:00.000Z', 2, 86.2, 80, 30],
    ['2026-01-01T12:05:00.000Z', 3, 70, 80, 30],
    ['2026-01-01T12:10:00.000Z', 3, 70, 80, 30],
  ]);
  expect(rows.every((r) => r.desired === null)).toBe(true);
  expect(decisionRows([decision({ inputs: { droplets: 2, pending_droplets: 0, desired_droplets: 4, window: 'mon-fri 08:00-20:00',
    hourly_cost: 0.02, droplet_hourly_cost: 0.01 } })])[0]).toMatchObject({ droplets: 2, desired: 4, average: null, up: null });
  expect(chartSentence([newer, decision()])).toBe('2 decisions; now 3 droplets, cpu average 70, scale up above 80, down below 30.');
  expect(chartSentence([])).toBe('No decision yet.');
  expect(chartSentence([decision({ inputs: { droplets: 3, pending_droplets: 0, desired_droplets: 4, window: 'weekdays',
    hourly_cost: 0, droplet_hourly_cost: 0 } })])).toBe('1 decision; now 3 droplets, desired 4 in weekdays.');
});
