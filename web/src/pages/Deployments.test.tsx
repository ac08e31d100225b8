import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { api } from '../api/client';
import { deploymentKey, deploymentsKey } from '../api/deployments';
import { deployment } from '../test/deployments';
import { answer, problem } from '../test/genie';
import { renderAt } from '../test/render';
import { ClusterDeployments } from './Deployments';
import { DeploymentDetail } from './DeploymentDetail';

afterEach(() => vi.restoreAllMocks());

function renderTab(items = [deployment()]) {
  vi.spyOn(api, 'GET').mockResolvedValue(answer(200, { items }) as never);
  renderAt('/clusters/cl_1/deployments', '/clusters/:id/deployments', <ClusterDeployments clusterId="cl_1" />, [
    [deploymentsKey('cl_1'), { items }],
  ]);
}

function renderDetail(d = deployment()) {
  renderAt(`/deployments/${d.id}`, '/deployments/:id', <DeploymentDetail />, [
    [deploymentKey(d.id), d],
    [['cluster', 'cl_1'], { id: 'cl_1', name: 'web-prod' }],
  ]);
}

const start = () => fireEvent.click(screen.getByRole('button', { name: 'Start deployment' }));
const location = () => screen.getByTestId('location').textContent;

test("the cluster's deployments with their status", async () => {
  renderTab([deployment({ id: 'dep_2', strategy: 'canary', target_percent: 25, waiting_for_promotion: true, auto_promote: false, phase: 'waiting for promotion' }),
    deployment({ status: 'succeeded', phase: 'done' })]);
  const rows = within(screen.getByRole('table', { name: 'Deployments of this cluster' })).getAllByRole('row').slice(1);
  expect(within(rows[0]!).getByRole('link', { name: 'dep_2' })).toHaveAttribute('href', '/deployments/dep_2');
  expect(rows[0]).toHaveTextContent('canary to 25 %, then waits for Promote');
  expect(within(rows[0]!).getByText('waiting for promotion', { selector: '.badge' })).toBeInTheDocument();
  expect(within(rows[1]!).getByText('succeeded')).toHaveClass('badge', 'ok');
  expect(rows[1]).toHaveTextContent('1.0.0 → 1.1.0');
});

test('a rolling start sends its batch size and opens the deployment', async () => {
  renderTab([]);
  const post = vi.spyOn(api, 'POST').mockResolvedValue(answer(202, { deployment: deployment({ id: 'dep_9' }) }) as never);
  fireEvent.change(screen.getByLabelText('Version'), { target: { value: '2.0.0' } });
  fireEvent.change(screen.getByLabelText('Batch size'), { target: { value: '2' } });
  start();
  await waitFor(() => expect(location()).toBe('/deployments/dep_9'));
  expect(post).toHaveBeenCalledWith('/v1/clusters/{id}/deployments', {
    params: { path: { id: 'cl_1' } }, body: { strategy: 'rolling', version: '2.0.0', batch_size: 2 },
  });
});

test('a canary start sends its share, auto-promote and the gate set', async () => {
  renderTab([]);
  const post = vi.spyOn(api, 'POST').mockResolvedValue(answer(202, { deployment: deployment({ id: 'dep_9' }) }) as never);
  fireEvent.click(screen.getByRole('radio', { name: 'Canary' }));
  expect(screen.queryByLabelText('Batch size')).toBeNull();
  fireEvent.change(screen.getByLabelText('Version'), { target: { value: '2.0.0-rc.1' } });
  fireEvent.change(screen.getByLabelText('Canary share (%)'), { target: { value: '50' } });
  fireEvent.click(screen.getByLabelText(/Promote automatically/));
  fireEvent.click(screen.getByLabelText(/Set the gate/));
  fireEvent.change(screen.getByLabelText('Gate metric'), { target: { value: 'memory' } });
  fireEvent.change(screen.getByLabelText('Gate maximum'), { target: { value: '75' } });
  fireEvent.change(screen.getByLabelText('Gate window (s)'), { target: { value: '60' } });
  start();
  await waitFor(() => expect(post).toHaveBeenCalledWith('/v1/clusters/{id}/deployments', {
    params: { path: { id: 'cl_1' } },
    body: { strategy: 'canary', version: '2.0.0-rc.1', target_percent: 50, auto_promote: false,
      health_gate: { metric: 'memory', max: 75, window_seconds: 60 } },
  }));
});

test('the form checks before sending', () => {
  renderTab([]);
  const post = vi.spyOn(api, 'POST');
  start();
  expect(screen.getByLabelText('Version')).toHaveAccessibleDescription('required, e.g. 1.4.2');
  fireEvent.change(screen.getByLabelText('Version'), { target: { value: 'v 1' } });
  fireEvent.change(screen.getByLabelText('Batch size'), { target: { value: '0' } });
  start();
  expect(screen.getByLabelText('Version')).toHaveAttribute('aria-invalid', 'true');
  expect(screen.getByLabelText('Batch size')).toHaveAccessibleDescription('a whole number, 1 or more');
  expect(post).not.toHaveBeenCalled();
});

test('a 409 (another deployment runs) is said; a 422 lands on its field', async () => {
  renderTab([]);
  const post = vi.spyOn(api, 'POST').mockResolvedValue(
    answer(409, problem(409, 'deployment dep_1 of cluster cl_1 is running')) as never);
  fireEvent.change(screen.getByLabelText('Version'), { target: { value: '2.0.0' } });
  start();
  expect(await screen.findByRole('alert')).toHaveTextContent(
    'Refused: deployment dep_1 of cluster cl_1 is running. Wait for it to finish, or roll it back.');
  post.mockResolvedValue(answer(422, { ...problem(422, 'invalid'), errors: [{ field: 'version', message: 'already deployed' }] }) as never);
  start();
  expect(await screen.findByText('already deployed')).toHaveAttribute('id', 'deploy-version-help');
  expect(screen.queryByRole('alert')).toBeNull();
  post.mockResolvedValue(answer(422, problem(422, 'cluster cl_1 has no active droplet')) as never);
  start();
  expect(await screen.findByRole('alert')).toHaveTextContent('Refused: cluster cl_1 has no active droplet.');
});

test("a running deployment: droplets against the target, steps, gates, logs; Rollback but no Promote", () => {
  renderDetail();
  expect(screen.getByRole('heading', { name: 'Deployment of 1.1.0' })).toBeInTheDocument();
  expect(screen.getByRole('link', { name: 'web-prod' })).toHaveAttribute('href', '/clusters/cl_1/deployments');
  expect(screen.getByTestId('deploy-phase')).toHaveTextContent('gate after batch 1 of 2');
  expect(screen.getByTestId('deploy-progress')).toHaveTextContent('1 of 2 at 1.1.0');
  expect(screen.getByRole('progressbar', { name: 'Droplets at the new version' })).toHaveAttribute('aria-valuenow', '50');
  expect(within(screen.getByTestId('deploy-droplet-web-1')).getByText('at 1.1.0')).toHaveClass('badge', 'ok');
  expect(screen.getByTestId('deploy-droplet-web-2')).toHaveTextContent('1.0.0not yet');
  const steps = within(screen.getByRole('table', { name: 'Steps' })).getAllByRole('row').slice(1);
  expect(steps[0]).toHaveTextContent('web-1');
  expect(within(steps[0]!).getByText('completed')).toHaveClass('ok');
  expect(within(steps[0]!).getByRole('link', { name: 'job_1' })).toHaveAttribute('href', '/jobs/job_1');
  expect(within(steps[1]!).getByText('pending')).toBeInTheDocument();
  const gate = within(screen.getByRole('list', { name: 'Gate results' })).getByRole('listitem');
  expect(within(gate).getByText('passed')).toHaveClass('badge', 'ok');
  expect(gate).toHaveTextContent('cpu observed 42 vs max 90 over 30 s');
  expect(screen.getByRole('list', { name: 'Log lines' })).toHaveTextContent('batch 1 of 2: web-1');
  expect(screen.getByRole('button', { name: 'Rollback' })).toBeEnabled();
  // Promote is a canary's.
  expect(screen.queryByRole('button', { name: 'Promote' })).toBeNull();
});

test('a failed gate names the unhealthy droplets; a finished deployment offers no command', () => {
  renderDetail(deployment({
    status: 'rolled_back', phase: 'rolled back after gate 1',
    gates: [{ after_step: 1, passed: false, reason: 'cpu averaged 97 %, above 90 %', metric: 'cpu', max: 90, observed: 97,
      unhealthy_droplets: ['dr_1'], window_seconds: 30, at: '2026-01-01T12:00:10Z' }],
  }));
  const gate = within(screen.getByRole('list', { name: 'Gate results' })).getByRole('listitem');
  expect(within(gate).getByText('failed')).toHaveClass('danger');
  expect(screen.getByTestId('deploy-droplet-web-2')).toHaveTextContent('1.0.0not at it');
  expect(within(gate).getByRole('link', { name: 'web-1' })).toHaveAttribute('href', '/droplets/dr_1');
  expect(screen.getByText('rolled back', { selector: '.page-head .badge' })).toHaveClass('warn');
  expect(screen.getByRole('button', { name: 'Rollback' })).toBeDisabled();
  expect(screen.getByRole('button', { name: 'Rollback' })).toHaveAttribute('title', 'Finished: nothing to roll back');
  expect(screen.queryByRole('button', { name: 'Promote' })).toBeNull();
});

test('a canary not (or no longer) waiting offers Promote disabled', () => {
  renderDetail(deployment({ strategy: 'canary', target_percent: 50, auto_promote: false, phase: 'canary 1 of 1' }));
  expect(screen.getByRole('button', { name: 'Promote' })).toBeDisabled();
  expect(screen.getByRole('button', { name: 'Rollback' })).toBeEnabled();
});

test('a canary waiting at its target: Promote sends the command', async () => {
  const waiting = deployment({ strategy: 'canary', target_percent: 50, auto_promote: false, waiting_for_promotion: true,
    phase: 'waiting for promotion' });
  const post = vi.spyOn(api, 'POST').mockResolvedValue(answer(202, {
    deployment: { ...waiting, waiting_for_promotion: false, phase: 'rest 1 of 1' },
  }) as never);
  renderDetail(waiting);
  expect(screen.getByRole('button', { name: 'Promote' })).toBeEnabled();
  fireEvent.click(screen.getByRole('button', { name: 'Promote' }));
  expect(await screen.findByText('rest 1 of 1')).toBeInTheDocument();
  expect(post).toHaveBeenCalledWith('/v1/deployments/{id}/promote', { params: { path: { id: 'dep_1' } } });
  expect(screen.getByRole('button', { name: 'Promote' })).toBeDisabled();
});

test('Rollback asks first, then sends the command', async () => {
  const post = vi.spyOn(api, 'POST').mockResolvedValue(answer(202, {
    deployment: deployment({ status: 'rolled_back', phase: 'rolled back' }),
  }) as never);
  renderDetail();
  fireEvent.click(screen.getByRole('button', { name: 'Rollback' }));
  const dialog = screen.getByRole('dialog', { name: 'Roll back this deployment?' });
  expect(dialog).toHaveTextContent('goes back to 1.0.0');
  expect(post).not.toHaveBeenCalled();
  fireEvent.click(within(dialog).getByRole('button', { name: 'Roll back' }));
  await waitFor(() => expect(screen.getByRole('button', { name: 'Rollback' })).toBeDisabled());
  expect(screen.queryByRole('dialog')).toBeNull();
  expect(post).toHaveBeenCalledWith('/v1/deployments/{id}/rollback', { params: { path: { id: 'dep_1' } } });
});
