// How fresh a list is: the position of the log its read model reflects, and how far behind
// the log that is, so a stale read model is never shown without a hint. Follows the live
// stream (the projections query is refreshed by every event).
import { useProjections } from '../api/queries';

/** The hint for a read model at `position`, `lag` events behind the log. */
export function freshnessText(position: number, lag: number): string {
  if (lag <= 0) return `Up to date with the log (position ${position})`;
  return `${lag} event${lag === 1 ? '' : 's'} behind the log (read model at position ${position})`;
}

/** The hint for the read model `projection` (`clusters`, `droplets`, `jobs`). */
export function Freshness({ projection }: { projection: string }) {
  const projections = useProjections();
  const read = projections.data?.items.find((p) => p.name === projection);
  return (
    <p className={`freshness-hint${read && read.lag > 0 ? ' behind' : ''}`} data-testid={`freshness-${projection}`}>
      {read ? freshnessText(read.position, read.lag) : '\u00a0'}
    </p>
  );
}
