import { fireEvent, screen, within } from '@testing-library/react';
import type { Droplet } from '../api/droplets';
import { DROPLET_JOBS_PAGE_SIZE } from '../api/droplets';
import { CATALOG } from '../test/catalog';
import { job } from '../test/jobs';
import { PROVIDERS } from '../test/providers';
import { renderAt } from '../test/render';
import { DropletDetail } from './DropletDetail';

const ID = `dr_${'0123456789abcdef'.repeat(2)}`;
const droplet: Droplet = {
  id: ID, cluster_id: 'cl_1', cluster_name: 'web', name: 'web-1', region: 'fra1', size: 'c-2', image: 'rocky-8-x64',
  status: 'active', provider: 'nimbus', ip_address: '10.0.0.7', price_hourly: 0.067083, version: 4,
};

const jobsKey = (page: number) => ['jobs', { droplet_id: ID, page, page_size: DROPLET_JOBS_PAGE_SIZE, sort_dir: 'desc' }];
const pageOf = (items: unknown[], next: string | null, total: number) =>
  ({ items, page_size: DROPLET_JOBS_PAGE_SIZE, total, total_is_estimate: false, next_cursor: next });

function renderDetail(jobs: [unknown[], unknown][], shown: Droplet = droplet) {
  renderAt(`/droplets/${ID}`, '/droplets/:id', <DropletDetail />, [
    [['droplets', 'detail', ID], shown],
    [['provider', 'list'], { items: PROVIDERS, total: PROVIDERS.length }],
    [['catalog'], CATALOG],
    [['droplets', 'stream', ID], { items: [], next_after: 0 }],
    [['dashboard', 'projections'], { items: [
      { name: 'droplets', position: 12, lag: 0, status: 'running', events_per_second: 0, parked: 0 },
      { name: 'jobs', position: 11, lag: 1, status: 'running', events_per_second: 0, parked: 0 },
    ] }],
    ...jobs,
  ]);
}

test("the droplet's jobs are its own, a page at a time, newest first", () => {
  const resize = job({ id: 'job_resize', type: 'resize', status: 'succeeded', droplet_id: ID, progress: 100 });
  const older = job({ id: 'job_old', type: 'power_off', status: 'succeeded', droplet_id: ID, progress: 100 });
  renderDetail([[jobsKey(1), pageOf([resize], 'next', 12)], [jobsKey(2), pageOf([older], null, 12)]]);
  const table = screen.getByRole('table', { name: 'Jobs of this droplet' });
  expect(within(table).getByRole('link', { name: 'job_resize' })).toHaveAttribute('href', '/jobs/job_resize');
  expect(screen.getByRole('region', { name: 'Last job' })).toHaveTextContent('resize');
  expect(screen.getByRole('link', { name: 'Filter them on the Jobs page' }))
    .toHaveAttribute('href', `/jobs?droplet_id=${ID}`);
  fireEvent.click(screen.getByRole('button', { name: 'Next' }));
  expect(within(table).getByRole('link', { name: 'job_old' })).toBeInTheDocument();
  expect(within(table).queryByRole('link', { name: 'job_resize' })).toBeNull();
});

test('a droplet no job worked on says so', () => {
  renderDetail([[jobsKey(1), pageOf([], null, 0)]]);
  expect(screen.getByText('No job found for this droplet.')).toBeInTheDocument();
  expect(screen.queryByRole('navigation', { name: 'Pages' })).toBeNull();
});

test('sizes, images and prices are named from the catalog and the provider', () => {
  renderDetail([[jobsKey(1), pageOf([], null, 0)]]);
  expect(screen.getByText('Rocky Linux 8 x64')).toBeInTheDocument();
  expect(screen.getByTestId('droplet-size').parentElement).toHaveTextContent('c-2 · 2 vCPUs · 4 GB');
  fireEvent.click(screen.getByRole('button', { name: 'Resize' }));
  const dialog = screen.getByRole('dialog', { name: 'Resize web-1' });
  // Nimbus charges 1.15 × the list price: $6.90 a month for s-1vcpu-1gb.
  const small = within(dialog).getByRole('radio', { name: /s-1vcpu-1gb/ }).closest('label') as HTMLElement;
  expect(small).toHaveTextContent('$6.90/mo');
  expect(within(dialog).getByRole('radio', { name: /c-2/ })).toBeDisabled();
});

test('the page names its read models and how fresh they are', () => {
  renderDetail([[jobsKey(1), pageOf([], null, 0)]]);
  expect(screen.getByTestId('freshness-droplets')).toHaveTextContent('From the droplets read model, up to date with the log (position 12)');
  expect(screen.getByTestId('freshness-jobs')).toHaveTextContent('From the jobs read model, 1 event behind the log (at position 11)');
});

test('destroying shows the unfinished jobs on the droplet before its name is typed', async () => {
  renderDetail([[jobsKey(1), pageOf([
    job({ id: 'job_mon', droplet_id: ID, status: 'queued', type: 'monitor' }),
    job({ id: 'job_old', droplet_id: ID, status: 'succeeded' }),
  ], null, 2)]]);
  fireEvent.click(screen.getByRole('button', { name: 'Destroy' }));
  const dialog = screen.getByRole('dialog');
  const jobs = await within(dialog).findByText(/Unfinished jobs on it/);
  expect(within(jobs).getByRole('link', { name: 'job_mon' })).toHaveAttribute('href', '/jobs/job_mon');
  expect(within(jobs).queryByRole('link', { name: 'job_old' })).toBeNull();
  expect(within(dialog).getByRole('button', { name: 'Destroy' })).toBeDisabled();
});

test('a droplet with no job at work says so', async () => {
  renderDetail([[jobsKey(1), pageOf([job({ id: 'job_old', droplet_id: ID, status: 'succeeded' })], null, 1)]]);
  fireEvent.click(screen.getByRole('button', { name: 'Destroy' }));
  expect(await within(screen.getByRole('dialog')).findByText('No job is running or waiting on it.')).toBeInTheDocument();
});

test('the app version a deployment set is shown when the server says it', () => {
  renderDetail([[jobsKey(1), pageOf([], null, 0)]], { ...droplet, app_version: '1.2.0' } as Droplet);
  expect(screen.getByTestId('droplet-app-version')).toHaveTextContent('1.2.0');
});

test('no app version line from a server that does not say it', () => {
  renderDetail([[jobsKey(1), pageOf([], null, 0)]]);
  expect(screen.queryByTestId('droplet-app-version')).toBeNull();
});
