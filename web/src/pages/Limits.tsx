import { useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { useClusters } from '../api/queries';
import {
  BUCKET_REFRESH_MS, useBucket, useDeleteRule, usePutRule, useRefusals, useRules, type Rule,
} from '../api/limits';
import { useUserId } from '../api/identity';
import { Dialog } from '../components/Dialog';
import { Time } from '../components/Time';
import { RuleForm } from './RuleForm';
import { bucketReading, EMPTY_RULE, ENDPOINTS, errorText, rateText, ruleToForm } from './limitModel';

type Editing = { mode: 'create' } | { mode: 'edit'; rule: Rule } | null;

export function Limits() {
  const rules = useRules();
  const refusals = useRefusals().data;
  const [params, setParams] = useSearchParams();
  const [userText, setUserText] = useState('');
  // By default the buckets of whom the console acts as (its X-User-Id; anonymous without one).
  const me = useUserId() ?? 'anonymous';
  const user = userText.trim() || me;
  const cluster = params.get('cluster') ?? '';
  const clusters = useClusters({ page_size: 100, sort_by: 'name', sort_dir: 'asc' });
  const [editing, setEditing] = useState<Editing>(null);
  const [deleting, setDeleting] = useState<Rule | null>(null);
  const put = usePutRule();
  const items = rules.data?.items ?? [];
  const setCluster = (value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set('cluster', value);
    else next.delete('cluster');
    setParams(next, { replace: true });
  };
  const close = () => setEditing(null);
  return (
    <>
      <div className="page-head">
        <h1>Rate limits</h1>
        <button className="primary" onClick={() => { put.reset(); setEditing({ mode: 'create' }); }}>Create rule</button>
      </div>
      <p className="muted">
        Token buckets on command routes: each request a rule guards takes a token, and a request finding its bucket
        empty is refused with <code>429</code> and a <code>Retry-After</code>. Rules update live; bucket levels are
        read again every {BUCKET_REFRESH_MS / 1000} s, since a bucket refills with time, not with events.
      </p>
      <div className="toolbar" role="group" aria-label="Whose buckets">
        <label htmlFor="bucket-user">Buckets of user</label>
        <input id="bucket-user" value={userText} placeholder={me} onChange={(e) => setUserText(e.target.value)}
          aria-describedby="bucket-user-help" size={16} />
        <span id="bucket-user-help" className="muted">(empty: the name this console acts as, set in the sidebar; requests without X-User-Id are anonymous)</span>
        <label htmlFor="bucket-cluster">and cluster</label>
        <select id="bucket-cluster" value={cluster} onChange={(e) => setCluster(e.target.value)}>
          <option value="">Pick a cluster…</option>
          {clusters.data?.items.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
        </select>
        {rules.isFetching && <span className="muted" aria-live="polite">Refreshing…</span>}
      </div>
      <div className="table-wrap">
        <table className="data rules">
          <thead>
            <tr>
              <th>Rule</th><th>Scope</th><th>Rate</th><th>Capacity</th><th>Routes</th><th>Bucket</th>
              <th>Refused (429)</th><th>Updated</th><th><span className="sr-only">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {items.map((rule) => (
              <RuleRow key={rule.name} rule={rule} scopeId={rule.scope === 'user' ? user : cluster}
                refused={refusals ? refusals[rule.name] ?? 0 : null}
                onEdit={() => { put.reset(); setEditing({ mode: 'edit', rule }); }}
                onDelete={() => setDeleting(rule)} />
            ))}
          </tbody>
        </table>
        {rules.isPending && <p className="muted">Loading…</p>}
        {rules.data && items.length === 0 && <p className="empty">No rules: every route is unlimited.</p>}
        {rules.isError && <p className="error" role="alert">The rules could not be read: {rules.error.message}</p>}
      </div>
      <Dialog open={editing !== null} title={editing?.mode === 'edit' ? `Edit ${editing.rule.name}` : 'Create a rule'}
        onClose={close}>
        {editing && (
          <RuleForm key={editing.mode === 'edit' ? editing.rule.name : ''}
            initial={editing.mode === 'edit' ? ruleToForm(editing.rule) : EMPTY_RULE}
            editing={editing.mode === 'edit'} builtin={editing.mode === 'edit' && editing.rule.builtin}
            taken={items.map((r) => r.name)} busy={put.isPending} error={put.error} onCancel={close}
            onSubmit={(body) => put.mutate(
              { body, version: editing.mode === 'edit' ? editing.rule.version : undefined },
              { onSuccess: close },
            )} />
        )}
      </Dialog>
      {deleting && <DeleteRule rule={deleting} onClose={() => setDeleting(null)} />}
    </>
  );
}

function routesText(endpoints: readonly string[]): string | null {
  if (endpoints.length === ENDPOINTS.length && ENDPOINTS.every((e) => endpoints.includes(e.name))) {
    return `every route (${endpoints.length})`;
  }
  const clusterRoutes = ENDPOINTS.filter((e) => e.cluster);
  if (endpoints.length === clusterRoutes.length && clusterRoutes.every((e) => endpoints.includes(e.name))) {
    return `every cluster route (${endpoints.length})`;
  }
  return null;
}

function RuleRow(props: { rule: Rule; scopeId: string; refused: number | null; onEdit: () => void; onDelete: () => void }) {
  const { rule } = props;
  const summary = routesText(rule.endpoints);
  return (
    <tr data-rule={rule.name}>
      <td>
        <span className="mono rule-name">{rule.name}</span>
        <div className="row">
          {rule.builtin && <span className="badge info">built in</span>}
          {!rule.configured && <span className="badge muted">default</span>}
        </div>
      </td>
      <td>{rule.scope}</td>
      <td className="nowrap">{rateText(rule.rate_per_sec)}</td>
      <td>{rule.capacity}</td>
      <td className="routes" title={rule.endpoints.join(', ')}>
        {summary ?? <span className="chips">{rule.endpoints.map((e) => <span key={e} className="chip mono">{e}</span>)}</span>}
      </td>
      <td className="bucket-cell"><BucketCell rule={rule} scopeId={props.scopeId} /></td>
      <td data-testid="refused">{props.refused ?? <span className="muted">—</span>}</td>
      <td className="nowrap">{rule.configured ? <Time at={rule.updated_at} /> : <span className="muted">never set</span>}</td>
      <td className="row-actions">
        <button onClick={props.onEdit}>Edit</button>
        {rule.configured && (
          <button className="danger" onClick={props.onDelete}>{rule.builtin ? 'Reset' : 'Delete'}</button>
        )}
      </td>
    </tr>
  );
}

function BucketCell({ rule, scopeId }: { rule: Rule; scopeId: string }) {
  const bucket = useBucket(rule, scopeId);
  if (rule.scope === 'cluster' && !scopeId) return <span className="muted">pick a cluster above</span>;
  if (rule.scope === 'user' && !scopeId) return <span className="muted">name a user above</span>;
  if (bucket.isError) return <span className="error">{bucket.error.message}</span>;
  if (!bucket.data) return <span className="muted">reading…</span>;
  const reading = bucketReading(bucket.data);
  return (
    <div className="bucket" data-testid={`bucket-${rule.name}`}>
      <div className="bucket-bar" aria-hidden="true">
        <span className={reading.empty ? 'empty' : ''} style={{ width: `${Math.round(reading.fill * 100)}%` }} />
      </div>
      <span>{reading.tokens}</span>
      <span className={reading.empty ? 'error' : 'muted'}>
        {reading.note}
        {rule.scope !== 'global' && ` · ${bucket.data.scope_id}`}
        {!bucket.data.enforced && ' · not enforced by this server'}
      </span>
    </div>
  );
}

function DeleteRule({ rule, onClose }: { rule: Rule; onClose: () => void }) {
  const remove = useDeleteRule();
  return (
    <Dialog open title={rule.builtin ? `Reset ${rule.name} to its default?` : `Delete ${rule.name}?`} onClose={onClose}>
      <p>
        {rule.builtin
          ? 'The override is removed and the built-in default applies again.'
          : 'The routes it guards are no longer limited by it.'}
      </p>
      {remove.error && <p className="error" role="alert">{errorText(remove.error)}</p>}
      <div className="actions">
        <button onClick={onClose} autoFocus>Cancel</button>
        <button className="danger" disabled={remove.isPending}
          onClick={() => remove.mutate({ name: rule.name, version: rule.version }, { onSuccess: onClose })}>
          {rule.builtin ? 'Reset' : 'Delete'}
        </button>
      </div>
    </Dialog>
  );
}
