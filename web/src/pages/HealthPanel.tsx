// A cluster's health as the server's checks see it now: the status and each issue (a metric
// over its threshold, a failed droplet), in the server's words. Follows `cluster.status_changed`; polled where the page
// shows samples (the issues' values move with them).
import type { ReactNode } from 'react';
import { ProblemError } from '../api/client';
import { useClusterHealth } from '../api/genie';
import { StatusBadge } from '../components/Badge';
import { Time } from '../components/Time';
import { DropletLink } from './JobParts';

/** `5 minutes`, `hour`, `90 seconds` (to follow "the last"). */
export function windowText(seconds: number): string {
  const [n, unit] = seconds % 3600 === 0 ? [seconds / 3600, 'hour'] : seconds % 60 === 0 ? [seconds / 60, 'minute'] : [seconds, 'second'];
  return n === 1 ? unit : `${n} ${unit}s`;
}

export function HealthPanel({ clusterId, poll, footer }: { clusterId: string; poll?: boolean; footer?: ReactNode }) {
  const health = useClusterHealth(clusterId, poll);
  const h = health.data;
  return (
    <section className="card health-panel" aria-labelledby="health-title" data-testid="health-panel">
      <h2 id="health-title">Health</h2>
      {health.isError ? (
        <p className="error" role="alert">
          {health.error instanceof ProblemError && health.error.status === 404
            ? `No cluster ${clusterId} exists.` : `The health could not be read: ${health.error.message}`}
        </p>
      ) : !h ? <p className="muted">Loading…</p> : (
        <>
          <p className="row">
            <StatusBadge status={h.status} />
            <span className="muted">checked <Time at={h.checked_at} /> over the last {windowText(h.window_seconds)}</span>
          </p>
          {h.issues.length === 0 ? (
            <p className="muted">No issue: every check passes.</p>
          ) : (
            <ul className="issues" aria-label="Issues">
              {h.issues.map((issue, i) => (
                <li key={`${issue.kind}-${issue.metric_type ?? ''}-${issue.droplet_id ?? ''}-${i}`}>
                  <StatusBadge status={issue.severity} /> <span>{issue.message}</span>
                  {issue.droplet_id && (
                    <> · <DropletLink id={issue.droplet_id} /></>
                  )}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      {footer}
    </section>
  );
}
