// One metric's chart: the average as a line over its min–max band, the health threshold as a
// reference line. Named for assistive tech by a sentence (latest, peak, threshold); the
// drawing itself is hidden from it.
import { useContext } from 'react';
import { Area, ComposedChart, Line, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { MetricSeries, MetricType } from '../api/genie';
import { ZoneContext } from '../components/Time';
import {
  chartRows, chartSentence, evenTicks, formatValue, METRIC_LABELS, THRESHOLDS, tickLabel, UNIT_OF, type Range,
} from './monitoringModel';

/** Up to this many rows, each point is also drawn as a dot (a lone point has no line). */
const SPARSE_ROWS = 60;

export function MetricChart(props: {
  type: MetricType;
  series: MetricSeries | undefined;
  range: Range;
  loading: boolean;
  error?: Error | null;
}) {
  const { type, series, range } = props;
  const utc = useContext(ZoneContext) === 'utc';
  const unit = UNIT_OF[type];
  const rows = chartRows(series);
  const threshold = THRESHOLDS[type];
  const headingId = `chart-${type}`;
  const until = series ? Date.parse(series.until) : Date.now();
  const since = series ? Date.parse(series.since) : until - range.seconds * 1000;
  const sentence = chartSentence(type, series);
  return (
    <section className="card metric-chart" aria-labelledby={headingId} data-testid={`chart-${type}`}>
      <h2 id={headingId}>{METRIC_LABELS[type]} <span className="metric-unit">({unit === 'percent' ? '%' : 'Mbps'})</span></h2>
      <p className="metric-summary">
        {props.error ? <span className="error" role="alert">{props.error.message}</span>
          : props.loading && !series ? 'Loading…' : sentence}
      </p>
      <div className="metric-plot" aria-hidden="true">
        {rows.length > 0 && (
          <ResponsiveContainer width="100%" height="100%">
            <ComposedChart data={rows} accessibilityLayer={false} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
              <XAxis dataKey="t" type="number" scale="time" domain={[since, until]} fontSize={11}
                ticks={evenTicks(since, until)}
                tickFormatter={(ms: number) => tickLabel(ms, range, utc)} />
              <YAxis fontSize={11} width={44} domain={unit === 'percent' ? [0, 100] : [0, 'auto']}
                allowDataOverflow={false} />
              <Tooltip
                labelFormatter={(ms) => tickLabel(Number(ms), { ...range, seconds: 0 }, utc)}
                formatter={(value, name) => {
                  const shown = Array.isArray(value)
                    ? `${formatValue(Number(value[0]), unit)} – ${formatValue(Number(value[1]), unit)}`
                    : formatValue(Number(value), unit);
                  return [shown, name === 'band' ? 'min – max' : 'average'];
                }}
                contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)', color: 'var(--text)' }} />
              <Area dataKey="band" stroke="none" fill="var(--accent)" fillOpacity={0.18} isAnimationActive={false}
                connectNulls={false} />
              <Line dataKey="avg" stroke="var(--accent)" strokeWidth={2} isAnimationActive={false}
                dot={rows.length <= SPARSE_ROWS ? { r: 2.5, fill: 'var(--accent)' } : false}
                connectNulls={false} />
              {threshold && (
                <ReferenceLine y={threshold.value} ifOverflow="extendDomain"
                  stroke={threshold.severity === 'critical' ? 'var(--danger)' : 'var(--warn)'} strokeDasharray="6 4"
                  label={{ value: `${threshold.severity} ${threshold.value}`, position: 'insideTopRight', fontSize: 11,
                    fill: threshold.severity === 'critical' ? 'var(--danger)' : 'var(--warn)' }} />
              )}
            </ComposedChart>
          </ResponsiveContainer>
        )}
      </div>
      {!props.loading && !props.error && rows.length === 0 && (
        <p className="metric-empty muted">No samples in this range.</p>
      )}
    </section>
  );
}
