// Read-your-writes: the highest log position this console has written or seen. Reads
// pass it as `min_position`, so a user sees their own command at once.
let known = 0;
const listeners = new Set<(position: number) => void>();

/** The highest position known to this console. */
export function knownPosition(): number {
  return known;
}

/** Records a position (from a command's answer or the live stream). */
export function observe(position: number | undefined | null): void {
  if (typeof position === 'number' && position > known) {
    known = position;
    for (const listener of listeners) listener(known);
  }
}

/** Calls `listener` whenever the known position moves; returns the unsubscribe. */
export function onPosition(listener: (position: number) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** `{ min_position }` when a position is known, for a read that must include it. */
export function fresh(): { min_position?: number } {
  return known > 0 ? { min_position: known } : {};
}
