import { useCallback, useMemo, useState } from 'react';
import { Freshness } from '../components/Freshness';
import { useRowNavigation } from '../components/useRowNavigation';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { formatMonthly, fromHourly, useCatalog } from '../api/catalog';
import { useClusterChoices, useCreateDroplet, useDroplets, type DropletSort } from '../api/droplets';
import { useProviders } from '../api/queries';
import { StatusBadge } from '../components/Badge';
import { Dialog } from '../components/Dialog';
import { Pager } from '../components/Pager';
import { SearchBox } from '../components/SearchBox';
import { Time } from '../components/Time';
import { DropletForm } from './DropletForm';
import {
  DROPLET_PAGE_SIZE, DROPLET_STATUSES, isFiltered, parseDropletQuery, sortChange,
} from './dropletParams';
import { withChanges } from './urlState';

const COLUMNS: { key: DropletSort | null; label: string }[] = [
  { key: 'name', label: 'Name' },
  { key: null, label: 'Cluster' },
  { key: 'status', label: 'Status' },
  { key: null, label: 'Region' },
  { key: null, label: 'Size' },
  { key: null, label: 'Provider' },
  { key: null, label: 'IP address' },
  { key: null, label: 'Price' },
  { key: 'created_at', label: 'Created' },
];

/** The list's filters, sort and page, read from (and written to) the URL. */
function useDropletParams() {
  const [params, setParams] = useSearchParams();
  const query = useMemo(() => parseDropletQuery(params), [params]);
  const update = useCallback(
    (changes: Record<string, string | null>) => setParams((current) => withChanges(current, changes), { replace: true }),
    [setParams],
  );
  return { query, update };
}

export function Droplets() {
  const { query, update } = useDropletParams();
  const droplets = useDroplets(query);
  const clusters = useClusterChoices();
  const [creating, setCreating] = useState(false);
  const page = droplets.data;
  const onSearch = useCallback((text: string) => update({ search: text }), [update]);
  const navigate = useNavigate();
  const nav = useRowNavigation(page?.items, (d) => d.id, (d) => navigate(`/droplets/${d.id}`));
  const clusterOptions = clusters.data?.items ?? [];
  const unknownCluster = query.cluster_id && !clusterOptions.some((c) => c.id === query.cluster_id);
  return (
    <>
      <div className="page-head">
        <h1>Droplets</h1>
        <button className="primary" onClick={() => setCreating(true)}>Create droplet</button>
      </div>
      <Freshness projection="droplets" />
      <div className="toolbar" role="search">
        <SearchBox value={query.search ?? ''} label="Search droplets by name" onSearch={onSearch} />
        <select aria-label="Cluster" value={query.cluster_id ?? ''} onChange={(e) => update({ cluster_id: e.target.value })}>
          <option value="">Every cluster</option>
          {clusterOptions.map((c) => (
            <option key={c.id} value={c.id}>{c.name}</option>
          ))}
          {unknownCluster && <option value={query.cluster_id}>{query.cluster_id}</option>}
        </select>
        <select aria-label="Status" value={query.status ?? ''} onChange={(e) => update({ status: e.target.value })}>
          <option value="">Every status</option>
          {DROPLET_STATUSES.map((s) => (
            <option key={s} value={s}>{s}</option>
          ))}
        </select>
        {isFiltered(query) && (
          <button onClick={() => update({ search: null, cluster_id: null, status: null })}>Clear filters</button>
        )}
        {droplets.isFetching && <span className="muted" aria-live="polite">Refreshing…</span>}
      </div>
      <div className="table-wrap">
        <p {...nav.hintProps} />
        <table className="data" aria-label="Droplets" {...nav.tableProps}>
          <thead>
            <tr>
              {COLUMNS.map((column) => (
                <th key={column.label} aria-sort={column.key && query.sort_by === column.key
                  ? (query.sort_dir === 'asc' ? 'ascending' : 'descending') : undefined}>
                  {column.key ? (
                    <button onClick={() => update(sortChange(query, column.key!))}>
                      {column.label}
                      {query.sort_by === column.key ? (query.sort_dir === 'asc' ? ' ▲' : ' ▼') : ''}
                    </button>
                  ) : column.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody {...nav.bodyProps}>
            {page?.items.map((d, i) => (
              <tr key={d.id} data-testid={`droplet-row-${d.name}`} {...nav.rowProps(d, i)}>
                <td><Link to={`/droplets/${d.id}`}>{d.name}</Link></td>
                <td>
                  <Link to={`/clusters/${d.cluster_id}`} className="cluster-badge" title={d.cluster_id}>
                    {d.cluster_name ?? d.cluster_id}
                  </Link>
                </td>
                <td><StatusBadge status={d.status} />{d.pending_job_id && d.status !== 'provisioning' && (
                  <span className="muted"> · working</span>
                )}</td>
                <td>{d.region}</td>
                <td className="mono">{d.size}</td>
                <td>{d.provider ?? <span className="muted">—</span>}</td>
                <td className="mono">{d.ip_address ?? <span className="muted">—</span>}</td>
                <td>{formatMonthly(fromHourly(d.price_hourly).monthly)}</td>
                <td><Time at={d.created_at} /></td>
              </tr>
            ))}
          </tbody>
        </table>
        {!page && !droplets.isError && <p className="muted empty">Loading droplets…</p>}
        {page && page.items.length === 0 && (
          <p className="empty">{isFiltered(query) ? 'No droplet matches these filters.' : 'No droplets yet.'}</p>
        )}
        {droplets.isError && <p className="error" role="alert">The droplets could not be read: {droplets.error.message}</p>}
      </div>
      {page && (
        <Pager page={query.page ?? 1} pageSize={DROPLET_PAGE_SIZE} total={page.total} estimate={page.total_is_estimate}
          hasNext={!!page.next_cursor} onPage={(p) => update({ page: String(p) })} />
      )}
      <CreateDropletDialog open={creating} onClose={() => setCreating(false)} clusterId={query.cluster_id} />
    </>
  );
}

/** The create dialog: clusters, providers and the catalog are read when it opens; on success, the new droplet. */
export function CreateDropletDialog(props: { open: boolean; onClose: () => void; clusterId?: string }) {
  const clusters = useClusterChoices();
  const providers = useProviders();
  const catalog = useCatalog();
  const create = useCreateDroplet();
  const navigate = useNavigate();
  const close = () => {
    create.reset();
    props.onClose();
  };
  const ready = clusters.data && providers.data && catalog.data;
  const failed = clusters.error ?? providers.error ?? catalog.error;
  return (
    <Dialog open={props.open} title="Create a droplet" onClose={close}>
      {!ready && !failed && <p className="muted">Loading clusters and providers…</p>}
      {failed && <p className="error" role="alert">{failed.message}</p>}
      {ready && clusters.data.items.length === 0 && (
        <>
          <p>A droplet belongs to a cluster: <Link to="/clusters">create a cluster</Link> first.</p>
          <div className="actions"><button onClick={close}>Close</button></div>
        </>
      )}
      {ready && clusters.data.items.length > 0 && (
        <DropletForm clusters={clusters.data.items} providers={providers.data.items} catalog={catalog.data}
          initialClusterId={props.clusterId}
          busy={create.isPending} error={create.error} onCancel={close}
          onSubmit={(body) => create.mutate(body, {
            onSuccess: (answer) => {
              props.onClose();
              navigate(`/droplets/${answer.droplet.id}`);
            },
          })} />
      )}
    </Dialog>
  );
}
