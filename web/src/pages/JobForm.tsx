import { useState, type FormEvent } from 'react';
import { ProblemError, type Schemas } from '../api/client';
import { CREATABLE_JOB_TYPES, type CreatableJobType, type CreateJobBody } from '../api/jobs';

type Size = Schemas['CreateDropletBody']['size'];
type Image = Schemas['CreateDropletBody']['image'];
/** The catalog's sizes and images (the OpenAPI document's enums), for `scale_up`'s droplets. */
export const SIZES: readonly Size[] = [
  's-1vcpu-1gb', 's-1vcpu-2gb', 's-2vcpu-2gb', 's-2vcpu-4gb', 's-4vcpu-8gb', 'c-2', 'm-1vcpu-8gb',
];
export const IMAGES: readonly Image[] = [
  'ubuntu-22-04-x64', 'ubuntu-20-04-x64', 'centos-7-x64', 'debian-11-x64', 'fedora-36-x64', 'rocky-8-x64',
];

const WHAT: Record<CreatableJobType, string> = {
  scale_up: 'Adds droplets to the cluster, each with its provision job.',
  scale_down: 'Destroys the newest idle droplet of the cluster.',
  diagnose: 'Inspects the cluster and reports what it found.',
  monitor: 'Inspects the cluster, as a monitoring pass.',
};

/** The form's own checks, by field (the API checks the rest and answers a `422`). */
export function checkJobForm(value: { cluster_id: string; type: CreatableJobType; count: string }) {
  const errors: Record<string, string> = {};
  if (!value.cluster_id) errors.cluster_id = 'Choose the cluster the job works on.';
  if (value.type === 'scale_up') {
    const n = Number(value.count);
    if (!/^\d+$/.test(value.count.trim()) || n < 1 || n > 20) errors.count = 'A whole number from 1 to 20.';
  }
  return errors;
}

/** Type, cluster and (for `scale_up`) the droplets to add; errors shown at their fields. */
export function JobForm(props: {
  clusters: { id: string; name: string }[];
  initialCluster?: string;
  busy: boolean;
  error: unknown;
  onSubmit: (body: CreateJobBody) => void;
  onCancel: () => void;
}) {
  const [type, setType] = useState<CreatableJobType>('diagnose');
  const [clusterId, setClusterId] = useState(props.initialCluster ?? '');
  const [count, setCount] = useState('1');
  const [size, setSize] = useState<Size>('s-1vcpu-1gb');
  const [image, setImage] = useState<Image>('ubuntu-22-04-x64');
  const [checked, setChecked] = useState<Record<string, string>>({});
  const server = props.error instanceof ProblemError ? props.error.fieldErrors : {};
  const errors: Record<string, string> = { ...server, ...checked };
  const known = ['type', 'cluster_id', 'count', 'parameters'];
  const general = props.error instanceof Error
    ? (Object.keys(server).some((k) => known.includes(k))
      ? null
      : [props.error.message, ...Object.values(server)].join(' — '))
    : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found = checkJobForm({ cluster_id: clusterId, type, count });
    setChecked(found);
    if (Object.keys(found).length) return;
    props.onSubmit({
      type,
      cluster_id: clusterId,
      ...(type === 'scale_up' ? { parameters: { count: Number(count), size, image } } : {}),
    });
  };
  const listed = props.clusters.some((c) => c.id === clusterId);
  return (
    <form onSubmit={submit} noValidate>
      <div className="field">
        <label htmlFor="job-type">Type</label>
        <select id="job-type" value={type} onChange={(e) => setType(e.target.value as CreatableJobType)}
          aria-invalid={!!errors.type} aria-describedby="job-type-help">
          {CREATABLE_JOB_TYPES.map((t) => <option key={t} value={t}>{t.replace('_', ' ')}</option>)}
        </select>
        <span id="job-type-help" className={errors.type ? 'error' : 'muted'}>{errors.type ?? WHAT[type]}</span>
      </div>
      <div className="field">
        <label htmlFor="job-cluster">Cluster</label>
        <select id="job-cluster" value={clusterId} onChange={(e) => setClusterId(e.target.value)}
          aria-invalid={!!errors.cluster_id} aria-describedby="job-cluster-help">
          <option value="">Choose a cluster…</option>
          {!listed && clusterId && <option value={clusterId}>{clusterId}</option>}
          {props.clusters.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
        </select>
        {errors.cluster_id && <span id="job-cluster-help" className="error">{errors.cluster_id}</span>}
      </div>
      {type === 'scale_up' && (
        <fieldset className="jobs-params">
          <legend>Droplets to add</legend>
          <div className="field">
            <label htmlFor="job-count">Count</label>
            <input id="job-count" inputMode="numeric" value={count} onChange={(e) => setCount(e.target.value)}
              aria-invalid={!!(errors.count ?? errors.parameters)} aria-describedby="job-count-help" />
            <span id="job-count-help" className={errors.count ?? errors.parameters ? 'error' : 'muted'}>
              {errors.count ?? errors.parameters ?? 'From 1 to 20.'}
            </span>
          </div>
          <div className="row">
            <div className="field">
              <label htmlFor="job-size">Size</label>
              <select id="job-size" value={size} onChange={(e) => setSize(e.target.value as Size)}>
                {SIZES.map((s) => <option key={s} value={s}>{s}</option>)}
              </select>
            </div>
            <div className="field">
              <label htmlFor="job-image">Image</label>
              <select id="job-image" value={image} onChange={(e) => setImage(e.target.value as Image)}>
                {IMAGES.map((i) => <option key={i} value={i}>{i}</option>)}
              </select>
            </div>
          </div>
        </fieldset>
      )}
      {type !== 'scale_up' && errors.parameters && <p className="error">{errors.parameters}</p>}
      {general && <p className="error" role="alert">{general}</p>}
      <div className="actions">
        <button type="button" onClick={props.onCancel}>Cancel</button>
        <button type="submit" className="primary" disabled={props.busy}>{props.busy ? 'Working…' : 'Start job'}</button>
      </div>
    </form>
  );
}
