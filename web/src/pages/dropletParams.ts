// The droplet list's filters, sort and page as the URL's query string holds them. Values the
// API would refuse (an unknown status or order, a page below 1) read as absent, so a hand-made
// or outdated link still shows a list.
import type { DropletQuery, DropletSort, DropletStatus } from '../api/droplets';

export const DROPLET_PAGE_SIZE = 20;
export const DROPLET_STATUSES = [
  'provisioning', 'active', 'resizing', 'off', 'failed', 'destroyed',
] as const satisfies readonly DropletStatus[];
export const DROPLET_SORTS = ['created_at', 'name', 'status'] as const satisfies readonly DropletSort[];

const oneOf = <T extends string>(values: readonly T[], value: string | null): T | undefined =>
  values.find((v) => v === value);

/** The list query the URL asks for (newest first unless it says otherwise). */
export function parseDropletQuery(params: URLSearchParams): DropletQuery {
  const page = Number(params.get('page'));
  const status = oneOf(DROPLET_STATUSES, params.get('status'));
  const cluster = params.get('cluster_id')?.trim();
  const search = params.get('search')?.trim();
  const sortBy = oneOf(DROPLET_SORTS, params.get('sort_by')) ?? 'created_at';
  const dir = params.get('sort_dir');
  return {
    page: Number.isInteger(page) && page >= 1 ? page : 1,
    page_size: DROPLET_PAGE_SIZE,
    sort_by: sortBy,
    sort_dir: dir === 'asc' || dir === 'desc' ? dir : sortBy === 'created_at' ? 'desc' : 'asc',
    ...(cluster ? { cluster_id: cluster } : {}),
    ...(status ? { status } : {}),
    ...(search ? { search } : {}),
  };
}


/** The changes a click on a column's sort button makes: that column, or the other direction. */
export function sortChange(query: DropletQuery, key: DropletSort): Record<string, string> {
  if (query.sort_by === key) return { sort_by: key, sort_dir: query.sort_dir === 'asc' ? 'desc' : 'asc' };
  return { sort_by: key, sort_dir: key === 'created_at' ? 'desc' : 'asc' };
}

/** Whether the list is narrowed by a filter (for the empty state's words). */
export function isFiltered(query: DropletQuery): boolean {
  return !!(query.cluster_id || query.status || query.search);
}
