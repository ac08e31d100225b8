// What the command palette offers for a text: the pages, the actions, a jump to an id typed or
// pasted whole, and (fetched apart) clusters and droplets found by name.
import type { Zone } from './Time';

export type PaletteAction = 'create-cluster' | 'create-droplet' | 'switch-zone';

export interface PaletteItem {
  /** Unique among the items shown (a DOM id is made of it). */
  key: string;
  kind: 'Page' | 'Action' | 'Go to' | 'Cluster' | 'Droplet';
  label: string;
  detail?: string;
  /** A path to open, or an action to run. */
  to?: string;
  action?: PaletteAction;
}

export const PAGES: readonly { label: string; to: string; words?: string }[] = [
  { label: 'Dashboard', to: '/', words: 'home overview' },
  { label: 'Clusters', to: '/clusters' },
  { label: 'Droplets', to: '/droplets', words: 'machines vms' },
  { label: 'Jobs', to: '/jobs' },
  { label: 'Monitoring', to: '/monitoring', words: 'metrics charts samples cpu memory disk network health' },
  { label: 'Providers & billing', to: '/providers', words: 'chaos faults prices costs' },
  { label: 'Limits', to: '/limits', words: 'rate limits rules 429' },
  { label: 'Audit & Replay', to: '/audit', words: 'log events history' },
  { label: 'System', to: '/system', words: 'projections read models workers health' },
  { label: 'Autoscaling', to: '/autoscaling', words: 'policies scale thresholds decisions' },
  { label: 'Deployments', to: '/deployments', words: 'rollouts canary rolling blue green releases versions' },
];

const ID = /^(cl|dr|job)_[0-9a-f]{32}$/;
const ID_TARGETS = {
  cl: { what: 'cluster', path: '/clusters/' },
  dr: { what: 'droplet', path: '/droplets/' },
  job: { what: 'job', path: '/jobs/' },
} as const;

/** The page of an id typed or pasted whole (`cl_`, `dr_` or `job_` and 32 hex digits), else null. */
export function idTarget(text: string): { id: string; what: string; to: string } | null {
  const id = text.trim().replace(/^["'`]|["'`]$/g, '');
  const match = ID.exec(id);
  if (!match) return null;
  const target = ID_TARGETS[match[1] as keyof typeof ID_TARGETS];
  return { id, what: target.what, to: `${target.path}${id}` };
}

/** Whether every word of `query` is in `text` (case-insensitive). */
export function matches(text: string, query: string): boolean {
  const hay = text.toLowerCase();
  return query.toLowerCase().split(/\s+/).filter(Boolean).every((word) => hay.includes(word));
}

/** The pages and actions matching `query` (all of them for an empty one), after a jump to an id. */
export function staticItems(query: string, zone: Zone): PaletteItem[] {
  const items: PaletteItem[] = [];
  const target = idTarget(query);
  if (target) {
    items.push({ key: `go-${target.id}`, kind: 'Go to', label: `Open ${target.what} ${target.id}`, to: target.to });
    return items;
  }
  for (const page of PAGES) {
    if (matches(`${page.label} ${page.words ?? ''}`, query)) {
      items.push({ key: `page-${page.to}`, kind: 'Page', label: page.label, to: page.to });
    }
  }
  const actions: PaletteItem[] = [
    { key: 'create-cluster', kind: 'Action', label: 'Create cluster', action: 'create-cluster' },
    { key: 'create-droplet', kind: 'Action', label: 'Create droplet', action: 'create-droplet' },
    {
      key: 'switch-zone', kind: 'Action', action: 'switch-zone',
      label: zone === 'utc' ? 'Show times in your local zone' : 'Show times in UTC',
      detail: 'time zone',
    },
  ];
  for (const action of actions) {
    if (matches(`${action.label} ${action.detail ?? ''} new`, query)) items.push(action);
  }
  return items;
}

/** The text to search clusters and droplets by, or null (nothing typed, or an id). */
export function searchText(query: string): string | null {
  const text = query.trim();
  return text && !idTarget(text) ? text : null;
}

/** The `cl_`… cluster whose page is open, for a droplet created from the palette. */
export function clusterOnPage(pathname: string): string | undefined {
  return /^\/clusters\/(cl_[0-9a-f]{32})(\/|$)/.exec(pathname)?.[1];
}
