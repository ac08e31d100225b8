// Pieces of the Autoscaling tab: a decision's badge, the decisions' chart (droplets against the
// metric's average and the two thresholds, from the decisions' inputs; named by a sentence,
// the drawing hidden from assistive tech) and their timeline, newest first.
import { useContext } from 'react';
import { Link } from 'react-router-dom';
import {
  CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis,
} from 'recharts';
import type { AutoscalingDecisionView } from '../api/autoscaling';
import { Time, ZoneContext } from '../components/Time';
import { chartSentence, DECISION_TONE, decisionRows, decisionText } from './autoscalingModel';
import { shortId } from './jobState';

export function DecisionBadge({ decision }: { decision: Pick<AutoscalingDecisionView, 'decision' | 'count'> }) {
  return <span className={`badge ${DECISION_TONE[decision.decision] ?? 'muted'}`}>{decisionText(decision)}</span>;
}

const clock = (ms: number, utc: boolean) =>
  new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', timeZone: utc ? 'UTC' : undefined });

export function DecisionChart({ decisions }: { decisions: readonly AutoscalingDecisionView[] }) {
  const utc = useContext(ZoneContext) === 'utc';
  const rows = decisionRows(decisions);
  const hasMetric = rows.some((r) => r.average != null || r.up != null);
  const hasDesired = rows.some((r) => r.desired != null);
  return (
    <figure className="decision-chart" data-testid="decision-chart">
      <figcaption className="metric-summary">{chartSentence(decisions)}</figcaption>
      <div className="decision-plot" aria-hidden="true">
        {rows.length > 0 && (
          <ResponsiveContainer width="100%" height="100%">
            <ComposedChart data={rows} accessibilityLayer={false} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
              <CartesianGrid stroke="var(--border)" strokeDasharray="2 4" />
              <XAxis dataKey="t" type="number" scale="time" domain={['dataMin', 'dataMax']} fontSize={11}
                tickFormatter={(ms: number) => clock(ms, utc)} />
              <YAxis yAxisId="droplets" orientation="right" allowDecimals={false} fontSize={11} width={32}
                domain={[0, 'auto']} />
              {hasMetric && <YAxis yAxisId="metric" fontSize={11} width={40} domain={[0, 'auto']} />}
              <Tooltip labelFormatter={(ms) => clock(Number(ms), utc)}
                contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)', color: 'var(--text)' }} />
              <Legend wrapperStyle={{ fontSize: 12 }} />
              <Line yAxisId="droplets" dataKey="droplets" name="droplets" type="stepAfter" stroke="var(--ok)"
                strokeWidth={2} dot={false} isAnimationActive={false} />
              {hasDesired && (
                <Line yAxisId="droplets" dataKey="desired" name="desired (window)" type="stepAfter" stroke="var(--warn)"
                  strokeDasharray="4 3" dot={false} connectNulls={false} isAnimationActive={false} />
              )}
              {hasMetric && (
                <>
                  <Line yAxisId="metric" dataKey="average" name="metric average" stroke="var(--accent)" strokeWidth={2}
                    dot={{ r: 2.5, fill: 'var(--accent)' }} connectNulls={false} isAnimationActive={false} />
                  <Line yAxisId="metric" dataKey="up" name="scale-up threshold" type="stepAfter" stroke="var(--danger)"
                    strokeDasharray="6 4" dot={false} isAnimationActive={false} />
                  <Line yAxisId="metric" dataKey="down" name="scale-down threshold" type="stepAfter" stroke="var(--info)"
                    strokeDasharray="2 4" dot={false} isAnimationActive={false} />
                </>
              )}
            </ComposedChart>
          </ResponsiveContainer>
        )}
      </div>
    </figure>
  );
}

export function DecisionTimeline({ decisions }: { decisions: readonly AutoscalingDecisionView[] }) {
  if (decisions.length === 0) {
    return <p className="muted" data-testid="no-decisions">No decision yet: the evaluator runs on a schedule, or evaluate now.</p>;
  }
  return (
    <ol className="decision-list" aria-label="Decisions, newest first">
      {decisions.map((d) => (
        <li key={d.id} className="decision" data-decision={d.decision}>
          <div className="row">
            <DecisionBadge decision={d} />
            <code>{d.code}</code>
            <span className="muted">
              <Time at={d.at} />
              {d.evaluations > 1 && <> to <Time at={d.last_at} /></>}
              {' · '}{d.evaluations} evaluation{d.evaluations === 1 ? '' : 's'}
              {' · '}{d.trigger === 'manual' ? 'evaluated on demand' : 'on schedule'}
            </span>
          </div>
          <p className="decision-reason">{d.reason}</p>
          {d.job_id && (
            <p className="decision-job">
              Scale job <Link to={`/jobs/${d.job_id}`} className="mono" title={d.job_id}>{shortId(d.job_id)}</Link>
            </p>
          )}
        </li>
      ))}
    </ol>
  );
}
