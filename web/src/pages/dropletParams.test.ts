import { isFiltered, parseDropletQuery, sortChange } from './dropletParams';
import { withChanges } from './urlState';

const parse = (qs: string) => parseDropletQuery(new URLSearchParams(qs));

test('an empty query string is the first page, newest first', () => {
  expect(parse('')).toEqual({ page: 1, page_size: 20, sort_by: 'created_at', sort_dir: 'desc' });
});

test('filters, order and page are read from the query string', () => {
  expect(parse('cluster_id=cl_1&status=off&search=web&sort_by=name&sort_dir=desc&page=3')).toEqual({
    page: 3, page_size: 20, sort_by: 'name', sort_dir: 'desc', cluster_id: 'cl_1', status: 'off', search: 'web',
  });
  // Ordering by name goes A to Z unless the URL says otherwise.
  expect(parse('sort_by=status').sort_dir).toBe('asc');
});

test('values the API would refuse read as absent', () => {
  expect(parse('status=running&sort_by=region&sort_dir=up&page=-2&search=%20%20')).toEqual({
    page: 1, page_size: 20, sort_by: 'created_at', sort_dir: 'desc',
  });
  expect(parse('page=2.5').page).toBe(1);
  expect(parse('page=abc').page).toBe(1);
});

test('a change goes back to the first page, unless it is the page', () => {
  const params = new URLSearchParams('status=active&page=4&search=web');
  expect(withChanges(params, { status: 'off' }).toString()).toBe('status=off&search=web');
  expect(withChanges(params, { search: '' }).toString()).toBe('status=active');
  expect(withChanges(params, { page: '5' }).toString()).toBe('status=active&page=5&search=web');
  expect(params.toString()).toBe('status=active&page=4&search=web');
});

test('a sort button orders by its column, then flips the direction', () => {
  const query = parse('');
  expect(sortChange(query, 'name')).toEqual({ sort_by: 'name', sort_dir: 'asc' });
  expect(sortChange(query, 'created_at')).toEqual({ sort_by: 'created_at', sort_dir: 'asc' });
  expect(sortChange(parse('sort_by=name'), 'name')).toEqual({ sort_by: 'name', sort_dir: 'desc' });
  expect(sortChange(parse('sort_by=name'), 'created_at')).toEqual({ sort_by: 'created_at', sort_dir: 'desc' });
});

test('the list is filtered by a cluster, a status or a search', () => {
  expect(isFiltered(parse('sort_by=name&page=2'))).toBe(false);
  expect(isFiltered(parse('cluster_id=cl_1'))).toBe(true);
  expect(isFiltered(parse('status=off'))).toBe(true);
});
