import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { api } from '../api/client';
import { DECISIONS_LIMIT, decisionsKey, policyKey } from '../api/autoscaling';
import { decision, policy } from '../test/autoscaling';
import { answer, problem } from '../test/genie';
import { renderAt } from '../test/render';
import { Autoscaling, ClusterAutoscaling } from './Autoscaling';

afterEach(() => vi.restoreAllMocks());

const DECISIONS = [...decisionsKey('cl_1'), DECISIONS_LIMIT];

function renderTab(current = policy() as ReturnType<typeof policy> | null, items = [decision()]) {
  renderAt('/clusters/cl_1/autoscaling', '/clusters/:id/autoscaling', <ClusterAutoscaling clusterId="cl_1" />, [
    [policyKey('cl_1'), current],
    [DECISIONS, { items }],
  ]);
}

const field = (name: string) => screen.getByLabelText(name);
const save = () => fireEvent.click(screen.getByRole('button', { name: 'Save policy' }));

test("the policy fills the editor; decisions are listed newest first with their reason and job", () => {
  const older = decision({ id: 'asd_0', decision: 'none', count: 0, code: 'within_band', evaluations: 4,
    last_at: '2026-01-01T11:59:00Z', at: '2026-01-01T11:40:00Z', reason: 'cpu averaged 50 %, within the band', job_id: null, trigger: 'schedule' });
  renderTab(policy(), [decision(), older]);
  expect(screen.getByRole('radio', { name: 'Metrics' })).toBeChecked();
  expect(field('Min droplets')).toHaveValue('1');
  expect(field('Max droplets')).toHaveValue('5');
  expect(field('Scale up above (%)')).toHaveValue('80');
  expect(field('Scale down below (%)')).toHaveValue('30');
  expect(field('Metric')).toHaveValue('cpu');
  expect(field('Enabled')).toBeChecked();
  const items = within(screen.getByRole('list', { name: 'Decisions, newest first' })).getAllByRole('listitem');
  expect(items).toHaveLength(2);
  expect(within(items[0]!).getByText('Scale up by 1')).toHaveClass('badge', 'warn');
  expect(items[0]).toHaveTextContent('above_threshold');
  expect(items[0]).toHaveTextContent('cpu averaged 86.2 % over 300 s, above the scale-up threshold 80 %');
  expect(items[0]).toHaveTextContent('1 evaluation · evaluated on demand');
  expect(within(items[0]!).getByRole('link')).toHaveAttribute('href', '/jobs/job_9');
  expect(within(items[1]!).getByText('No change')).toHaveClass('muted');
  expect(items[1]).toHaveTextContent('4 evaluations · on schedule');
  expect(within(items[1]!).queryByRole('link')).toBeNull();
  expect(screen.getByTestId('decision-chart')).toHaveTextContent(
    '2 decisions; now 2 droplets, cpu average 86.2, scale up above 80, down below 30.');
});

test('the editor checks the thresholds, bounds and windows before sending', async () => {
  const put = vi.spyOn(api, 'PUT');
  renderTab();
  fireEvent.change(field('Scale down below (%)'), { target: { value: '85' } });
  fireEvent.change(field('Min droplets'), { target: { value: '6' } });
  save();
  expect(put).not.toHaveBeenCalled();
  expect(field('Scale down below (%)')).toHaveAttribute('aria-invalid', 'true');
  expect(field('Scale down below (%)')).toHaveAccessibleDescription(/below the scale-up threshold/);
  expect(field('Max droplets')).toHaveAccessibleDescription('at least the minimum');
  // Time of day: the windows table, a desired count outside the bounds.
  fireEvent.change(field('Min droplets'), { target: { value: '1' } });
  fireEvent.click(screen.getByRole('radio', { name: 'Time of day' }));
  expect(screen.queryByLabelText('Scale up above (%)')).toBeNull();
  fireEvent.change(field('Desired droplets of window 1'), { target: { value: '9' } });
  fireEvent.click(screen.getByRole('checkbox', { name: 'Mon' }));
  fireEvent.click(screen.getByRole('button', { name: 'Add window' }));
  fireEvent.change(field('End of window 2'), { target: { value: '08:00' } });
  fireEvent.change(field('Start of window 2'), { target: { value: '08:00' } });
  fireEvent.change(field('Time zone of window 2'), { target: { value: 'Nowhere/Special' } });
  save();
  expect(put).not.toHaveBeenCalled();
  expect(field('Desired droplets of window 1')).toHaveAccessibleDescription('within the minimum and maximum (1 to 5)');
  expect(field('End of window 2')).toHaveAccessibleDescription(/^not the start/);
  expect(field('Time zone of window 2')).toHaveAccessibleDescription('an IANA time zone, e.g. Europe/Paris');
  fireEvent.click(screen.getByRole('button', { name: 'Remove window 2' }));
  fireEvent.change(field('Desired droplets of window 1'), { target: { value: '4' } });
  fireEvent.change(field('Time zone of window 1'), { target: { value: 'Europe/Paris' } });
  put.mockResolvedValue(answer(200, policy({ type: 'time_of_day', version: 5 })) as never);
  save();
  await waitFor(() => expect(put).toHaveBeenCalledWith('/v1/clusters/{id}/autoscaling', {
    params: { path: { id: 'cl_1' } },
    body: {
      type: 'time_of_day', enabled: true, min_droplets: 1, max_droplets: 5, cooldown_seconds: 300,
      windows: [{ days: ['tue', 'wed', 'thu', 'fri'], start: '08:00', end: '20:00', time_zone: 'Europe/Paris', desired_droplets: 4 }],
    },
  }));
  expect(await screen.findByText('Saved.')).toBeInTheDocument();
});

test("the server's 422 field errors land on their fields, in either shape", async () => {
  vi.spyOn(api, 'PUT').mockResolvedValue(answer(422, {
    ...problem(422, 'the policy is invalid'),
    errors: [
      { field: 'scale_up_threshold', message: 'must be above the scale-down threshold' },
      { field: 'type', message: 'unknown type' },
    ],
  }) as never);
  renderTab();
  save();
  expect(await screen.findByText('must be above the scale-down threshold')).toHaveAttribute('id', 'policy-scale_up_threshold-help');
  expect(field('Scale up above (%)')).toHaveAttribute('aria-invalid', 'true');
  // A field the editor has no input for is said with the problem.
  expect(screen.getByRole('alert')).toHaveTextContent('Refused: the policy is invalid. type: unknown type.');
});

test('a window field named by the server (map shape) shows at its cell', async () => {
  vi.spyOn(api, 'PUT').mockResolvedValue(answer(422, {
    ...problem(422, 'invalid'), errors: { 'windows[0].time_zone': 'unknown time zone' },
  }) as never);
  renderTab(policy({ type: 'time_of_day', windows: [{ days: ['mon'], start: '08:00', end: '18:00', time_zone: 'UTC', desired_droplets: 2 }] }));
  save();
  expect(await screen.findByText('unknown time zone')).toBeInTheDocument();
  expect(field('Time zone of window 1')).toHaveAccessibleDescription('unknown time zone');
  expect(screen.queryByRole('alert')).toBeNull();
});

test('Evaluate now shows the decision and its reason, with the job it started', async () => {
  const post = vi.spyOn(api, 'POST').mockResolvedValue(answer(200, decision({ id: 'asd_2', job_id: 'job_42' })) as never);
  renderTab();
  fireEvent.click(screen.getByRole('button', { name: 'Evaluate now' }));
  const shown = await screen.findByTestId('evaluation');
  expect(post).toHaveBeenCalledWith('/v1/clusters/{id}/autoscaling/evaluate', { params: { path: { id: 'cl_1' } } });
  expect(within(shown).getByText('Scale up by 1')).toHaveClass('badge');
  expect(shown).toHaveTextContent('above_threshold');
  expect(shown).toHaveTextContent('cpu averaged 86.2 % over 300 s, above the scale-up threshold 80 %');
  expect(within(shown).getByRole('link', { name: 'job_42' })).toHaveAttribute('href', '/jobs/job_42');
});

test('a 409 from Evaluate now is said', async () => {
  vi.spyOn(api, 'POST').mockResolvedValue(answer(409, problem(409, 'cluster cl_1 has no autoscaling policy')) as never);
  renderTab();
  fireEvent.click(screen.getByRole('button', { name: 'Evaluate now' }));
  expect(await screen.findByRole('alert')).toHaveTextContent('No policy to evaluate: cluster cl_1 has no autoscaling policy');
});

test('without a policy: Create, and nothing to evaluate or remove', () => {
  renderTab(null, []);
  expect(screen.getByTestId('no-policy')).toBeInTheDocument();
  expect(screen.getByRole('button', { name: 'Create policy' })).toBeEnabled();
  expect(screen.getByRole('button', { name: 'Evaluate now' })).toBeDisabled();
  expect(screen.queryByRole('button', { name: 'Remove policy' })).toBeNull();
  expect(screen.getByTestId('no-decisions')).toBeInTheDocument();
});

test('Remove asks first, then deletes the policy', async () => {
  const del = vi.spyOn(api, 'DELETE').mockResolvedValue({ data: undefined, response: new Response(null, { status: 204 }) } as never);
  renderTab();
  fireEvent.click(screen.getByRole('button', { name: 'Remove policy' }));
  const dialog = screen.getByRole('dialog', { name: 'Remove the policy?' });
  expect(del).not.toHaveBeenCalled();
  fireEvent.click(within(dialog).getByRole('button', { name: 'Remove' }));
  expect(await screen.findByTestId('no-policy')).toBeInTheDocument();
  expect(del).toHaveBeenCalledWith('/v1/clusters/{id}/autoscaling', { params: { path: { id: 'cl_1' } } });
});

test('the Autoscaling page lists clusters with their policy', () => {
  renderAt('/autoscaling', '/autoscaling', <Autoscaling />, [
    [['clusters', { page_size: 500, sort_by: 'name', sort_dir: 'asc' }],
      { items: [{ id: 'cl_1', name: 'web' }, { id: 'cl_2', name: 'batch' }], page_size: 500, total: 2 }],
    [policyKey('cl_1'), policy()],
    [policyKey('cl_2'), null],
  ]);
  const rows = within(screen.getByRole('table', { name: 'Clusters and their policies' })).getAllByRole('row').slice(1);
  expect(within(rows[0]!).getByRole('link', { name: 'web' })).toHaveAttribute('href', '/clusters/cl_1/autoscaling');
  expect(rows[0]).toHaveTextContent('Metrics');
  expect(rows[0]).toHaveTextContent('cpu above 80 up, below 30 down; 1–5 droplets');
  expect(rows[1]).toHaveTextContent('none');
  expect(within(rows[1]!).getByRole('link', { name: 'Set a policy' })).toHaveAttribute('href', '/clusters/cl_2/autoscaling');
});
