// Pieces of the job pages: the phase sentence, the attempts table, links to what a job acts on.
import { Link } from 'react-router-dom';
import { StatusBadge } from '../components/Badge';
import { ProgressBar } from '../components/ProgressBar';
import { Time } from '../components/Time';
import { formatMs, isFinished, jobPhase, phaseTone, shortId, type Attempt, type Job, type JobEvent } from './jobState';

/** `retrying — attempt 2 of 5, next try at <time>`, `running — attempt 1 of 5`, … */
export function JobPhaseText({ job, events }: { job: Job; events?: readonly JobEvent[] }) {
  const phase = jobPhase(job, events);
  return (
    <span data-testid="job-phase">
      {phase.text}
      {phase.nextTryAt && <>, next try at <Time at={phase.nextTryAt} /></>}
    </span>
  );
}

export function JobProgress({ job, events }: { job: Job; events?: readonly JobEvent[] }) {
  const phase = jobPhase(job, events);
  return <ProgressBar value={job.progress} tone={phaseTone(phase.badge)} label={`Progress of job ${job.id}`} />;
}

export function ClusterLink({ id, name }: { id: string; name?: string }) {
  return (
    <Link to={`/clusters/${id}`} className={name ? undefined : 'mono'} title={id}>
      {name ?? shortId(id)}
    </Link>
  );
}

export function DropletLink({ id }: { id?: string | null }) {
  if (!id) return <span className="muted">—</span>;
  return <Link to={`/droplets/${id}`} className="mono" title={id}>{shortId(id)}</Link>;
}

const OUTCOME_BADGE: Record<Attempt['outcome'], string> = {
  running: 'running', retry: 'failed', succeeded: 'succeeded', failed: 'failed', timed_out: 'timed_out',
  cancelled: 'cancelled',
};

/** What became of a failed attempt that was to be retried: waiting, retried, or overtaken by the job's end. */
function RetryNote({ attempt, last, job }: { attempt: Attempt; last: boolean; job: Job }) {
  if (!last) return <span className="muted"> · retried</span>;
  if (isFinished(job.status)) return <span className="muted"> · the job {job.status.replace(/_/g, ' ')} before the next try</span>;
  return <span className="muted"> · next try at <Time at={attempt.nextTryAt} /></span>;
}

/** Each attempt with its worker, times, outcome and error; the next try of one waiting to retry. */
export function AttemptsTable(props: { attempts: Attempt[]; job: Job }) {
  const { attempts, job } = props;
  if (attempts.length === 0) {
    return <p className="empty">{job.status === 'cancelled' ? 'It was cancelled before any attempt.' : 'No attempt has started yet.'}</p>;
  }
  return (
    <table className="data" aria-label="Attempts">
      <thead>
        <tr><th>Attempt</th><th>Worker</th><th>Started</th><th>Ended</th><th>Progress</th><th>Outcome</th><th>Error</th></tr>
      </thead>
      <tbody>
        {attempts.map((a, i) => {
          const last = i === attempts.length - 1;
          const waiting = a.outcome === 'retry' && last && !isFinished(job.status);
          return (
            <tr key={a.number}>
              <td>{job.max_attempts > 0 ? `${a.number} of ${job.max_attempts}` : a.number}</td>
              <td className="mono">{a.worker ?? '—'}</td>
              <td><Time at={a.startedAt} /></td>
              <td><Time at={a.endedAt} /></td>
              <td>{a.progress}%</td>
              <td><StatusBadge status={waiting ? 'retrying' : OUTCOME_BADGE[a.outcome]} /></td>
              <td>
                {a.error ? <span className="error">{a.error}</span> : <span className="muted">—</span>}
                {a.outcome === 'retry' && <RetryNote attempt={a} last={last} job={job} />}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** `1 s, then 2 s, 4 s, 8 s`: the backoffs before attempts 2, 3, … */
export function BackoffText({ delays }: { delays: number[] }) {
  if (delays.length === 0) return <>no retry (a single attempt)</>;
  return (
    <>
      {delays.map((ms, i) => `${formatMs(ms)} before attempt ${i + 2}`).join(', ')}
    </>
  );
}
