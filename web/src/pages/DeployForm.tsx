// The start-a-deployment form: the strategy (rolling with a batch size, canary with a target
// percent and auto-promote, blue-green), the version, and an optional health gate (else the
// server's default). Checked here first (deploymentModel.ts), then the API's problems: field
// errors at their fields, a `409` (another deployment runs) or a `422` without fields (e.g. no
// active droplet) as one message.
import { useState, type FormEvent } from 'react';
import { STRATEGIES, type StartDeploymentInput } from '../api/deployments';
import { ProblemError } from '../api/client';
import { refusal } from '../api/droplets';
import { METRIC_TYPES, type MetricType } from '../api/genie';
import { deployField, EMPTY_DEPLOY, STRATEGY_HINTS, STRATEGY_LABELS, validateDeploy, type DeployForm as Form } from './deploymentModel';
import { METRIC_LABELS } from './monitoringModel';

const SHOWN = ['version', 'batch_size', 'target_percent', 'health_gate.metric', 'health_gate.max', 'health_gate.window_seconds'];

export function DeployForm(props: { busy: boolean; error: unknown; onSubmit: (body: StartDeploymentInput) => void }) {
  const [form, setForm] = useState<Form>(EMPTY_DEPLOY);
  const [checked, setChecked] = useState<Record<string, string>>({});
  const raw = props.error instanceof ProblemError ? props.error.fieldErrors : {};
  const server = Object.fromEntries(Object.entries(raw).map(([k, v]) => [deployField(k), v]));
  const errors: Record<string, string | undefined> = { ...server, ...checked };
  const orphans = Object.entries(server).filter(([k]) => !SHOWN.includes(k));
  const general = props.error instanceof Error && (Object.keys(server).length === 0 || orphans.length > 0)
    ? (props.error instanceof ProblemError && props.error.status === 409
      ? `Refused: ${props.error.message.replace(/\.?$/, '.')} Wait for it to finish, or roll it back.`
      : refusal(props.error)) + orphans.map(([k, m]) => ` ${k}: ${m}.`).join('')
    : null;
  const set = (changes: Partial<Form>) => setForm((f) => ({ ...f, ...changes }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const result = validateDeploy(form);
    setChecked(result.errors);
    if (result.body) props.onSubmit(result.body);
  };
  const key = (k: string) => `deploy-${k.replace('.', '-')}`;
  const help = (k: string, hint: string) => (
    <span id={`${key(k)}-help`} className={errors[k] ? 'error' : 'muted'}>{errors[k] ?? hint}</span>
  );
  const input = (k: string, label: string, value: string, onChange: (v: string) => void, hint: string, mode = 'numeric') => (
    <div className="field">
      <label htmlFor={key(k)}>{label}</label>
      <input id={key(k)} value={value} inputMode={mode as 'numeric'} autoComplete="off" onChange={(e) => onChange(e.target.value)}
        aria-invalid={!!errors[k]} aria-describedby={`${key(k)}-help`} />
      {help(k, hint)}
    </div>
  );
  return (
    <form onSubmit={submit} noValidate className="deploy-form" aria-label="Start a deployment">
      <fieldset>
        <legend>Strategy</legend>
        <div className="choices">
          {STRATEGIES.map((s) => (
            <label key={s}>
              <input type="radio" name="deploy-strategy" value={s} checked={form.strategy === s} onChange={() => set({ strategy: s })} />
              {STRATEGY_LABELS[s]}
            </label>
          ))}
        </div>
        <span className="muted">{STRATEGY_HINTS[form.strategy]}</span>
      </fieldset>
      <div className="form-row">
        {input('version', 'Version', form.version, (v) => set({ version: v }), "The app version to roll out, e.g. 1.4.2.", 'text')}
        {form.strategy === 'rolling' &&
          input('batch_size', 'Batch size', form.batch, (v) => set({ batch: v }), 'Droplets updated at a time.')}
        {form.strategy === 'canary' &&
          input('target_percent', 'Canary share (%)', form.percent, (v) => set({ percent: v }), 'Of the droplets, 1 to 100.')}
        {form.strategy === 'canary' && (
          <div className="field checkbox">
            <input id="deploy-auto-promote" type="checkbox" checked={form.autoPromote}
              onChange={(e) => set({ autoPromote: e.target.checked })} />
            <label htmlFor="deploy-auto-promote">Promote automatically after the canary&rsquo;s gate</label>
          </div>
        )}
      </div>
      <fieldset>
        <legend>Health gate</legend>
        <div className="field checkbox">
          <input id="deploy-gate" type="checkbox" checked={form.gate} onChange={(e) => set({ gate: e.target.checked })} />
          <label htmlFor="deploy-gate">Set the gate (else the server&rsquo;s default)</label>
        </div>
        {form.gate && (
          <div className="form-row">
            <div className="field">
              <label htmlFor={key('health_gate.metric')}>Gate metric</label>
              <select id={key('health_gate.metric')} value={form.metric} aria-invalid={!!errors['health_gate.metric']}
                aria-describedby={`${key('health_gate.metric')}-help`}
                onChange={(e) => set({ metric: e.target.value as MetricType })}>
                {METRIC_TYPES.map((m) => <option key={m} value={m}>{METRIC_LABELS[m]}</option>)}
              </select>
              {help('health_gate.metric', 'Averaged over the updated droplets.')}
            </div>
            {input('health_gate.max', 'Gate maximum', form.max, (v) => set({ max: v }), 'Above it, the gate fails and the deployment rolls back.', 'decimal')}
            {input('health_gate.window_seconds', 'Gate window (s)', form.window, (v) => set({ window: v }), '5 to 3600 s.')}
          </div>
        )}
      </fieldset>
      {general && <p className="error" role="alert">{general}</p>}
      <div className="actions">
        <button type="submit" className="primary" disabled={props.busy}>{props.busy ? 'Starting…' : 'Start deployment'}</button>
      </div>
    </form>
  );
}
