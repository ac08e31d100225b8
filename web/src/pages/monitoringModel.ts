// What the Monitoring page computes: the step of a chart for its range (at most ~300 points),
// a series shaped for recharts (a gap where buckets are missing), the thresholds drawn on
// each chart, how values read, and the page's state in the URL. Pure, tested without a server.
import { METRIC_TYPES, type HistoryQuery, type MetricSeries, type MetricType, type MetricUnit } from '../api/genie';

export interface Range {
  key: '1h' | '6h' | '24h' | '7d';
  label: string;
  seconds: number;
}

export const RANGES: readonly Range[] = [
  { key: '1h', label: 'Last hour', seconds: 3600 },
  { key: '6h', label: 'Last 6 hours', seconds: 6 * 3600 },
  { key: '24h', label: 'Last 24 hours', seconds: 24 * 3600 },
  { key: '7d', label: 'Last 7 days', seconds: 7 * 24 * 3600 },
];

/** The most points a chart asks for. */
export const MAX_POINTS = 300;

/** Steps a chart may use (seconds): round numbers, so buckets fall on round times. */
const STEPS = [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/** The smallest round step that covers `seconds` in at most `maxPoints` buckets. */
export function stepFor(seconds: number, maxPoints = MAX_POINTS): number {
  const least = Math.ceil(seconds / maxPoints);
  return STEPS.find((s) => s >= least) ?? Math.ceil(least / 86400) * 86400;
}

export interface Threshold {
  value: number;
  severity: 'warning' | 'critical';
}

/** The health checks' thresholds (the server's; drawn as reference lines). */
export const THRESHOLDS: Partial<Record<MetricType, Threshold>> = {
  cpu: { value: 80, severity: 'warning' },
  memory: { value: 85, severity: 'critical' },
  disk: { value: 90, severity: 'critical' },
};

export const METRIC_LABELS: Record<MetricType, string> = {
  cpu: 'CPU', memory: 'Memory', disk: 'Disk', network: 'Network',
};

/** The unit each type is measured in. */
export const UNIT_OF: Record<MetricType, MetricUnit> = {
  cpu: 'percent', memory: 'percent', disk: 'percent', network: 'mbps',
};

/** `83.2 %`, `120 Mbps`. */
export function formatValue(value: number | null | undefined, unit: MetricUnit): string {
  if (value == null || !Number.isFinite(value)) return '—';
  const rounded = Math.round(value * 10) / 10;
  return unit === 'percent' ? `${rounded} %` : `${rounded} Mbps`;
}

/** One row of a chart: the time (ms), the average and the min–max band; nulls make a gap. */
export interface ChartRow {
  t: number;
  avg: number | null;
  band: [number, number] | null;
}

/** The middle of `values` (0 for none). */
function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The series as chart rows, oldest first. Where samples stop for more than twice their usual
 * spacing (the step, or the typical time between points when samples come less often than
 * the step), a row of nulls is put in, so the line breaks instead of drawing across a time
 * without data.
 */
export function chartRows(series: MetricSeries | undefined): ChartRow[] {
  if (!series) return [];
  const points = [...series.points]
    .map((p) => ({ ...p, ms: Date.parse(p.t) }))
    .filter((p) => Number.isFinite(p.ms))
    .sort((a, b) => a.ms - b.ms);
  const rows: ChartRow[] = [];
  const spacing = median(points.slice(1).map((p, i) => p.ms - points[i]!.ms));
  const gap = 2 * Math.max(series.step * 1000, spacing);
  let previous: number | null = null;
  for (const p of points) {
    if (previous !== null && p.ms - previous > gap) rows.push({ t: previous + series.step * 1000, avg: null, band: null });
    rows.push({ t: p.ms, avg: p.avg, band: [p.min, p.max] });
    previous = p.ms;
  }
  return rows;
}

/** What a chart says in words: the latest average and the peak of the range. */
export function seriesSummary(series: MetricSeries | undefined): { latest: number | null; peak: number | null; samples: number } {
  const points = series?.points ?? [];
  if (points.length === 0) return { latest: null, peak: null, samples: 0 };
  const newest = points.reduce((a, b) => (Date.parse(b.t) > Date.parse(a.t) ? b : a));
  return {
    latest: newest.avg,
    peak: Math.max(...points.map((p) => p.max)),
    samples: points.reduce((n, p) => n + p.count, 0),
  };
}

/** The sentence naming a chart for assistive tech and under its title. */
export function chartSentence(type: MetricType, series: MetricSeries | undefined): string {
  const unit = UNIT_OF[type];
  const { latest, peak, samples } = seriesSummary(series);
  const threshold = THRESHOLDS[type];
  const line = threshold ? `; ${threshold.severity} above ${formatValue(threshold.value, unit)}` : '';
  if (samples === 0) return `${METRIC_LABELS[type]}: no samples in this range${line}`;
  return `${METRIC_LABELS[type]}: latest ${formatValue(latest, unit)}, peak ${formatValue(peak, unit)}, ${samples} sample${samples === 1 ? '' : 's'}${line}`;
}

/** `count` evenly spaced ticks from `since` to `until` (ms), ends included. */
export function evenTicks(since: number, until: number, count = 6): number[] {
  if (!(until > since) || count < 2) return [since];
  return Array.from({ length: count }, (_, i) => Math.round(since + ((until - since) * i) / (count - 1)));
}

/** A tick's label: the time of day for a range within a day, else the day and hour. */
export function tickLabel(ms: number, range: Range, utc: boolean): string {
  const options: Intl.DateTimeFormatOptions = range.seconds > 86400
    ? { month: 'short', day: 'numeric', hour: '2-digit' }
    : { hour: '2-digit', minute: '2-digit' };
  return new Date(ms).toLocaleString(undefined, { ...options, timeZone: utc ? 'UTC' : undefined });
}

/** Rows per page of the sample history. */
export const HISTORY_PAGE_SIZE = 25;

/** The page's state as its query string holds it. */
export interface MonitoringState {
  cluster_id?: string;
  droplet_id?: string;
  range: Range;
  history: HistoryQuery;
}

const validTime = (value: string | null): string | undefined =>
  value && Number.isFinite(Date.parse(value)) ? new Date(value).toISOString() : undefined;

/**
 * The state the URL asks for. Values the API would refuse (an unknown type or range, a time
 * that is no time, a page below 1) read as absent; a droplet counts only with its cluster.
 */
export function parseMonitoring(params: URLSearchParams): MonitoringState {
  const cluster = params.get('cluster_id')?.trim() || undefined;
  const droplet = cluster ? params.get('droplet_id')?.trim() || undefined : undefined;
  const range = RANGES.find((r) => r.key === params.get('range')) ?? RANGES[0]!;
  const type = METRIC_TYPES.find((t) => t === params.get('type'));
  const since = validTime(params.get('since'));
  const until = validTime(params.get('until'));
  const page = Number(params.get('page'));
  const cursor = params.get('cursor') || undefined;
  return {
    ...(cluster ? { cluster_id: cluster } : {}),
    ...(droplet ? { droplet_id: droplet } : {}),
    range,
    history: {
      ...(cluster ? { cluster_id: cluster } : {}),
      ...(droplet ? { droplet_id: droplet } : {}),
      ...(type ? { type } : {}),
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
      ...(cursor ? { cursor } : { page: Number.isInteger(page) && page >= 1 ? page : 1 }),
      page_size: HISTORY_PAGE_SIZE,
    },
  };
}

/** The page number shown (a cursor page keeps the number it was reached at). */
export function shownPage(params: URLSearchParams): number {
  const page = Number(params.get('page'));
  return Number.isInteger(page) && page >= 1 ? page : 1;
}

/**
 * The URL changes that open page `to` from page `from`: the next page by its cursor, an
 * earlier one by the cursor it was reached with (remembered in `cursors`), else by number.
 */
export function pageChange(
  from: number, to: number, nextCursor: string | null | undefined, cursors: ReadonlyMap<number, string>,
): Record<string, string | null> {
  if (to === from + 1 && nextCursor) return { page: String(to), cursor: nextCursor };
  const known = to > 1 ? cursors.get(to) : undefined;
  return { page: to > 1 ? String(to) : null, cursor: known ?? null };
}

/** Whether the history is narrowed beyond the cluster and droplet chosen above it. */
export function historyFiltered(history: HistoryQuery): boolean {
  return !!(history.type || history.since || history.until);
}
