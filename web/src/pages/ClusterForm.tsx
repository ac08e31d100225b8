import { useState, type FormEvent } from 'react';
import { ProblemError, type Schemas } from '../api/client';
import { useProviders } from '../api/queries';

export type Region = NonNullable<Schemas['UpdateClusterBody']['region']>;
/** The catalog's regions (the OpenAPI document's enum). */
export const REGIONS: readonly Region[] = [
  'nyc1', 'nyc2', 'nyc3', 'sfo1', 'sfo2', 'sfo3', 'lon1', 'fra1', 'tor1', 'blr1', 'sgp1',
];

/** Name, region and (on create) provider of a cluster; the API's field errors shown inline. */
export function ClusterForm(props: {
  initial?: { name: string; region: Region };
  withProvider?: boolean;
  submitLabel: string;
  busy: boolean;
  error: unknown;
  onSubmit: (value: Schemas['CreateClusterBody']) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(props.initial?.name ?? '');
  const [region, setRegion] = useState<Region>(props.initial?.region ?? 'nyc1');
  const [provider, setProvider] = useState('');
  const providers = useProviders();
  const offering = providers.data?.items.filter((p) => p.regions.includes(region)) ?? [];
  const errors = props.error instanceof ProblemError ? props.error.fieldErrors : {};
  const general = props.error instanceof Error && Object.keys(errors).length === 0 ? props.error.message : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    // The API checks the provider against those registered (a 422 names the field).
    const chosen = provider ? { provider: provider as Schemas['CreateClusterBody']['provider'] } : {};
    props.onSubmit({ name: name.trim(), region, ...chosen });
  };
  return (
    <form onSubmit={submit} noValidate>
      <div className="field">
        <label htmlFor="cluster-name">Name</label>
        <input id="cluster-name" value={name} onChange={(e) => setName(e.target.value)} autoFocus
          aria-invalid={!!errors.name} aria-describedby="cluster-name-help" placeholder="e.g. web-prod" />
        <span id="cluster-name-help" className={errors.name ? 'error' : 'muted'}>
          {errors.name ?? 'Lowercase letters, digits and hyphens; starts with a letter.'}
        </span>
      </div>
      <div className="field">
        <label htmlFor="cluster-region">Region</label>
        <select id="cluster-region" value={region} onChange={(e) => setRegion(e.target.value as Region)}>
          {REGIONS.map((r) => (
            <option key={r} value={r}>{r}</option>
          ))}
        </select>
        {errors.region && <span className="error">{errors.region}</span>}
      </div>
      {props.withProvider && (
        <div className="field">
          <label htmlFor="cluster-provider">Provider</label>
          <select id="cluster-provider" value={provider} onChange={(e) => setProvider(e.target.value)}>
            <option value="">The region's default</option>
            {offering.map((p) => (
              <option key={p.name} value={p.name}>{p.display_name}</option>
            ))}
          </select>
          {errors.provider && <span className="error">{errors.provider}</span>}
        </div>
      )}
      {general && <p className="error" role="alert">{general}</p>}
      <div className="actions">
        <button type="button" onClick={props.onCancel}>Cancel</button>
        <button type="submit" className="primary" disabled={props.busy}>
          {props.busy ? 'Working…' : props.submitLabel}
        </button>
      </div>
    </form>
  );
}
