import { useCallback, useState } from 'react';
import { Freshness } from '../components/Freshness';
import { useRowNavigation } from '../components/useRowNavigation';
import { withChanges } from './urlState';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { CLUSTER_STATUSES, useClusters, useCreateCluster, type ClusterQuery, type ClusterSort } from '../api/queries';
import { StatusBadge } from '../components/Badge';
import { Dialog } from '../components/Dialog';
import { Pager } from '../components/Pager';
import { SearchBox } from '../components/SearchBox';
import { Time } from '../components/Time';
import { ClusterForm } from './ClusterForm';

const PAGE_SIZE = 20;
const COLUMNS: { key: ClusterSort | null; label: string }[] = [
  { key: 'name', label: 'Name' },
  { key: null, label: 'Status' },
  { key: 'region', label: 'Region' },
  { key: null, label: 'Droplets' },
  { key: 'created_at', label: 'Created' },
];

/** The list's filters, sort and page, read from (and written to) the URL. */
export function useListParams() {
  const [params, setParams] = useSearchParams();
  const query: ClusterQuery = {
    page: Math.max(1, Number(params.get('page') ?? 1) || 1),
    page_size: PAGE_SIZE,
    sort_by: (params.get('sort_by') as ClusterSort | null) ?? 'created_at',
    sort_dir: params.get('sort_dir') === 'desc' ? 'desc' : 'asc',
    ...(params.get('search') ? { search: params.get('search')! } : {}),
    ...(params.get('status') ? { status: params.get('status') as ClusterQuery['status'] } : {}),
  };
  const update = (changes: Record<string, string | null>) =>
    setParams(withChanges(params, changes), { replace: true });
  return { query, update };
}

export function Clusters() {
  const { query, update } = useListParams();
  const clusters = useClusters(query);
  const [creating, setCreating] = useState(false);
  const navigate = useNavigate();
  const sortBy = (key: ClusterSort) =>
    update({ sort_by: key, sort_dir: query.sort_by === key && query.sort_dir === 'asc' ? 'desc' : 'asc' });
  const page = clusters.data;
  const onSearch = useCallback((text: string) => update({ search: text }), [update]);
  const nav = useRowNavigation(page?.items, (c) => c.id, (c) => navigate(`/clusters/${c.id}`));
  return (
    <>
      <div className="page-head">
        <h1>Clusters</h1>
        <button className="primary" onClick={() => setCreating(true)}>
          Create cluster
        </button>
      </div>
      <Freshness projection="clusters" />
      <div className="toolbar" role="search">
        <SearchBox value={query.search ?? ''} label="Search clusters by name" onSearch={onSearch} />
        <select aria-label="Status" value={query.status ?? ''} onChange={(e) => update({ status: e.target.value })}>
          <option value="">Every status</option>
          {CLUSTER_STATUSES.map((s) => (
            <option key={s} value={s}>{s}</option>
          ))}
        </select>
        {clusters.isFetching && <span className="muted" aria-live="polite">Refreshing…</span>}
      </div>
      <div className="table-wrap">
        <p {...nav.hintProps} />
        <table className="data" {...nav.tableProps}>
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
            {page?.items.map((cluster, i) => (
              <tr key={cluster.id} {...nav.rowProps(cluster, i)}>
                <td><Link to={`/clusters/${cluster.id}`}>{cluster.name}</Link></td>
                <td><StatusBadge status={cluster.status} /></td>
                <td>{cluster.region}</td>
                <td>{cluster.droplet_count}</td>
                <td><Time at={cluster.created_at} /></td>
              </tr>
            ))}
          </tbody>
        </table>
        {page && page.items.length === 0 && (
          <p className="empty">{query.search || query.status ? 'No cluster matches these filters.' : 'No clusters yet.'}</p>
        )}
        {clusters.isError && <p className="error" role="alert">{String(clusters.error.message)}</p>}
      </div>
      {page && (
        <Pager page={query.page ?? 1} pageSize={PAGE_SIZE} total={page.total} estimate={page.total_is_estimate}
          hasNext={!!page.next_cursor} onPage={(p) => update({ page: String(p) })} />
      )}
      <CreateClusterDialog open={creating} onClose={() => setCreating(false)} />
    </>
  );
}

/** The create dialog (also opened from the command palette); on success, the new cluster. */
export function CreateClusterDialog(props: { open: boolean; onClose: () => void }) {
  const create = useCreateCluster();
  const navigate = useNavigate();
  const close = () => {
    create.reset();
    props.onClose();
  };
  return (
    <Dialog open={props.open} title="Create a cluster" onClose={close}>
      <ClusterForm withProvider submitLabel="Create" busy={create.isPending} error={create.error}
        onCancel={close}
        onSubmit={(value) => create.mutate(value, {
          onSuccess: (cluster) => { props.onClose(); navigate(`/clusters/${cluster.id}`); },
        })} />
    </Dialog>
  );
}
