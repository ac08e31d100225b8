// Auto-scaling. The page (`/autoscaling`) lists clusters with their policy; a cluster's
// Autoscaling tab (`/clusters/:id/autoscaling`) edits its policy (save, remove after a
// confirmation), evaluates it now (the decision and its reason shown), and shows the decisions,
// newest first, over a chart of the droplets against the metric's average and the thresholds.
// Decisions are read again every 5 s while shown.
import { useState } from 'react';
import { Link } from 'react-router-dom';
import {
  useAutoscalingDecisions, useAutoscalingPolicies, useAutoscalingPolicy, useEvaluateNow, useRemovePolicy,
  useSavePolicy, type AutoscalingDecisionView, type AutoscalingPolicyView,
} from '../api/autoscaling';
import { ProblemError } from '../api/client';
import { refusal } from '../api/droplets';
import { useClusterChoices } from '../api/jobs';
import { StatusBadge } from '../components/Badge';
import { Dialog } from '../components/Dialog';
import { Time } from '../components/Time';
import { DecisionBadge, DecisionChart, DecisionTimeline } from './AutoscalingParts';
import { EMPTY_POLICY, POLICY_TYPE_LABELS, policySummary, policyToForm } from './autoscalingModel';
import { PolicyEditor } from './PolicyEditor';

/** `/autoscaling`: every cluster with its policy, linked to its Autoscaling tab. */
export function Autoscaling() {
  const clusters = useClusterChoices();
  const items = clusters.data?.items ?? [];
  const policies = useAutoscalingPolicies(items.map((c) => c.id));
  return (
    <>
      <div className="page-head"><h1>Autoscaling</h1></div>
      <p className="muted">
        Each cluster may have one policy: on a metric, by time of day, or under a cost cap. The evaluator runs it on a
        schedule and records every decision, including &ldquo;no change, because&hellip;&rdquo;.
      </p>
      {clusters.isError ? <p className="error" role="alert">{clusters.error.message}</p>
        : !clusters.data ? <p className="muted">Loading…</p>
        : items.length === 0 ? <p className="empty">No clusters yet: <Link to="/clusters">create one</Link>.</p>
        : (
          <table className="data" aria-label="Clusters and their policies">
            <thead><tr><th scope="col">Cluster</th><th scope="col">Policy</th><th scope="col">State</th><th scope="col">What it does</th></tr></thead>
            <tbody>
              {items.map((c, i) => {
                const q = policies[i];
                const p = q?.data;
                return (
                  <tr key={c.id}>
                    <td><Link to={`/clusters/${c.id}/autoscaling`}>{c.name}</Link></td>
                    <td>{q?.isError ? <span className="error">{q.error.message}</span> : p === undefined ? '…' : p ? POLICY_TYPE_LABELS[p.type] : <span className="muted">none</span>}</td>
                    <td>{p ? <StatusBadge status={p.enabled ? 'active' : 'off'} /> : null}</td>
                    <td>{p ? policySummary(p) : <Link to={`/clusters/${c.id}/autoscaling`}>Set a policy</Link>}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
    </>
  );
}

/** A cluster's Autoscaling tab. */
export function ClusterAutoscaling({ clusterId }: { clusterId: string }) {
  const policy = useAutoscalingPolicy(clusterId);
  const decisions = useAutoscalingDecisions(clusterId);
  const items = decisions.data?.items ?? [];
  return (
    <>
      <div className="autoscaling-top">
        <PolicyCard clusterId={clusterId} policy={policy.data} loading={policy.isPending} error={policy.error} />
        <EvaluatePanel clusterId={clusterId} hasPolicy={!!policy.data} />
      </div>
      <section className="card autoscaling-decisions" aria-labelledby="decisions-title">
        <h2 id="decisions-title">Decisions</h2>
        {decisions.isError ? <p className="error" role="alert">The decisions could not be read: {decisions.error.message}</p>
          : !decisions.data ? <p className="muted">Loading…</p>
          : (
            <>
              <DecisionChart decisions={items} />
              <DecisionTimeline decisions={items} />
            </>
          )}
      </section>
    </>
  );
}

function PolicyCard(props: { clusterId: string; policy: AutoscalingPolicyView | null | undefined; loading: boolean; error: Error | null }) {
  const { clusterId, policy } = props;
  const save = useSavePolicy(clusterId);
  const [removing, setRemoving] = useState(false);
  return (
    <section className="card policy-card" aria-labelledby="policy-title">
      <div className="row">
        <h2 id="policy-title">Policy</h2>
        {policy && <StatusBadge status={policy.enabled ? 'active' : 'off'} />}
        {policy && <span className="muted">updated <Time at={policy.updated_at} /></span>}
      </div>
      {props.error ? <p className="error" role="alert">The policy could not be read: {props.error.message}</p>
        : props.loading ? <p className="muted">Loading…</p>
        : (
          <>
            {!policy && <p className="muted" data-testid="no-policy">No policy: the cluster is not scaled automatically. Set one below.</p>}
            <PolicyEditor key={policy ? `${policy.version}-${policy.updated_at}` : 'new'} id="policy"
              initial={policy ? policyToForm(policy) : EMPTY_POLICY} existing={!!policy} busy={save.isPending}
              error={save.error} onSubmit={(body) => save.mutate(body)}
              extra={policy && <button type="button" className="danger" onClick={() => setRemoving(true)}>Remove policy</button>} />
            {save.isSuccess && !save.isPending && <p className="muted" role="status">Saved.</p>}
          </>
        )}
      <RemoveDialog clusterId={clusterId} open={removing} onClose={() => setRemoving(false)} />
    </section>
  );
}

function RemoveDialog(props: { clusterId: string; open: boolean; onClose: () => void }) {
  const remove = useRemovePolicy(props.clusterId);
  const close = () => {
    remove.reset();
    props.onClose();
  };
  return (
    <Dialog open={props.open} title="Remove the policy?" onClose={close}>
      <p>The evaluator stops scaling this cluster. Its droplets and past decisions stay.</p>
      {remove.error && <p className="error" role="alert">{refusal(remove.error)}</p>}
      <div className="actions">
        <button type="button" onClick={close}>Cancel</button>
        <button type="button" className="danger" disabled={remove.isPending}
          onClick={() => remove.mutate(undefined, { onSuccess: close })}>
          {remove.isPending ? 'Removing…' : 'Remove'}
        </button>
      </div>
    </Dialog>
  );
}

function EvaluatePanel({ clusterId, hasPolicy }: { clusterId: string; hasPolicy: boolean }) {
  const evaluate = useEvaluateNow(clusterId);
  const error = evaluate.error;
  return (
    <section className="card evaluate-card" aria-labelledby="evaluate-title">
      <h2 id="evaluate-title">Evaluate now</h2>
      <div className="row">
        <button className="primary" onClick={() => evaluate.mutate()} disabled={!hasPolicy || evaluate.isPending}
          title={hasPolicy ? undefined : 'Set a policy first.'}>
          {evaluate.isPending ? 'Evaluating…' : 'Evaluate now'}
        </button>
        <p className="muted">Runs the policy at once, as the schedule would; an acting decision starts a scale job.</p>
      </div>
      {error && (
        <p className="error" role="alert">
          {error instanceof ProblemError && error.status === 409 ? `No policy to evaluate: ${error.message}` : refusal(error)}
        </p>
      )}
      {evaluate.data && <EvaluationResult decision={evaluate.data} />}
    </section>
  );
}

function EvaluationResult({ decision }: { decision: AutoscalingDecisionView }) {
  return (
    <div className="evaluation" data-testid="evaluation" role="status">
      <p className="row"><DecisionBadge decision={decision} /> <code>{decision.code}</code></p>
      <p>{decision.reason}</p>
      {decision.job_id && <p>Job <Link to={`/jobs/${decision.job_id}`} className="mono">{decision.job_id}</Link></p>}
    </div>
  );
}
