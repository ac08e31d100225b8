// Pieces of the Diagnosis tab: the health-score gauge (a `meter`), a priority badge, one
// diagnosis's insights and recommendations with their Implement buttons, and the job a
// recommendation started, followed live through the job hooks.
import { createContext, useContext } from 'react';
import { Link } from 'react-router-dom';
import type { Diagnosis, Recommendation } from '../api/genie';
import { useJob } from '../api/jobs';
import { StatusBadge } from '../components/Badge';
import { JobProgress } from './JobParts';
import { actionSummary, gaugeArc, implementable, PRIORITY_TONE, scoreTone } from './diagnosisModel';
import { jobPhase, shortId } from './jobState';

/** The health score (0–100) as a half-circle gauge with its label. */
export function HealthGauge({ score, label }: { score: number; label: string }) {
  const value = Math.max(0, Math.min(100, Math.round(score)));
  const tone = scoreTone(value);
  return (
    <div className={`gauge ${tone}`} role="meter" aria-label="Health score" aria-valuemin={0} aria-valuemax={100}
      aria-valuenow={value} aria-valuetext={`${value} of 100: ${label}`}>
      <svg viewBox="0 0 100 56" aria-hidden="true" focusable="false">
        <path d={gaugeArc(1)} className="gauge-track" />
        {value > 0 && <path d={gaugeArc(value / 100)} className="gauge-fill" />}
      </svg>
      <span className="gauge-value">{value}</span>
      <span className="gauge-label">{label}</span>
    </div>
  );
}

export function PriorityBadge({ priority }: { priority: Recommendation['priority'] }) {
  return <span className={`badge ${PRIORITY_TONE[priority] ?? 'muted'}`}>{priority} priority</span>;
}

/** What the tab knows of implementing recommendations, shared by every diagnosis shown. */
export interface Implementations {
  jobOf: (recId: string) => string | undefined;
  errorOf: (recId: string) => string | undefined;
  pending: (recId: string) => boolean;
  implement: (recId: string) => void;
}

export const ImplementationsContext = createContext<Implementations>({
  jobOf: () => undefined, errorOf: () => undefined, pending: () => false, implement: () => {},
});

/** The job implementing a recommendation: its type, phase and progress, live. */
export function ImplementedJob({ id }: { id: string }) {
  const job = useJob(id).data;
  return (
    <div className="implemented-job" data-testid="implemented-job">
      <span>Job <Link to={`/jobs/${id}`} className="mono" title={id}>{job ? `${job.type.replace(/_/g, ' ')} ${shortId(id)}` : id}</Link></span>
      {job && (
        <>
          <StatusBadge status={jobPhase(job).badge} />
          <JobProgress job={job} />
        </>
      )}
    </div>
  );
}

function RecommendationItem({ rec, recorded }: { rec: Recommendation; recorded?: string }) {
  const state = useContext(ImplementationsContext);
  const job = state.jobOf(rec.id) ?? recorded;
  const error = state.errorOf(rec.id);
  const busy = state.pending(rec.id);
  const can = implementable(rec.action);
  return (
    <li className="recommendation" data-rec={rec.id}>
      <div className="row">
        <PriorityBadge priority={rec.priority} />
        <h4>{rec.title}</h4>
      </div>
      <p>{rec.detail}</p>
      <p className="muted action-summary">Action: {actionSummary(rec.action)}</p>
      <div className="row">
        {job ? <ImplementedJob id={job} /> : can ? (
          <button onClick={() => state.implement(rec.id)} disabled={busy}
            aria-label={`Implement: ${rec.title}`}>
            {busy ? 'Implementing…' : 'Implement'}
          </button>
        ) : <span className="muted">No job to start.</span>}
      </div>
      {error && <p className="error" role="alert">{error}</p>}
    </li>
  );
}

/** One diagnosis: its insights and its recommendations, highest priority first as given. */
export function DiagnosisBody({ diagnosis }: { diagnosis: Diagnosis }) {
  return (
    <div className="diagnosis-body">
      <h3>Insights</h3>
      {diagnosis.insights.length === 0 ? <p className="muted">No insight.</p> : (
        <ul className="insights">
          {diagnosis.insights.map((insight, i) => <li key={i}>{insight}</li>)}
        </ul>
      )}
      <h3>Recommendations</h3>
      {diagnosis.recommendations.length === 0 ? <p className="muted">No recommendation.</p> : (
        <ol className="recommendations" aria-label={`Recommendations of ${diagnosis.diagnosis_id}`}>
          {diagnosis.recommendations.map((rec) => (
            <RecommendationItem key={rec.id} rec={rec} recorded={diagnosis.implemented?.[rec.id]} />
          ))}
        </ol>
      )}
    </div>
  );
}
