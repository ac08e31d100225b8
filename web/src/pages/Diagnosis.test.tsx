import { fireEvent, screen, within } from '@testing-library/react';
import { api } from '../api/client';
import { DIAGNOSES_PAGE_SIZE } from '../api/genie';
import { answer, diagnosis, pageOf, problem } from '../test/genie';
import { job } from '../test/jobs';
import { renderAt } from '../test/render';
import { ClusterDiagnosis } from './Diagnosis';

afterEach(() => vi.restoreAllMocks());

const LIST = ['diagnosis', 'cl_1', 'list', { page: 1, page_size: DIAGNOSES_PAGE_SIZE }];

function renderTab(items = [diagnosis()]) {
  renderAt('/clusters/cl_1/diagnosis', '/clusters/:id/diagnosis', <ClusterDiagnosis clusterId="cl_1" />, [
    [LIST, pageOf(items)],
    [['jobs', 'detail', 'job_9'], job({ id: 'job_9', type: 'scale_up', status: 'running', progress: 40, droplet_id: null })],
  ]);
}

const latest = () => screen.getByTestId('latest-diagnosis');

test('the latest diagnosis: its score as a meter, insights and recommendations', () => {
  renderTab();
  const meter = within(latest()).getByRole('meter', { name: 'Health score' });
  expect(meter).toHaveAttribute('aria-valuenow', '72');
  expect(meter).toHaveAttribute('aria-valuemin', '0');
  expect(meter).toHaveAttribute('aria-valuemax', '100');
  expect(meter).toHaveAttribute('aria-valuetext', '72 of 100: Good');
  expect(meter).toHaveClass('warn');
  expect(within(latest()).getByText('CPU averaged 91 % over 5 minutes.')).toBeInTheDocument();
  expect(within(latest()).getByText(/rules engine/)).toBeInTheDocument();
  const [high, low] = within(latest()).getAllByRole('listitem').filter((li) => li.classList.contains('recommendation'));
  expect(within(high!).getByText('high priority')).toHaveClass('badge', 'danger');
  expect(within(high!).getByText('Action: Scale up: add 2 droplets of size s-1vcpu-1gb')).toBeInTheDocument();
  expect(within(high!).getByRole('button', { name: 'Implement: Add droplets for redundancy' })).toBeEnabled();
  expect(within(low!).getByText('low priority')).toHaveClass('info');
  expect(within(low!).queryByRole('button')).toBeNull();
  expect(within(low!).getByText('No job to start.')).toBeInTheDocument();
});

test('a recommendation implemented before shows its job instead of Implement', () => {
  renderTab([diagnosis({ implemented: { rec_1: 'job_9' } })]);
  const shown = within(latest()).getByTestId('implemented-job');
  expect(within(shown).getByRole('link')).toHaveAttribute('href', '/jobs/job_9');
  expect(within(latest()).queryByRole('button', { name: /^Implement: / })).toBeNull();
});

test('no diagnosis yet says how to get one', () => {
  renderTab([]);
  expect(within(latest()).getByText(/No diagnosis yet: run one/)).toBeInTheDocument();
  expect(screen.getByText('None yet.')).toBeInTheDocument();
});

test('Implement starts the job and shows it, live through the job hooks', async () => {
  const post = vi.spyOn(api, 'POST').mockResolvedValue(answer(202, { job: job({ id: 'job_9' }), position: 41 }) as never);
  renderTab();
  fireEvent.click(within(latest()).getByRole('button', { name: 'Implement: Add droplets for redundancy' }));
  const shown = await within(latest()).findByTestId('implemented-job');
  expect(post).toHaveBeenCalledWith('/v1/clusters/{id}/recommendations/{rec_id}/implement',
    { params: { path: { id: 'cl_1', rec_id: 'rec_1' } } });
  expect(within(shown).getByRole('link')).toHaveAttribute('href', '/jobs/job_9');
  expect(within(shown).getByRole('link')).toHaveTextContent('scale up job_9');
  expect(within(shown).getByRole('progressbar')).toHaveAttribute('aria-valuenow', '40');
  expect(within(shown).getByText('running')).toBeInTheDocument();
});

test("an outdated recommendation shows the server's 409 at it", async () => {
  vi.spyOn(api, 'POST').mockResolvedValue(answer(409, problem(409, 'diagnosis dg_1 is outdated: dg_2 is newer')) as never);
  renderTab();
  fireEvent.click(within(latest()).getByRole('button', { name: 'Implement: Add droplets for redundancy' }));
  expect(await within(latest()).findByRole('alert')).toHaveTextContent(
    'This recommendation is outdated: diagnosis dg_1 is outdated: dg_2 is newer. Run a new diagnosis',
  );
});

test('a rate-limited run says when to try again and waits until then', async () => {
  // The clock stands still (only `Date` is faked: the page's requests still resolve).
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-12-06T12:00:00Z'));
  vi.spyOn(api, 'POST').mockResolvedValue(
    answer(429, problem(429, 'rate limit diagnose exceeded'), { 'Retry-After': '4' }) as never,
  );
  renderTab();
  // Refused half a second after the page opened: the wait counts from the refusal.
  vi.setSystemTime(new Date('2026-12-06T12:00:00.500Z'));
  fireEvent.click(screen.getByRole('button', { name: 'Run diagnosis' }));
  expect(await screen.findByText('Too many diagnoses of this cluster: rate limit diagnose exceeded. Try again in 4 s.'))
    .toHaveAttribute('role', 'alert');
  expect(screen.getByRole('button', { name: 'Run diagnosis' })).toBeDisabled();
  expect(screen.getByText('Rate limited: try again in 4 s')).toBeInTheDocument();
  vi.useRealTimers();
});

test('a run shows the new diagnosis, with the engine asked', async () => {
  const post = vi.spyOn(api, 'POST').mockResolvedValue(answer(200, diagnosis({
    diagnosis_id: 'dg_2', health_score: 35, health_label: 'Needs Attention', position: 50,
  })) as never);
  renderTab();
  fireEvent.click(screen.getByRole('button', { name: 'Run diagnosis' }));
  expect(await within(latest()).findByRole('meter')).toHaveAttribute('aria-valuenow', '35');
  expect(within(latest()).getByRole('meter')).toHaveClass('danger');
  expect(post).toHaveBeenCalledWith('/v1/clusters/{id}/diagnose', { params: { path: { id: 'cl_1' } }, body: { engine: 'rules' } });
});

// Last: the LLM's refusal is remembered while the console is open.
test('the LLM not configured (422) is said, and the LLM choice disabled', async () => {
  const post = vi.spyOn(api, 'POST').mockResolvedValue(
    answer(422, problem(422, 'the llm engine is not configured')) as never,
  );
  renderTab();
  fireEvent.click(screen.getByRole('radio', { name: 'LLM' }));
  fireEvent.click(screen.getByRole('button', { name: 'Run diagnosis' }));
  expect(await screen.findByRole('alert')).toHaveTextContent(
    'Refused: the LLM engine is not configured on this server. The rules engine is chosen instead.',
  );
  expect(post.mock.calls[0]![1]).toEqual({ params: { path: { id: 'cl_1' } }, body: { engine: 'llm' } });
  const llm = screen.getByRole('radio', { name: 'LLM' });
  expect(llm).toBeDisabled();
  expect(llm).toHaveAccessibleDescription(/the server has no LLM configured \(it answered “the llm engine is not configured”\)/);
  expect(screen.getByRole('radio', { name: /Rules/ })).toBeChecked();
});
