// The pure logic of the Audit & Replay pages: their state in the URL, the diff of two
// states of an aggregate, and which event last changed each field.
import { EVENT_TYPES } from '../live/eventTypes';

export const AGGREGATE_TYPES = ['cluster', 'droplet', 'job', 'provider', 'ratelimit_rule'] as const;
export type AggregateType = (typeof AGGREGATE_TYPES)[number];

/** The aggregate types whose state can be read as of a position or time (`as_of`). */
export const TIME_TRAVEL_TYPES = ['cluster', 'droplet', 'job'] as const;
export type TimeTravelType = (typeof TIME_TRAVEL_TYPES)[number];

export function isAggregateType(value: string | null | undefined): value is AggregateType {
  return (AGGREGATE_TYPES as readonly string[]).includes(value ?? '');
}

export function canTimeTravel(type: string): type is TimeTravelType {
  return (TIME_TRAVEL_TYPES as readonly string[]).includes(type);
}

// ---------------------------------------------------------------------------------------
// The global log (`/audit`)

/** What the log is filtered by: the server applies every filter, each through an index. */
export interface LogFilters {
  type?: string;
  aggregate_type?: AggregateType;
  aggregate_id?: string;
  actor?: string;
  correlation_id?: string;
}

export const FILTER_KEYS = ['type', 'aggregate_type', 'aggregate_id', 'actor', 'correlation_id'] as const;

/** The longest actor or correlation id the server filters by (a longer one is a `400`). */
export const MAX_METADATA_FILTER = 255;

export type Order = 'desc' | 'asc';

/** Where a page of the log starts: before a position (reading back) or after one. */
export type Cursor = { before: number } | { after: number } | null;

export interface LogState {
  filters: LogFilters;
  order: Order;
  cursor: Cursor;
}

function text(params: URLSearchParams, key: string): string | undefined {
  const value = params.get(key)?.trim();
  return value ? value : undefined;
}

function position(params: URLSearchParams, key: string, min: number): number | undefined {
  const raw = params.get(key);
  if (raw === null || !/^\d+$/.test(raw.trim())) return undefined;
  const value = Number(raw);
  return Number.isSafeInteger(value) && value >= min ? value : undefined;
}

/** The log's state from the URL's query string; what does not parse is dropped. */
export function parseLogState(params: URLSearchParams): LogState {
  const filters: LogFilters = {};
  const type = text(params, 'type');
  if (type && (EVENT_TYPES as readonly string[]).includes(type)) filters.type = type;
  const aggregateType = text(params, 'aggregate_type');
  if (isAggregateType(aggregateType)) filters.aggregate_type = aggregateType;
  const aggregateId = text(params, 'aggregate_id');
  if (aggregateId) filters.aggregate_id = aggregateId;
  for (const key of ['actor', 'correlation_id'] as const) {
    const value = text(params, key);
    if (value && value.length <= MAX_METADATA_FILTER) filters[key] = value;
  }
  const before = position(params, 'before', 1);
  const after = position(params, 'after', 0);
  const cursor: Cursor = before !== undefined ? { before } : after !== undefined ? { after } : null;
  return { filters, order: params.get('order') === 'asc' ? 'asc' : 'desc', cursor };
}

/** The query string of a log state (defaults left out, keys in a stable order). */
export function logSearch(state: LogState): string {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const value = state.filters[key];
    if (value) params.set(key, value);
  }
  if (state.order === 'asc') params.set('order', 'asc');
  if (state.cursor && 'before' in state.cursor) params.set('before', String(state.cursor.before));
  if (state.cursor && 'after' in state.cursor) params.set('after', String(state.cursor.after));
  const search = params.toString();
  return search ? `?${search}` : '';
}

/** The state with some filters changed (empty values clear them), back on the first page. */
export function withFilters(state: LogState, changes: Partial<Record<keyof LogFilters, string | null>>): LogState {
  const filters: LogFilters = { ...state.filters };
  for (const [key, value] of Object.entries(changes) as [keyof LogFilters, string | null | undefined][]) {
    const trimmed = value?.trim();
    if (!trimmed) delete filters[key];
    else if (key === 'aggregate_type') {
      if (isAggregateType(trimmed)) filters.aggregate_type = trimmed;
    } else filters[key] = trimmed;
  }
  return { ...state, filters, cursor: null };
}

/** The link that shows every event of one correlation id, across aggregates. */
export function correlationLink(correlationId: string): string {
  return `/audit${logSearch({ filters: { correlation_id: correlationId }, order: 'desc', cursor: null })}`;
}

/** How a page of the log is read: back from a position (or the head), or on after one. */
export type PageRequest = { direction: 'backward'; before?: number } | { direction: 'forward'; after: number };

export function pageRequest(state: LogState): PageRequest {
  const { cursor, order } = state;
  if (cursor && 'before' in cursor) return { direction: 'backward', before: cursor.before };
  if (cursor && 'after' in cursor) return { direction: 'forward', after: cursor.after };
  return order === 'desc' ? { direction: 'backward' } : { direction: 'forward', after: 0 };
}

// ---------------------------------------------------------------------------------------
// One aggregate's stream (`/audit/:type/:id`)

/** The chosen point (a position, or a time) and the two points of the diff. */
export interface StreamState {
  at?: number;
  time?: string;
  from?: number;
  to?: number;
}

export function parseStreamState(params: URLSearchParams): StreamState {
  const state: StreamState = {};
  const at = position(params, 'at', 0);
  const rawTime = text(params, 'time');
  if (at !== undefined) state.at = at;
  else if (rawTime && !Number.isNaN(Date.parse(rawTime))) state.time = new Date(rawTime).toISOString();
  const from = position(params, 'from', 0);
  const to = position(params, 'to', 0);
  if (from !== undefined) state.from = from;
  if (to !== undefined) state.to = to;
  return state;
}

export function streamSearch(state: StreamState): string {
  const params = new URLSearchParams();
  if (state.at !== undefined) params.set('at', String(state.at));
  else if (state.time) params.set('time', state.time);
  if (state.from !== undefined) params.set('from', String(state.from));
  if (state.to !== undefined) params.set('to', String(state.to));
  const search = params.toString();
  return search ? `?${search}` : '';
}

/** The index of the last of `positions` (ascending) at or before `position`; -1 if none. */
export function indexAtOrBefore(positions: readonly number[], position: number): number {
  let found = -1;
  for (let i = 0; i < positions.length; i += 1) {
    if (positions[i]! <= position) found = i;
    else break;
  }
  return found;
}

/** The index of the last event recorded at or before `time`; -1 if none. */
export function indexAtTime(events: readonly { recorded_at: string }[], time: string): number {
  const at = Date.parse(time);
  let found = -1;
  events.forEach((event, i) => {
    if (Date.parse(event.recorded_at) <= at) found = i;
  });
  return found;
}

// ---------------------------------------------------------------------------------------
// States: flattening, diff and provenance

/** A state as field paths (`parameters.size`) to leaf values; arrays are leaves. */
export type Flat = Record<string, unknown>;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function flatten(value: unknown, prefix = ''): Flat {
  const out: Flat = {};
  if (!isPlainObject(value)) {
    if (prefix) out[prefix] = value;
    return out;
  }
  const keys = Object.keys(value);
  if (keys.length === 0 && prefix) out[prefix] = {};
  for (const key of keys) {
    const path = prefix ? `${prefix}.${key}` : key;
    const inner = value[key];
    if (isPlainObject(inner) && Object.keys(inner).length > 0) Object.assign(out, flatten(inner, path));
    else out[path] = inner;
  }
  return out;
}

/** Deep equality of JSON values (key order does not matter). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && sameValue(a[k], b[k]));
  }
  return false;
}

export type ChangeKind = 'added' | 'removed' | 'changed' | 'unchanged';

export interface DiffRow {
  field: string;
  kind: ChangeKind;
  before?: unknown;
  after?: unknown;
}

/**
 * The fields of two states of one aggregate, compared: `before` and `after` are the states
 * (`null` when the aggregate did not exist then). A field holding `null` is present; only a
 * field that is absent counts as added or removed. A field that is a value on one side and
 * an object on the other (`result`: `null`, then `{…}`) is one changed row, the object
 * whole. Rows follow the fields' order in `after`, then the fields only `before` has.
 */
export function diffStates(before: unknown, after: unknown): DiffRow[] {
  const a = flatten(before);
  const b = flatten(after);
  const reshaped = new Set<string>();
  for (const [leaves, other] of [[a, b], [b, a]] as const) {
    for (const field of Object.keys(leaves)) {
      if (!(field in other) && Object.keys(other).some((k) => k.startsWith(`${field}.`))) reshaped.add(field);
    }
  }
  const under = (field: string) => [...reshaped].find((r) => field.startsWith(`${r}.`));
  const rows: DiffRow[] = [];
  const seen = new Set<string>();
  for (const field of [...Object.keys(b), ...Object.keys(a).filter((k) => !(k in b))]) {
    const name = under(field) ?? field;
    if (seen.has(name)) continue;
    seen.add(name);
    if (reshaped.has(name)) {
      rows.push({ field: name, kind: 'changed', before: valueAt(before, name), after: valueAt(after, name) });
    } else if (!(field in a)) rows.push({ field, kind: 'added', after: b[field] });
    else if (!(field in b)) rows.push({ field, kind: 'removed', before: a[field] });
    else rows.push({ field, kind: sameValue(a[field], b[field]) ? 'unchanged' : 'changed', before: a[field], after: b[field] });
  }
  return rows;
}

/** The value at a dotted path of a state. */
function valueAt(state: unknown, path: string): unknown {
  let value: unknown = state;
  for (const key of path.split('.')) value = isPlainObject(value) ? value[key] : undefined;
  return value;
}

/** How many rows of each kind a diff has. */
export function diffCounts(rows: readonly DiffRow[]): Record<ChangeKind, number> {
  const counts: Record<ChangeKind, number> = { added: 0, removed: 0, changed: 0, unchanged: 0 };
  for (const row of rows) counts[row.kind] += 1;
  return counts;
}

/** A state after an event: the event's position and the state (`null`: did not exist). */
export interface StatePoint {
  position: number;
  state: unknown;
}

/**
 * For each field of the last state, the position of the event that last changed it,
 * from the states after each event in order (`points`, ascending). A field unchanged
 * since the first point is credited to that point (when that point is not the
 * aggregate's first event, the field was set at or before it).
 */
export function provenance(points: readonly StatePoint[]): Record<string, number> {
  const out: Record<string, number> = {};
  if (points.length === 0) return out;
  const flats = points.map((p) => flatten(p.state));
  const last = flats[flats.length - 1]!;
  for (const field of Object.keys(last)) {
    let i = flats.length - 1;
    while (i > 0) {
      const previous = flats[i - 1]!;
      if (!(field in previous) || !sameValue(previous[field], flats[i]![field])) break;
      i -= 1;
    }
    out[field] = points[i]!.position;
  }
  return out;
}

/** A value as text: strings as they are, the rest as JSON. */
export function showValue(value: unknown): string {
  if (value === undefined) return '—';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** An RFC 3339 time as the value of a `datetime-local` field (the viewer's zone, seconds). */
export function toLocalInput(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** A `datetime-local` value (the viewer's zone) as an RFC 3339 time in UTC; `null` if invalid. */
export function fromLocalInput(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
