import { useState, type FormEvent } from 'react';
import { ProblemError, type Cluster, type Schemas } from '../api/client';
import {
  cheapestQuote, describeSize, formatPrice, isImage, offeredRegions, offeredSizes, quote, sizeKind,
  type Catalog, type Provider,
} from '../api/catalog';
import { refusal } from '../api/droplets';

/** The create form's fields as typed (`provider` empty: placement chooses). */
export interface DropletDraft {
  cluster_id: string;
  name: string;
  region: string;
  provider: string;
  size: string;
  image: string;
}

const NAME = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
export const NAME_RULE = 'Lowercase letters, digits and hyphens; starts with a letter, does not end with a hyphen.';

/** The draft's mistakes by field, as the API would name them (none: it can be sent). */
export function validateDraft(draft: DropletDraft, providers: readonly Provider[], catalog: Catalog): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!draft.cluster_id) errors.cluster_id = 'Choose a cluster.';
  const name = draft.name.trim();
  if (!name) errors.name = 'A name is required.';
  else if (name.length > 63) errors.name = 'At most 63 characters.';
  else if (!NAME.test(name)) errors.name = NAME_RULE;
  const chosen = draft.provider ? providers.find((p) => p.name === draft.provider) : undefined;
  if (draft.provider && !chosen) errors.provider = `No provider ${draft.provider} is registered.`;
  if (!offeredRegions(providers).includes(draft.region)) errors.region = 'No provider offers this region.';
  else if (chosen && !chosen.regions.includes(draft.region)) {
    errors.provider = `${chosen.display_name} does not offer ${draft.region}.`;
  }
  if (!draft.size) errors.size = 'Choose a size.';
  else if (!errors.region && !errors.provider && !offeredSizes(catalog, providers, draft.region, draft.provider).includes(draft.size as never)) {
    errors.size = `${draft.size} is not offered ${chosen ? `by ${chosen.display_name} ` : ''}in ${draft.region}.`;
  }
  if (!isImage(catalog, draft.image)) errors.image = 'Choose an image.';
  return errors;
}

/** The request body of a valid draft. */
export function draftBody(draft: DropletDraft): Schemas['CreateDropletBody'] {
  return {
    cluster_id: draft.cluster_id,
    name: draft.name.trim(),
    region: draft.region as Schemas['CreateDropletBody']['region'],
    size: draft.size as Schemas['CreateDropletBody']['size'],
    image: draft.image as Schemas['CreateDropletBody']['image'],
    ...(draft.provider ? { provider: draft.provider } : {}),
  };
}

/**
 * The draft after one field changed, kept coherent: a new cluster brings its region (and its
 * provider, where it offers that region); a provider that does not offer the region is
 * dropped; a size no longer offered gives way to the first one that is.
 */
export function changeDraft(
  draft: DropletDraft, change: Partial<DropletDraft>, providers: readonly Provider[], catalog: Catalog,
  clusters: readonly Cluster[],
): DropletDraft {
  let next = { ...draft, ...change };
  if (change.cluster_id !== undefined && change.cluster_id !== draft.cluster_id) {
    const cluster = clusters.find((c) => c.id === change.cluster_id);
    if (cluster && offeredRegions(providers).includes(cluster.region)) {
      next = { ...next, region: cluster.region, provider: cluster.provider ?? '' };
    }
  }
  const provider = providers.find((p) => p.name === next.provider);
  if (next.provider && (!provider || !provider.regions.includes(next.region))) next = { ...next, provider: '' };
  const sizes = offeredSizes(catalog, providers, next.region, next.provider);
  if (!sizes.includes(next.size as never)) next = { ...next, size: sizes[0] ?? '' };
  return next;
}

/** A starting draft: the given cluster (its region and provider) and the cheapest size. */
export function initialDraft(
  clusterId: string, providers: readonly Provider[], catalog: Catalog, clusters: readonly Cluster[],
): DropletDraft {
  const blank: DropletDraft = {
    cluster_id: '', name: '', region: offeredRegions(providers)[0] ?? '', provider: '', size: '', image: 'ubuntu-22-04-x64',
  };
  return changeDraft(blank, { cluster_id: clusterId }, providers, catalog, clusters);
}

/** The fields of a new droplet, with what each size costs where; mistakes shown at their fields. */
export function DropletForm(props: {
  clusters: readonly Cluster[];
  providers: readonly Provider[];
  catalog: Catalog;
  initialClusterId?: string;
  busy: boolean;
  error: unknown;
  onSubmit: (body: Schemas['CreateDropletBody']) => void;
  onCancel: () => void;
}) {
  const { clusters, providers, catalog } = props;
  const [draft, setDraft] = useState(() => initialDraft(props.initialClusterId ?? '', providers, catalog, clusters));
  const [tried, setTried] = useState(false);
  const local = validateDraft(draft, providers, catalog);
  const server = props.error instanceof ProblemError ? props.error.fieldErrors : {};
  const errors = { ...server, ...(tried ? local : {}) };
  const fields = ['cluster_id', 'name', 'region', 'provider', 'size', 'image'];
  const unplaced = Object.keys(server).filter((k) => !fields.includes(k));
  const general = props.error instanceof Error && Object.keys(server).length === 0 ? refusal(props.error) : null;
  const set = (change: Partial<DropletDraft>) => setDraft((d) => changeDraft(d, change, providers, catalog, clusters));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTried(true);
    if (Object.keys(local).length === 0) props.onSubmit(draftBody(draft));
  };
  const inRegion = providers.filter((p) => p.regions.includes(draft.region));
  const chosen = providers.find((p) => p.name === draft.provider);
  const sizes = offeredSizes(catalog, providers, draft.region, draft.provider);
  const priceOf = (size: string) =>
    chosen ? quote(chosen, size, draft.region) : cheapestQuote(providers, draft.region, size);
  const estimate = draft.size ? priceOf(draft.size) : null;
  const describedBy = (field: string, help?: string) =>
    [errors[field] ? `droplet-${field}-error` : '', help ?? ''].filter(Boolean).join(' ') || undefined;
  const fieldError = (field: string) =>
    errors[field] ? <span id={`droplet-${field}-error`} className="error">{errors[field]}</span> : null;
  return (
    <form onSubmit={submit} noValidate className="droplet-form">
      <div className="field">
        <label htmlFor="droplet-cluster">Cluster</label>
        <select id="droplet-cluster" value={draft.cluster_id} onChange={(e) => set({ cluster_id: e.target.value })}
          aria-invalid={!!errors.cluster_id} aria-describedby={describedBy('cluster_id')} autoFocus={!draft.cluster_id}>
          <option value="">Choose a cluster…</option>
          {clusters.map((c) => (
            <option key={c.id} value={c.id}>{c.name} ({c.region})</option>
          ))}
        </select>
        {fieldError('cluster_id')}
      </div>
      <div className="field">
        <label htmlFor="droplet-name">Name</label>
        <input id="droplet-name" value={draft.name} onChange={(e) => set({ name: e.target.value })}
          autoFocus={!!draft.cluster_id} autoComplete="off" placeholder="e.g. web-1" aria-invalid={!!errors.name}
          aria-describedby={describedBy('name', errors.name ? undefined : 'droplet-name-help')} />
        {errors.name ? fieldError('name') : <span id="droplet-name-help" className="muted">{NAME_RULE}</span>}
      </div>
      <div className="field-row">
        <div className="field">
          <label htmlFor="droplet-region">Region</label>
          <select id="droplet-region" value={draft.region} onChange={(e) => set({ region: e.target.value })}
            aria-invalid={!!errors.region} aria-describedby={describedBy('region')}>
            {offeredRegions(providers).map((r) => {
              const n = providers.filter((p) => p.regions.includes(r)).length;
              return <option key={r} value={r}>{r} ({n} provider{n === 1 ? '' : 's'})</option>;
            })}
          </select>
          {fieldError('region')}
        </div>
        <div className="field">
          <label htmlFor="droplet-provider">Provider</label>
          <select id="droplet-provider" value={draft.provider} onChange={(e) => set({ provider: e.target.value })}
            aria-invalid={!!errors.provider} aria-describedby={describedBy('provider')}>
            <option value="">Cheapest with room</option>
            {inRegion.map((p) => {
              const q = draft.size ? quote(p, draft.size, draft.region) : null;
              return (
                <option key={p.name} value={p.name}>
                  {p.display_name} (×{p.price_multiplier}){draft.size && !q ? `, no ${draft.size}` : ''}
                </option>
              );
            })}
          </select>
          {fieldError('provider')}
        </div>
      </div>
      <fieldset className="field size-choice" aria-describedby={describedBy('size')}>
        <legend>Size</legend>
        {sizes.length === 0 && <p className="muted">No size is offered here.</p>}
        {sizes.map((size) => {
          const q = priceOf(size);
          return (
            <label key={size} className={draft.size === size ? 'size-option chosen' : 'size-option'}>
              <input type="radio" name="droplet-size" value={size} checked={draft.size === size}
                onChange={() => set({ size })} />
              <span className="mono">{size}</span>
              <span className="muted">{describeSize(catalog, size)}, {sizeKind(catalog, size)}</span>
              <span className="price">{q ? `${chosen ? '' : 'from '}${formatPrice(q)}` : '—'}</span>
            </label>
          );
        })}
        {fieldError('size')}
      </fieldset>
      <div className="field">
        <label htmlFor="droplet-image">Image</label>
        <select id="droplet-image" value={draft.image} onChange={(e) => set({ image: e.target.value })}
          aria-invalid={!!errors.image} aria-describedby={describedBy('image')}>
          {catalog.images.map((image) => (
            <option key={image.slug} value={image.slug}>{image.name}</option>
          ))}
        </select>
        {fieldError('image')}
      </div>
      <p className="estimate" aria-live="polite">
        {estimate
          ? <>Estimated {formatPrice(estimate)}{' '}
            <span className="muted">
              {chosen ? `at ${chosen.display_name}` : `at ${providers.find((p) => p.name === estimate.provider)?.display_name ?? estimate.provider}, the cheapest here; another if it is full`}
            </span></>
          : <span className="muted">Choose a size to see its price.</span>}
      </p>
      {unplaced.map((k) => <p key={k} className="error" role="alert">{k}: {server[k]}</p>)}
      {general && <p className="error" role="alert">{general}</p>}
      <div className="actions">
        <button type="button" onClick={props.onCancel}>Cancel</button>
        <button type="submit" className="primary" disabled={props.busy}>
          {props.busy ? 'Creating…' : 'Create droplet'}
        </button>
      </div>
    </form>
  );
}
