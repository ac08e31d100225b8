const TONES: Record<string, 'ok' | 'warn' | 'danger' | 'info' | 'muted'> = {
  healthy: 'ok', warning: 'warn', critical: 'danger', active: 'ok', succeeded: 'ok', ok: 'ok', running: 'info', live: 'ok',
  degraded: 'warn', provisioning: 'info', queued: 'info', pending: 'info', retrying: 'warn',
  resizing: 'info', migrating: 'info', off: 'muted', cancelled: 'muted', destroyed: 'muted',
  failed: 'danger', unhealthy: 'danger', error: 'danger', timed_out: 'danger', stopped: 'muted',
  completed: 'ok', rolled_back: 'warn',
};

/** A status as a coloured pill; unknown statuses are neutral. */
export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge ${TONES[status] ?? 'muted'}`}>{status.replace(/_/g, ' ')}</span>;
}
