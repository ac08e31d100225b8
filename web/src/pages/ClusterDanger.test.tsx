import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { api } from '../api/client';
import type { Droplet } from '../api/droplets';
import { job } from '../test/jobs';
import { renderAt } from '../test/render';
import { DeleteClusterDialog, DestroyAllDialog } from './ClusterDanger';

const droplet = (id: string, name: string, overrides: Partial<Droplet> = {}): Droplet => ({
  id, name, cluster_id: 'cl_1', cluster_name: 'web-prod', status: 'active', region: 'fra1', size: 's-1vcpu-1gb',
  image: 'ubuntu-22-04-x64', provider: 'simcloud', ip_address: null, price_hourly: 0.01, pending_job_id: null,
  version: 3, created_at: '2026-01-01T12:00:00Z', updated_at: '2026-01-01T12:00:00Z', ...overrides,
} as Droplet);

const ok = (data: unknown, status = 200) => ({ data, response: new Response(null, { status }) });
const page = (items: unknown[]) => ok({ items, page_size: 500, total: items.length, total_is_estimate: false, next_cursor: null });

/** The list endpoints answer these droplets and jobs (by status). */
function lists(droplets: Droplet[], jobs: ReturnType<typeof job>[]) {
  return vi.spyOn(api, 'GET').mockImplementation((async (path: string, init: { params: { query: { status?: string } } }) => {
    if (path === '/v1/droplets') return page(droplets);
    if (path === '/v1/jobs') return page(jobs.filter((j) => j.status === init.params.query.status));
    throw new Error(`unexpected GET ${path}`);
  }) as never);
}

afterEach(() => vi.restoreAllMocks());

const FLEET = [
  droplet('dr_a', 'node-a'),
  droplet('dr_b', 'node-b', { pending_job_id: 'job_busy', version: 7 }),
  droplet('dr_gone', 'node-gone', { status: 'destroyed' }),
];
const JOBS = [
  job({ id: 'job_busy', droplet_id: 'dr_b', status: 'running', type: 'resize' }),
  job({ id: 'job_diag', droplet_id: null, status: 'queued', type: 'diagnose' }),
];

test('destroy all lists the droplets and the jobs on them, and waits for the cluster name', async () => {
  lists(FLEET, JOBS);
  const del = vi.spyOn(api, 'DELETE');
  renderAt('/c', '/c', <DestroyAllDialog open onClose={() => {}} id="cl_1" name="web-prod" />);
  const dialog = screen.getByRole('dialog');
  const table = await within(dialog).findByRole('table', { name: 'Droplets it touches' });
  expect(within(table).getAllByRole('row')).toHaveLength(3);
  expect(within(table).queryByText('node-gone')).toBeNull();
  expect(within(screen.getByTestId('touch-node-b')).getByRole('link', { name: /resize/ })).toHaveAttribute('href', '/jobs/job_busy');
  expect(within(screen.getByTestId('touch-node-a')).getByText('none')).toBeInTheDocument();
  expect(within(dialog).getByText(/1 unfinished job on the cluster itself/)).toBeInTheDocument();
  const confirm = within(dialog).getByRole('button', { name: 'Destroy 2 droplets' });
  expect(confirm).toBeDisabled();
  fireEvent.change(within(dialog).getByLabelText("Type the cluster's name to confirm"), { target: { value: 'web-pro' } });
  expect(confirm).toBeDisabled();
  fireEvent.change(within(dialog).getByLabelText("Type the cluster's name to confirm"), { target: { value: 'web-prod' } });
  expect(confirm).toBeEnabled();
  expect(del).not.toHaveBeenCalled();
});

test('destroy all sends one DELETE per droplet at the version shown and says how each went', async () => {
  lists(FLEET, JOBS);
  const del = vi.spyOn(api, 'DELETE').mockImplementation((async (_: string, init: { params: { path: { id: string } } }) => {
    if (init.params.path.id === 'dr_b') {
      return {
        error: { status: 409, title: 'Conflict', detail: 'a job is working on the droplet' },
        response: new Response(null, { status: 409 }),
      };
    }
    return ok({ job: job({ id: 'job_destroy_a', type: 'destroy' }), position: 40 }, 202);
  }) as never);
  renderAt('/c', '/c', <DestroyAllDialog open onClose={() => {}} id="cl_1" name="web-prod" />);
  const dialog = screen.getByRole('dialog');
  await within(dialog).findByRole('table', { name: 'Droplets it touches' });
  fireEvent.change(within(dialog).getByLabelText("Type the cluster's name to confirm"), { target: { value: 'web-prod' } });
  fireEvent.click(within(dialog).getByRole('button', { name: 'Destroy 2 droplets' }));
  await within(dialog).findByText(/^Done: 2 of 2 handled · 1 requested · 1 failed/);
  expect((del.mock.calls as unknown[][]).map(([path, init]) => [path, init])).toEqual([
    ['/v1/droplets/{id}', { params: { path: { id: 'dr_a' }, header: { 'If-Match': '"3"' } } }],
    ['/v1/droplets/{id}', { params: { path: { id: 'dr_b' }, header: { 'If-Match': '"7"' } } }],
  ]);
  expect(within(screen.getByTestId('touch-node-a')).getByText('Destroy requested')).toBeInTheDocument();
  expect(within(screen.getByTestId('touch-node-b')).getByText('Refused: a job is working on the droplet.')).toHaveClass('error');
  expect(within(dialog).getByRole('progressbar', { name: 'Destroy requests sent' })).toHaveAttribute('aria-valuenow', '100');
  expect(within(dialog).getByRole('button', { name: 'Close' })).toBeInTheDocument();
});

test('deleting a cluster shows the droplets that still hold it before its name is typed', async () => {
  lists(FLEET, JOBS);
  renderAt('/c', '/c', <DeleteClusterDialog open onClose={() => {}} id="cl_1" name="web-prod" droplets={2} />);
  const dialog = screen.getByRole('dialog');
  expect(within(dialog).getByText(/It still has 2 droplets/)).toBeInTheDocument();
  await within(dialog).findByRole('table', { name: 'Droplets it touches' });
  expect(within(dialog).getByRole('link', { name: 'node-a' })).toHaveAttribute('href', '/droplets/dr_a');
  expect(within(dialog).getByRole('button', { name: 'Delete' })).toBeDisabled();
});

test('deleting an empty cluster says it touches the cluster alone', async () => {
  lists([], []);
  renderAt('/c', '/c', <DeleteClusterDialog open onClose={() => {}} id="cl_1" name="web-prod" droplets={0} />);
  await screen.findByText(/It touches the cluster alone/);
  fireEvent.change(screen.getByLabelText("Type the cluster's name to confirm"), { target: { value: 'web-prod' } });
  await waitFor(() => expect(screen.getByRole('button', { name: 'Delete' })).toBeEnabled());
});
