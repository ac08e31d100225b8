import { useMemo, useState } from 'react';
import { Freshness } from '../components/Freshness';
import { useRowNavigation } from '../components/useRowNavigation';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { JOB_STATUSES, JOB_TYPES, useClusterChoices, useCreateJob, useJobs, type JobSort } from '../api/jobs';
import { StatusBadge } from '../components/Badge';
import { Dialog } from '../components/Dialog';
import { Pager } from '../components/Pager';
import { Time } from '../components/Time';
import { JobForm } from './JobForm';
import { ClusterLink, DropletLink, JobProgress } from './JobParts';
import { JOB_PAGE_SIZE, jobPhase, jobQueryFrom, shortId } from './jobState';
import { withChanges } from './urlState';

const COLUMNS: { key: JobSort | null; label: string }[] = [
  { key: 'id', label: 'Job' },
  { key: null, label: 'Status' },
  { key: null, label: 'Progress' },
  { key: null, label: 'Attempt' },
  { key: null, label: 'Cluster' },
  { key: null, label: 'Droplet' },
  { key: 'created_at', label: 'Created' },
  { key: null, label: 'Updated' },
];

/** The list's filters, sort and page, read from (and written to) the URL. */
export function useJobListParams() {
  const [params, setParams] = useSearchParams();
  const query = useMemo(() => jobQueryFrom(params), [params]);
  const update = (changes: Record<string, string | null>) => setParams(withChanges(params, changes), { replace: true });
  return { query, update };
}

export function Jobs() {
  const { query, update } = useJobListParams();
  const jobs = useJobs(query);
  const clusters = useClusterChoices();
  const create = useCreateJob();
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  const names = useMemo(
    () => new Map((clusters.data?.items ?? []).map((c) => [c.id, c.name])),
    [clusters.data],
  );
  const choices = (clusters.data?.items ?? []).map((c) => ({ id: c.id, name: c.name }));
  const sortBy = (key: JobSort) =>
    update({ sort_by: key, sort_dir: query.sort_by === key && query.sort_dir === 'desc' ? 'asc' : 'desc' });
  const page = jobs.data;
  const filtered = !!(query.status || query.type || query.cluster_id || query.droplet_id);
  const nav = useRowNavigation(page?.items, (j) => j.id, (j) => navigate(`/jobs/${j.id}`));
  return (
    <>
      <div className="page-head">
        <h1>Jobs</h1>
        <button className="primary" onClick={() => { create.reset(); setCreating(true); }}>Create job</button>
      </div>
      <Freshness projection="jobs" />
      <div className="toolbar" role="search" aria-label="Filter jobs">
        <select aria-label="Status" value={query.status ?? ''} onChange={(e) => update({ status: e.target.value })}>
          <option value="">Every status</option>
          {JOB_STATUSES.map((s) => (
            <option key={s} value={s}>{s === 'queued' ? 'queued (and retrying)' : s.replace('_', ' ')}</option>
          ))}
        </select>
        <select aria-label="Type" value={query.type ?? ''} onChange={(e) => update({ type: e.target.value })}>
          <option value="">Every type</option>
          {JOB_TYPES.map((t) => <option key={t} value={t}>{t.replace('_', ' ')}</option>)}
        </select>
        <select aria-label="Cluster" value={query.cluster_id ?? ''} onChange={(e) => update({ cluster_id: e.target.value })}>
          <option value="">Every cluster</option>
          {query.cluster_id && !names.has(query.cluster_id) && <option value={query.cluster_id}>{query.cluster_id}</option>}
          {choices.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
        </select>
        {query.droplet_id && (
          <span className="chip filter-chip" role="group" aria-label="Droplet filter">
            Droplet <DropletLink id={query.droplet_id} />
            <button type="button" aria-label="Every droplet (remove the droplet filter)"
              onClick={() => update({ droplet_id: null })}>×</button>
          </span>
        )}
        {filtered && (
          <button onClick={() => update({ status: null, type: null, cluster_id: null, droplet_id: null })}>Clear filters</button>
        )}
        <span className="muted jobs-refreshing" aria-live="polite">{jobs.isFetching ? 'Refreshing…' : ''}</span>
      </div>
      <div className="table-wrap">
        <p {...nav.hintProps} />
        <table className="data jobs-table" {...nav.tableProps}>
          <thead>
            <tr>
              {COLUMNS.map((column) => (
                <th key={column.label} aria-sort={column.key && query.sort_by === column.key
                  ? (query.sort_dir === 'asc' ? 'ascending' : 'descending') : undefined}>
                  {column.key ? (
                    <button onClick={() => sortBy(column.key!)}>
                      {column.label}
                      {query.sort_by === column.key ? (query.sort_dir === 'asc' ? ' ▲' : ' ▼') : ''}
                    </button>
                  ) : column.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody {...nav.bodyProps}>
            {page?.items.map((job, i) => (
              <tr key={job.id} data-job={job.id} {...nav.rowProps(job, i)}>
                <td>
                  <Link to={`/jobs/${job.id}`}>
                    {job.type.replace(/_/g, ' ')} <span className="mono jobs-id">{shortId(job.id)}</span>
                  </Link>
                </td>
                <td><StatusBadge status={jobPhase(job).badge} /></td>
                <td><JobProgress job={job} /></td>
                <td>{job.attempts > 0 ? `${job.attempts} of ${job.max_attempts}` : <span className="muted">—</span>}</td>
                <td><ClusterLink id={job.cluster_id} name={names.get(job.cluster_id)} /></td>
                <td><DropletLink id={job.droplet_id} /></td>
                <td><Time at={job.created_at} /></td>
                <td><Time at={job.updated_at} /></td>
              </tr>
            ))}
          </tbody>
        </table>
        {jobs.isPending && <p className="muted">Loading…</p>}
        {page && page.items.length === 0 && (
          <p className="empty">{filtered ? 'No job matches these filters.' : 'No jobs yet: creating a droplet or starting a job makes one.'}</p>
        )}
        {jobs.isError && <p className="error" role="alert">{jobs.error.message}</p>}
      </div>
      {page && (
        <Pager page={query.page ?? 1} pageSize={JOB_PAGE_SIZE} total={page.total} estimate={page.total_is_estimate}
          hasNext={!!page.next_cursor} onPage={(p) => update({ page: String(p) })} />
      )}
      <Dialog open={creating} title="Start a job" onClose={() => setCreating(false)}>
        <JobForm clusters={choices} initialCluster={query.cluster_id} busy={create.isPending} error={create.error}
          onCancel={() => setCreating(false)}
          onSubmit={(body) => create.mutate(body, {
            onSuccess: (answer) => { setCreating(false); navigate(`/jobs/${answer.job.id}`); },
          })} />
      </Dialog>
    </>
  );
}
