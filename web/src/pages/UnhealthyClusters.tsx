// The Dashboard's "Unhealthy clusters": critical ones first, then those in warning (a few of
// each, by name), each linking to its Diagnosis tab. Follows `cluster.status_changed` live
// (cluster events refresh every `clusters` query).
import { Link } from 'react-router-dom';
import { useClusters, type ClusterQuery } from '../api/queries';
import { StatusBadge } from '../components/Badge';

/** Clusters listed per status. */
export const UNHEALTHY_SHOWN = 5;

const query = (status: 'critical' | 'warning'): ClusterQuery =>
  ({ status, page: 1, page_size: UNHEALTHY_SHOWN, sort_by: 'name', sort_dir: 'asc' });

export function UnhealthyClusters() {
  const critical = useClusters(query('critical'));
  const warning = useClusters(query('warning'));
  const groups = [['critical', critical], ['warning', warning]] as const;
  const loaded = critical.data && warning.data;
  const none = loaded && critical.data.items.length === 0 && warning.data.items.length === 0;
  return (
    <section className="card" aria-labelledby="unhealthy-clusters" data-testid="unhealthy-clusters">
      <h2 id="unhealthy-clusters">Unhealthy clusters</h2>
      {!loaded ? <p className="muted">{critical.isError || warning.isError ? 'The clusters could not be read.' : 'Loading…'}</p>
        : none ? <p className="muted">Every cluster is healthy.</p>
        : (
          <ul className="unhealthy-list">
            {groups.flatMap(([status, list]) => {
              const total = list.data?.total ?? 0;
              return [
              ...(list.data?.items ?? []).map((c) => (
                <li key={c.id}>
                  <StatusBadge status={c.status} />{' '}
                  <Link to={`/clusters/${c.id}/diagnosis`} aria-label={`${c.name} (${c.status}): diagnose`}>{c.name}</Link>
                </li>
              )),
              ...(total > UNHEALTHY_SHOWN ? [(
                <li key={`more-${status}`} className="muted">
                  <Link to={`/clusters?status=${status}`}>
                    {list.data!.total_is_estimate ? 'about ' : ''}{total - UNHEALTHY_SHOWN} more {status}
                  </Link>
                </li>
              )] : []),
              ];
            })}
          </ul>
        )}
    </section>
  );
}
