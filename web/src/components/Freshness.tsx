// How fresh what is shown is: the position of the log its read model reflects, and how far
// behind the log that is, so a stale read model is never shown without a hint. Follows the live
// stream (the projections query is refreshed by every event).
import { useProjections } from '../api/queries';

/**
 * The hint for a read model at `position`, `lag` events behind the log; named (`readModel`)
 * where the page does not say it (detail pages, cards).
 */
export function freshnessText(position: number, lag: number, readModel?: string): string {
  if (readModel) {
    const from = `From the ${readModel} read model`;
    if (lag <= 0) return `${from}, up to date with the log (position ${position})`;
    return `${from}, ${lag} event${lag === 1 ? '' : 's'} behind the log (at position ${position})`;
  }
  if (lag <= 0) return `Up to date with the log (position ${position})`;
  return `${lag} event${lag === 1 ? '' : 's'} behind the log (read model at position ${position})`;
}

/**
 * The hint for the read model `projection` (`clusters`, `droplets`, `jobs`); `named` says which
 * read model it is, `inCard` fits it inside a card.
 */
export function Freshness({ projection, named, inCard }: { projection: string; named?: boolean; inCard?: boolean }) {
  const projections = useProjections();
  const read = projections.data?.items.find((p) => p.name === projection);
  const classes = ['freshness-hint', read && read.lag > 0 ? 'behind' : '', inCard ? 'in-card' : ''].filter(Boolean).join(' ');
  return (
    <p className={classes} data-testid={`freshness-${projection}`}>
      {read ? freshnessText(read.position, read.lag, named ? projection : undefined) : '\u00a0'}
    </p>
  );
}
