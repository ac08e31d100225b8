// Reads of the Audit & Replay pages: the global log paged by position (in both directions,
// although the API only reads forward), one aggregate's stream, and its state as of a
// position or time.
import { useEffect } from 'react';
import { keepPreviousData, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ProblemError, unwrap, type Schemas } from './client';
import { logHead } from './queries';
import { knownPosition, onPosition } from '../live/position';
import {
  filtersInBrowser, pageRequest, type LogFilters, type LogState, type PageRequest, type TimeTravelType,
} from '../pages/auditState';

export type RecordedEvent = Schemas['RecordedEvent'];

/** The server's filters of a read of the log. */
export interface ServerFilters {
  type?: string;
  aggregate_type?: LogFilters['aggregate_type'];
  aggregate_id?: string;
}

/** One `GET /v1/events` read: events with a position above `after`, at most `limit`. */
export type ReadEvents = (after: number, limit: number, filters: ServerFilters) => Promise<Schemas['EventPage']>;

/** A page of the log: its events in position order and where the pages around it start. */
export interface LogPage {
  /** Ascending by position. */
  items: RecordedEvent[];
  /** More (matching) events lie below: read them with `before: olderBefore`. */
  hasOlder: boolean;
  olderBefore: number;
  /** More may lie above: read them with `after: newerAfter`. */
  hasNewer: boolean;
  newerAfter: number;
  /** The page reaches the log's head: new events belong on it. */
  atHead: boolean;
  /** The read stopped at its budget before the page was full (browser-side filters). */
  limited: boolean;
  /** The positions looked at, lowest and highest. */
  scanned: { from: number; to: number };
}

/** Reads per page at most; a read returns at most this many events. */
export const SCAN_BUDGET = 20;
export const READ_LIMIT = 1000;

function serverFilters(filters: LogFilters): ServerFilters {
  const out: ServerFilters = {};
  if (filters.type) out.type = filters.type;
  if (filters.aggregate_type) out.aggregate_type = filters.aggregate_type;
  if (filters.aggregate_id) out.aggregate_id = filters.aggregate_id;
  return out;
}

/** Whether an event passes the filters the server does not apply. */
export function matchesInBrowser(event: RecordedEvent, filters: LogFilters): boolean {
  if (filters.actor && event.metadata.actor !== filters.actor) return false;
  if (filters.correlation_id && event.metadata.correlation_id !== filters.correlation_id) return false;
  return true;
}

/** The first `pageSize` matching events after `after`. */
export async function scanForward(
  read: ReadEvents,
  options: { after: number; pageSize: number; filters: LogFilters; budget?: number },
): Promise<LogPage> {
  const { after, pageSize, filters, budget = SCAN_BUDGET } = options;
  const inBrowser = filtersInBrowser(filters);
  const server = serverFilters(filters);
  const found: RecordedEvent[] = [];
  let cursor = after;
  let requests = 0;
  let end = false;
  while (found.length <= pageSize && requests < budget) {
    const limit = inBrowser ? READ_LIMIT : Math.min(READ_LIMIT, pageSize + 1 - found.length);
    const page = await read(cursor, limit, server);
    requests += 1;
    for (const event of page.items) if (matchesInBrowser(event, filters)) found.push(event);
    cursor = Math.max(cursor, page.next_after);
    if (page.items.length < limit) {
      end = true;
      break;
    }
  }
  const full = found.length > pageSize;
  const items = found.slice(0, pageSize);
  return {
    items,
    hasOlder: after > 0,
    olderBefore: items[0]?.position ?? after + 1,
    hasNewer: full || !end,
    newerAfter: full ? items[items.length - 1]!.position : cursor,
    atHead: end && !full,
    limited: !end && !full,
    scanned: { from: after + 1, to: full ? items[items.length - 1]!.position : cursor },
  };
}

/**
 * The last `pageSize` matching events before `before` (before the head when it is not
 * given; `head` is where the log's head is thought to be). The API reads forward only, so
 * this reads windows of positions back from there, each four times the last, until the
 * page is full, the log's start is reached or the budget is spent. A window is used only
 * when read whole, so the positions looked at are always one run.
 */
export async function scanBackward(
  read: ReadEvents,
  options: { before?: number; head: number; pageSize: number; filters: LogFilters; budget?: number },
): Promise<LogPage> {
  const { before, head, pageSize, filters, budget = SCAN_BUDGET } = options;
  const inBrowser = filtersInBrowser(filters);
  const server = serverFilters(filters);
  const filtered = inBrowser || Object.keys(server).length > 0;
  const need = pageSize + 1;
  const top = Math.max(1, before ?? head + 1);
  // Every position in [low, top) has been looked at (and, from the head, all above it).
  let low = top;
  let window = filtered ? Math.max(pageSize * 4, 200) : need;
  let found: RecordedEvent[] = [];
  let requests = 0;
  let limited = false;
  let highest = top - 1;
  while (found.length < need && low > 1) {
    if (requests >= budget) {
      limited = true;
      break;
    }
    const from = Math.max(1, low - window);
    // The first window from the head reads on to the end, whatever the head is now.
    const upto = before === undefined && low === top ? Infinity : low;
    const segment: RecordedEvent[] = [];
    let cursor = from - 1;
    let whole = false;
    while (requests < budget) {
      const limit = filtered || upto === Infinity ? READ_LIMIT : Math.max(1, Math.min(READ_LIMIT, upto - 1 - cursor));
      const page = await read(cursor, limit, server);
      requests += 1;
      for (const event of page.items) {
        if (event.position < upto && matchesInBrowser(event, filters)) segment.push(event);
        if (event.position < upto) highest = Math.max(highest, event.position);
      }
      const last = page.items[page.items.length - 1]?.position;
      if (page.items.length < limit || last === undefined || last >= upto - 1) {
        whole = true;
        break;
      }
      cursor = last;
    }
    if (!whole) {
      limited = true;
      break;
    }
    found = segment.concat(found);
    low = from;
    window = Math.min(window * 4, Math.max(READ_LIMIT, (budget - requests) * READ_LIMIT));
  }
  const full = found.length > pageSize;
  const items = found.slice(-pageSize);
  return {
    items,
    hasOlder: full || low > 1,
    olderBefore: full ? items[0]!.position : low,
    hasNewer: before !== undefined,
    newerAfter: items[items.length - 1]?.position ?? top - 1,
    atHead: before === undefined,
    limited: limited && !full,
    scanned: { from: full ? items[0]!.position : low, to: before === undefined ? highest : top - 1 },
  };
}

/** `GET /v1/events` through the typed client. */
export const readEvents: ReadEvents = async (after, limit, filters) =>
  unwrap(await api.GET('/v1/events', { params: { query: { after, limit, ...filters } } }));

/** Where the log's head is, as far as this console knows (the read models report it). */
async function currentHead(): Promise<number> {
  try {
    const projections = unwrap(await api.GET('/v1/projections'));
    return Math.max(logHead(projections) ?? 0, knownPosition());
  } catch {
    return knownPosition();
  }
}

export async function readLogPage(state: LogState, pageSize: number, read: ReadEvents = readEvents): Promise<LogPage> {
  const request: PageRequest = pageRequest(state);
  if (request.direction === 'forward') return scanForward(read, { after: request.after, pageSize, filters: state.filters });
  const head = request.before === undefined ? await currentHead() : 0;
  return scanBackward(read, { before: request.before, head, pageSize, filters: state.filters });
}

/**
 * A page of the log. A page that reaches the head is read again (at most once a second)
 * whenever the console learns of a new position, so new events show up on it.
 */
export function useLogPage(state: LogState, pageSize: number) {
  const client = useQueryClient();
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | 0 = 0;
    const stop = onPosition(() => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = 0;
        void client.invalidateQueries({
          queryKey: ['audit', 'log'],
          predicate: (query) => (query.state.data as LogPage | undefined)?.atHead === true,
        });
      }, 1000);
    });
    return () => {
      stop();
      if (timer) clearTimeout(timer);
    };
  }, [client]);
  return useQuery({
    queryKey: ['audit', 'log', state, pageSize],
    queryFn: () => readLogPage(state, pageSize),
    placeholderData: keepPreviousData,
  });
}

/** One aggregate's events, in order (fresh as the live stream reports its events). */
export function useAggregateStream(type: string, id: string) {
  return useQuery({
    queryKey: ['audit', type, id, 'stream'],
    queryFn: async () =>
      unwrap(await api.GET('/v1/streams/{aggregate_type}/{id}', { params: { path: { aggregate_type: type, id } } })),
    retry: (count, error) => !(error instanceof ProblemError && error.status < 500) && count < 2,
  });
}

/** An aggregate's state as of a point: `null` when it did not exist then. */
export type AsOfState = Record<string, unknown> | null;

async function readAsOf(type: TimeTravelType, id: string, asOf: string): Promise<AsOfState> {
  const options = { params: { path: { id }, query: { as_of: asOf } } };
  const result =
    type === 'cluster'
      ? await api.GET('/v1/clusters/{id}', options)
      : type === 'droplet'
        ? await api.GET('/v1/droplets/{id}', options)
        : await api.GET('/v1/jobs/{id}', options);
  if (result.response.status === 404) return null;
  return unwrap(result as { data?: unknown; error?: unknown; response: Response }) as Record<string, unknown>;
}

function asOfQuery(type: TimeTravelType, id: string, asOf: number | string) {
  return {
    queryKey: ['audit', 'as-of', type, id, String(asOf)],
    queryFn: () => readAsOf(type, id, String(asOf)),
    // What was, stays: a state as of a recorded position never changes.
    staleTime: typeof asOf === 'number' ? Infinity : 0,
    retry: (count: number, error: Error) => !(error instanceof ProblemError && error.status < 500) && count < 2,
  };
}

/** The state as of a position or an RFC 3339 time (`undefined`: nothing asked). */
export function useAsOf(type: TimeTravelType | null, id: string, asOf: number | string | undefined) {
  return useQuery({
    ...asOfQuery(type ?? 'cluster', id, asOf ?? ''),
    enabled: type !== null && asOf !== undefined,
    placeholderData: keepPreviousData,
  });
}

/** The states as of each of `positions`, for provenance. */
export function useAsOfMany(type: TimeTravelType | null, id: string, positions: readonly number[]) {
  return useQueries({
    queries: positions.map((position) => ({ ...asOfQuery(type ?? 'cluster', id, position), enabled: type !== null })),
    combine: (results) => ({
      states: results.map((r) => r.data),
      pending: results.some((r) => r.isPending),
      error: results.find((r) => r.isError)?.error ?? null,
    }),
  });
}
