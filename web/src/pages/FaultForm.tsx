import { useState, type FormEvent } from 'react';
import { ProblemError } from '../api/client';
import type { Faults } from '../api/providers';
import { faultFieldErrors, faultsToForm, validateFaults, type FaultField, type FaultForm as Form } from './providerModel';

/** A provider's faults typed by hand (rates in percent); checked before it is sent, and the
 * API's own `422` shown at the same fields. */
export function FaultForm(props: {
  provider: string;
  initial: Faults | null | undefined;
  busy: boolean;
  error: unknown;
  onSubmit: (faults: Required<Faults>) => void;
}) {
  const [form, setForm] = useState<Form>(() => faultsToForm(props.initial));
  const [checked, setChecked] = useState<Partial<Record<FaultField, string>>>({});
  const server = props.error instanceof ProblemError ? faultFieldErrors(props.error.fieldErrors) : {};
  const errors = { ...server, ...checked };
  const general = props.error instanceof Error && Object.keys(server).length === 0 ? props.error.message : null;
  const id = (field: string) => `faults-${props.provider}-${field}`;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const result = validateFaults(form);
    setChecked(result.errors);
    if (result.faults) props.onSubmit(result.faults);
  };
  const field = (key: FaultField, name: keyof Form, label: string, help: string, step: string) => (
    <div className="field">
      <label htmlFor={id(key)}>{label}</label>
      <input id={id(key)} inputMode="decimal" type="number" min={0} step={step} value={String(form[name])}
        onChange={(e) => setForm({ ...form, [name]: e.target.value })}
        aria-invalid={!!errors[key]} aria-describedby={`${id(key)}-help`} />
      <span id={`${id(key)}-help`} className={errors[key] ? 'error' : 'muted'}>{errors[key] ?? help}</span>
    </div>
  );
  return (
    <form className="fault-form" onSubmit={submit} noValidate>
      {field('failure_rate', 'failurePct', 'Failure rate (%)', 'Calls that fail (retryable).', '1')}
      {field('spike_rate', 'spikePct', 'Spike rate (%)', 'Calls that are slower.', '1')}
      {field('spike_ms', 'spikeMs', 'Spike latency (ms)', 'Extra time of a slow call.', '100')}
      <div className="field checkbox">
        <input id={id('outage')} type="checkbox" checked={form.outage}
          onChange={(e) => setForm({ ...form, outage: e.target.checked })} />
        <label htmlFor={id('outage')}>Outage (every call fails at once)</label>
      </div>
      {general && <p className="error" role="alert">{general}</p>}
      <div className="actions">
        <button type="submit" className="primary" disabled={props.busy}>{props.busy ? 'Applying…' : 'Apply'}</button>
      </div>
    </form>
  );
}
