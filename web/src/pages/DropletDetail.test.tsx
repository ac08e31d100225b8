import { fireEvent, screen, within } from '@testing-library/react';
import { api } from '../api/client';
import type { Droplet } from '../api/droplets';
import { job } from '../test/jobs';
import { renderAt } from '../test/render';
import { DropletDetail } from './DropletDetail';

const DROPLET: Droplet = {
  id: 'dr_1', name: 'node-a', cluster_id: 'cl_1', cluster_name: 'web-prod', status: 'active', region: 'fra1',
  size: 's-1vcpu-1gb', image: 'ubuntu-22-04-x64', provider: 'simcloud', ip_address: '10.0.0.2', price_hourly: 0.0075,
  pending_job_id: null, version: 4, created_at: '2026-01-01T12:00:00Z', updated_at: '2026-01-01T12:00:00Z',
};

function renderDroplet(jobs: ReturnType<typeof job>[]) {
  // The droplet's jobs are read from its cluster's (the list has no droplet filter).
  vi.spyOn(api, 'GET').mockResolvedValue({
    data: { items: jobs, page_size: 200, total: jobs.length, total_is_estimate: false, next_cursor: null },
    response: new Response(null, { status: 200 }),
  } as never);
  renderAt('/droplets/dr_1', '/droplets/:id', <DropletDetail />, [
    [['droplets', 'detail', 'dr_1'], DROPLET],
    [['droplets', 'stream', 'dr_1'], { items: [] }],
    [['dashboard', 'projections'], { items: [
      { name: 'droplets', position: 12, lag: 0, status: 'running', events_per_second: 0, parked: 0 },
      { name: 'jobs', position: 11, lag: 1, status: 'running', events_per_second: 0, parked: 0 },
    ] }],
  ]);
}

afterEach(() => vi.restoreAllMocks());

test('the page names its read models and how fresh they are', async () => {
  renderDroplet([]);
  expect(screen.getByTestId('freshness-droplets')).toHaveTextContent('From the droplets read model, up to date with the log (position 12)');
  expect(screen.getByTestId('freshness-jobs')).toHaveTextContent('From the jobs read model, 1 event behind the log (at position 11)');
});

test('destroying shows the unfinished jobs on the droplet before its name is typed', async () => {
  renderDroplet([
    job({ id: 'job_mon', droplet_id: 'dr_1', status: 'queued', type: 'monitor' }),
    job({ id: 'job_old', droplet_id: 'dr_1', status: 'succeeded' }),
    job({ id: 'job_other', droplet_id: 'dr_2', status: 'running' }),
  ]);
  fireEvent.click(screen.getByRole('button', { name: 'Destroy' }));
  const dialog = screen.getByRole('dialog');
  const jobs = await within(dialog).findByText(/Unfinished jobs on it/);
  expect(within(jobs).getByRole('link', { name: 'job_mon' })).toHaveAttribute('href', '/jobs/job_mon');
  expect(within(jobs).queryByRole('link', { name: 'job_old' })).toBeNull();
  expect(within(jobs).queryByRole('link', { name: 'job_other' })).toBeNull();
  expect(within(dialog).getByRole('button', { name: 'Destroy' })).toBeDisabled();
});

test('a droplet with no job at work says so', async () => {
  renderDroplet([job({ id: 'job_old', droplet_id: 'dr_1', status: 'succeeded' })]);
  fireEvent.click(screen.getByRole('button', { name: 'Destroy' }));
  expect(await within(screen.getByRole('dialog')).findByText('No job is running or waiting on it.')).toBeInTheDocument();
});
