import { useProjections, useReadiness, useWorkers } from '../api/queries';
import { StatusBadge } from '../components/Badge';

export function System() {
  const readiness = useReadiness().data;
  const projections = useProjections();
  const workers = useWorkers().data;
  return (
    <>
      <div className="page-head">
        <h1>System</h1>
        {readiness && <StatusBadge status={readiness.status === 'ready' ? 'ok' : 'failed'} />}
      </div>
      <section className="card" aria-labelledby="components">
        <h2 id="components">Components</h2>
        {readiness ? (
          <table className="data">
            <thead><tr><th>Component</th><th>Status</th><th>Detail</th></tr></thead>
            <tbody>
              {Object.entries(readiness.checks).map(([name, check]) => (
                <tr key={name}>
                  <td>{name}</td>
                  <td><StatusBadge status={String((check as { status?: string }).status ?? 'unknown')} /></td>
                  <td className="muted">{describe(check)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : <p className="muted">Loading…</p>}
      </section>
      <section className="card" style={{ marginTop: 16 }} aria-labelledby="projection-table">
        <h2 id="projection-table">Projections</h2>
        <table className="data">
          <thead><tr><th>Name</th><th>Status</th><th>Position</th><th>Lag</th><th>Events/s</th><th>Parked</th><th>Last error</th></tr></thead>
          <tbody>
            {projections.data?.items.map((p) => (
              <tr key={p.name}>
                <td>{p.name}</td><td><StatusBadge status={p.status} /></td><td>{p.position}</td><td>{p.lag}</td>
                <td>{p.events_per_second.toFixed(1)}</td><td>{p.parked}</td><td className="muted">{p.last_error ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {workers && (
        <section className="card" style={{ marginTop: 16 }} aria-labelledby="pool">
          <h2 id="pool">Worker pool</h2>
          <dl className="props">
            <dt>Workers</dt><dd>{workers.active_workers} busy of {workers.worker_count}</dd>
            <dt>Queue</dt><dd>{workers.queue_length} of {workers.queue_capacity}</dd>
            <dt>Unfinished jobs</dt><dd>{workers.unfinished}</dd>
          </dl>
        </section>
      )}
    </>
  );
}

function describe(check: unknown): string {
  const { status: _status, ...rest } = (check ?? {}) as Record<string, unknown>;
  return Object.entries(rest).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' · ');
}
