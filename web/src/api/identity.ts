// Who the console acts as: the name sent as `X-User-Id` with every API request, recorded as
// the `actor` of the events a command records and keying per-user rate limits. Kept in the
// browser (localStorage), none by default: the API then records `anonymous`.
import { useSyncExternalStore } from 'react';

const KEY = 'cg-user-id';
const CHANGED = 'cg-user-id-changed';

/** The longest name the API takes (`X-User-Id`, trimmed). */
export const MAX_USER_ID = 200;

/**
 * Why the API would refuse `text` as `X-User-Id`, or null when it takes it. The server
 * (api/src/filters/common.rs, `RequestMeta`) trims the header and takes visible ASCII and
 * spaces (the OpenAPI pattern `^[ -~]*$`), at most 200 characters; empty means anonymous.
 */
export function userIdError(text: string): string | null {
  const name = text.trim();
  if (!/^[ -~]*$/.test(name)) return 'Only visible ASCII characters and spaces (no accents, emoji or tabs).';
  if (name.length > MAX_USER_ID) return `At most ${MAX_USER_ID} characters (this is ${name.length}).`;
  return null;
}

/** The name chosen before, trimmed; null when none (or one the API would refuse). */
export function storedUserId(): string | null {
  let saved: string | null = null;
  try {
    saved = localStorage.getItem(KEY);
  } catch {
    // Storage unavailable (private mode, a sandbox): anonymous.
  }
  const name = saved?.trim() ?? '';
  return name && userIdError(name) === null ? name : null;
}

/** Remembers `name` (trimmed; empty or null: none, anonymous) and tells the hooks. */
export function saveUserId(name: string | null): void {
  const trimmed = name?.trim() ?? '';
  if (trimmed && userIdError(trimmed) !== null) throw new Error(userIdError(trimmed) ?? 'invalid name');
  try {
    if (trimmed) localStorage.setItem(KEY, trimmed);
    else localStorage.removeItem(KEY);
  } catch {
    // Not remembered: the next request still reads the storage, so it stays anonymous.
  }
  window.dispatchEvent(new Event(CHANGED));
}

function subscribe(onChange: () => void): () => void {
  // `storage`: another tab of the console changed it.
  const onStorage = (e: StorageEvent) => { if (e.key === KEY || e.key === null) onChange(); };
  window.addEventListener(CHANGED, onChange);
  window.addEventListener('storage', onStorage);
  return () => {
    window.removeEventListener(CHANGED, onChange);
    window.removeEventListener('storage', onStorage);
  };
}

/** The name the console acts as, following changes (this tab's and others'). */
export function useUserId(): string | null {
  return useSyncExternalStore(subscribe, storedUserId, () => null);
}
