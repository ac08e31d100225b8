// A cluster's Diagnosis tab: run a diagnosis with the rules engine or the LLM (offered until
// the server says it is not configured), the latest one's score, insights and recommendations
// with Implement (the job it starts is followed live), and every past diagnosis, newest first.
// A `429` disables Run for the seconds `Retry-After` says; an outdated recommendation's `409`
// is shown at it.
import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { CommandError } from '../api/droplets';
import {
  DIAGNOSES_PAGE_SIZE, llmUnavailable, useDiagnoses, useImplement, useRunDiagnosis,
  type Diagnosis, type Engine,
} from '../api/genie';
import { Pager } from '../components/Pager';
import { Time } from '../components/Time';
import { DiagnosisBody, HealthGauge, ImplementationsContext, type Implementations } from './DiagnosisParts';
import { diagnosisRefusal, engineText } from './diagnosisModel';

// What the server said when asked for the LLM and it is not configured (kept while the console
// is open: configuring it takes a restart of the server).
let llmRefusal: string | null = null;

/**
 * Seconds left until `until` (ms), ticking each second; 0 once past. Read from the clock at
 * each render, so that the first render after `until` is set counts from now, not from
 * the last tick.
 */
function useSecondsLeft(until: number | null): number {
  const [, setTicks] = useState(0);
  useEffect(() => {
    if (until === null || until <= Date.now()) return;
    const timer = setInterval(() => {
      setTicks((n) => n + 1);
      if (Date.now() >= until) clearInterval(timer);
    }, 1000);
    return () => clearInterval(timer);
  }, [until]);
  return until === null ? 0 : Math.max(0, Math.ceil((until - Date.now()) / 1000));
}

/** The newer of two diagnoses (by log position). */
function newest(a: Diagnosis | undefined, b: Diagnosis | undefined): Diagnosis | undefined {
  if (!a || !b) return a ?? b;
  return (a.position ?? 0) >= (b.position ?? 0) ? a : b;
}

/** Implement on every recommendation shown (the jobs started before are in each diagnosis). */
function useImplementations(clusterId: string): Implementations {
  const implement = useImplement(clusterId);
  const [jobs, setJobs] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [pending, setPending] = useState<Record<string, boolean>>({});
  return {
    jobOf: (rec) => jobs[rec],
    errorOf: (rec) => errors[rec],
    pending: (rec) => !!pending[rec],
    implement: (rec) => {
      setPending((p) => ({ ...p, [rec]: true }));
      setErrors(({ [rec]: _, ...rest }) => rest);
      implement.mutateAsync(rec)
        .then((answer) => setJobs((j) => ({ ...j, [rec]: answer.job.id })))
        .catch((e: unknown) => setErrors((all) => ({ ...all, [rec]: diagnosisRefusal(e) })))
        .finally(() => setPending(({ [rec]: _, ...rest }) => rest));
    },
  };
}

export function ClusterDiagnosis({ clusterId }: { clusterId: string }) {
  const [page, setPage] = useState(1);
  const first = useDiagnoses(clusterId, 1);
  const run = useRunDiagnosis(clusterId);
  const implementations = useImplementations(clusterId);
  const latest = newest(run.data, first.data?.items[0]);
  return (
    <ImplementationsContext.Provider value={implementations}>
      <div className="diagnosis-top">
        <RunPanel clusterId={clusterId} run={run} />
        <Latest diagnosis={latest} loading={first.isPending} error={first.error} />
      </div>
      <PastDiagnoses clusterId={clusterId} page={page} onPage={setPage} latestId={latest?.diagnosis_id} />
    </ImplementationsContext.Provider>
  );
}

function RunPanel({ clusterId, run }: { clusterId: string; run: ReturnType<typeof useRunDiagnosis> }) {
  const [engine, setEngine] = useState<Engine>('rules');
  const [refused, setRefused] = useState<string | null>(llmRefusal);
  const [blockedUntil, setBlockedUntil] = useState<number | null>(null);
  const wait = useSecondsLeft(blockedUntil);
  const submit = () => run.mutate(engine, {
    onError: (error) => {
      if (engine === 'llm' && llmUnavailable(error)) {
        llmRefusal = error.message;
        setRefused(error.message);
        setEngine('rules');
      }
      if (error instanceof CommandError && error.status === 429 && error.retryAfter != null) {
        setBlockedUntil(Date.now() + error.retryAfter * 1000);
      }
    },
  });
  const error = run.error;
  return (
    <section className="card run-diagnosis" aria-labelledby="run-diagnosis">
      <h2 id="run-diagnosis">Run a diagnosis</h2>
      <fieldset>
        <legend>Engine</legend>
        <div className="choices">
          <label>
            <input type="radio" name={`engine-${clusterId}`} value="rules" checked={engine === 'rules'}
              onChange={() => setEngine('rules')} />
            Rules (built in, reproducible)
          </label>
          <label>
            <input type="radio" name={`engine-${clusterId}`} value="llm" checked={engine === 'llm'} disabled={!!refused}
              aria-describedby={refused ? 'llm-unavailable' : undefined} onChange={() => setEngine('llm')} />
            LLM
          </label>
        </div>
        {refused && (
          <p className="muted" id="llm-unavailable">
            Not available: the server has no LLM configured (it answered &ldquo;{refused.replace(/\.$/, '')}&rdquo;).
            An OpenAI-compatible endpoint is set in the server&rsquo;s configuration; the rules engine works offline.
          </p>
        )}
      </fieldset>
      <div className="row">
        <button className="primary" onClick={submit} disabled={run.isPending || wait > 0}>
          {run.isPending ? 'Diagnosing…' : 'Run diagnosis'}
        </button>
        {wait > 0 && <span className="muted" aria-live="polite">Rate limited: try again in {wait} s</span>}
      </div>
      {error && (
        <p className="error" role="alert">
          {llmUnavailable(error) && refused
            ? 'Refused: the LLM engine is not configured on this server. The rules engine is chosen instead.'
            : diagnosisRefusal(error)}
        </p>
      )}
      <p className="muted">At most 5 diagnoses of a cluster at once, then one every 5 s (the <Link to="/limits">diagnose rule</Link>).</p>
    </section>
  );
}

function Latest({ diagnosis, loading, error }: { diagnosis?: Diagnosis; loading: boolean; error: Error | null }) {
  return (
    <section className="card latest-diagnosis" aria-labelledby="latest-diagnosis" data-testid="latest-diagnosis">
      <h2 id="latest-diagnosis">Latest diagnosis</h2>
      {error ? <p className="error" role="alert">The diagnoses could not be read: {error.message}</p>
        : loading && !diagnosis ? <p className="muted">Loading…</p>
        : !diagnosis ? <p className="empty">No diagnosis yet: run one to see the cluster&rsquo;s health score and what to do.</p>
        : (
          <>
            <div className="row diagnosis-score">
              <HealthGauge score={diagnosis.health_score} label={diagnosis.health_label} />
              <p className="muted">
                <Time at={diagnosis.created_at} /> · {engineText(diagnosis)}
                <br />
                <span className="mono" title="The digest of the inputs it was made from">inputs {diagnosis.inputs_digest.slice(0, 12)}</span>
              </p>
            </div>
            <DiagnosisBody diagnosis={diagnosis} />
          </>
        )}
    </section>
  );
}

function PastDiagnoses(props: { clusterId: string; page: number; onPage: (page: number) => void; latestId?: string }) {
  const list = useDiagnoses(props.clusterId, props.page);
  const data = list.data;
  return (
    <section className="card past-diagnoses" aria-labelledby="past-diagnoses">
      <h2 id="past-diagnoses">Past diagnoses</h2>
      {list.isError ? <p className="error" role="alert">{list.error.message}</p>
        : !data ? <p className="muted">Loading…</p>
        : data.items.length === 0 ? <p className="muted">None yet.</p>
        : (
          <ol className="past-list" aria-label="Diagnoses, newest first">
            {data.items.map((d) => (
              <li key={d.diagnosis_id}>
                <details>
                  <summary>
                    <Time at={d.created_at} /> · score {d.health_score} ({d.health_label}) · {engineText(d)} ·{' '}
                    {d.recommendations.length} recommendation{d.recommendations.length === 1 ? '' : 's'}
                    {d.diagnosis_id === props.latestId && <span className="badge info">latest</span>}
                  </summary>
                  <DiagnosisBody diagnosis={d} />
                </details>
              </li>
            ))}
          </ol>
        )}
      {data && (data.items.length > 0 || props.page > 1) && (
        <Pager page={props.page} pageSize={DIAGNOSES_PAGE_SIZE} total={data.total} estimate={data.total_is_estimate}
          hasNext={!!data.next_cursor} onPage={props.onPage} />
      )}
    </section>
  );
}
