// Reads of the Audit & Replay pages: the global log paged by position in both directions
// and filtered by the server (`GET /v1/events` with `after` or `before`), one aggregate's
// stream, and its state as of a position or time.
import { useEffect } from 'react';
import { keepPreviousData, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ProblemError, unwrap, type Schemas } from './client';
import { onPosition } from '../live/position';
import { pageRequest, type LogFilters, type LogState, type TimeTravelType } from '../pages/auditState';

export type RecordedEvent = Schemas['RecordedEvent'];
export type EventPage = Schemas['EventPage'];

/** The server's filters of a read of the log: all of them, each served by an index. */
export type ServerFilters = LogFilters;

/** One `GET /v1/events` read: after a position (oldest first) or before one (newest first). */
export type ReadEvents = (
  request: ({ after: number } | { before: number }) & { limit: number; filters: ServerFilters },
) => Promise<EventPage>;

/**
 * A position above any head: reading back from it reads from the newest event, whatever
 * the head is by the time the read arrives (the largest integer a number holds exactly).
 */
export const NEWEST = Number.MAX_SAFE_INTEGER;

/** A page of the log: its events in position order and where the pages around it start. */
export interface LogPage {
  /** Ascending by position. */
  items: RecordedEvent[];
  /** More (matching) events may lie below: read them with `before: olderBefore`. */
  hasOlder: boolean;
  olderBefore: number;
  /** More may lie above: read them with `after: newerAfter`. */
  hasNewer: boolean;
  newerAfter: number;
  /** The page reaches the log's head: new events belong on it. */
  atHead: boolean;
}

function serverFilters(filters: LogFilters): ServerFilters {
  const out: ServerFilters = {};
  for (const [key, value] of Object.entries(filters) as [keyof LogFilters, string | undefined][]) {
    if (value) (out as Record<string, string>)[key] = value;
  }
  return out;
}

/**
 * The first `pageSize` matching events after `after`: one read of one more than a page,
 * so that a full page knows whether more follow.
 */
export async function readForward(
  read: ReadEvents,
  options: { after: number; pageSize: number; filters: LogFilters },
): Promise<LogPage> {
  const { after, pageSize, filters } = options;
  const page = await read({ after, limit: pageSize + 1, filters: serverFilters(filters) });
  const full = page.items.length > pageSize;
  const items = page.items.slice(0, pageSize);
  const last = items[items.length - 1]?.position;
  return {
    items,
    hasOlder: after > 0,
    olderBefore: items[0]?.position ?? after + 1,
    hasNewer: full,
    newerAfter: last ?? after,
    atHead: !full,
  };
}

/**
 * The last `pageSize` matching events before `before` (from the newest event when it is
 * not given): one read back, newest first, of one more than a page.
 */
export async function readBackward(
  read: ReadEvents,
  options: { before?: number; pageSize: number; filters: LogFilters },
): Promise<LogPage> {
  const { before, pageSize, filters } = options;
  const page = await read({ before: before ?? NEWEST, limit: pageSize + 1, filters: serverFilters(filters) });
  const full = page.items.length > pageSize;
  const items = page.items.slice(0, pageSize).reverse();
  const top = before ?? NEWEST;
  return {
    items,
    hasOlder: full,
    olderBefore: items[0]?.position ?? top,
    hasNewer: before !== undefined,
    newerAfter: items[items.length - 1]?.position ?? Math.max(0, top - 1),
    atHead: before === undefined,
  };
}

/** `GET /v1/events` through the typed client. */
export const readEvents: ReadEvents = async ({ limit, filters, ...from }) =>
  unwrap(await api.GET('/v1/events', { params: { query: { ...from, limit, ...filters } } }));

export async function readLogPage(state: LogState, pageSize: number, read: ReadEvents = readEvents): Promise<LogPage> {
  const request = pageRequest(state);
  if (request.direction === 'forward') return readForward(read, { after: request.after, pageSize, filters: state.filters });
  return readBackward(read, { before: request.before, pageSize, filters: state.filters });
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
