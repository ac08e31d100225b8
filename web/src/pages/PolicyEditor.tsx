// The auto-scaling policy editor: the type (metrics, time of day, cost cap), the bounds and
// cooldown, and the type's own fields (a windows table for time of day). Checked here first
// (autoscalingModel.ts), then the API's field errors (`422`) at their fields.
import { useState, type FormEvent, type ReactNode } from 'react';
import { POLICY_TYPES, WEEKDAYS, type AutoscalingPolicyInput, type Weekday } from '../api/autoscaling';
import { ProblemError } from '../api/client';
import { refusal } from '../api/droplets';
import { METRIC_TYPES, type MetricType } from '../api/genie';
import {
  DAY_LABELS, isPercent, NEW_WINDOW, POLICY_TYPE_LABELS, serverErrors, shownFields, validatePolicy, windowField,
  type PolicyForm, type WindowForm,
} from './autoscalingModel';
import { METRIC_LABELS } from './monitoringModel';

/** Time zones the browser knows, offered while typing one. */
const ZONES: readonly string[] = (() => {
  try {
    return (Intl as unknown as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  } catch {
    return [];
  }
})();

export function PolicyEditor(props: {
  id: string;
  initial: PolicyForm;
  existing: boolean;
  busy: boolean;
  error: unknown;
  onSubmit: (body: AutoscalingPolicyInput) => void;
  extra?: ReactNode;
}) {
  const { id } = props;
  const [form, setForm] = useState<PolicyForm>(props.initial);
  const [checked, setChecked] = useState<Record<string, string>>({});
  const server = props.error instanceof ProblemError ? serverErrors(props.error.fieldErrors) : {};
  const errors: Record<string, string | undefined> = { ...server, ...checked };
  // Field errors the form shows no field for are said with the general message.
  const shown = shownFields(form);
  const orphans = Object.entries(server).filter(([key]) => !shown.has(key));
  const general = props.error instanceof Error && (Object.keys(server).length === 0 || orphans.length > 0)
    ? refusal(props.error) + orphans.map(([k, m]) => ` ${k}: ${m}.`).join('')
    : null;
  const set = (changes: Partial<PolicyForm>) => setForm((f) => ({ ...f, ...changes }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const result = validatePolicy(form);
    setChecked(result.errors);
    if (result.body) props.onSubmit(result.body);
  };
  const help = (key: string, hint: string) => (
    <span id={`${id}-${key}-help`} className={errors[key] ? 'error' : 'muted'}>{errors[key] ?? hint}</span>
  );
  const input = (key: string, label: string, value: string, onChange: (v: string) => void, hint: string, mode = 'numeric') => (
    <div className="field">
      <label htmlFor={`${id}-${key}`}>{label}</label>
      <input id={`${id}-${key}`} inputMode={mode as 'numeric'} value={value} autoComplete="off"
        onChange={(e) => onChange(e.target.value)} aria-invalid={!!errors[key]} aria-describedby={`${id}-${key}-help`} />
      {help(key, hint)}
    </div>
  );
  const usesMetric = form.type === 'metrics' || form.type === 'cost';
  const unit = isPercent(form.metric) ? '%' : 'Mbps';
  return (
    <form onSubmit={submit} noValidate className="policy-form" aria-label="Auto-scaling policy">
      <fieldset>
        <legend>Type</legend>
        <div className="choices">
          {POLICY_TYPES.map((t) => (
            <label key={t}>
              <input type="radio" name={`${id}-type`} value={t} checked={form.type === t} onChange={() => set({ type: t })} />
              {POLICY_TYPE_LABELS[t]}
            </label>
          ))}
        </div>
        <span className="muted">
          {form.type === 'metrics' && 'Adds a droplet when the metric averages above the upper threshold, removes one below the lower.'}
          {form.type === 'time_of_day' && 'Keeps the desired count during each window; outside them, the bounds only.'}
          {form.type === 'cost' && 'Scales on the metric, never above the hourly cost cap.'}
        </span>
      </fieldset>
      <div className="form-row">
        {input('min_droplets', 'Min droplets', form.min, (v) => set({ min: v }), '0 or more.')}
        {input('max_droplets', 'Max droplets', form.max, (v) => set({ max: v }), 'At least the minimum, at most 100.')}
        {input('cooldown_seconds', 'Cooldown (s)', form.cooldown, (v) => set({ cooldown: v }), 'Quiet time after a scale job.')}
      </div>
      {usesMetric && (
        <div className="form-row">
          <div className="field">
            <label htmlFor={`${id}-metric_type`}>Metric</label>
            <select id={`${id}-metric_type`} value={form.metric} aria-invalid={!!errors.metric_type}
              aria-describedby={`${id}-metric_type-help`} onChange={(e) => set({ metric: e.target.value as MetricType })}>
              {METRIC_TYPES.map((m) => <option key={m} value={m}>{METRIC_LABELS[m]}</option>)}
            </select>
            {help('metric_type', 'Its cluster-wide average decides.')}
          </div>
          {input('scale_up_threshold', `Scale up above (${unit})`, form.up, (v) => set({ up: v }), 'The upper threshold.', 'decimal')}
          {input('scale_down_threshold', `Scale down below (${unit})`, form.down, (v) => set({ down: v }), 'Below the upper one.', 'decimal')}
          {input('evaluation_window_seconds', 'Window (s)', form.window, (v) => set({ window: v }), 'Averaged over 30 to 3600 s.')}
        </div>
      )}
      {form.type === 'time_of_day' && (
        <WindowsTable id={id} windows={form.windows} errors={errors} onChange={(windows) => set({ windows })} />
      )}
      <div className="form-row">
        {input('cost_limit_per_hour', form.type === 'cost' ? 'Cost cap ($ per hour)' : 'Cost cap ($ per hour, optional)',
          form.cost, (v) => set({ cost: v }), form.type === 'cost' ? 'Required: above 0.' : 'Empty: no cap.', 'decimal')}
        <div className="field checkbox">
          <input id={`${id}-enabled`} type="checkbox" checked={form.enabled} onChange={(e) => set({ enabled: e.target.checked })} />
          <label htmlFor={`${id}-enabled`}>Enabled</label>
        </div>
      </div>
      <datalist id={`${id}-zones`}>{ZONES.map((z) => <option key={z} value={z} />)}</datalist>
      {general && <p className="error" role="alert">{general}</p>}
      <div className="actions">
        {props.extra}
        <button type="submit" className="primary" disabled={props.busy}>
          {props.busy ? 'Saving…' : props.existing ? 'Save policy' : 'Create policy'}
        </button>
      </div>
    </form>
  );
}

function WindowsTable(props: {
  id: string;
  windows: WindowForm[];
  errors: Record<string, string | undefined>;
  onChange: (windows: WindowForm[]) => void;
}) {
  const { id, windows, errors } = props;
  const change = (i: number, changes: Partial<WindowForm>) =>
    props.onChange(windows.map((w, j) => (j === i ? { ...w, ...changes } : w)));
  const toggle = (i: number, day: Weekday, on: boolean) => {
    const days = windows[i]!.days;
    change(i, { days: on ? [...days, day] : days.filter((d) => d !== day) });
  };
  const cell = (i: number, key: string, label: string, control: (props: Record<string, unknown>) => ReactNode) => {
    const field = windowField(i, key);
    const helpId = `${id}-${field}-help`;
    return (
      <td>
        {control({ 'aria-label': `${label} of window ${i + 1}`, 'aria-invalid': !!errors[field], 'aria-describedby': helpId })}
        <span id={helpId} className="error window-error">{errors[field] ?? ''}</span>
      </td>
    );
  };
  return (
    <fieldset className="windows">
      <legend>Windows</legend>
      <div className="table-scroll">
        <table className="data windows-table" aria-label="Windows">
          <thead>
            <tr><th scope="col">Days</th><th scope="col">Start</th><th scope="col">End</th><th scope="col">Time zone</th>
              <th scope="col">Desired</th><th scope="col"><span className="sr-only">Remove</span></th></tr>
          </thead>
          <tbody>
            {windows.map((w, i) => (
              <tr key={i}>
                {cell(i, 'days', 'Days', ({ 'aria-invalid': _, ...a }: Record<string, unknown>) => (
                  <div className="choices days" role="group" {...a}>
                    {WEEKDAYS.map((d) => (
                      <label key={d}>
                        <input type="checkbox" checked={w.days.includes(d)} onChange={(e) => toggle(i, d, e.target.checked)} />
                        {DAY_LABELS[d]}
                      </label>
                    ))}
                  </div>
                ))}
                {cell(i, 'start', 'Start', (a) => (
                  <input type="time" value={w.start} onChange={(e) => change(i, { start: e.target.value })} {...a} />
                ))}
                {cell(i, 'end', 'End', (a) => (
                  <input type="time" value={w.end} onChange={(e) => change(i, { end: e.target.value })} {...a} />
                ))}
                {cell(i, 'time_zone', 'Time zone', (a) => (
                  <input value={w.time_zone} list={`${id}-zones`} autoComplete="off" className="zone-input"
                    onChange={(e) => change(i, { time_zone: e.target.value })} {...a} />
                ))}
                {cell(i, 'desired_droplets', 'Desired droplets', (a) => (
                  <input inputMode="numeric" value={w.desired} className="count-input"
                    onChange={(e) => change(i, { desired: e.target.value })} {...a} />
                ))}
                <td>
                  <button type="button" onClick={() => props.onChange(windows.filter((_, j) => j !== i))}
                    aria-label={`Remove window ${i + 1}`}>Remove</button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="row">
        <button type="button" onClick={() => props.onChange([...windows, NEW_WINDOW])}>Add window</button>
        <span id={`${id}-windows-help`} className={errors.windows ? 'error' : 'muted'}>
          {errors.windows ?? 'An end before the start crosses midnight.'}
        </span>
      </div>
    </fieldset>
  );
}
