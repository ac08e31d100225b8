// The cluster's destructive commands, each showing what it touches (the cluster's droplets and
// the unfinished jobs on them, read from the lists) before the cluster's name is typed:
// *Destroy all droplets* (one `DELETE /v1/droplets/{id}` each, with progress) and *Delete*.
import { useRef, useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { ProblemError } from '../api/client';
import { destroyDroplet, useRefreshAfterCommands, type Droplet, type Job } from '../api/droplets';
import { useDeleteCluster } from '../api/queries';
import { StatusBadge } from '../components/Badge';
import { Dialog } from '../components/Dialog';
import { ProgressBar } from '../components/ProgressBar';
import { shortId } from './jobState';
import { destroyEach, jobsOn, TOUCH_LIMIT, useClusterTouches, type Progress, type Touches } from './clusterTouch';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** A job as a link, with its type and status. */
function JobChip({ job }: { job: Job }) {
  return (
    <span className="touch-job">
      <Link to={`/jobs/${job.id}`} title={job.id}>{job.type.replace(/_/g, ' ')} <span className="mono">{shortId(job.id)}</span></Link>{' '}
      <StatusBadge status={job.status} />
    </span>
  );
}

function progressText(p: Progress | undefined, droplet: Droplet): string {
  if (!p) return droplet.pending_job_id ? 'A job works on it: likely refused' : '';
  switch (p.state) {
    case 'waiting': return 'Waiting';
    case 'sending': return 'Sending…';
    case 'retrying': return `${p.reason} Waiting ${p.seconds} s`;
    case 'requested': return 'Destroy requested';
    case 'failed': return p.reason;
    case 'not sent': return 'Not sent (stopped)';
  }
}

/** The droplets a command touches, with the unfinished jobs on each, and each one's progress. */
function TouchTable(props: { droplets: readonly Droplet[]; touches: Touches; progress?: Record<string, Progress> }) {
  return (
    <div className="table-scroll touch-table">
      <table className="data" aria-label="Droplets it touches">
        <thead>
          <tr><th scope="col">Droplet</th><th scope="col">Status</th><th scope="col">Size</th><th scope="col">Jobs on it</th>
            {props.progress && <th scope="col">Progress</th>}</tr>
        </thead>
        <tbody>
          {props.droplets.map((d) => {
            const jobs = jobsOn(props.touches, d.id);
            const p = props.progress?.[d.id];
            return (
              <tr key={d.id} data-testid={`touch-${d.name}`}>
                <td><Link to={`/droplets/${d.id}`}>{d.name}</Link></td>
                <td><StatusBadge status={d.status} /></td>
                <td className="mono">{d.size}</td>
                <td>{jobs.length ? jobs.map((j) => <JobChip key={j.id} job={j} />) : <span className="muted">none</span>}</td>
                {props.progress && (
                  <td className={p?.state === 'failed' ? 'error' : undefined} data-state={p?.state ?? 'waiting'}>
                    {progressText(p, d)}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The unfinished jobs on the cluster itself (no droplet): not touched, but said. */
function ClusterJobs({ touches }: { touches: Touches }) {
  const own = touches.jobs.filter((j) => !j.droplet_id);
  if (own.length === 0) return null;
  return (
    <p className="touch-note">
      {plural(own.length, 'unfinished job')} on the cluster itself: {own.map((j) => <JobChip key={j.id} job={j} />)}
    </p>
  );
}

function Incomplete({ touches }: { touches: Touches }) {
  if (touches.complete) return null;
  return <p className="error">More than {TOUCH_LIMIT.toLocaleString()} rows: only the first are shown.</p>;
}

function ConfirmName(props: { id: string; value: string; onChange: (value: string) => void; disabled?: boolean }) {
  return (
    <div className="field">
      <label htmlFor={props.id}>Type the cluster&apos;s name to confirm</label>
      <input id={props.id} value={props.value} onChange={(e) => props.onChange(e.target.value)} autoComplete="off"
        disabled={props.disabled} />
    </div>
  );
}

type Run = { droplets: Droplet[]; progress: Record<string, Progress>; done: boolean };

/** Destroys every droplet of the cluster, one request each, after the cluster's name is typed. */
export function DestroyAllDialog(props: { open: boolean; onClose: () => void; id: string; name: string }) {
  const touches = useClusterTouches(props.id, props.open);
  const refresh = useRefreshAfterCommands();
  const [typed, setTyped] = useState('');
  const [run, setRun] = useState<Run | null>(null);
  const stopped = useRef(false);
  const running = !!run && !run.done;
  const close = () => {
    stopped.current = true;
    setTyped('');
    setRun(null);
    props.onClose();
  };
  const start = async (droplets: Droplet[]) => {
    stopped.current = false;
    setRun({ droplets, progress: Object.fromEntries(droplets.map((d) => [d.id, { state: 'waiting' }])), done: false });
    const report = (id: string, p: Progress) =>
      setRun((r) => r && { ...r, progress: { ...r.progress, [id]: p } });
    const positions = await destroyEach(droplets, destroyDroplet, report, { sleep, stopped: () => stopped.current });
    setRun((r) => r && { ...r, done: true });
    await refresh(positions);
  };
  const data = touches.data;
  const shown = run?.droplets ?? data?.droplets ?? [];
  const states = run ? Object.values(run.progress) : [];
  const finished = states.filter((p) => p.state === 'requested' || p.state === 'failed' || p.state === 'not sent').length;
  const failed = states.filter((p) => p.state === 'failed').length;
  const requested = states.filter((p) => p.state === 'requested').length;
  return (
    <Dialog open={props.open} title={`Destroy every droplet of ${props.name}?`} onClose={close}>
      <div className="bulk-dialog">
        {!data && !touches.isError && <p className="muted">Reading the cluster&apos;s droplets and jobs…</p>}
        {touches.isError && <p className="error" role="alert">{touches.error.message}</p>}
        {data && shown.length === 0 && <p>The cluster has no droplet to destroy.</p>}
        {data && shown.length > 0 && (
          <>
            <p>
              This sends one destroy request per droplet, for the {plural(shown.length, 'droplet')} below: their
              providers delete them and free their addresses, and their cost stops. A droplet a job works on is
              refused until the job ends. The cluster itself is kept. It cannot be undone.
            </p>
            <TouchTable droplets={shown} touches={data} progress={run?.progress} />
            <ClusterJobs touches={data} />
            <Incomplete touches={data} />
            {run && (
              <div className="bulk-progress">
                <ProgressBar value={(finished / run.droplets.length) * 100} label="Destroy requests sent"
                  tone={failed ? 'warn' : 'info'} />
                <p role="status">
                  {run.done ? 'Done: ' : ''}{finished} of {run.droplets.length} handled · {requested} requested
                  {failed > 0 && ` · ${failed} failed`}
                </p>
              </div>
            )}
            {!run && <ConfirmName id="confirm-destroy-all" value={typed} onChange={setTyped} />}
          </>
        )}
        <div className="actions">
          {running ? (
            <button onClick={() => { stopped.current = true; }}>Stop after this one</button>
          ) : (
            <button onClick={close}>{run?.done ? 'Close' : 'Cancel'}</button>
          )}
          {!run && data && shown.length > 0 && (
            <button className="danger" disabled={typed !== props.name} onClick={() => void start(data.droplets)}>
              Destroy {plural(shown.length, 'droplet')}
            </button>
          )}
        </div>
      </div>
    </Dialog>
  );
}

/** Deletes the cluster once it has no droplets; shows what still holds it, then asks for its name. */
export function DeleteClusterDialog(props: { open: boolean; onClose: () => void; id: string; name: string; droplets: number }) {
  const remove = useDeleteCluster(props.id);
  const touches = useClusterTouches(props.id, props.open);
  const navigate = useNavigate();
  const [typed, setTyped] = useState('');
  const conflict = remove.error instanceof ProblemError && remove.error.status === 409;
  const data = touches.data;
  const close = () => { remove.reset(); setTyped(''); props.onClose(); };
  return (
    <Dialog open={props.open} title={`Delete ${props.name}?`} onClose={close}>
      <div className="bulk-dialog">
        {props.droplets > 0 && (
          <p className="error">
            It still has {plural(props.droplets, 'droplet')}: a cluster can only be deleted once every droplet in it is
            destroyed (<em>Destroy all droplets</em> does that).
          </p>
        )}
        {!data && !touches.isError && <p className="muted">Reading the cluster&apos;s droplets and jobs…</p>}
        {touches.isError && <p className="error" role="alert">{touches.error.message}</p>}
        {data && data.droplets.length > 0 && <TouchTable droplets={data.droplets} touches={data} />}
        {data && data.droplets.length === 0 && (
          <p>It touches the cluster alone: it has no droplet left. Its history stays in the log.</p>
        )}
        {data && <ClusterJobs touches={data} />}
        {data && <Incomplete touches={data} />}
        <ConfirmName id="confirm-name" value={typed} onChange={setTyped} />
        {remove.error && (
          <p className="error" role="alert">
            {conflict ? `Refused: ${remove.error.message}` : remove.error.message}
          </p>
        )}
        <div className="actions">
          <button onClick={close}>Cancel</button>
          <button className="danger" disabled={typed !== props.name || remove.isPending}
            onClick={() => remove.mutate(undefined, { onSuccess: () => navigate('/clusters') })}>
            Delete
          </button>
        </div>
      </div>
    </Dialog>
  );
}
