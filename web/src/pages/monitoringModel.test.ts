import type { MetricSeries } from '../api/genie';
import {
  chartRows, chartSentence, evenTicks, formatValue, MAX_POINTS, pageChange, parseMonitoring, RANGES, seriesSummary, shownPage,
  stepFor, tickLabel,
} from './monitoringModel';

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute)).toISOString();
const series = (points: [number, number, number, number][], step = 60): MetricSeries => ({
  type: 'cpu', unit: 'percent', step, since: at(0), until: at(60),
  points: points.map(([minute, avg, min, max]) => ({ t: at(minute), avg, min, max, count: 2 })),
});

describe('the step of a chart', () => {
  test('every range gets at most 300 points, with a round step', () => {
    expect(RANGES.map((r) => [r.key, stepFor(r.seconds)])).toEqual([['1h', 15], ['6h', 120], ['24h', 300], ['7d', 3600]]);
    for (const range of RANGES) {
      const points = range.seconds / stepFor(range.seconds);
      expect(points).toBeLessThanOrEqual(MAX_POINTS);
      expect(points).toBeGreaterThan(MAX_POINTS / 5);
    }
  });

  test('the smallest step that fits, beyond the round ones in whole days', () => {
    expect(stepFor(300)).toBe(10);
    expect(stepFor(3000)).toBe(10);
    expect(stepFor(3001)).toBe(15);
    expect(stepFor(300 * 86400 * 2)).toBe(2 * 86400);
    expect(stepFor(3600, 60)).toBe(60);
  });
});

describe('chart rows', () => {
  test('oldest first, the average with its min–max band', () => {
    const rows = chartRows(series([[2, 50, 40, 70], [1, 30, 20, 35]]));
    expect(rows).toEqual([
      { t: Date.parse(at(1)), avg: 30, band: [20, 35] },
      { t: Date.parse(at(2)), avg: 50, band: [40, 70] },
    ]);
  });

  test('a gap of more than twice the spacing breaks the line', () => {
    const rows = chartRows(series([[1, 30, 20, 35], [2, 31, 20, 35], [3, 32, 20, 35], [10, 90, 85, 99]]));
    expect(rows.map((r) => r.avg)).toEqual([30, 31, 32, null, 90]);
    expect(rows[3]).toEqual({ t: Date.parse(at(4)), avg: null, band: null });
    // One bucket missing is no gap.
    expect(chartRows(series([[1, 30, 20, 35], [2, 31, 20, 35], [4, 32, 20, 35]])).map((r) => r.avg)).toEqual([30, 31, 32]);
  });

  test('samples sparser than the step are joined at their own spacing', () => {
    // One a minute on a 15 s step: no gap between them, a gap where three minutes are missing.
    const rows = chartRows(series([[1, 30, 20, 35], [2, 31, 20, 35], [3, 32, 20, 35], [7, 33, 20, 35]], 15));
    expect(rows.map((r) => r.avg)).toEqual([30, 31, 32, null, 33]);
  });

  test('ticks are spread evenly over the window', () => {
    expect(evenTicks(0, 1000, 6)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(evenTicks(5, 5)).toEqual([5]);
  });

  test('no series, no rows', () => {
    expect(chartRows(undefined)).toEqual([]);
    expect(chartRows(series([]))).toEqual([]);
  });
});

describe('what a chart says', () => {
  test('the latest average, the peak and the threshold', () => {
    const s = series([[1, 30, 20, 35], [3, 82.26, 75, 97.5], [2, 50, 40, 60]]);
    expect(seriesSummary(s)).toEqual({ latest: 82.26, peak: 97.5, samples: 6 });
    expect(chartSentence('cpu', s)).toBe('CPU: latest 82.3 %, peak 97.5 %, 6 samples; warning above 80 %');
  });

  test('an empty range says so; network has no threshold and reads in Mbps', () => {
    expect(chartSentence('memory', series([]))).toBe('Memory: no samples in this range; critical above 85 %');
    expect(chartSentence('network', { ...series([[1, 120, 100, 140]]), type: 'network', unit: 'mbps' }))
      .toBe('Network: latest 120 Mbps, peak 140 Mbps, 2 samples');
    expect(formatValue(null, 'percent')).toBe('—');
  });

  test('ticks read as times of day within a day, as days beyond', () => {
    const ms = Date.parse('2026-01-01T13:45:00Z');
    expect(tickLabel(ms, RANGES[0]!, true)).toMatch(/\b(13|01):45\b/);
    expect(tickLabel(ms, RANGES[0]!, true)).not.toMatch(/Jan/);
    expect(tickLabel(ms, RANGES[3]!, true)).toMatch(/Jan/);
    expect(tickLabel(ms, RANGES[3]!, true)).not.toMatch(/:45/);
  });
});

describe('the state in the URL', () => {
  test('cluster, droplet, range and the history filters', () => {
    const state = parseMonitoring(new URLSearchParams(
      'cluster_id=cl_1&droplet_id=dr_1&range=24h&type=disk&since=2026-01-01T12:00:00Z&page=3',
    ));
    expect(state.cluster_id).toBe('cl_1');
    expect(state.droplet_id).toBe('dr_1');
    expect(state.range.key).toBe('24h');
    expect(state.history).toEqual({
      cluster_id: 'cl_1', droplet_id: 'dr_1', type: 'disk', since: '2026-01-01T12:00:00.000Z', page: 3, page_size: 25,
    });
  });

  test('what the API would refuse reads as absent; a droplet needs its cluster', () => {
    const state = parseMonitoring(new URLSearchParams('droplet_id=dr_1&range=2y&type=gpu&since=yesterday&page=-2'));
    expect(state.cluster_id).toBeUndefined();
    expect(state.droplet_id).toBeUndefined();
    expect(state.range.key).toBe('1h');
    expect(state.history).toEqual({ page: 1, page_size: 25 });
  });

  test('a cursor page reads by its cursor, keeping the number it shows', () => {
    const params = new URLSearchParams('page=2&cursor=abc');
    expect(parseMonitoring(params).history).toEqual({ cursor: 'abc', page_size: 25 });
    expect(shownPage(params)).toBe(2);
  });

  test('next by the cursor, back by the cursor remembered, else by number', () => {
    const cursors = new Map([[2, 'c2'], [3, 'c3']]);
    expect(pageChange(3, 4, 'c4', cursors)).toEqual({ page: '4', cursor: 'c4' });
    expect(pageChange(4, 3, 'c5', cursors)).toEqual({ page: '3', cursor: 'c3' });
    expect(pageChange(2, 1, 'c3', cursors)).toEqual({ page: null, cursor: null });
    expect(pageChange(6, 5, null, new Map())).toEqual({ page: '5', cursor: null });
  });
});
