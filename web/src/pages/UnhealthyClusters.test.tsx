import { screen, within } from '@testing-library/react';
import { renderAt } from '../test/render';
import { UNHEALTHY_SHOWN, UnhealthyClusters } from './UnhealthyClusters';

const key = (status: string) => ['clusters', { status, page: 1, page_size: UNHEALTHY_SHOWN, sort_by: 'name', sort_dir: 'asc' }];
const cluster = (id: string, name: string, status: string) => ({ id, name, status, region: 'fra1', droplet_count: 1 });
const pageOf = (items: unknown[], total = items.length) => ({ items, page: 1, page_size: UNHEALTHY_SHOWN, total, next_cursor: null });

test('critical clusters first, then warning ones, each to its Diagnosis tab', () => {
  renderAt('/', '/', <UnhealthyClusters />, [
    [key('critical'), pageOf([cluster('cl_2', 'db', 'critical')])],
    [key('warning'), pageOf([cluster('cl_1', 'api', 'warning')], 8)],
  ]);
  const card = screen.getByRole('region', { name: 'Unhealthy clusters' });
  const links = within(card).getAllByRole('link');
  expect(links.map((l) => l.getAttribute('href'))).toEqual(['/clusters/cl_2/diagnosis', '/clusters/cl_1/diagnosis', '/clusters?status=warning']);
  expect(links[0]).toHaveAccessibleName('db (critical): diagnose');
  expect(links[2]).toHaveTextContent('3 more warning');
  expect(within(card).getByText('critical')).toHaveClass('danger');
  expect(within(card).getByText('warning')).toHaveClass('warn');
});

test('a healthy fleet says so', () => {
  renderAt('/', '/', <UnhealthyClusters />, [[key('critical'), pageOf([])], [key('warning'), pageOf([])]]);
  expect(screen.getByText('Every cluster is healthy.')).toBeInTheDocument();
});
