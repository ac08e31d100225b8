// Times are shown in one zone everywhere: the viewer's (the default) or UTC, switched in the
// sidebar and remembered in this browser.
import { createContext, useContext } from 'react';

export type Zone = 'local' | 'utc';

/** The zone every `Time` shows. */
export const ZoneContext = createContext<Zone>('local');

/** The zone chosen before in this browser, else the viewer's. */
export function storedZone(): Zone {
  return localStorage.getItem('cg-zone') === 'utc' ? 'utc' : 'local';
}

export function saveZone(zone: Zone): void {
  localStorage.setItem('cg-zone', zone);
}

/** `at` as the console shows it in `zone` (UTC times say so). */
export function formatTime(at: string, zone: Zone): string {
  const date = new Date(at);
  const text = date.toLocaleString(undefined, {
    dateStyle: 'medium',
    timeStyle: 'medium',
    timeZone: zone === 'utc' ? 'UTC' : undefined,
  });
  return zone === 'utc' ? `${text} UTC` : text;
}

/** A timestamp in the chosen zone, with the exact UTC time on hover. */
export function Time({ at }: { at?: string | null }) {
  const zone = useContext(ZoneContext);
  if (!at) return <span className="muted">—</span>;
  return (
    <time dateTime={at} title={new Date(at).toISOString()}>
      {formatTime(at, zone)}
    </time>
  );
}
