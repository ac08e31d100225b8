// Monitoring: a cluster's (or one droplet's) metrics over a range, one chart per type, its
// health, and the samples themselves, newest first. The choice, the range, the history's
// filters and its page are in the URL. Charts and the first page of samples are read again
// every 10 s while the page is visible (samples are telemetry, not events); health also
// follows the live stream.
import { useCallback, useMemo, useRef } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { useClusterChoices } from '../api/jobs';
import { useClusterDroplets } from '../api/queries';
import { METRIC_TYPES, useMetricHistory, useMetricSeries, type MetricSample } from '../api/genie';
import { Pager } from '../components/Pager';
import { Time } from '../components/Time';
import { HealthPanel } from './HealthPanel';
import { MetricChart } from './MetricChart';
import { ClusterLink, DropletLink } from './JobParts';
import { fromLocalInput, toLocalInput } from './auditState';
import {
  formatValue, HISTORY_PAGE_SIZE, historyFiltered, METRIC_LABELS, pageChange, parseMonitoring, RANGES, shownPage,
  stepFor, type MonitoringState,
} from './monitoringModel';
import { withChanges } from './urlState';

function useMonitoringParams() {
  const [params, setParams] = useSearchParams();
  const state = useMemo(() => parseMonitoring(params), [params]);
  const page = shownPage(params);
  // A change of anything but the page starts the history over (no cursor).
  const update = useCallback(
    (changes: Record<string, string | null>) =>
      setParams((current) => withChanges(current, 'page' in changes ? changes : { ...changes, cursor: null }), { replace: true }),
    [setParams],
  );
  return { state, page, update };
}

export function Monitoring() {
  const { state, page, update } = useMonitoringParams();
  const clusters = useClusterChoices();
  const droplets = useClusterDroplets(state.cluster_id ?? '');
  const clusterItems = clusters.data?.items ?? [];
  const names = useMemo(() => new Map(clusterItems.map((c) => [c.id, c.name])), [clusterItems]);
  const dropletItems = state.cluster_id ? droplets.data?.items ?? [] : [];
  return (
    <>
      <div className="page-head">
        <h1>Monitoring</h1>
        {state.cluster_id && (
          <Link className="button" to={`/clusters/${state.cluster_id}/diagnosis`}>Diagnose this cluster</Link>
        )}
      </div>
      <div className="toolbar" role="group" aria-label="What to show">
        <select aria-label="Cluster" value={state.cluster_id ?? ''}
          onChange={(e) => update({ cluster_id: e.target.value, droplet_id: null })}>
          <option value="">Choose a cluster…</option>
          {state.cluster_id && !names.has(state.cluster_id) && <option value={state.cluster_id}>{state.cluster_id}</option>}
          {clusterItems.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
        </select>
        <select aria-label="Droplet" value={state.droplet_id ?? ''} disabled={!state.cluster_id}
          onChange={(e) => update({ droplet_id: e.target.value })}>
          <option value="">Every droplet</option>
          {state.droplet_id && !dropletItems.some((d) => d.id === state.droplet_id) && (
            <option value={state.droplet_id}>{state.droplet_id}</option>
          )}
          {dropletItems.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
        </select>
        <select aria-label="Range" value={state.range.key} onChange={(e) => update({ range: e.target.value })}>
          {RANGES.map((r) => <option key={r.key} value={r.key}>{r.label}</option>)}
        </select>
        <span className="muted">
          {state.cluster_id ? `one point every ${stepText(stepFor(state.range.seconds))}, refreshed every 10 s` : ''}
        </span>
      </div>
      {state.cluster_id ? (
        <Charts state={state as MonitoringState & { cluster_id: string }} />
      ) : (
        <p className="card empty" data-testid="choose-cluster">
          {clusters.data && clusterItems.length === 0
            ? <>No clusters yet: <Link to="/clusters">create one</Link>, then send it samples.</>
            : 'Choose a cluster to see its charts and health.'}
        </p>
      )}
      <History state={state} page={page} update={update} names={names} />
    </>
  );
}

/** `15 s`, `2 min`, `1 h`. */
export function stepText(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

function Charts({ state }: { state: MonitoringState & { cluster_id: string } }) {
  const step = stepFor(state.range.seconds);
  const queries = useMetricSeries(METRIC_TYPES.map((type) => ({
    type, cluster_id: state.cluster_id, ...(state.droplet_id ? { droplet_id: state.droplet_id } : {}),
    seconds: state.range.seconds, step,
  })));
  const series = METRIC_TYPES.map((type, i) => ({ type, query: queries[i]! }));
  const settled = series.every((s) => s.query.data || s.query.isError);
  const empty = settled && series.every((s) => !s.query.data || s.query.data.points.length === 0);
  return (
    <>
      {empty && <NoSamples what={state.droplet_id ? 'this droplet' : 'this cluster'} range={state.range.label.toLowerCase()} />}
      <div className="monitoring-grid">
        <HealthPanel clusterId={state.cluster_id} poll />
        {series.map(({ type, query }) => (
          <MetricChart key={type} type={type} series={query.data} range={state.range}
            loading={query.isPending} error={query.error} />
        ))}
      </div>
    </>
  );
}

/** Where samples come from, when there are none. */
function NoSamples({ what, range }: { what: string; range: string }) {
  return (
    <div className="card no-samples" role="note" data-testid="no-samples">
      <p><strong>No samples for {what} in the {range}.</strong></p>
      <p>
        Samples are sent to the API: <code>POST /v1/metrics</code> with{' '}
        <code>{'{"samples": [{"cluster_id", "droplet_id"?, "type", "value", "timestamp"?}]}'}</code> (types{' '}
        <code>cpu</code>, <code>memory</code>, <code>disk</code> in % and <code>network</code> in Mbps), or started
        with <code>clustergenie serve --sim-load</code>, which sends simulated load for every active droplet.
      </p>
    </div>
  );
}

function History(props: {
  state: MonitoringState;
  page: number;
  update: (changes: Record<string, string | null>) => void;
  names: ReadonlyMap<string, string>;
}) {
  const { state, page, update, names } = props;
  const history = useMetricHistory(state.history);
  // The cursor each page was reached with, for Previous (reset when the filters change).
  const cursors = useRef({ filters: '', byPage: new Map<number, string>() });
  const filters = JSON.stringify({ ...state.history, page: undefined, cursor: undefined });
  if (cursors.current.filters !== filters) cursors.current = { filters, byPage: new Map() };
  if (state.history.cursor) cursors.current.byPage.set(page, state.history.cursor);
  const data = history.data;
  const onPage = (to: number) => update(pageChange(page, to, data?.next_cursor, cursors.current.byPage));
  const filtered = historyFiltered(state.history);
  const timeField = (key: 'since' | 'until', label: string) => (
    <label className="inline-field">
      {label}
      <input type="datetime-local" step={1} value={toLocalInput(state.history[key] ?? '')}
        onChange={(e) => update({ [key]: fromLocalInput(e.target.value) })} />
    </label>
  );
  return (
    <section className="monitoring-history" aria-labelledby="history-title">
      <h2 id="history-title" className="section-title">Sample history</h2>
      <div className="toolbar" role="search" aria-label="Filter samples">
        <select aria-label="Type" value={state.history.type ?? ''} onChange={(e) => update({ type: e.target.value })}>
          <option value="">Every type</option>
          {METRIC_TYPES.map((t) => <option key={t} value={t}>{METRIC_LABELS[t]}</option>)}
        </select>
        {timeField('since', 'From')}
        {timeField('until', 'To')}
        {filtered && <button onClick={() => update({ type: null, since: null, until: null })}>Clear filters</button>}
        <span className="muted" aria-live="polite">{history.isFetching ? 'Refreshing…' : ''}</span>
      </div>
      <div className="table-wrap">
        <table className="data" aria-label="Samples, newest first">
          <thead>
            <tr><th>Time</th><th>Cluster</th><th>Droplet</th><th>Type</th><th>Value</th></tr>
          </thead>
          <tbody>
            {data?.items.map((s, i) => <SampleRow key={`${s.timestamp}-${s.cluster_id}-${s.droplet_id}-${s.type}-${i}`}
              sample={s} name={names.get(s.cluster_id)} />)}
          </tbody>
        </table>
        {history.isPending && <p className="muted">Loading…</p>}
        {history.isError && <p className="error" role="alert">The samples could not be read: {history.error.message}</p>}
        {data && data.items.length === 0 && (
          <p className="empty">
            {filtered || state.cluster_id ? 'No sample matches these filters.'
              : 'No samples yet: send some with POST /v1/metrics, or start the server with clustergenie serve --sim-load.'}
          </p>
        )}
      </div>
      {data && (
        <Pager page={page} pageSize={HISTORY_PAGE_SIZE} total={data.total} estimate={data.total_is_estimate}
          hasNext={!!data.next_cursor} onPage={onPage} />
      )}
    </section>
  );
}

function SampleRow({ sample, name }: { sample: MetricSample; name?: string }) {
  return (
    <tr>
      <td><Time at={sample.timestamp} /></td>
      <td><ClusterLink id={sample.cluster_id} name={name} /></td>
      <td>{sample.droplet_id ? <DropletLink id={sample.droplet_id} /> : <span className="muted">cluster-wide</span>}</td>
      <td>{METRIC_LABELS[sample.type] ?? sample.type}</td>
      <td className="num">{formatValue(sample.value, sample.unit)}</td>
    </tr>
  );
}
