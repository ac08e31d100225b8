// One aggregate's stream: its events in order, its state as of any of them (or a time),
// which event last changed each field, and a diff between two points.
import { useCallback, useEffect, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { ProblemError } from '../api/client';
import { useAggregateStream, useAsOf, useAsOfMany, type AsOfState, type RecordedEvent } from '../api/audit';
import { Time } from '../components/Time';
import { CorrelationLink, EventData } from './AuditParts';
import {
  canTimeTravel, diffCounts, diffStates, flatten, fromLocalInput, indexAtOrBefore, indexAtTime, isAggregateType,
  logSearch, parseStreamState, provenance, showValue, streamSearch, toLocalInput, type DiffRow, type StreamState,
} from './auditState';

/** States read to credit fields to events: the last this many events up to the point. */
export const PROVENANCE_DEPTH = 50;

const LABELS: Record<string, string> = {
  cluster: 'Cluster', droplet: 'Droplet', job: 'Job', provider: 'Provider', ratelimit_rule: 'Rate-limit rule',
};

/** Fields whose values name another aggregate, and its type. */
const REFERENCES: Record<string, string> = { cluster_id: 'cluster', droplet_id: 'droplet', pending_job_id: 'job' };

export function AuditStream() {
  const { type = '', id = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const search = params.toString();
  const state = useMemo(() => parseStreamState(new URLSearchParams(search)), [search]);
  const update = useCallback(
    (changes: Partial<StreamState>, replace = true) => {
      const next: StreamState = { ...state, ...changes };
      if ('at' in changes) delete next.time;
      if ('time' in changes) delete next.at;
      setParams(new URLSearchParams(streamSearch(next)), { replace });
    },
    [state, setParams],
  );
  const stream = useAggregateStream(type, id);
  const label = LABELS[type] ?? type;

  if (!isAggregateType(type) || (stream.error instanceof ProblemError && stream.error.status === 404)) {
    return (
      <div className="card" role="alert">
        <h1>No such stream</h1>
        <p>The log holds no events of {isAggregateType(type) ? `${type} ${id}` : `an aggregate type “${type}”`}.</p>
        <Link to="/audit">The whole log</Link>
      </div>
    );
  }
  const events = stream.data?.items ?? [];
  return (
    <>
      <p className="muted"><Link to="/audit">Audit &amp; Replay</Link> /</p>
      <div className="page-head">
        <h1>{label} <span className="mono">{id}</span></h1>
        {type === 'cluster' && <Link to={`/clusters/${id}`}>Open the cluster page</Link>}
        <Link to={`/audit${logSearch({ filters: { aggregate_type: type, aggregate_id: id }, order: 'desc', cursor: null })}`}>
          In the log
        </Link>
      </div>
      {stream.isError && <p className="error" role="alert">The stream could not be read: {stream.error.message}</p>}
      {stream.isPending ? (
        <p className="muted">Loading…</p>
      ) : events.length > 0 ? (
        <Replay type={type} id={id} events={events} state={state} update={update} />
      ) : null}
    </>
  );
}

function Replay(props: {
  type: string; id: string; events: RecordedEvent[]; state: StreamState;
  update: (changes: Partial<StreamState>, replace?: boolean) => void;
}) {
  const { type, id, events, state, update } = props;
  const positions = useMemo(() => events.map((e) => e.position), [events]);
  const byPosition = useMemo(() => new Map(events.map((e) => [e.position, e])), [events]);
  const last = events.length - 1;
  const index = state.time
    ? indexAtTime(events, state.time)
    : state.at !== undefined ? indexAtOrBefore(positions, state.at) : last;
  const chosen = index >= 0 ? events[index] : undefined;
  const travel = canTimeTravel(type) ? type : null;
  const asOf = state.time ?? chosen?.position ?? state.at;
  const current = useAsOf(travel, id, asOf);

  // Provenance: the states after each of the last events up to the point, compared.
  const depthFrom = Math.max(0, index + 1 - PROVENANCE_DEPTH);
  const traced = useMemo(() => (index >= 0 ? positions.slice(depthFrom, index + 1) : []), [positions, depthFrom, index]);
  const many = useAsOfMany(travel, id, traced);
  const credits = useMemo(() => {
    if (many.pending || many.error || traced.length === 0) return null;
    return provenance(traced.map((position, i) => ({ position, state: many.states[i] ?? null })));
  }, [many, traced]);

  return (
    <>
      <section className="card replay" aria-labelledby="replay-title">
        <h2 id="replay-title">Replay</h2>
        <Scrubber events={events} index={index} time={state.time}
          onIndex={(i) => update({ at: positions[i] })} onTime={(time) => update({ time })} />
        {travel ? (
          <StateView type={type} state={current.data} loading={current.isPending} error={current.error}
            credits={credits} oldest={depthFrom > 0 ? traced[0] : undefined} tracing={many.pending}
            byPosition={byPosition} what={asOf === undefined ? '' : typeof asOf === 'number' ? `#${asOf}` : 'that time'} />
        ) : (
          <p className="muted">
            Time travel reads clusters, droplets and jobs; a {LABELS[type]?.toLowerCase() ?? type}&apos;s events are
            listed below, each with its data.
          </p>
        )}
      </section>
      {travel && <DiffView type={travel} id={id} events={events} state={state} update={update} chosen={index} />}
      <section className="card" aria-labelledby="events-title">
        <h2 id="events-title">Events ({events.length})</h2>
        <EventTable events={events} chosen={chosen?.position}
          linkTo={(position) => streamSearch({ ...state, at: position, time: undefined })} />
      </section>
    </>
  );
}

/** A range slider over the stream's events, previous / next / head, and a time to go to. */
function Scrubber(props: {
  events: RecordedEvent[]; index: number; time?: string;
  onIndex: (index: number) => void; onTime: (time: string) => void;
}) {
  const { events, index, time, onIndex, onTime } = props;
  const last = events.length - 1;
  const chosen = index >= 0 ? events[index] : undefined;
  const [timeText, setTimeText] = useState(time ? toLocalInput(time) : '');
  const [timeError, setTimeError] = useState('');
  useEffect(() => setTimeText(time ? toLocalInput(time) : ''), [time]);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const iso = fromLocalInput(timeText);
    if (!iso) {
      setTimeError('Enter a date and a time.');
      return;
    }
    setTimeError('');
    onTime(iso);
  };
  return (
    <div className="scrubber">
      <div className="scrubber-track">
        <button type="button" onClick={() => onIndex(Math.max(0, index - 1))} disabled={index <= 0}>
          Previous event
        </button>
        <input type="range" min={0} max={Math.max(0, last)} step={1} value={Math.max(0, index)}
          aria-label="Point in the stream" aria-valuetext={chosen ? `#${chosen.position} ${chosen.type}` : 'before the first event'}
          onChange={(e) => onIndex(Number(e.target.value))} disabled={last < 1}
          list={events.length <= 200 ? 'replay-ticks' : undefined} />
        {events.length <= 200 && (
          <datalist id="replay-ticks">
            {events.map((e, i) => <option key={e.position} value={i} label={`#${e.position}`} />)}
          </datalist>
        )}
        <button type="button" onClick={() => onIndex(Math.min(last, index + 1))} disabled={index >= last}>
          Next event
        </button>
        <button type="button" onClick={() => onIndex(last)} disabled={index === last && !time}>Head</button>
      </div>
      <p className="scrubber-point" aria-live="polite" data-testid="replay-point">
        {time ? <>As of <Time at={time} />: </> : null}
        {chosen ? (
          <>
            after <strong>#{chosen.position}</strong> {chosen.type} — event {index + 1} of {events.length},{' '}
            <Time at={chosen.recorded_at} />
          </>
        ) : (
          <>before the first event of this stream</>
        )}
      </p>
      <form className="row scrubber-time" onSubmit={onSubmit} noValidate>
        <label htmlFor="replay-time">As of a time</label>
        <input id="replay-time" type="datetime-local" step={1} value={timeText}
          aria-invalid={timeError ? true : undefined} aria-describedby={timeError ? 'replay-time-error' : undefined}
          onChange={(e) => setTimeText(e.target.value)} />
        <button type="submit">Show</button>
        {timeError && <span id="replay-time-error" className="error">{timeError}</span>}
      </form>
    </div>
  );
}

function StateView(props: {
  type: string; state: AsOfState | undefined; loading: boolean; error: Error | null;
  credits: Record<string, number> | null; oldest: number | undefined; tracing: boolean;
  byPosition: Map<number, RecordedEvent>; what: string;
}) {
  const { state, credits, byPosition } = props;
  if (props.error) return <p className="error" role="alert">The state could not be read: {props.error.message}</p>;
  if (state === undefined) return <p className="muted state-placeholder">{props.loading ? 'Reading the state…' : ''}</p>;
  if (state === null) {
    return <p className="empty" data-testid="replay-absent">The {props.type} did not exist at {props.what || 'that point'}.</p>;
  }
  const fields = Object.entries(flatten(state));
  return (
    <table className="data state-table">
      <caption className="sr-only">The {props.type}&apos;s fields as of the chosen point, and the event that last changed each</caption>
      <thead><tr><th scope="col">Field</th><th scope="col">Value</th><th scope="col">Last changed by</th></tr></thead>
      <tbody>
        {fields.map(([field, value]) => {
          const position = credits?.[field];
          const event = position === undefined ? undefined : byPosition.get(position);
          return (
            <tr key={field} data-testid={`state-${field}`}>
              <th scope="row" className="mono">{field}</th>
              <td className="state-value">{renderValue(field, value)}</td>
              <td>
                {event ? (
                  <a href={`#event-${event.position}`}>
                    {position === props.oldest ? 'at or before ' : ''}
                    #{event.position} {event.type}
                  </a>
                ) : (
                  <span className="muted">{props.tracing ? '…' : '—'}</span>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function renderValue(field: string, value: unknown): ReactNode {
  if (typeof value === 'string' && field.endsWith('_at')) return <Time at={value} />;
  const ref = REFERENCES[field.split('.').pop() ?? ''];
  if (ref && typeof value === 'string' && value) {
    return <Link to={`/audit/${ref}/${encodeURIComponent(value)}`} className="mono">{value}</Link>;
  }
  if (value === null) return <span className="muted">null</span>;
  return <span className={typeof value === 'string' ? undefined : 'mono'}>{showValue(value)}</span>;
}

/** Two points of the stream, their states side by side: fields added, removed, changed. */
function DiffView(props: {
  type: 'cluster' | 'droplet' | 'job'; id: string; events: RecordedEvent[]; state: StreamState; chosen: number;
  update: (changes: Partial<StreamState>, replace?: boolean) => void;
}) {
  const { type, id, events, state, update, chosen } = props;
  const positions = events.map((e) => e.position);
  const from = state.from ?? positions[0]!;
  const to = state.to ?? positions[positions.length - 1]!;
  const before = useAsOf(type, id, from);
  const after = useAsOf(type, id, to);
  const [all, setAll] = useState(false);
  const ready = before.data !== undefined && after.data !== undefined && !before.isPlaceholderData && !after.isPlaceholderData;
  const rows = ready ? diffStates(before.data, after.data) : [];
  const counts = diffCounts(rows);
  const shown = all ? rows : rows.filter((r) => r.kind !== 'unchanged');
  const option = (e: RecordedEvent) => (
    <option key={e.position} value={e.position}>#{e.position} · {e.type}</option>
  );
  return (
    <section className="card diff" aria-labelledby="diff-title">
      <h2 id="diff-title">Diff between two points</h2>
      <div className="row diff-controls">
        <div className="field">
          <label htmlFor="diff-from">From</label>
          <select id="diff-from" value={from} onChange={(e) => update({ from: Number(e.target.value) })}>
            {events.map(option)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="diff-to">To</label>
          <select id="diff-to" value={to} onChange={(e) => update({ to: Number(e.target.value) })}>
            {events.map(option)}
          </select>
        </div>
        <button type="button" disabled={chosen < 1}
          onClick={() => update({ from: positions[chosen - 1], to: positions[chosen] })}>
          Chosen event against the one before
        </button>
        <label className="row diff-all">
          <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} /> Show unchanged fields
        </label>
      </div>
      {before.error || after.error ? (
        <p className="error" role="alert">A state could not be read: {(before.error ?? after.error)!.message}</p>
      ) : !ready ? (
        <p className="muted diff-placeholder">Reading both states…</p>
      ) : (
        <>
          <p className="muted" data-testid="diff-summary">
            {counts.added} added · {counts.removed} removed · {counts.changed} changed · {counts.unchanged} unchanged
            {before.data === null && ` (the ${type} did not exist at #${from})`}
            {after.data === null && ` (the ${type} did not exist at #${to})`}
          </p>
          {shown.length === 0 ? (
            <p className="empty">{from === to ? 'The same point twice: nothing differs.' : 'No field differs between these points.'}</p>
          ) : (
            <DiffTable rows={shown} from={from} to={to} />
          )}
        </>
      )}
    </section>
  );
}

const KIND_MARK: Record<DiffRow['kind'], string> = { added: '+', removed: '−', changed: '~', unchanged: '' };

export function DiffTable({ rows, from, to }: { rows: DiffRow[]; from: number; to: number }) {
  return (
    <table className="data diff-table">
      <caption className="sr-only">Fields at #{from} and at #{to}</caption>
      <thead>
        <tr><th scope="col">Field</th><th scope="col">At #{from}</th><th scope="col">At #{to}</th><th scope="col">Change</th></tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.field} className={`diff-${row.kind}`} data-testid={`diff-${row.field}`}>
            <th scope="row" className="mono">{row.field}</th>
            <td className="diff-before">{row.kind === 'added' ? <span className="muted">absent</span> : showValue(row.before)}</td>
            <td className="diff-after">{row.kind === 'removed' ? <span className="muted">absent</span> : showValue(row.after)}</td>
            <td><span className="diff-kind"><span aria-hidden="true">{KIND_MARK[row.kind]} </span>{row.kind}</span></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function EventTable(props: { events: RecordedEvent[]; chosen: number | undefined; linkTo: (position: number) => string }) {
  const { events, chosen, linkTo } = props;
  return (
    <div className="table-wrap">
      <table className="data stream-table">
        <caption className="sr-only">The events of this stream, in order</caption>
        <thead>
          <tr>
            <th scope="col">Position</th><th scope="col">Seq.</th><th scope="col">Event</th><th scope="col">Recorded</th>
            <th scope="col">Actor</th><th scope="col">Correlation</th><th scope="col">Data</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => {
            const after = chosen !== undefined && event.position > chosen;
            return (
              <tr key={event.position} id={`event-${event.position}`} aria-current={event.position === chosen ? 'step' : undefined}
                className={event.position === chosen ? 'chosen' : after ? 'after-point' : undefined}>
                <td>
                  <Link to={{ search: linkTo(event.position) }} className="mono"
                    title="Show the state after this event">#{event.position}</Link>
                </td>
                <td>{event.sequence}</td>
                <td>{event.type}</td>
                <td><Time at={event.recorded_at} /></td>
                <td>{event.metadata.actor}</td>
                <td><CorrelationLink id={event.metadata.correlation_id} /></td>
                <td><EventData data={event.data} /></td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
