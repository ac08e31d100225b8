import { useState, type FormEvent } from 'react';
import { ProblemError, type Schemas } from '../api/client';
import type { Catalog } from '../api/catalog';
import type { SizeSlug } from '../api/providers';
import { REGIONS, type Region } from './ClusterForm';
import { validateProvider, type ProviderForm as Form } from './providerModel';

/** A blank registration: every size of the catalog. */
const empty = (catalog: Catalog): Form => ({
  name: '', displayName: '', regions: [], sizes: catalog.sizes.map((s) => s.slug),
  priceMultiplier: '1', capacity: '50', provisionMs: '',
});

function toggle<T>(list: readonly T[], item: T, on: boolean): T[] {
  return on ? [...list, item] : list.filter((x) => x !== item);
}

/** Registers a provider (or replaces one's configuration): checked here first, then the
 * API's field errors shown at their fields. */
export function ProviderForm(props: {
  catalog: Catalog;
  busy: boolean;
  error: unknown;
  onSubmit: (body: Schemas['RegisterProviderBody']) => void;
  onCancel: () => void;
}) {
  const [form, setForm] = useState<Form>(() => empty(props.catalog));
  const [checked, setChecked] = useState<Record<string, string>>({});
  const server = props.error instanceof ProblemError ? props.error.fieldErrors : {};
  const errors: Record<string, string | undefined> = { ...server, ...checked };
  const general = props.error instanceof Error && Object.keys(server).length === 0 ? props.error.message : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const result = validateProvider(form);
    setChecked(result.errors);
    if (result.body) props.onSubmit(result.body);
  };
  const help = (key: string, id: string, text: string) => (
    <span id={id} className={errors[key] ? 'error' : 'muted'}>{errors[key] ?? text}</span>
  );
  const text = (key: string, name: 'name' | 'displayName' | 'priceMultiplier' | 'capacity' | 'provisionMs',
    label: string, hint: string, extra: { inputMode?: 'decimal' | 'numeric'; placeholder?: string; autoFocus?: boolean } = {}) => (
    <div className="field">
      <label htmlFor={`provider-${name}`}>{label}</label>
      <input id={`provider-${name}`} value={form[name]} onChange={(e) => setForm({ ...form, [name]: e.target.value })}
        aria-invalid={!!errors[key]} aria-describedby={`provider-${name}-help`} {...extra} />
      {help(key, `provider-${name}-help`, hint)}
    </div>
  );
  return (
    <form onSubmit={submit} noValidate className="provider-form">
      {text('name', 'name', 'Name', 'Lowercase letters, digits and hyphens; registering a built-in name replaces it.',
        { placeholder: 'e.g. edge', autoFocus: true })}
      {text('display_name', 'displayName', 'Display name', 'Optional; the name by default.')}
      <fieldset aria-describedby="provider-regions-help">
        <legend>Regions</legend>
        <div className="choices">
          {REGIONS.map((region) => (
            <label key={region}>
              <input type="checkbox" checked={form.regions.includes(region)}
                onChange={(e) => setForm({ ...form, regions: toggle<Region>(form.regions, region, e.target.checked) })} />
              {region}
            </label>
          ))}
        </div>
        {help('regions', 'provider-regions-help', 'At least one.')}
      </fieldset>
      <fieldset aria-describedby="provider-sizes-help">
        <legend>Sizes</legend>
        <div className="choices">
          {props.catalog.sizes.map((size) => (
            <label key={size.slug}>
              <input type="checkbox" checked={form.sizes.includes(size.slug)}
                onChange={(e) => setForm({ ...form, sizes: toggle<SizeSlug>(form.sizes, size.slug, e.target.checked) })} />
              {size.slug}
            </label>
          ))}
        </div>
        {help('sizes', 'provider-sizes-help', 'At least one.')}
      </fieldset>
      <div className="form-row">
        {text('price_multiplier', 'priceMultiplier', 'Price multiplier', 'Times the list price (above 0, at most 10).',
          { inputMode: 'decimal' })}
        {text('capacity_per_region', 'capacity', 'Capacity per region', 'Live droplets per region (1 to 100000).',
          { inputMode: 'numeric' })}
        {text('latency.provision_ms', 'provisionMs', 'Provision latency (ms)', 'Optional; 4000 by default.',
          { inputMode: 'numeric' })}
      </div>
      {general && <p className="error" role="alert">{general}</p>}
      <div className="actions">
        <button type="button" onClick={props.onCancel}>Cancel</button>
        <button type="submit" className="primary" disabled={props.busy}>{props.busy ? 'Working…' : 'Register'}</button>
      </div>
    </form>
  );
}
