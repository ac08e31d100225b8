// Keyboard navigation of a list table, shared by every list: one row at a time is the table's
// tab stop (roving tabindex); Up/Down (or j/k) move it, Home/End go to the first/last row, Enter
// opens it. The current row is followed by its key, so a live update that reorders rows keeps it;
// when it disappears while focused, the row now at its place takes the focus.
import { useCallback, useId, useLayoutEffect, useRef, useState, type FocusEvent, type KeyboardEvent } from 'react';

/** The index a key moves to from `index` among `count` rows, or null for a key that does not move. */
export function nextIndex(key: string, index: number, count: number): number | null {
  if (count === 0) return null;
  switch (key) {
    case 'ArrowDown':
    case 'j':
      return Math.min(count - 1, index + 1);
    case 'ArrowUp':
    case 'k':
      return Math.max(0, index - 1);
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}

/** What a row of a navigable table is given. */
export interface RowProps {
  tabIndex: number;
  className?: string;
  'data-current'?: string;
  onFocus: (e: FocusEvent) => void;
}

const TYPING = new Set(['INPUT', 'SELECT', 'TEXTAREA']);

/** Shown beside a navigable table (for `aria-describedby`). */
export const ROW_KEYS_HINT = 'Up and Down (or j and k) move between rows, Home and End to the first and last, Enter opens the row.';

export function useRowNavigation<T>(rows: readonly T[] | undefined, keyOf: (row: T) => string, open: (row: T) => void) {
  const body = useRef<HTMLTableSectionElement>(null);
  const [active, setActive] = useState<string | null>(null);
  const lastIndex = useRef(0);
  const list = rows ?? [];
  const found = active == null ? -1 : list.findIndex((row) => keyOf(row) === active);
  if (found >= 0) lastIndex.current = found;
  // The row that is the tab stop: the current one, else the one now at its place.
  const stop = found >= 0 ? found : Math.min(lastIndex.current, list.length - 1);
  // Whether the focus was in the table as this render began (before its rows change).
  const hadFocus = useRef(false);
  hadFocus.current = !!body.current && body.current.contains(document.activeElement);

  const focusRow = useCallback((index: number) => {
    const row = body.current?.rows[index];
    row?.focus();
    row?.scrollIntoView?.({ block: 'nearest' });
  }, []);

  // A live update removed the focused row: the row now at its place takes the focus.
  useLayoutEffect(() => {
    const el = body.current;
    if (!el || !hadFocus.current || el.contains(document.activeElement) || list.length === 0) return;
    focusRow(Math.min(lastIndex.current, list.length - 1));
  }, [list, focusRow]);

  const onKeyDown = (e: KeyboardEvent<HTMLTableSectionElement>) => {
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    const target = e.target as HTMLElement;
    if (TYPING.has(target.tagName)) return;
    const row = target.closest('tr');
    const index = row ? Array.prototype.indexOf.call(body.current?.rows ?? [], row) : -1;
    if (index < 0) return;
    if (e.key === 'Enter') {
      // On a link or a button inside the row, Enter is theirs.
      if (target !== row) return;
      const item = list[index];
      if (item !== undefined) {
        e.preventDefault();
        open(item);
      }
      return;
    }
    const next = nextIndex(e.key, index, list.length);
    if (next === null) return;
    e.preventDefault();
    focusRow(next);
  };

  const bodyProps = { ref: body, onKeyDown };
  const hintId = useId();
  /** For the table: it is described by the hint. */
  const tableProps = { 'aria-describedby': hintId };
  /** For a (visually hidden) element beside the table that says the keys. */
  const hintProps = { id: hintId, className: 'sr-only', children: ROW_KEYS_HINT };

  /** What a row needs: its tab stop, and becoming current when it (or anything in it) takes the focus. */
  const rowProps = (row: T, index: number): RowProps => {
    const key = keyOf(row);
    return {
      tabIndex: index === stop ? 0 : -1,
      className: index === stop ? 'current-row' : undefined,
      'data-current': index === stop ? 'true' : undefined,
      onFocus: () => setActive(key),
    };
  };

  return { tableProps, bodyProps, rowProps, hintProps };
}
