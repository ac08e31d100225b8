import { lazy, useState } from 'react';
import { Link, NavLink, Route, Routes, useNavigate, useParams } from 'react-router-dom';
import { Freshness } from '../components/Freshness';
import { useRowNavigation } from '../components/useRowNavigation';
import { DeleteClusterDialog, DestroyAllDialog } from './ClusterDanger';
import { ProblemError } from '../api/client';
import {
  useCluster, useClusterDroplets, useClusterJobs, useClusterSummary, useStream, useUpdateCluster,
} from '../api/queries';
import { StatusBadge } from '../components/Badge';
import { Dialog } from '../components/Dialog';
import { Time } from '../components/Time';
import { ClusterForm, type Region } from './ClusterForm';
import { ClusterDiagnosis } from './Diagnosis';
import { HealthPanel } from './HealthPanel';

// Tabs with charts load when first opened (the chart library stays out of this page's chunk).
const ClusterAutoscaling = lazy(() => import('./Autoscaling').then((m) => ({ default: m.ClusterAutoscaling })));
const ClusterDeployments = lazy(() => import('./Deployments').then((m) => ({ default: m.ClusterDeployments })));

export function ClusterDetail() {
  const { id = '' } = useParams();
  const cluster = useCluster(id);
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [destroyingAll, setDestroyingAll] = useState(false);
  if (cluster.isError) {
    const gone = cluster.error instanceof ProblemError && cluster.error.status === 404;
    return (
      <div className="card" role="alert">
        <h1>{gone ? 'No such cluster' : 'The cluster could not be read'}</h1>
        <p>{gone ? `No cluster ${id} exists (it may have been deleted).` : cluster.error.message}</p>
        <Link to="/clusters">All clusters</Link>
      </div>
    );
  }
  const c = cluster.data;
  return (
    <>
      <p className="muted"><Link to="/clusters">Clusters</Link> /</p>
      <div className="page-head">
        <h1>{c?.name ?? '…'}</h1>
        {c && <StatusBadge status={c.status} />}
        <button onClick={() => setEditing(true)} disabled={!c}>Rename or move</button>
        <button onClick={() => setDestroyingAll(true)} disabled={!c || c.droplet_count === 0}
          title={c?.droplet_count === 0 ? 'The cluster has no droplets.' : undefined}>
          Destroy all droplets
        </button>
        <button className="danger" onClick={() => setDeleting(true)} disabled={!c}>Delete</button>
      </div>
      <Freshness projection="clusters" named />
      <nav className="tabs" aria-label="Cluster">
        <NavLink to="" end>Overview</NavLink>
        <NavLink to="droplets">Droplets</NavLink>
        <NavLink to="diagnosis">Diagnosis</NavLink>
        <NavLink to="autoscaling">Autoscaling</NavLink>
        <NavLink to="deployments">Deployments</NavLink>
        <NavLink to="jobs">Jobs</NavLink>
        <NavLink to="history">History</NavLink>
      </nav>
      <Routes>
        <Route index element={<Overview id={id} />} />
        <Route path="droplets" element={<Droplets id={id} />} />
        <Route path="diagnosis" element={<ClusterDiagnosis clusterId={id} />} />
        <Route path="autoscaling" element={<ClusterAutoscaling clusterId={id} />} />
        <Route path="deployments" element={<ClusterDeployments clusterId={id} />} />
        <Route path="jobs" element={<Jobs id={id} />} />
        <Route path="history" element={<History id={id} />} />
      </Routes>
      {c && (
        <>
          <EditDialog open={editing} onClose={() => setEditing(false)} id={id}
            initial={{ name: c.name, region: c.region as Region }} />
          <DeleteClusterDialog open={deleting} onClose={() => setDeleting(false)} id={id} name={c.name}
            droplets={c.droplet_count} />
          <DestroyAllDialog open={destroyingAll} onClose={() => setDestroyingAll(false)} id={id} name={c.name} />
        </>
      )}
    </>
  );
}

function Overview({ id }: { id: string }) {
  const cluster = useCluster(id).data;
  const summary = useClusterSummary(id).data;
  if (!cluster) return <p className="muted">Loading…</p>;
  return (
    <div className="grid">
      <section className="card" aria-label="Properties">
        <dl className="props">
          <dt>Id</dt><dd className="mono">{cluster.id}</dd>
          <dt>Region</dt><dd>{cluster.region}</dd>
          <dt>Provider</dt><dd>{cluster.provider ?? 'the region\u2019s default'}</dd>
          <dt>Version</dt><dd>{cluster.version}</dd>
          <dt>Created</dt><dd><Time at={cluster.created_at} /></dd>
          <dt>Updated</dt><dd><Time at={cluster.updated_at} /></dd>
        </dl>
      </section>
      <section className="card" aria-label="Droplets by status">
        <h2>Droplets</h2>
        <p className="stat" data-testid="droplet-count">{cluster.droplet_count}</p>
        <div className="row">
          {Object.entries(summary?.droplets_by_status ?? {}).map(([status, n]) => (
            <span key={status}><StatusBadge status={status} /> {n}</span>
          ))}
        </div>
      </section>
      <HealthPanel clusterId={id} footer={
        <p className="muted health-links">
          <Link to={`/monitoring?cluster_id=${id}`}>Charts on Monitoring</Link> ·{' '}
          <Link to={`/clusters/${id}/diagnosis`}>Diagnose</Link>
        </p>
      } />
      {summary?.last_job && (
        <section className="card" aria-label="Last job">
          <h2>Last job</h2>
          <p>{summary.last_job.type} <StatusBadge status={summary.last_job.status} /></p>
        </section>
      )}
    </div>
  );
}

function Droplets({ id }: { id: string }) {
  const droplets = useClusterDroplets(id).data;
  const navigate = useNavigate();
  const nav = useRowNavigation(droplets?.items, (d) => d.id, (d) => navigate(`/droplets/${d.id}`));
  return (
    <>
      <Freshness projection="droplets" named />
      {!droplets ? <p className="muted">Loading…</p> : droplets.items.length === 0 ? (
        <p className="empty">This cluster has no droplets.</p>
      ) : (
    <>
    <p {...nav.hintProps} />
    <table className="data" aria-label="Droplets of this cluster" {...nav.tableProps}>
      <thead><tr><th>Name</th><th>Status</th><th>Size</th><th>Region</th><th>Provider</th><th>Created</th></tr></thead>
      <tbody {...nav.bodyProps}>
        {droplets.items.map((d, i) => (
          <tr key={d.id} {...nav.rowProps(d, i)}>
            <td><Link to={`/droplets/${d.id}`}>{d.name}</Link></td><td><StatusBadge status={d.status} /></td><td>{d.size}</td><td>{d.region}</td>
            <td>{d.provider ?? '—'}</td><td><Time at={d.created_at} /></td>
          </tr>
        ))}
      </tbody>
    </table>
    </>
      )}
    </>
  );
}

function Jobs({ id }: { id: string }) {
  const jobs = useClusterJobs(id).data;
  const navigate = useNavigate();
  const nav = useRowNavigation(jobs?.items, (j) => j.id, (j) => navigate(`/jobs/${j.id}`));
  return (
    <>
      <Freshness projection="jobs" named />
      {!jobs ? <p className="muted">Loading…</p> : jobs.items.length === 0 ? (
        <p className="empty">No job has run for this cluster.</p>
      ) : (
    <>
    <p {...nav.hintProps} />
    <table className="data" aria-label="Jobs of this cluster" {...nav.tableProps}>
      <thead><tr><th>Job</th><th>Type</th><th>Status</th><th>Progress</th><th>Created</th></tr></thead>
      <tbody {...nav.bodyProps}>
        {jobs.items.map((j, i) => (
          <tr key={j.id} {...nav.rowProps(j, i)}>
            <td><Link to={`/jobs/${j.id}`} className="mono">{j.id}</Link></td><td>{j.type}</td><td><StatusBadge status={j.status} /></td>
            <td>{j.progress}%</td><td><Time at={j.created_at} /></td>
          </tr>
        ))}
      </tbody>
    </table>
    </>
      )}
    </>
  );
}

function History({ id }: { id: string }) {
  const stream = useStream('cluster', id).data;
  if (!stream) return <p className="muted">Loading…</p>;
  return (
    <>
    <p><Link to={`/audit/cluster/${id}`}>Replay this history in Audit &amp; Replay</Link></p>
    <ol className="timeline" aria-label="Events of this cluster">
      {stream.items.map((e) => (
        <li key={e.position}>
          <span className="mono">#{e.position}</span>
          <span>{e.type}</span>
          <span>
            <Time at={e.recorded_at} /> · by {e.metadata.actor}
            <code style={{ display: 'block' }}>{JSON.stringify(e.data)}</code>
          </span>
        </li>
      ))}
    </ol>
    </>
  );
}

function EditDialog(props: { open: boolean; onClose: () => void; id: string; initial: { name: string; region: Region } }) {
  const update = useUpdateCluster(props.id);
  return (
    <Dialog open={props.open} title="Rename or move the cluster" onClose={props.onClose}>
      <ClusterForm initial={props.initial} submitLabel="Save" busy={update.isPending} error={update.error}
        onCancel={props.onClose}
        onSubmit={({ name, region }) => update.mutate({ name, region }, { onSuccess: props.onClose })} />
    </Dialog>
  );
}
