import { fireEvent, screen, within } from '@testing-library/react';
import { job } from '../test/jobs';
import { renderAt } from '../test/render';
import { Jobs } from './Jobs';
import { jobQueryFrom } from './jobState';

const CLUSTERS = ['clusters', { page_size: 500, sort_by: 'name', sort_dir: 'asc' }];
const clusters = { items: [{ id: 'cl_1', name: 'web-prod' }], page_size: 500, total: 1, total_is_estimate: false };

function renderList(search: string, items = [job()]) {
  renderAt(`/jobs${search}`, '/jobs', <Jobs />, [
    [['jobs', jobQueryFrom(new URLSearchParams(search))], { items, page_size: 20, total: items.length, total_is_estimate: false }],
    [CLUSTERS, clusters],
  ]);
}

const location = () => screen.getByTestId('location').textContent;

test('each row shows the phase, progress, attempt and links of its job', () => {
  renderList('', [
    job({ id: 'job_retry', status: 'queued', attempts: 1, progress: 10 }),
    job({ id: 'job_done', status: 'succeeded', attempts: 2, progress: 100, droplet_id: null, cluster_id: 'cl_gone' }),
  ]);
  const [retrying, done] = screen.getAllByRole('row').slice(1);
  expect(within(retrying!).getByText('retrying')).toHaveClass('badge', 'warn');
  expect(within(retrying!).getByText('1 of 5')).toBeInTheDocument();
  expect(within(retrying!).getByRole('progressbar')).toHaveAttribute('aria-valuenow', '10');
  expect(within(retrying!).getByRole('link', { name: /provision/ })).toHaveAttribute('href', '/jobs/job_retry');
  expect(within(retrying!).getByRole('link', { name: 'web-prod' })).toHaveAttribute('href', '/clusters/cl_1');
  expect(within(retrying!).getByRole('link', { name: 'dr_1' })).toHaveAttribute('href', '/droplets/dr_1');
  expect(within(done!).getByText('succeeded')).toHaveClass('ok');
  expect(within(done!).getByText('2 of 5')).toBeInTheDocument();
  // A cluster the lookup does not know is named by its id.
  expect(within(done!).getByRole('link', { name: 'cl_gone' })).toHaveAttribute('href', '/clusters/cl_gone');
});

test('the filters come from the URL and go back to it', () => {
  renderList('?status=queued&type=provision&page=2');
  expect(screen.getByLabelText('Status')).toHaveValue('queued');
  expect(screen.getByLabelText('Type')).toHaveValue('provision');
  expect(screen.getByLabelText('Cluster')).toHaveValue('');
  fireEvent.change(screen.getByLabelText('Cluster'), { target: { value: 'cl_1' } });
  expect(location()).toBe('/jobs?status=queued&type=provision&cluster_id=cl_1');
  fireEvent.click(screen.getByRole('button', { name: 'Clear filters' }));
  expect(location()).toBe('/jobs');
});

test('a header sorts by its column, newest first, then flips', () => {
  renderList('');
  expect(screen.getByRole('columnheader', { name: /Created/ })).toHaveAttribute('aria-sort', 'descending');
  fireEvent.click(screen.getByRole('button', { name: /^Created/ }));
  expect(location()).toBe('/jobs?sort_by=created_at&sort_dir=asc');
  fireEvent.click(screen.getByRole('button', { name: /^Job/ }));
  expect(location()).toBe('/jobs?sort_by=id&sort_dir=desc');
});

test('an empty list says whether filters hide jobs', () => {
  renderList('?type=monitor', []);
  expect(screen.getByText('No job matches these filters.')).toBeInTheDocument();
});

test("a droplet's jobs show as a chip that can be removed", () => {
  const droplet = `dr_${'0123456789abcdef'.repeat(2)}`;
  renderList(`?droplet_id=${droplet}&status=failed`, [job({ droplet_id: droplet })]);
  const chip = screen.getByRole('group', { name: 'Droplet filter' });
  expect(within(chip).getByRole('link')).toHaveAttribute('href', `/droplets/${droplet}`);
  fireEvent.click(within(chip).getByRole('button', { name: /remove the droplet filter/ }));
  expect(location()).toBe('/jobs?status=failed');
});
