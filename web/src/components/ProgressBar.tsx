/** A percentage as a bar, toned like a status badge; `label` names it for assistive tech. */
export function ProgressBar(props: { value: number; label: string; tone?: 'ok' | 'warn' | 'danger' | 'info' | 'muted' }) {
  const value = Math.max(0, Math.min(100, Math.round(props.value)));
  return (
    <span className="progress-row">
      <span className={`progress ${props.tone ?? 'info'}`} role="progressbar" aria-label={props.label}
        aria-valuemin={0} aria-valuemax={100} aria-valuenow={value}>
        <span className="progress-fill" style={{ width: `${value}%` }} />
      </span>
      <span className="progress-value">{value}%</span>
    </span>
  );
}
