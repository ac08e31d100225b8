// One deployment (`/deployments/:id`): its status and phase, Rollback (after a confirmation,
// while it runs) and Promote (a canary waiting at its target), its droplets with their app
// version against the target, its steps with their jobs, its gates' results and its logs. Read
// again every 2 s while it runs.
import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { ProblemError } from '../api/client';
import { refusal } from '../api/droplets';
import { usePromote, useRollback, useDeployment, type DeploymentView } from '../api/deployments';
import { useCluster } from '../api/queries';
import { StatusBadge } from '../components/Badge';
import { Dialog } from '../components/Dialog';
import { ProgressBar } from '../components/ProgressBar';
import { Time } from '../components/Time';
import { canPromote, canRollback, dropletProgress, LOG_TONE, phaseText, strategyText, waiting } from './deploymentModel';
import { shortId } from './jobState';

export function DeploymentDetail() {
  const { id = '' } = useParams();
  const deployment = useDeployment(id);
  if (deployment.isError) {
    const gone = deployment.error instanceof ProblemError && deployment.error.status === 404;
    return (
      <div className="card" role="alert">
        <h1>{gone ? 'No such deployment' : 'The deployment could not be read'}</h1>
        <p>{gone ? `No deployment ${id} exists.` : deployment.error.message}</p>
        <Link to="/deployments">All deployments</Link>
      </div>
    );
  }
  const d = deployment.data;
  if (!d) return <p className="muted">Loading…</p>;
  return (
    <>
      <p className="muted">
        <Link to={`/deployments?cluster_id=${d.cluster_id}`}>Deployments</Link> /{' '}
        <ClusterCrumb id={d.cluster_id} /> /
      </p>
      <div className="page-head">
        <h1>Deployment of <span className="mono">{d.version}</span></h1>
        <StatusBadge status={d.status} />
        <Commands deployment={d} />
      </div>
      <p className="deploy-phase" role="status" data-testid="deploy-phase">
        {waiting(d) && <span className="badge warn">waiting for promotion</span>} {phaseText(d)}
      </p>
      <div className="deploy-grid">
        <Summary d={d} />
        <Droplets d={d} />
      </div>
      <Steps d={d} />
      <Gates d={d} />
      <Logs d={d} />
    </>
  );
}

/** The cluster's name (its id until read), linked to its Deployments tab. */
function ClusterCrumb({ id }: { id: string }) {
  const name = useCluster(id).data?.name;
  return <Link to={`/clusters/${id}/deployments`} title={id}>{name ?? `cluster ${shortId(id)}`}</Link>;
}

function Commands({ deployment }: { deployment: DeploymentView }) {
  const rollback = useRollback(deployment.id);
  const promote = usePromote(deployment.id);
  const [confirming, setConfirming] = useState(false);
  const error = promote.error;
  const close = () => {
    rollback.reset();
    setConfirming(false);
  };
  return (
    <>
      {deployment.strategy === 'canary' && (
        <button className="primary" onClick={() => promote.mutate()} disabled={!canPromote(deployment) || promote.isPending}
          title={canPromote(deployment) ? 'Update the rest of the droplets' : 'Only while the canary waits at its target'}>
          {promote.isPending ? 'Promoting…' : 'Promote'}
        </button>
      )}
      <button className="danger" onClick={() => setConfirming(true)} disabled={!canRollback(deployment)}
        title={canRollback(deployment) ? 'Put the previous version back' : 'Finished: nothing to roll back'}>
        Rollback
      </button>
      {error && <p className="error" role="alert">{refusal(error)}</p>}
      <Dialog open={confirming} title="Roll back this deployment?" onClose={close}>
        <p>
          Every droplet it updated goes back to{' '}
          {deployment.previous_version ? <span className="mono">{deployment.previous_version}</span> : 'its previous version'}.
        </p>
        {rollback.error && <p className="error" role="alert">{refusal(rollback.error)}</p>}
        <div className="actions">
          <button type="button" onClick={close}>Cancel</button>
          <button type="button" className="danger" disabled={rollback.isPending}
            onClick={() => rollback.mutate(undefined, { onSuccess: close })}>
            {rollback.isPending ? 'Rolling back…' : 'Roll back'}
          </button>
        </div>
      </Dialog>
    </>
  );
}

function Summary({ d }: { d: DeploymentView }) {
  const gate = d.health_gate;
  return (
    <section className="card" aria-labelledby="deploy-summary">
      <h2 id="deploy-summary">Deployment</h2>
      <dl className="props">
        <dt>Id</dt><dd className="mono">{d.id}</dd>
        <dt>Cluster</dt><dd><Link to={`/clusters/${d.cluster_id}`} className="mono">{d.cluster_id}</Link></dd>
        <dt>Strategy</dt><dd>{strategyText(d)}</dd>
        <dt>Version</dt><dd className="mono">{d.previous_version ?? '—'} → {d.version}</dd>
        <dt>Health gate</dt><dd>{gate.metric} at most {gate.max} over {gate.window_seconds} s</dd>
        <dt>Started</dt><dd><Time at={d.created_at} /></dd>
        <dt>Finished</dt><dd><Time at={d.finished_at} /></dd>
      </dl>
    </section>
  );
}

function Droplets({ d }: { d: DeploymentView }) {
  const progress = dropletProgress(d);
  return (
    <section className="card" aria-labelledby="deploy-droplets">
      <h2 id="deploy-droplets">Droplets</h2>
      <p className="row">
        <ProgressBar value={progress.percent} label="Droplets at the new version"
          tone={d.status === 'succeeded' ? 'ok' : d.status === 'running' ? 'info' : 'warn'} />
        <span data-testid="deploy-progress">{progress.done} of {progress.total} at {d.version}</span>
      </p>
      <table className="data" aria-label="Droplets and their versions">
        <thead><tr><th scope="col">Droplet</th><th scope="col">Status</th><th scope="col">App version</th><th scope="col">Target</th></tr></thead>
        <tbody>
          {d.droplets.map((x) => {
            const at = x.app_version === d.version;
            return (
              <tr key={x.droplet_id} data-testid={`deploy-droplet-${x.name}`}>
                <td><Link to={`/droplets/${x.droplet_id}`}>{x.name}</Link></td>
                <td><StatusBadge status={x.status} /></td>
                <td className="mono">{x.app_version ?? '—'}</td>
                <td>{at ? <span className="badge ok">at {d.version}</span> : <span className="badge muted">{d.status === 'running' ? 'not yet' : 'not at it'}</span>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

function Steps({ d }: { d: DeploymentView }) {
  const names = new Map(d.droplets.map((x) => [x.droplet_id, x.name]));
  return (
    <section className="card deploy-section" aria-labelledby="deploy-steps">
      <h2 id="deploy-steps">Steps</h2>
      {d.steps.length === 0 ? <p className="muted">No step yet.</p> : (
        <div className="table-scroll">
          <table className="data" aria-label="Steps">
            <thead>
              <tr><th scope="col">#</th><th scope="col">Step</th><th scope="col">Droplets</th><th scope="col">Status</th>
                <th scope="col">Job</th><th scope="col">Started</th><th scope="col">Completed</th></tr>
            </thead>
            <tbody>
              {d.steps.map((s) => (
                <tr key={s.index} data-status={s.status}>
                  <td className="num">{s.index}</td>
                  <td>{s.kind}</td>
                  <td>{s.droplet_ids.map((id) => names.get(id) ?? shortId(id)).join(', ') || '—'}</td>
                  <td><StatusBadge status={s.status} /></td>
                  <td>{s.job_id ? <Link to={`/jobs/${s.job_id}`} className="mono" title={s.job_id}>{shortId(s.job_id)}</Link> : '—'}</td>
                  <td><Time at={s.started_at} /></td>
                  <td><Time at={s.completed_at} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Gates({ d }: { d: DeploymentView }) {
  const names = new Map(d.droplets.map((x) => [x.droplet_id, x.name]));
  return (
    <section className="card deploy-section" aria-labelledby="deploy-gates">
      <h2 id="deploy-gates">Health gates</h2>
      {d.gates.length === 0 ? <p className="muted">No gate checked yet.</p> : (
        <ol className="gate-list" aria-label="Gate results">
          {d.gates.map((g, i) => (
            <li key={i} data-passed={g.passed}>
              <div className="row">
                <span className={`badge ${g.passed ? 'ok' : 'danger'}`}>{g.passed ? 'passed' : 'failed'}</span>
                <span>after step {g.after_step}</span>
                <span className="muted">
                  {g.metric} {g.observed != null ? `observed ${Math.round(g.observed * 10) / 10}` : 'not observed'} vs max {g.max} over{' '}
                  {g.window_seconds} s · <Time at={g.at} />
                </span>
              </div>
              <p>{g.reason}</p>
              {g.unhealthy_droplets.length > 0 && (
                <p className="error">
                  Unhealthy: {g.unhealthy_droplets.map((id, j) => (
                    <span key={id}>{j > 0 && ', '}<Link to={`/droplets/${id}`}>{names.get(id) ?? shortId(id)}</Link></span>
                  ))}
                </p>
              )}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function Logs({ d }: { d: DeploymentView }) {
  return (
    <section className="card deploy-section" aria-labelledby="deploy-logs">
      <h2 id="deploy-logs">Logs</h2>
      {d.logs.length === 0 ? <p className="muted">No log yet.</p> : (
        <ol className="deploy-logs" aria-label="Log lines">
          {d.logs.map((l, i) => (
            <li key={i}>
              <span className="mono muted"><Time at={l.at} /></span>{' '}
              <span className={`badge ${LOG_TONE[l.level] ?? 'muted'}`}>{l.level}</span>{' '}
              <span>{l.message}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
