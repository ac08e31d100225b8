import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { Freshness } from '../components/Freshness';
import { useRowNavigation } from '../components/useRowNavigation';
import { ProblemError } from '../api/client';
import {
  describeSize, formatPrice, fromHourly, isSize, quote, useCatalog, type Catalog, type Provider,
} from '../api/catalog';
import {
  DROPLET_JOBS_PAGE_SIZE, refusal, useDestroyDroplet, useDroplet, useDropletHistory, useDropletJobs, useJob,
  useMigrateDroplet, usePowerDroplet, useResizeDroplet, type Droplet, type Job, type PowerAction,
} from '../api/droplets';
import { useProviders } from '../api/queries';
import { StatusBadge } from '../components/Badge';
import { Dialog } from '../components/Dialog';
import { Pager } from '../components/Pager';
import { Time } from '../components/Time';
import { actionState, blockedReason, migrationTargets } from './dropletActions';

const UNFINISHED: readonly string[] = ['running', 'queued', 'pending'];

type Open = null | 'resize' | 'migrate' | 'destroy' | PowerAction;

const POWER: Record<PowerAction, { label: string; title: string; says: string }> = {
  off: {
    label: 'Power off', title: 'Power off',
    says: 'It stops running but keeps its resources, its address and its price: a powered-off droplet is still billed.',
  },
  on: { label: 'Power on', title: 'Power on', says: 'It starts again with the same size and address.' },
  restart: { label: 'Restart', title: 'Restart', says: 'It is unavailable while it restarts.' },
};

export function DropletDetail() {
  const { id = '' } = useParams();
  const droplet = useDroplet(id);
  const providers = useProviders();
  const catalog = useCatalog();
  const [open, setOpen] = useState<Open>(null);
  if (droplet.isError) {
    const gone = droplet.error instanceof ProblemError && droplet.error.status === 404;
    return (
      <div className="card" role="alert">
        <h1>{gone ? 'No such droplet' : 'The droplet could not be read'}</h1>
        <p>{gone ? `No droplet ${id} exists.` : droplet.error.message}</p>
        <Link to="/droplets">All droplets</Link>
      </div>
    );
  }
  const d = droplet.data;
  const can = d ? actionState(d) : null;
  const blocked = d ? blockedReason(d) : null;
  const close = () => setOpen(null);
  const button = (action: Open & string, label: string, allowed: string | null | undefined, danger = false) => (
    <button className={danger ? 'danger' : undefined} onClick={() => setOpen(action)} disabled={!d || allowed !== null}
      title={allowed ?? undefined}>
      {label}
    </button>
  );
  return (
    <>
      <p className="muted"><Link to="/droplets">Droplets</Link> /</p>
      <div className="page-head">
        <h1>{d?.name ?? '…'}</h1>
        {d && <StatusBadge status={d.status} />}
        <div className="row" role="group" aria-label="Actions">
          {button('resize', 'Resize', can?.resize)}
          {d?.status === 'off'
            ? button('on', 'Power on', can?.power_on)
            : <>{button('off', 'Power off', can?.power_off)}{button('restart', 'Restart', can?.restart)}</>}
          {button('migrate', 'Migrate', can?.migrate)}
          {button('destroy', 'Destroy', can?.destroy, true)}
        </div>
      </div>
      <Freshness projection="droplets" named />
      <p className="muted droplet-blocked" aria-live="polite">{blocked ?? '\u00a0'}</p>
      {d?.last_error && (
        <p className="card droplet-last-error"><strong>Last error:</strong> {d.last_error}</p>
      )}
      {!d ? <p className="muted">Loading…</p> : (
        <>
          <div className="grid droplet-grid">
            <Properties d={d} providers={providers.data?.items} catalog={catalog.data} />
            <CurrentJob d={d} />
          </div>
          <Jobs d={d} />
          <History id={d.id} />
          {providers.data && (
            <>
              {catalog.data && (
                <ResizeDialog open={open === 'resize'} onClose={close} d={d} providers={providers.data.items}
                  catalog={catalog.data} />
              )}
              <MigrateDialog open={open === 'migrate'} onClose={close} d={d} providers={providers.data.items} />
            </>
          )}
          {(['on', 'off', 'restart'] as const).map((action) => (
            <PowerDialog key={action} open={open === action} onClose={close} d={d} action={action} />
          ))}
          <DestroyDialog open={open === 'destroy'} onClose={close} d={d} />
        </>
      )}
    </>
  );
}

function providerName(providers: readonly Provider[] | undefined, name: string | null | undefined) {
  if (!name) return null;
  return providers?.find((p) => p.name === name)?.display_name ?? name;
}

function Properties({ d, providers, catalog }: { d: Droplet; providers?: readonly Provider[]; catalog?: Catalog }) {
  return (
    <section className="card" aria-labelledby="droplet-specs">
      <h2 id="droplet-specs">Specs</h2>
      <dl className="props">
        <dt>Id</dt><dd className="mono">{d.id}</dd>
        <dt>Cluster</dt><dd><Link to={`/clusters/${d.cluster_id}`}>{d.cluster_name ?? d.cluster_id}</Link></dd>
        <dt>Region</dt><dd>{d.region}</dd>
        <dt>Size</dt><dd><span className="mono" data-testid="droplet-size">{d.size}</span> · {describeSize(catalog, d.size)}</dd>
        <dt>Image</dt><dd>{catalog?.images.find((i) => i.slug === d.image)?.name ?? d.image}</dd>
        <dt>Provider</dt>
        <dd>{providerName(providers, d.provider) ?? <span className="muted">not placed yet</span>}</dd>
        <dt>IP address</dt><dd className="mono">{d.ip_address ?? <span className="muted">none yet</span>}</dd>
        <dt>Price</dt><dd>{formatPrice(fromHourly(d.price_hourly))}</dd>
        {/* `app_version` (set by deployments) until schema.d.ts lists it: absent from older servers. */}
        {'app_version' in d && (
          <><dt>App version</dt>
            <dd className="mono" data-testid="droplet-app-version">{(d as { app_version?: string | null }).app_version ?? <span className="muted">none</span>}</dd></>
        )}
        <dt>Version</dt><dd>{d.version}</dd>
        <dt>Created</dt><dd><Time at={d.created_at} /></dd>
        <dt>Updated</dt><dd><Time at={d.updated_at} /></dd>
        <dt>Metrics</dt>
        <dd><Link to={`/monitoring?cluster_id=${d.cluster_id}&droplet_id=${d.id}`}>Charts on Monitoring</Link></dd>
      </dl>
    </section>
  );
}

/** The job working on the droplet now (its progress, attempt and status), else the last one. */
function CurrentJob({ d }: { d: Droplet }) {
  const pending = useJob(d.pending_job_id);
  const jobs = useDropletJobs(d.id);
  const job = d.pending_job_id ? pending.data : jobs.data?.items[0];
  const working = !!d.pending_job_id;
  const title = working ? (job?.type === 'provision' ? 'Provisioning' : 'Job in progress') : 'Last job';
  return (
    <section className="card droplet-job" aria-labelledby="droplet-job">
      <h2 id="droplet-job">{title}</h2>
      {!job && (working || !jobs.data) && <p className="muted">Loading…</p>}
      {!job && !working && jobs.data && <p className="muted">No job has worked on this droplet.</p>}
      {job && <JobProgress job={job} clusterName={d.cluster_name} />}
    </section>
  );
}

function JobProgress({ job, clusterName }: { job: Job; clusterName?: string | null }) {
  return (
    <div className="job-progress">
      <p className="row">
        <span>{job.type.replace(/_/g, ' ')}</span>
        <StatusBadge status={job.status} />
        <Link to={`/jobs/${job.id}`} className="mono">{job.id}</Link>
      </p>
      <div className="row">
        <progress max={100} value={job.progress} aria-label={`Progress of job ${job.type}`} />
        <span>{job.progress}%</span>
      </div>
      <dl className="props">
        <dt>Attempts</dt><dd>{job.attempts} of at most {job.max_attempts}</dd>
        <dt>Step</dt><dd>{job.progress_message ?? <span className="muted">not started</span>}</dd>
        {job.error && <><dt>Error</dt><dd className="error">{job.error}</dd></>}
        <dt>Cluster</dt><dd><Link to={`/clusters/${job.cluster_id}`}>{clusterName ?? job.cluster_id}</Link></dd>
        <dt>Started</dt><dd><Time at={job.started_at} /></dd>
        {job.finished_at && <><dt>Finished</dt><dd><Time at={job.finished_at} /></dd></>}
      </dl>
    </div>
  );
}

function Jobs({ d }: { d: Droplet }) {
  const [page, setPage] = useState(1);
  const jobs = useDropletJobs(d.id, page);
  const navigate = useNavigate();
  const nav = useRowNavigation(jobs.data?.items, (j) => j.id, (j) => navigate(`/jobs/${j.id}`));
  return (
    <section aria-labelledby="droplet-jobs" className="droplet-section">
      <h2 id="droplet-jobs">Jobs</h2>
      <Freshness projection="jobs" named />
      {!jobs.data && !jobs.isError && <p className="muted">Loading…</p>}
      {jobs.isError && <p className="error" role="alert">{jobs.error.message}</p>}
      {jobs.data && jobs.data.items.length === 0 && <p className="empty">No job found for this droplet.</p>}
      {jobs.data && jobs.data.items.length > 0 && (
        <>
        <p {...nav.hintProps} />
        <table className="data" aria-label="Jobs of this droplet" {...nav.tableProps}>
          <thead>
            <tr><th>Job</th><th>Type</th><th>Status</th><th>Progress</th><th>Attempts</th><th>Created</th><th>Finished</th></tr>
          </thead>
          <tbody {...nav.bodyProps}>
            {jobs.data.items.map((j, i) => (
              <tr key={j.id} {...nav.rowProps(j, i)}>
                <td><Link to={`/jobs/${j.id}`} className="mono">{j.id}</Link></td>
                <td>{j.type.replace(/_/g, ' ')}</td>
                <td><StatusBadge status={j.status} /></td>
                <td>{j.progress}%</td>
                <td>{j.attempts} of {j.max_attempts}</td>
                <td><Time at={j.created_at} /></td>
                <td><Time at={j.finished_at} /></td>
              </tr>
            ))}
          </tbody>
        </table>
        </>
      )}
      {jobs.data && (jobs.data.next_cursor || page > 1) && (
        <Pager page={page} pageSize={DROPLET_JOBS_PAGE_SIZE} total={jobs.data.total}
          estimate={jobs.data.total_is_estimate} hasNext={!!jobs.data.next_cursor} onPage={setPage} />
      )}
      {jobs.data && jobs.data.items.length > 0 && (
        <p><Link to={`/jobs?droplet_id=${d.id}`}>Filter them on the Jobs page</Link></p>
      )}
    </section>
  );
}

function History({ id }: { id: string }) {
  const stream = useDropletHistory(id);
  return (
    <section aria-labelledby="droplet-history" className="droplet-section">
      <h2 id="droplet-history">History</h2>
      {!stream.data && <p className="muted">{stream.isError ? stream.error.message : 'Loading…'}</p>}
      {stream.data && (
        <ol className="timeline" aria-label="Events of this droplet">
          {stream.data.items.map((e) => (
            <li key={e.position}>
              <span className="mono">#{e.position}</span>
              <span>{e.type}</span>
              <span>
                <Time at={e.recorded_at} /> · by {e.metadata.actor}
                <code className="event-data">{JSON.stringify(e.data)}</code>
              </span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function Refusal({ error }: { error: unknown }) {
  if (!error) return null;
  return <p className="error" role="alert">{refusal(error)}</p>;
}

function ResizeDialog(props: {
  open: boolean; onClose: () => void; d: Droplet; providers: readonly Provider[]; catalog: Catalog;
}) {
  const { d, catalog } = props;
  const resize = useResizeDroplet(d.id);
  const [size, setSize] = useState('');
  const provider = props.providers.find((p) => p.name === d.provider);
  const slugs = catalog.sizes.map((s) => s.slug);
  const sizes = provider ? slugs.filter((s) => provider.sizes.includes(s)) : slugs;
  const close = () => { resize.reset(); setSize(''); props.onClose(); };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (isSize(catalog, size)) resize.mutate({ size, version: d.version }, { onSuccess: close });
  };
  const chosen = provider && size ? quote(provider, size) : null;
  return (
    <Dialog open={props.open} title={`Resize ${d.name}`} onClose={close}>
      <form onSubmit={submit} className="droplet-dialog">
        <fieldset className="field size-choice">
          <legend>New size{provider ? ` (at ${provider.display_name})` : ''}</legend>
          {sizes.map((s) => {
            const q = provider ? quote(provider, s) : null;
            const current = s === d.size;
            return (
              <label key={s} className={size === s ? 'size-option chosen' : 'size-option'}>
                <input type="radio" name="resize-size" value={s} checked={size === s} disabled={current}
                  onChange={() => setSize(s)} />
                <span className="mono">{s}</span>
                <span className="muted">{describeSize(catalog, s)}{current ? ' (current)' : ''}</span>
                <span className="price">{q ? formatPrice(q) : '—'}</span>
              </label>
            );
          })}
        </fieldset>
        <p className="estimate" aria-live="polite">
          Now {formatPrice(fromHourly(d.price_hourly))}
          {chosen && <>; after the resize {formatPrice(chosen)}</>}
        </p>
        <Refusal error={resize.error} />
        <div className="actions">
          <button type="button" onClick={close}>Cancel</button>
          <button type="submit" className="primary" disabled={!size || resize.isPending}>
            {resize.isPending ? 'Resizing…' : 'Resize'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function PowerDialog(props: { open: boolean; onClose: () => void; d: Droplet; action: PowerAction }) {
  const { d, action } = props;
  const power = usePowerDroplet(d.id);
  const what = POWER[action];
  const close = () => { power.reset(); props.onClose(); };
  return (
    <Dialog open={props.open} title={`${what.title} ${d.name}?`} onClose={close}>
      <div className="droplet-dialog">
        <p>{what.says}</p>
        <Refusal error={power.error} />
        <div className="actions">
          <button onClick={close}>Cancel</button>
          <button className={action === 'on' ? 'primary' : 'danger'} disabled={power.isPending} autoFocus
            onClick={() => power.mutate({ action, version: d.version }, { onSuccess: close })}>
            {power.isPending ? 'Working…' : what.label}
          </button>
        </div>
      </div>
    </Dialog>
  );
}

function MigrateDialog(props: { open: boolean; onClose: () => void; d: Droplet; providers: readonly Provider[] }) {
  const { d } = props;
  const migrate = useMigrateDroplet(d.id);
  const targets = migrationTargets(d, props.providers);
  const [target, setTarget] = useState('');
  const close = () => { migrate.reset(); setTarget(''); props.onClose(); };
  const chosen = targets.find((p) => p.name === target);
  const q = chosen ? quote(chosen, d.size) : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (chosen) migrate.mutate({ target_provider: chosen.name, version: d.version }, { onSuccess: close });
  };
  return (
    <Dialog open={props.open} title={`Migrate ${d.name}`} onClose={close}>
      <form onSubmit={submit} className="droplet-dialog">
        <p>
          The droplet is made again at the target provider (in {d.region}, size {d.size}, powered as it is now), then
          destroyed at {providerName(props.providers, d.provider) ?? 'its provider'}: its IP address changes.
        </p>
        {targets.length === 0 ? (
          <p className="muted">No other provider offers {d.size} in {d.region}.</p>
        ) : (
          <div className="field">
            <label htmlFor="migrate-target">Target provider</label>
            <select id="migrate-target" value={target} onChange={(e) => setTarget(e.target.value)} autoFocus>
              <option value="">Choose a provider…</option>
              {targets.map((p) => {
                const price = quote(p, d.size);
                return (
                  <option key={p.name} value={p.name}>
                    {p.display_name}{price ? ` (${formatPrice(price)})` : ''}
                  </option>
                );
              })}
            </select>
          </div>
        )}
        <p className="estimate" aria-live="polite">
          Now {formatPrice(fromHourly(d.price_hourly))}{q && <>; at {chosen?.display_name} {formatPrice(q)}</>}
        </p>
        <Refusal error={migrate.error} />
        <div className="actions">
          <button type="button" onClick={close}>Cancel</button>
          <button type="submit" className="primary" disabled={!chosen || migrate.isPending}>
            {migrate.isPending ? 'Migrating…' : 'Migrate'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function DestroyDialog(props: { open: boolean; onClose: () => void; d: Droplet }) {
  const { d } = props;
  const destroy = useDestroyDroplet(d.id);
  const jobs = useDropletJobs(d.id);
  const unfinished = jobs.data?.items.filter((j) => UNFINISHED.includes(j.status)) ?? [];
  const [typed, setTyped] = useState('');
  const close = () => { destroy.reset(); setTyped(''); props.onClose(); };
  return (
    <Dialog open={props.open} title={`Destroy ${d.name}?`} onClose={close}>
      <div className="droplet-dialog">
        <p>
          This destroys the droplet <strong>{d.name}</strong> ({d.size}, {d.region}
          {d.provider ? ` at ${d.provider}` : ''}{d.ip_address ? `, ${d.ip_address}` : ''}) of the
          cluster <strong>{d.cluster_name ?? d.cluster_id}</strong>: the provider deletes it and frees its address, and its
          cost ({formatPrice(fromHourly(d.price_hourly))}) stops. The cluster and its other droplets are not touched.
          It cannot be undone.
        </p>
        <p data-testid="destroy-jobs">
          {!jobs.data ? 'Reading its jobs…' : unfinished.length === 0 ? 'No job is running or waiting on it.' : (
            <>Unfinished jobs on it (the destroy is refused until they end):{' '}
              {unfinished.map((j) => (
                <span key={j.id} className="touch-job">
                  <Link to={`/jobs/${j.id}`} className="mono">{j.id}</Link> <StatusBadge status={j.status} />
                </span>
              ))}
            </>
          )}
        </p>
        <div className="field">
          <label htmlFor="confirm-droplet">Type the droplet&apos;s name to confirm</label>
          <input id="confirm-droplet" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" autoFocus />
        </div>
        <Refusal error={destroy.error} />
        <div className="actions">
          <button onClick={close}>Cancel</button>
          <button className="danger" disabled={typed !== d.name || destroy.isPending}
            onClick={() => destroy.mutate({ version: d.version }, { onSuccess: close })}>
            {destroy.isPending ? 'Destroying…' : 'Destroy'}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
