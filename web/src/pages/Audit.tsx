// The global log: every event, filtered and paged by position, newest or oldest first.
import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { useLogPage, type LogPage } from '../api/audit';
import { Time } from '../components/Time';
import { useRowNavigation } from '../components/useRowNavigation';
import { EVENT_TYPES } from '../live/eventTypes';
import { CorrelationLink, EventData, FilterField } from './AuditParts';
import {
  AGGREGATE_TYPES, MAX_METADATA_FILTER, logSearch, parseLogState, withFilters, type Cursor, type LogFilters,
  type LogState,
} from './auditState';

export const LOG_PAGE_SIZE = 50;

export function Audit() {
  const [params, setParams] = useSearchParams();
  const search = params.toString();
  const state = useMemo(() => parseLogState(new URLSearchParams(search)), [search]);
  const go = useCallback(
    (next: LogState, replace: boolean) => setParams(new URLSearchParams(logSearch(next)), { replace }),
    [setParams],
  );
  const setFilter = useMemo(() => {
    const handler = (key: keyof LogFilters) => (value: string) => go(withFilters(state, { [key]: value }), true);
    return { type: handler('type'), aggregate_type: handler('aggregate_type'), aggregate_id: handler('aggregate_id'),
      actor: handler('actor'), correlation_id: handler('correlation_id') };
  }, [go, state]);
  const page = useLogPage(state, LOG_PAGE_SIZE);
  const data = page.data;

  // A page read on to the head in newest-first order is the first page; one read back to
  // the start in oldest-first order is the first page too: show them as such (and live).
  useEffect(() => {
    if (!data || page.isPlaceholderData || !state.cursor) return;
    const first =
      (state.order === 'desc' && 'after' in state.cursor && data.atHead) ||
      (state.order === 'asc' && 'before' in state.cursor && !data.hasOlder);
    if (first) go({ ...state, cursor: null }, true);
  }, [data, page.isPlaceholderData, state, go]);

  const filtered = Object.keys(state.filters).length > 0;
  const rows = data ? (state.order === 'desc' ? [...data.items].reverse() : data.items) : [];
  const navigate = useNavigate();
  const nav = useRowNavigation(rows, (e) => String(e.position),
    (e) => navigate(`/audit/${e.aggregate_type}/${encodeURIComponent(e.aggregate_id)}?at=${e.position}`));
  const types = state.filters.aggregate_type
    ? EVENT_TYPES.filter((t) => t.startsWith(`${state.filters.aggregate_type}.`))
    : EVENT_TYPES;
  return (
    <>
      <div className="page-head">
        <h1>Audit &amp; Replay</h1>
        {page.isFetching && <span className="muted" aria-live="polite">Refreshing…</span>}
      </div>
      <form className="audit-filters card" role="search" aria-label="Filter the log" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="audit-type">Event type</label>
          <select id="audit-type" value={state.filters.type ?? ''} onChange={(e) => setFilter.type(e.target.value)}>
            <option value="">Every type</option>
            {types.map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
        </div>
        <div className="field">
          <label htmlFor="audit-aggregate-type">Aggregate type</label>
          <select id="audit-aggregate-type" value={state.filters.aggregate_type ?? ''}
            onChange={(e) => setFilter.aggregate_type(e.target.value)}>
            <option value="">Every aggregate</option>
            {AGGREGATE_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
        </div>
        <FilterField id="audit-aggregate-id" label="Aggregate id" value={state.filters.aggregate_id ?? ''}
          onChange={setFilter.aggregate_id} />
        <FilterField id="audit-actor" label="Actor" value={state.filters.actor ?? ''} onChange={setFilter.actor}
          maxLength={MAX_METADATA_FILTER} />
        <FilterField id="audit-correlation" label="Correlation id" value={state.filters.correlation_id ?? ''}
          onChange={setFilter.correlation_id} maxLength={MAX_METADATA_FILTER} />
        <div className="field">
          <label htmlFor="audit-order">Order</label>
          <select id="audit-order" value={state.order}
            onChange={(e) => go({ ...state, order: e.target.value === 'asc' ? 'asc' : 'desc', cursor: null }, true)}>
            <option value="desc">Newest first</option>
            <option value="asc">Oldest first</option>
          </select>
        </div>
        <div className="field audit-clear">
          <span aria-hidden="true">&nbsp;</span>
          <button type="button" disabled={!filtered} onClick={() => go({ filters: {}, order: state.order, cursor: null }, true)}>
            Clear filters
          </button>
        </div>
      </form>
      <LogPager state={state} page={data} onGo={(cursor) => go({ ...state, cursor }, false)} />
      <div className="table-wrap audit-table">
        <p {...nav.hintProps} />
        <table className="data" {...nav.tableProps}>
          <caption className="sr-only">Events of the log, {state.order === 'desc' ? 'newest' : 'oldest'} first</caption>
          <thead>
            <tr>
              <th scope="col">Position</th><th scope="col">Event</th><th scope="col">Aggregate</th>
              <th scope="col">Actor</th><th scope="col">Correlation</th><th scope="col">Recorded</th>
              <th scope="col">Data</th>
            </tr>
          </thead>
          <tbody {...nav.bodyProps}>
            {rows.map((event, i) => {
              const stream = `/audit/${event.aggregate_type}/${encodeURIComponent(event.aggregate_id)}`;
              return (
                <tr key={event.position} {...nav.rowProps(event, i)}>
                  <td>
                    <Link to={`${stream}?at=${event.position}`} className="mono"
                      title="The aggregate's state after this event">#{event.position}</Link>
                  </td>
                  <td>{event.type}</td>
                  <td>
                    <span className="muted">{event.aggregate_type}</span>{' '}
                    <Link to={stream} className="mono">{event.aggregate_id}</Link>
                  </td>
                  <td>
                    <Link to={`/audit${logSearch({ filters: { actor: event.metadata.actor }, order: state.order, cursor: null })}`}
                      title={`Every event by ${event.metadata.actor}`}>{event.metadata.actor}</Link>
                  </td>
                  <td><CorrelationLink id={event.metadata.correlation_id} /></td>
                  <td><Time at={event.recorded_at} /></td>
                  <td><EventData data={event.data} /></td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {data && rows.length === 0 && (
          <p className="empty">
            {state.cursor ? 'No events on this page.' : filtered ? 'No event matches these filters.' : 'The log is empty.'}
          </p>
        )}
        {page.isPending && <p className="muted">Loading…</p>}
        {page.isError && <p className="error" role="alert">The log could not be read: {page.error.message}</p>}
      </div>
    </>
  );
}

/** Paging by position: newer, older, and the first page; a jump to a position. */
function LogPager(props: { state: LogState; page: LogPage | undefined; onGo: (cursor: Cursor) => void }) {
  const { state, page, onGo } = props;
  const [jump, setJump] = useState('');
  const desc = state.order === 'desc';
  const onJump = (e: FormEvent) => {
    e.preventDefault();
    const position = Number(jump);
    if (!Number.isSafeInteger(position) || position < 1) return;
    onGo(desc ? { before: position + 1 } : { after: position - 1 });
    setJump('');
  };
  const first = state.cursor === null;
  const newer = page?.hasNewer ? () => onGo({ after: page.newerAfter }) : undefined;
  const older = page?.hasOlder ? () => onGo({ before: page.olderBefore }) : undefined;
  const buttons = [
    <button key="first" type="button" disabled={first} onClick={() => onGo(null)}>{desc ? 'Newest' : 'Oldest'}</button>,
    <button key="a" type="button" disabled={!(desc ? newer : older)} onClick={desc ? newer : older}>
      {desc ? 'Newer' : 'Older'}
    </button>,
    <button key="b" type="button" disabled={!(desc ? older : newer)} onClick={desc ? older : newer}>
      {desc ? 'Older' : 'Newer'}
    </button>,
  ];
  return (
    <div className="pager audit-pager">
      <span className="muted audit-range" aria-live="polite">
        {describe(page, desc)}
        {page?.atHead && <> · <span className="live-dot" aria-hidden="true" /> live: new events appear {desc ? 'at the top' : 'at the bottom'}</>}
      </span>
      <form className="row" onSubmit={onJump} aria-label="Go to a position">
        <label htmlFor="audit-jump" className="sr-only">Go to position</label>
        <input id="audit-jump" inputMode="numeric" pattern="[0-9]*" placeholder="Go to position" value={jump}
          onChange={(e) => setJump(e.target.value.replace(/\D/g, ''))} size={14} />
        <button type="submit" disabled={!jump}>Go</button>
      </form>
      <nav className="row" aria-label="Log pages">{buttons}</nav>
    </div>
  );
}

function describe(page: LogPage | undefined, desc: boolean): string {
  if (!page) return 'Reading the log…';
  if (page.items.length === 0) return 'No events';
  const low = page.items[0]!.position;
  const high = page.items[page.items.length - 1]!.position;
  const n = page.items.length;
  return `${n} event${n === 1 ? '' : 's'}, positions #${desc ? high : low}–#${desc ? low : high}`;
}
