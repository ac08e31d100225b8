import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { ProblemError } from '../api/client';
import { useCancelJob, useJob, useJobEvents } from '../api/jobs';
import { useCluster, useWorkers } from '../api/queries';
import { StatusBadge } from '../components/Badge';
import { Dialog } from '../components/Dialog';
import { Freshness } from '../components/Freshness';
import { Time } from '../components/Time';
import { AttemptsTable, BackoffText, ClusterLink, DropletLink, JobPhaseText, JobProgress } from './JobParts';
import { attemptsOf, backoffs, eventSummary, isFinished, jobPhase, type Job, type JobEvent } from './jobState';

export function JobDetail() {
  const { id = '' } = useParams();
  const job = useJob(id);
  const events = useJobEvents(id);
  const [cancelling, setCancelling] = useState(false);
  if (job.isError) {
    const gone = job.error instanceof ProblemError && job.error.status === 404;
    return (
      <div className="card" role="alert">
        <h1>{gone ? 'No such job' : 'The job could not be read'}</h1>
        <p>{gone ? `No job ${id} exists.` : job.error.message}</p>
        <Link to="/jobs">All jobs</Link>
      </div>
    );
  }
  const j = job.data;
  const stream = events.data?.items;
  const phase = j && jobPhase(j, stream);
  return (
    <>
      <p className="muted"><Link to="/jobs">Jobs</Link> /</p>
      <div className="page-head">
        <h1>{j ? `${j.type.replace(/_/g, ' ')} job` : '…'}</h1>
        {phase && <StatusBadge status={phase.badge} />}
        {j && !isFinished(j.status) && (
          <button className="danger" onClick={() => setCancelling(true)} disabled={j.cancel_requested}>
            {j.cancel_requested ? 'Cancellation requested' : 'Cancel job'}
          </button>
        )}
      </div>
      <Freshness projection="jobs" named />
      {j ? <Overview job={j} events={stream} /> : <p className="muted jobs-placeholder">Loading…</p>}
      <section className="card jobs-section" aria-labelledby="attempts">
        <h2 id="attempts">Attempts</h2>
        {j && events.data ? (
          <>
            <AttemptsTable job={j} attempts={attemptsOf(stream)} />
            <RetrySchedule job={j} />
          </>
        ) : events.isError ? (
          <p className="error" role="alert">{events.error.message}</p>
        ) : <p className="muted">Loading…</p>}
      </section>
      <section className="card jobs-section" aria-labelledby="events">
        <h2 id="events">Events</h2>
        {stream ? <Timeline events={stream} /> : events.isError ? null : <p className="muted">Loading…</p>}
      </section>
      <CancelDialog open={cancelling} onClose={() => setCancelling(false)} id={id} job={j} />
    </>
  );
}

function Overview({ job, events }: { job: Job; events?: readonly JobEvent[] }) {
  const cluster = useCluster(job.cluster_id).data;
  return (
    <div className="jobs-overview">
      <section className="card" aria-label="Where it stands">
        <p className="jobs-phase" role="status"><JobPhaseText job={job} events={events} /></p>
        <JobProgress job={job} events={events} />
        <p className="muted jobs-message">{(job.status === 'running' && job.progress_message) || '\u00a0'}</p>
        {job.error && (
          <p className="error">
            {job.status === 'failed' || job.status === 'timed_out' ? 'Error: ' : 'Last error: '}{job.error}
          </p>
        )}
      </section>
      <section className="card" aria-label="Properties">
        <dl className="props">
          <dt>Id</dt><dd className="mono">{job.id}</dd>
          <dt>Cluster</dt><dd><ClusterLink id={job.cluster_id} name={cluster?.name} /></dd>
          <dt>Droplet</dt><dd><DropletLink id={job.droplet_id} /></dd>
          <dt>Worker</dt><dd className="mono">{job.worker ?? '—'}</dd>
          <dt>Created</dt><dd><Time at={job.created_at} /></dd>
          <dt>Started</dt><dd><Time at={job.started_at} /></dd>
          <dt>Updated</dt><dd><Time at={job.updated_at} /></dd>
          <dt>Finished</dt><dd><Time at={job.finished_at} /></dd>
          <dt>Trace</dt><dd className="mono">{job.trace_id}</dd>
        </dl>
      </section>
      <section className="card" aria-label="Parameters and result">
        <h2>Parameters</h2>
        <pre className="jobs-json" tabIndex={0}>{JSON.stringify(job.parameters ?? {}, null, 2)}</pre>
        {job.result !== undefined && job.result !== null && (
          <>
            <h2>Result</h2>
            <pre className="jobs-json" tabIndex={0}>{JSON.stringify(job.result, null, 2)}</pre>
          </>
        )}
      </section>
    </div>
  );
}

/** The policy of the job's type in this process: how many attempts, and the backoffs. */
function RetrySchedule({ job }: { job: Job }) {
  const policy = useWorkers().data?.policies?.[job.type];
  const left = Math.max(0, job.max_attempts - job.attempts);
  return (
    <p className="muted jobs-schedule">
      Up to {job.max_attempts} attempt{job.max_attempts === 1 ? '' : 's'}
      {!isFinished(job.status) && ` (${left} not yet made)`}.
      {policy && <> Backoff: <BackoffText delays={backoffs(policy, job.max_attempts)} />.</>}
    </p>
  );
}

function Timeline({ events }: { events: readonly JobEvent[] }) {
  if (events.length === 0) return <p className="empty">No events.</p>;
  return (
    <ol className="timeline jobs-timeline" aria-label="Events of this job">
      {events.map((e) => (
        <li key={e.position}>
          <span className="mono">#{e.position}</span>
          <span>{e.type}</span>
          <span>
            <Time at={e.recorded_at} /> · {eventSummary(e) || <span className="muted">—</span>}
            <details>
              <summary>Data</summary>
              <pre className="jobs-json" tabIndex={0}>{JSON.stringify(e.data, null, 2)}</pre>
              <p className="muted">by {e.metadata.actor} · sequence {e.sequence} · correlation {e.metadata.correlation_id}</p>
            </details>
          </span>
        </li>
      ))}
    </ol>
  );
}

function CancelDialog(props: { open: boolean; onClose: () => void; id: string; job?: Job }) {
  const cancel = useCancelJob(props.id);
  const [reason, setReason] = useState('');
  const refused = cancel.error instanceof ProblemError && cancel.error.status === 409;
  const close = () => { cancel.reset(); props.onClose(); };
  return (
    <Dialog open={props.open} title="Cancel this job?" onClose={close}>
      <p>
        {props.job?.status === 'running'
          ? 'Its running attempt is asked to stop; the job ends as cancelled once it has.'
          : 'It has not started an attempt: it ends as cancelled at once.'}
        {props.job?.droplet_id && ' Its droplet records the operation as failed (cancelled).'}
      </p>
      <div className="field">
        <label htmlFor="cancel-reason">Reason (optional)</label>
        <input id="cancel-reason" value={reason} onChange={(e) => setReason(e.target.value)} autoComplete="off" />
      </div>
      {cancel.error && (
        <p className="error" role="alert">{refused ? `Refused: ${cancel.error.message}` : cancel.error.message}</p>
      )}
      <div className="actions">
        <button onClick={close}>Keep it</button>
        <button className="danger" disabled={cancel.isPending}
          onClick={() => cancel.mutate(reason.trim(), { onSuccess: close })}>
          {cancel.isPending ? 'Working…' : 'Cancel job'}
        </button>
      </div>
    </Dialog>
  );
}
