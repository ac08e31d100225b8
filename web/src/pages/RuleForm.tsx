import { useState, type FormEvent } from 'react';
import { ProblemError } from '../api/client';
import type { RuleBody } from '../api/limits';
import { ENDPOINTS, errorText, SCOPES, validateRule, type Endpoint, type RuleForm as Form, type Scope } from './limitModel';

/** A rate-limit rule's fields, checked here first, then the API's field errors at their
 * fields. Editing keeps the name. */
export function RuleForm(props: {
  initial: Form;
  editing: boolean;
  builtin?: boolean;
  taken: readonly string[];
  busy: boolean;
  error: unknown;
  onSubmit: (body: RuleBody & { name: string }) => void;
  onCancel: () => void;
}) {
  const [form, setForm] = useState<Form>(props.initial);
  const [checked, setChecked] = useState<Record<string, string>>({});
  const server = props.error instanceof ProblemError ? props.error.fieldErrors : {};
  const errors: Record<string, string | undefined> = { ...server, ...checked };
  const general = props.error instanceof Error && Object.keys(server).length === 0 ? errorText(props.error) : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const result = validateRule(form, props.editing ? [] : props.taken);
    setChecked(result.errors);
    if (result.body) props.onSubmit(result.body);
  };
  const help = (key: string, text: string) => (
    <span id={`rule-${key}-help`} className={errors[key] ? 'error' : 'muted'}>{errors[key] ?? text}</span>
  );
  const toggle = (endpoint: Endpoint, on: boolean) =>
    setForm({ ...form, endpoints: on ? [...form.endpoints, endpoint] : form.endpoints.filter((e) => e !== endpoint) });
  return (
    <form onSubmit={submit} noValidate className="rule-form">
      <div className="field">
        <label htmlFor="rule-name">Name</label>
        <input id="rule-name" value={form.name} readOnly={props.editing} autoFocus={!props.editing} autoComplete="off"
          onChange={(e) => setForm({ ...form, name: e.target.value })}
          aria-invalid={!!errors.name} aria-describedby="rule-name-help" placeholder="e.g. droplets_per_user" />
        {help('name', props.editing ? 'A rule keeps its name.' : "Lowercase letters, digits, '_' and '-'; starts with a letter.")}
      </div>
      <div className="form-row">
        <div className="field">
          <label htmlFor="rule-scope">Scope</label>
          <select id="rule-scope" value={form.scope} aria-describedby="rule-scope-help" aria-invalid={!!errors.scope}
            onChange={(e) => setForm({ ...form, scope: e.target.value as Scope })} autoFocus={props.editing}>
            {SCOPES.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
          {help('scope', 'One bucket in all, per user (X-User-Id), or per cluster.')}
        </div>
        <div className="field">
          <label htmlFor="rule-rate">Rate (tokens per second)</label>
          <input id="rule-rate" inputMode="decimal" value={form.rate} onChange={(e) => setForm({ ...form, rate: e.target.value })}
            aria-invalid={!!errors.rate_per_sec} aria-describedby="rule-rate_per_sec-help" />
          {help('rate_per_sec', 'Above 0, at most 10000; 0.1 is one every 10 s.')}
        </div>
        <div className="field">
          <label htmlFor="rule-capacity">Capacity (burst)</label>
          <input id="rule-capacity" inputMode="numeric" value={form.capacity}
            onChange={(e) => setForm({ ...form, capacity: e.target.value })}
            aria-invalid={!!errors.capacity} aria-describedby="rule-capacity-help" />
          {help('capacity', 'The most tokens a bucket holds (1 to 1000000).')}
        </div>
      </div>
      <fieldset aria-describedby="rule-endpoints-help">
        <legend>Routes it guards</legend>
        <div className="choices endpoints">
          {ENDPOINTS.map((endpoint) => (
            <label key={endpoint.name} title={endpoint.route}>
              <input type="checkbox" checked={form.endpoints.includes(endpoint.name)}
                onChange={(e) => toggle(endpoint.name, e.target.checked)} />
              <span className="mono">{endpoint.name}</span>
              {endpoint.cluster && <span className="muted"> (cluster)</span>}
            </label>
          ))}
        </div>
        {help('endpoints', props.builtin
          ? 'None picked: the built-in rule keeps its own routes.'
          : 'None picked: every route (with the cluster scope, every route marked cluster).')}
      </fieldset>
      {general && <p className="error" role="alert">{general}</p>}
      <div className="actions">
        <button type="button" onClick={props.onCancel}>Cancel</button>
        <button type="submit" className="primary" disabled={props.busy}>
          {props.busy ? 'Working…' : props.editing ? 'Save' : 'Create'}
        </button>
      </div>
    </form>
  );
}
