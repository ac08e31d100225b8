// Deployments. The page (`/deployments?cluster_id=`) picks a cluster; it and a cluster's
// Deployments tab show the start form and the cluster's deployments, newest first (read again
// every 2 s while one runs). Starting one opens its page (DeploymentDetail.tsx).
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { useDeployments, useStartDeployment } from '../api/deployments';
import { useClusterChoices } from '../api/jobs';
import { StatusBadge } from '../components/Badge';
import { Time } from '../components/Time';
import { useRowNavigation } from '../components/useRowNavigation';
import { DeployForm } from './DeployForm';
import { phaseText, strategyText, waiting } from './deploymentModel';
import { shortId } from './jobState';

export function Deployments() {
  const [params, setParams] = useSearchParams();
  const clusterId = params.get('cluster_id') ?? '';
  const clusters = useClusterChoices();
  const items = clusters.data?.items ?? [];
  return (
    <>
      <div className="page-head">
        <h1>Deployments</h1>
        {clusterId && <Link className="button" to={`/clusters/${clusterId}/deployments`}>Open the cluster</Link>}
      </div>
      <div className="toolbar">
        <select aria-label="Cluster" value={clusterId}
          onChange={(e) => setParams(e.target.value ? { cluster_id: e.target.value } : {}, { replace: true })}>
          <option value="">Choose a cluster…</option>
          {clusterId && !items.some((c) => c.id === clusterId) && <option value={clusterId}>{clusterId}</option>}
          {items.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
        </select>
      </div>
      {clusterId ? <ClusterDeployments clusterId={clusterId} /> : (
        <p className="card empty" data-testid="choose-cluster">
          {clusters.data && items.length === 0
            ? <>No clusters yet: <Link to="/clusters">create one</Link> and give it droplets.</>
            : 'Choose a cluster to roll out a version to its droplets and see its deployments.'}
        </p>
      )}
    </>
  );
}

/** A cluster's start form and deployments (the Deployments page and the cluster's tab). */
export function ClusterDeployments({ clusterId }: { clusterId: string }) {
  const start = useStartDeployment(clusterId);
  const navigate = useNavigate();
  return (
    <>
      <section className="card deploy-card" aria-labelledby="deploy-start-title">
        <h2 id="deploy-start-title">Start a deployment</h2>
        <DeployForm key={clusterId} busy={start.isPending} error={start.error}
          onSubmit={(body) => start.mutate(body, { onSuccess: (answer) => navigate(`/deployments/${answer.deployment.id}`) })} />
      </section>
      <DeploymentList clusterId={clusterId} />
    </>
  );
}

function DeploymentList({ clusterId }: { clusterId: string }) {
  const list = useDeployments(clusterId);
  const navigate = useNavigate();
  const items = list.data?.items;
  const nav = useRowNavigation(items, (d) => d.id, (d) => navigate(`/deployments/${d.id}`));
  return (
    <section className="deploy-list" aria-labelledby="deploy-list-title">
      <h2 id="deploy-list-title" className="section-title">Deployments, newest first</h2>
      {list.isError ? <p className="error" role="alert">The deployments could not be read: {list.error.message}</p>
        : !items ? <p className="muted">Loading…</p>
        : items.length === 0 ? <p className="empty">No deployment yet.</p>
        : (
          <>
            <p {...nav.hintProps} />
            <div className="table-scroll">
              <table className="data" aria-label="Deployments of this cluster" {...nav.tableProps}>
                <thead>
                  <tr><th scope="col">Deployment</th><th scope="col">Version</th><th scope="col">Strategy</th>
                    <th scope="col">Status</th><th scope="col">Phase</th><th scope="col">Started</th></tr>
                </thead>
                <tbody {...nav.bodyProps}>
                  {items.map((d, i) => (
                    <tr key={d.id} {...nav.rowProps(d, i)}>
                      <td><Link to={`/deployments/${d.id}`} className="mono" title={d.id}>{shortId(d.id)}</Link></td>
                      <td className="mono">{d.previous_version ? `${d.previous_version} → ` : ''}{d.version}</td>
                      <td>{strategyText(d)}</td>
                      <td><StatusBadge status={d.status} />{waiting(d) && <> <span className="badge warn">waiting for promotion</span></>}</td>
                      <td>{phaseText(d)}</td>
                      <td><Time at={d.created_at} /></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
    </section>
  );
}
