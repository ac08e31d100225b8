import { Link } from 'react-router-dom';
import { Bar, BarChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { CLUSTER_STATUSES, logHead, useClusterCounts, useProjections, useRecentEvents, useWorkers } from '../api/queries';
import { StatusBadge } from '../components/Badge';
import { Freshness } from '../components/Freshness';
import { Time } from '../components/Time';
import { aggregateLink } from './links';
import { FleetCost } from './FleetCost';
import { UnhealthyClusters } from './UnhealthyClusters';
import {
  countText, DASHBOARD_DROPLET_STATUSES, DASHBOARD_JOB_STATUSES, useDropletCounts, useJobCounts, type Count,
} from '../api/counts';

/** One line of a counts card: the status (a link to the list filtered by it) and its count. */
function CountRow({ to, status, count, testId }: { to: string; status: string; count?: Count; testId: string }) {
  return (
    <div className="row" style={{ justifyContent: 'space-between' }}>
      <Link to={to}>
        <StatusBadge status={status} />
      </Link>
      <span className="stat" style={{ fontSize: 20 }} data-testid={testId}>
        {countText(count)}
      </span>
    </div>
  );
}

export function Dashboard() {
  const counts = useClusterCounts();
  const droplets = useDropletCounts();
  const jobs = useJobCounts();
  const workers = useWorkers();
  const projections = useProjections();
  const events = useRecentEvents(15, logHead(projections.data));
  const chart = CLUSTER_STATUSES.map((status) => ({ status, clusters: counts.data?.[status].total ?? 0 }));
  const maxLag = Math.max(0, ...(projections.data?.items.map((p) => p.lag) ?? [0]));
  return (
    <>
      <div className="page-head">
        <h1>Dashboard</h1>
      </div>
      <div className="grid">
        <section className="card" aria-labelledby="clusters-by-status">
          <h2 id="clusters-by-status">Clusters by status</h2>
          {CLUSTER_STATUSES.map((status) => (
            <div className="row" key={status} style={{ justifyContent: 'space-between' }}>
              <Link to={`/clusters?status=${status}`}>
                <StatusBadge status={status} />
              </Link>
              <span className="stat" style={{ fontSize: 20 }} data-testid={`clusters-${status}`}>
                {counts.data ? `${counts.data[status].estimate ? '≈' : ''}${counts.data[status].total}` : '…'}
              </span>
            </div>
          ))}
          <div style={{ height: 120, marginTop: 8 }} aria-hidden="true">
            <ResponsiveContainer width="100%" height="100%">
              <BarChart data={chart} accessibilityLayer={false}>
                <XAxis dataKey="status" fontSize={11} />
                <YAxis allowDecimals={false} fontSize={11} width={30} />
                <Tooltip />
                <Bar dataKey="clusters" fill="var(--accent)" />
              </BarChart>
            </ResponsiveContainer>
          </div>
          <Freshness projection="clusters" named inCard />
        </section>
        <UnhealthyClusters />
        <section className="card" aria-labelledby="droplets-by-status">
          <h2 id="droplets-by-status">Droplets by status</h2>
          {DASHBOARD_DROPLET_STATUSES.map((status) => (
            <CountRow key={status} to={`/droplets?status=${status}`} status={status}
              count={droplets.data?.[status]} testId={`droplets-${status}`} />
          ))}
          <Freshness projection="droplets" named inCard />
        </section>
        <section className="card" aria-labelledby="fleet-cost">
          <h2 id="fleet-cost">Fleet cost</h2>
          <FleetCost compact />
          <p className="muted">
            every billed droplet · <Link to="/providers">by cluster</Link>
          </p>
        </section>
        <section className="card" aria-labelledby="jobs-by-status">
          <h2 id="jobs-by-status">Jobs</h2>
          {DASHBOARD_JOB_STATUSES.map((status) => (
            <CountRow key={status} to={`/jobs?status=${status}`} status={status}
              count={jobs.data?.[status]} testId={`jobs-${status}`} />
          ))}
          <p className="muted">Queued includes jobs waiting to retry.</p>
          <Freshness projection="jobs" named inCard />
        </section>
        <section className="card" aria-labelledby="worker-pool">
          <h2 id="worker-pool">Worker pool</h2>
          {workers.data ? (
            <dl className="props">
              <dt>Workers busy</dt>
              <dd>
                {workers.data.active_workers} of {workers.data.worker_count}
              </dd>
              <dt>Queue</dt>
              <dd>
                {workers.data.queue_length} of {workers.data.queue_capacity}
              </dd>
              <dt>Unfinished jobs</dt>
              <dd>{workers.data.unfinished}</dd>
            </dl>
          ) : (
            <p className="muted">{workers.isError ? 'The job runtime is not running here.' : 'Loading…'}</p>
          )}
        </section>
        <section className="card" aria-labelledby="projections">
          <h2 id="projections">Read models</h2>
          <p className="stat" data-testid="max-lag">
            {projections.data ? maxLag : '…'}
          </p>
          <p className="muted">
            events behind the log at most · <Link to="/system">details</Link>
          </p>
        </section>
      </div>
      <section className="card" style={{ marginTop: 16 }} aria-labelledby="recent-events">
        <h2 id="recent-events">Recent events</h2>
        {events.data?.items.length ? (
          <ol className="timeline">
            {[...events.data.items].reverse().map((event) => (
              <li key={event.position}>
                <span className="mono">#{event.position}</span>
                <span>{event.type}</span>
                <span>
                  {aggregateLink(event.aggregate_type, event.aggregate_id)} · <Time at={event.recorded_at} />
                </span>
              </li>
            ))}
          </ol>
        ) : (
          <p className="empty">{events.isPending ? 'Loading…' : 'The log is empty: create a cluster to begin.'}</p>
        )}
      </section>
    </>
  );
}
