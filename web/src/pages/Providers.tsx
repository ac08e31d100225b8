import { useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { Bar, BarChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { ProblemError } from '../api/client';
import { useClusters } from '../api/queries';
import { describeSize, quote, sizeKind, useCatalog, type Catalog } from '../api/catalog';
import {
  useClusterBilling, useJobEvents, useProviderList, useRecentJobs, useRegisterProvider, useSetFaults,
  type Job, type ProviderItem,
} from '../api/providers';
import { StatusBadge } from '../components/Badge';
import { Dialog } from '../components/Dialog';
import { Time } from '../components/Time';
import { useRowNavigation, type RowProps } from '../components/useRowNavigation';
import { FaultForm } from './FaultForm';
import { FleetCost } from './FleetCost';
import { ProviderForm } from './ProviderForm';
import { CostTable } from './CostTable';
import {
  costRows, FAULT_PRESETS, faultState, hourlyUsd, jobPhase, monthlyUsd, NO_FAULTS, nextAttemptAt,
  type FaultLevel,
} from './providerModel';

const LEVEL_TONE: Record<FaultLevel, string> = { healthy: 'ok', degraded: 'warn', broken: 'danger', unknown: 'muted' };

function FaultBadge({ level }: { level: FaultLevel }) {
  return <span className={`badge ${LEVEL_TONE[level]}`}>{level}</span>;
}

export function Providers() {
  const providers = useProviderList();
  const catalog = useCatalog();
  const [registering, setRegistering] = useState(false);
  const register = useRegisterProvider();
  const items = providers.data?.items ?? [];
  return (
    <>
      <div className="page-head">
        <h1>Providers &amp; billing</h1>
        <button className="primary" onClick={() => { register.reset(); setRegistering(true); }}>Register provider</button>
      </div>
      {providers.isError && <p className="error" role="alert">The providers could not be read: {providers.error.message}</p>}
      <section aria-labelledby="provider-list" className="providers-section">
        <h2 id="provider-list" className="section-title">Providers</h2>
        {providers.isPending ? (
          <p className="muted placeholder">Loading…</p>
        ) : (
          <div className="provider-grid">
            {items.map((p) => <ProviderCard key={p.name} provider={p} />)}
          </div>
        )}
      </section>
      <ChaosPanel providers={items} loading={providers.isPending} />
      <section className="card providers-section" aria-labelledby="price-table">
        <h2 id="price-table">Prices per size</h2>
        {catalog.isError && <p className="error" role="alert">The catalog could not be read: {catalog.error.message}</p>}
        <PriceTable providers={items} catalog={catalog.data} />
      </section>
      <section className="card providers-section" aria-labelledby="fleet-billing">
        <h2 id="fleet-billing">Fleet cost</h2>
        <FleetCost providers={items} />
      </section>
      <BillingSection providers={items} />
      <Dialog open={registering} title="Register a provider" onClose={() => setRegistering(false)}>
        {catalog.data && <ProviderForm catalog={catalog.data} busy={register.isPending} error={register.error} onCancel={() => setRegistering(false)}
          onSubmit={(body) => register.mutate(body, { onSuccess: () => setRegistering(false) })} />}
      </Dialog>
    </>
  );
}

function ProviderCard({ provider: p }: { provider: ProviderItem }) {
  const state = faultState(p.faults);
  const used = Object.entries(p.usage.by_region).filter(([, n]) => n > 0);
  return (
    <article className={`card provider-card ${state.level}`} aria-labelledby={`provider-${p.name}`}>
      <div className="row provider-title">
        <h3 id={`provider-${p.name}`}>{p.display_name}</h3>
        <span className="mono muted">{p.name}</span>
        <FaultBadge level={state.level} />
      </div>
      <dl className="props">
        <dt>Regions</dt>
        <dd className="chips">{p.regions.map((r) => <span key={r} className="chip">{r}</span>)}</dd>
        <dt>Capacity</dt><dd>{p.capacity_per_region} droplets per region</dd>
        <dt>Live droplets</dt>
        <dd data-testid={`usage-${p.name}`}>
          {p.usage.live_droplets}
          {used.length > 0 && <span className="muted"> ({used.map(([r, n]) => `${r} ${n}`).join(', ')})</span>}
        </dd>
        <dt>Prices</dt><dd>×{p.price_multiplier} the list price</dd>
        <dt>Provision</dt>
        <dd>{p.latency.provision_ms / 1000} s{p.sim_speed !== 1 && <span className="muted"> (÷ sim speed {p.sim_speed})</span>}</dd>
        <dt>Source</dt>
        <dd>{p.source === 'default' ? 'built in' : <>registered, <Time at={p.updated_at ?? p.created_at} /></>}</dd>
      </dl>
    </article>
  );
}

function PriceTable({ providers, catalog }: { providers: ProviderItem[]; catalog?: Catalog }) {
  if (providers.length === 0 || !catalog) return <p className="muted placeholder">Loading…</p>;
  return (
    <div className="table-scroll">
      <table className="data prices">
        <caption className="sr-only">Monthly and hourly price of each size at each provider</caption>
        <thead>
          <tr>
            <th scope="col">Size</th>
            <th scope="col">List price</th>
            {providers.map((p) => <th scope="col" key={p.name}>{p.display_name} (×{p.price_multiplier})</th>)}
          </tr>
        </thead>
        <tbody>
          {catalog.sizes.map((size) => (
            <tr key={size.slug}>
              <th scope="row">
                <span className="mono">{size.slug}</span> <span className="muted">{describeSize(catalog, size.slug)}, {sizeKind(catalog, size.slug)}</span>
              </th>
              <td>{monthlyUsd(size.price_monthly)}/mo</td>
              {providers.map((p) => {
                const price = quote(p, size.slug);
                return (
                  <td key={p.name} data-testid={`price-${p.name}-${size.slug}`}>
                    {price ? (
                      <>{monthlyUsd(price.monthly)}/mo <span className="muted">{hourlyUsd(price.hourly)}/h</span></>
                    ) : (
                      <span className="muted">not offered</span>
                    )}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

// ---- Chaos --------------------------------------------------------------------------------

function ChaosPanel({ providers, loading }: { providers: ProviderItem[]; loading: boolean }) {
  return (
    <section className="card providers-section chaos" aria-labelledby="chaos-panel">
      <h2 id="chaos-panel">Chaos panel</h2>
      <p className="muted">
        Faults injected into this server process&apos;s simulated providers (not recorded in the log; a restart
        forgets them). Break a provider, start work on it, and watch its jobs retry below; heal it and they succeed.
      </p>
      {loading ? <p className="muted placeholder">Loading…</p> : (
        <div className="chaos-grid">
          {providers.map((p) => <ChaosCard key={p.name} provider={p} />)}
        </div>
      )}
      <RecentJobs />
    </section>
  );
}

function ChaosCard({ provider: p }: { provider: ProviderItem }) {
  const set = useSetFaults(p.name);
  const state = faultState(p.faults);
  // Field errors (a `422`) belong to the custom form; any other failure is shown here.
  const fieldError = set.error instanceof ProblemError && Object.keys(set.error.fieldErrors).length > 0;
  return (
    <section className={`chaos-card ${state.level}`} aria-label={`Faults of ${p.display_name}`}>
      <div className="row provider-title">
        <h3>{p.display_name}</h3>
        <FaultBadge level={state.level} />
      </div>
      <p role="status" className={state.level === 'broken' ? 'error chaos-summary' : 'muted chaos-summary'}>
        {state.level === 'broken' ? `Broken: ${state.summary}` : state.summary}
      </p>
      <div className="row">
        {FAULT_PRESETS.map((preset) => (
          <button key={preset.id} onClick={() => set.mutate(preset.faults)} disabled={set.isPending}>
            {preset.label}
          </button>
        ))}
        <button className="primary" onClick={() => set.mutate(NO_FAULTS)} disabled={set.isPending || state.level === 'healthy'}>
          Heal
        </button>
      </div>
      {set.isError && !fieldError && <p className="error" role="alert">{set.error.message}</p>}
      <details>
        <summary>Custom faults</summary>
        <FaultForm key={JSON.stringify(p.faults)} provider={p.name} initial={p.faults} busy={set.isPending}
          error={fieldError ? set.error : null} onSubmit={(faults) => set.mutate(faults)} />
      </details>
    </section>
  );
}

function RecentJobs() {
  const jobs = useRecentJobs(8);
  const navigate = useNavigate();
  const nav = useRowNavigation(jobs.data?.items, (j) => j.id, (j) => navigate(`/jobs/${j.id}`));
  return (
    <div className="recent-jobs">
      <h3 id="recent-jobs">Recent jobs</h3>
      <div className="table-wrap table-scroll">
        <p {...nav.hintProps} />
        <table className="data" aria-labelledby="recent-jobs" {...nav.tableProps}>
          <thead>
            <tr><th>Job</th><th>Type</th><th>Provider</th><th>Status</th><th>Attempt</th><th>Last error</th><th>Next attempt</th></tr>
          </thead>
          <tbody {...nav.bodyProps}>
            {jobs.data?.items.map((job, i) => <JobRow key={job.id} job={job} row={nav.rowProps(job, i)} />)}
          </tbody>
        </table>
        {jobs.data && jobs.data.items.length === 0 && <p className="empty">No job has run yet.</p>}
        {jobs.isPending && <p className="muted">Loading…</p>}
        {jobs.isError && <p className="error" role="alert">{jobs.error.message}</p>}
      </div>
    </div>
  );
}

function JobRow({ job, row }: { job: Job; row: RowProps }) {
  const phase = jobPhase(job);
  const waiting = phase === 'retry_scheduled';
  const events = useJobEvents(job.id, waiting);
  const next = waiting && events.data ? nextAttemptAt(events.data.items) : null;
  const provider = (job.parameters as { provider?: string } | null)?.provider;
  return (
    <tr data-job={job.id} {...row}>
      <td><Link to={`/clusters/${job.cluster_id}/jobs`} className="mono">{job.id}</Link></td>
      <td>{job.type}</td>
      <td>{provider ?? <span className="muted">—</span>}</td>
      <td data-testid="job-phase">
        {phase === 'retrying' || waiting ? <span className="badge warn">{phase.replace(/_/g, ' ')}</span> : <StatusBadge status={phase} />}
      </td>
      <td>{job.attempts} of {job.max_attempts}</td>
      <td className="muted job-error">{job.error ?? '—'}</td>
      <td>{next ? <Time at={next} /> : <span className="muted">—</span>}</td>
    </tr>
  );
}

// ---- Billing ------------------------------------------------------------------------------

function BillingSection({ providers }: { providers: ProviderItem[] }) {
  const [params, setParams] = useSearchParams();
  const selected = params.get('cluster') ?? '';
  const clusters = useClusters({ page_size: 100, sort_by: 'name', sort_dir: 'asc' });
  const choose = (id: string) => {
    const next = new URLSearchParams(params);
    if (id) next.set('cluster', id);
    else next.delete('cluster');
    setParams(next, { replace: true });
  };
  const list = clusters.data?.items ?? [];
  const known = list.some((c) => c.id === selected);
  return (
    <section className="card providers-section" aria-labelledby="billing">
      <h2 id="billing">Cost by cluster</h2>
      <div className="toolbar">
        <label htmlFor="billing-cluster">Cluster</label>
        <select id="billing-cluster" value={selected} onChange={(e) => choose(e.target.value)}>
          <option value="">Pick a cluster…</option>
          {selected && !known && <option value={selected}>{selected}</option>}
          {list.map((c) => <option key={c.id} value={c.id}>{c.name} ({c.region})</option>)}
        </select>
        {clusters.data?.next_cursor && <span className="muted">The first 100 clusters by name.</span>}
      </div>
      {selected ? <BillingView id={selected} providers={providers} /> : (
        <p className="empty">Pick a cluster to see what its droplets cost, by provider.</p>
      )}
    </section>
  );
}

function BillingView({ id, providers }: { id: string; providers: ProviderItem[] }) {
  const billing = useClusterBilling(id);
  if (billing.isError) {
    return <p className="error" role="alert">The cluster&apos;s costs could not be read: {billing.error.message}</p>;
  }
  if (!billing.data) return <p className="muted billing-placeholder">Loading…</p>;
  const b = billing.data;
  const rows = costRows(b, providers);
  return (
    <div className="billing">
      <dl className="billing-totals">
        <div><dt>Per month</dt><dd className="stat" data-testid="billing-monthly">{monthlyUsd(b.monthly_cost)}</dd></div>
        <div><dt>Per hour</dt><dd className="stat">{hourlyUsd(b.hourly_cost)}</dd></div>
        <div><dt>Billed droplets</dt><dd className="stat">{b.droplet_count}</dd></div>
      </dl>
      {rows.length === 0 ? (
        <p className="empty">This cluster has no billed droplets (destroyed and failed ones cost nothing).</p>
      ) : (
        <div className="billing-body">
          <div className="billing-chart" aria-hidden="true">
            <ResponsiveContainer width="100%" height="100%">
              <BarChart data={rows} layout="vertical" accessibilityLayer={false} margin={{ left: 8, right: 16 }}>
                <XAxis type="number" fontSize={11} tickFormatter={(v: number) => `$${v}`} />
                <YAxis type="category" dataKey="label" fontSize={11} width={90} />
                <Tooltip formatter={(v) => monthlyUsd(Number(v))} />
                <Bar dataKey="monthly" name="per month" fill="var(--accent)" maxBarSize={28} />
              </BarChart>
            </ResponsiveContainer>
          </div>
          <CostTable rows={rows} caption="Costs of the cluster by provider" testIdPrefix="cost-" />
        </div>
      )}
    </div>
  );
}
