// The command palette (Ctrl+K, or Cmd+K; also the sidebar's button): a modal dialog with a
// combobox over the pages, the actions (create a cluster or a droplet, the time zone), clusters
// and droplets found by name through the list endpoints (`?search=`), and a jump to an id
// typed or pasted whole. Arrow keys move, Enter chooses, Escape closes.
import { lazy, Suspense, useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useLocation, useNavigate } from 'react-router-dom';
import { api, unwrap } from '../api/client';
import { clusterOnPage, searchText, staticItems, type PaletteAction, type PaletteItem } from './paletteModel';
import type { Zone } from './Time';

// The create dialogs are the pages' own, loaded when first asked for.
const CreateClusterDialog = lazy(() => import('../pages/Clusters').then((m) => ({ default: m.CreateClusterDialog })));
const CreateDropletDialog = lazy(() => import('../pages/Droplets').then((m) => ({ default: m.CreateDropletDialog })));

/** Results per kind of search. */
export const SEARCH_PAGE_SIZE = 5;
const DEBOUNCE_MS = 200;

const isMac = () => typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform ?? '');

/** `value`, once it has not changed for `ms`. */
function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/** Clusters and droplets whose name contains `text` (a few of each). */
function useNameSearch(text: string | null) {
  return useQuery({
    queryKey: ['palette', 'search', text],
    enabled: text !== null,
    staleTime: 5_000,
    // The last results stay until the new ones come (no flicker while typing).
    placeholderData: (previous) => previous,
    queryFn: async (): Promise<PaletteItem[]> => {
      const query = { search: text!, page_size: SEARCH_PAGE_SIZE, sort_by: 'name' as const };
      const [clusters, droplets] = await Promise.all([
        api.GET('/v1/clusters', { params: { query } }).then(unwrap),
        api.GET('/v1/droplets', { params: { query } }).then(unwrap),
      ]);
      return [
        ...clusters.items.map((c): PaletteItem => ({
          key: `cluster-${c.id}`, kind: 'Cluster', label: c.name, detail: `${c.region} · ${c.status}`, to: `/clusters/${c.id}`,
        })),
        ...droplets.items.map((d): PaletteItem => ({
          key: `droplet-${d.id}`, kind: 'Droplet', label: d.name,
          detail: `${d.cluster_name ?? d.cluster_id} · ${d.status}`, to: `/droplets/${d.id}`,
        })),
      ];
    },
  });
}

/** The sidebar's button, the shortcut, the palette and the dialogs its actions open. */
export function CommandPalette(props: { zone: Zone; onSwitchZone: () => void }) {
  const [open, setOpen] = useState(false);
  const [creating, setCreating] = useState<null | 'cluster' | 'droplet'>(null);
  const location = useLocation();
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey || e.key.toLowerCase() !== 'k') return;
      // Not over another dialog (a form being filled in).
      if (document.querySelector('dialog[open]:not(.palette)')) return;
      e.preventDefault();
      setOpen((was) => !was);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  const run = (action: PaletteAction) => {
    if (action === 'switch-zone') props.onSwitchZone();
    else setCreating(action === 'create-cluster' ? 'cluster' : 'droplet');
  };
  const shortcut = isMac() ? '⌘ K' : 'Ctrl K';
  return (
    <>
      <button className="palette-button" onClick={() => setOpen(true)} aria-keyshortcuts="Control+K Meta+K">
        <span>Search or jump…</span> <kbd>{shortcut}</kbd>
      </button>
      {open && <PaletteDialog zone={props.zone} onClose={() => setOpen(false)} onAction={run} />}
      <Suspense fallback={null}>
        {creating === 'cluster' && <CreateClusterDialog open onClose={() => setCreating(null)} />}
        {creating === 'droplet' && (
          <CreateDropletDialog open onClose={() => setCreating(null)} clusterId={clusterOnPage(location.pathname)} />
        )}
      </Suspense>
    </>
  );
}

export function PaletteDialog(props: { zone: Zone; onClose: () => void; onAction: (action: PaletteAction) => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const navigate = useNavigate();
  // Where the focus was, to give it back on close.
  const [opener] = useState(() => document.activeElement as HTMLElement | null);
  const [text, setText] = useState('');
  const [active, setActive] = useState(0);
  const searched = useDebounced(searchText(text), DEBOUNCE_MS);
  const search = useNameSearch(searched);
  const items = [...staticItems(text, props.zone), ...(searchText(text) && search.data ? search.data : [])];
  const current = Math.min(active, items.length - 1);
  const listId = useId();
  const optionId = (item: PaletteItem) => `${listId}-${item.key.replace(/[^\w-]/g, '_')}`;

  useEffect(() => {
    const el = dialog.current;
    if (el && !el.open) {
      if (typeof el.showModal === 'function') el.showModal();
      else el.setAttribute('open', '');
    }
    return () => {
      if (opener?.isConnected) opener.focus();
    };
  }, [opener]);

  useEffect(() => {
    const item = items[current];
    if (item) document.getElementById(optionId(item))?.scrollIntoView?.({ block: 'nearest' });
  });

  const choose = (item: PaletteItem | undefined) => {
    if (!item) return;
    props.onClose();
    if (item.to) navigate(item.to);
    if (item.action) props.onAction(item.action);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    const n = items.length;
    if (e.key === 'ArrowDown' && n) {
      e.preventDefault();
      setActive((current + 1) % n);
    } else if (e.key === 'ArrowUp' && n) {
      e.preventDefault();
      setActive((current - 1 + n) % n);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      choose(items[current]);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      props.onClose();
    } else if (e.key === 'Tab') {
      // The field is the dialog's one stop: the focus stays in it.
      e.preventDefault();
    }
  };
  const busy = searchText(text) !== null && (searched !== searchText(text) || search.isFetching);
  const status = busy ? 'Searching clusters and droplets…'
    : search.isError && searchText(text) ? `The search failed: ${search.error.message}`
    : items.length === 0 ? 'Nothing matches: try a cluster or droplet name, a page, or an id.'
    : `${items.length} result${items.length === 1 ? '' : 's'}`;
  return (
    <dialog ref={dialog} className="palette" aria-label="Search or jump"
      onCancel={(e) => { e.preventDefault(); props.onClose(); }}
      onClick={(e) => { if (e.target === dialog.current) props.onClose(); }}>
      <input role="combobox" aria-expanded={items.length > 0}
        aria-controls={items.length > 0 ? listId : undefined} aria-autocomplete="list"
        aria-activedescendant={items[current] ? optionId(items[current]) : undefined}
        aria-label="Search clusters and droplets by name, or type a page, an action or an id"
        placeholder="Search by name, or type a page, an action or an id…" autoFocus autoComplete="off" spellCheck={false}
        value={text} onChange={(e) => { setText(e.target.value); setActive(0); }} onKeyDown={onKeyDown} />
      {items.length > 0 && (
        <ul role="listbox" id={listId} aria-label="Results">
          {items.map((item, i) => (
            <li key={item.key} id={optionId(item)} role="option" aria-selected={i === current}
              onMouseMove={() => { if (i !== current) setActive(i); }} onClick={() => choose(item)}>
              <span className="palette-kind">{item.kind}</span>{' '}
              <span className="palette-label">{item.label}</span>
              {item.detail && <>{' '}<span className="palette-detail">{item.detail}</span></>}
            </li>
          ))}
        </ul>
      )}
      <p className="palette-status" role="status">{status}</p>
    </dialog>
  );
}
