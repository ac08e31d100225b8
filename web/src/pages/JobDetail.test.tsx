import { fireEvent, screen, within } from '@testing-library/react';
import { api } from '../api/client';
import { at, ev, job, retried } from '../test/jobs';
import { renderAt } from '../test/render';
import { JobDetail } from './JobDetail';

const policy = {
  initial_interval_ms: 1000, backoff_coefficient: 2, max_interval_ms: 30000, max_attempts: 5,
  attempt_timeout_ms: 120000, heartbeat_timeout_ms: 30000, non_retryable: [],
};
const workers = {
  running: true, worker_count: 4, active_workers: 0, queue_length: 0, queue_capacity: 100, queued_ids: [],
  active_ids: [], unfinished: 1, policies: { provision: policy },
};

function renderDetail(view = job({ status: 'queued', attempts: 1, error: 'provider down' }), events = retried()) {
  renderAt('/jobs/job_1', '/jobs/:id', <JobDetail />, [
    [['jobs', 'detail', 'job_1'], view],
    [['jobs', 'events', 'job_1'], { aggregate_type: 'job', aggregate_id: 'job_1', version: events.length, items: events }],
    [['dashboard', 'workers'], workers],
  ]);
}

afterEach(() => vi.restoreAllMocks());

test('a job waiting to retry says which attempt comes and when, never plain running', () => {
  renderDetail();
  expect(screen.getByRole('heading', { name: 'provision job' })).toBeInTheDocument();
  const phase = screen.getByTestId('job-phase');
  expect(phase).toHaveTextContent(/^retrying — attempt 2 of 5, next try at/);
  expect(within(phase).getByText((_, el) => el?.tagName === 'TIME')).toHaveAttribute('datetime', at(3));
  expect(screen.queryByText('running')).toBeNull();
  expect(screen.getByText(/Up to 5 attempts \(4 not yet made\)/)).toHaveTextContent(
    'Backoff: 1 s before attempt 2, 2 s before attempt 3, 4 s before attempt 4, 8 s before attempt 5.',
  );
});

test('the attempts table shows each attempt with its outcome and error', () => {
  renderDetail(job({ status: 'running', attempts: 2 }), [...retried(), ev('job.started', { attempt: 2, worker: 'w-1' }, 3)]);
  const rows = within(screen.getByRole('table', { name: 'Attempts' })).getAllByRole('row').slice(1);
  expect(rows).toHaveLength(2);
  expect(within(rows[0]!).getByText('1 of 5')).toBeInTheDocument();
  expect(within(rows[0]!).getByText('failed')).toHaveClass('badge');
  expect(within(rows[0]!).getByText('provider down')).toHaveClass('error');
  expect(rows[0]).toHaveTextContent('provider down · retried');
  expect(within(rows[1]!).getByText('w-1')).toBeInTheDocument();
  expect(within(rows[1]!).getByText('running')).toBeInTheDocument();
  expect(screen.getByTestId('job-phase')).toHaveTextContent('running — attempt 2 of 5');
});

test('the attempt a job waits to retry says when; one overtaken by the job\u2019s end says so', () => {
  renderDetail();
  const [waiting] = within(screen.getByRole('table', { name: 'Attempts' })).getAllByRole('row').slice(1);
  expect(within(waiting!).getByText('retrying')).toHaveClass('badge');
  expect(waiting).toHaveTextContent(/provider down · next try at/);
});

test('a job cancelled while it waited to retry ends its last attempt as failed, not retrying', () => {
  renderDetail(job({ status: 'cancelled', attempts: 1, error: 'provider down' }),
    [...retried(), ev('job.cancel_requested', { reason: null }, 2), ev('job.cancelled', null, 2)]);
  const [attempt] = within(screen.getByRole('table', { name: 'Attempts' })).getAllByRole('row').slice(1);
  expect(within(attempt!).getByText('failed')).toHaveClass('badge');
  expect(attempt).toHaveTextContent('provider down · the job cancelled before the next try');
  expect(screen.getByTestId('job-phase')).toHaveTextContent('cancelled — attempt 1 of 5');
  expect(screen.getByText('Last error: provider down')).toBeInTheDocument();
});

test('the timeline lists the job\u2019s own events with their data', () => {
  renderDetail();
  const timeline = screen.getByRole('list', { name: 'Events of this job' });
  expect(within(timeline).getAllByRole('listitem')).toHaveLength(5);
  expect(within(timeline).getByText('job.retry_scheduled')).toBeInTheDocument();
  expect(within(timeline).getByText(/attempt 1 failed: provider down; next try in 1 s/)).toBeInTheDocument();
  expect(within(timeline).getByText(/"delay_ms": 1000/)).toBeInTheDocument();
});

test('cancelling asks first, sends the reason, and shows a refusal', async () => {
  const post = vi.spyOn(api, 'POST').mockResolvedValue({
    error: { type: 'urn:clustergenie:problem:conflict', title: 'Conflict', status: 409, detail: 'job already finished (cancelled)' },
    response: new Response(null, { status: 409 }),
  } as never);
  renderDetail();
  fireEvent.click(screen.getByRole('button', { name: 'Cancel job' }));
  const dialog = screen.getByRole('dialog');
  expect(post).not.toHaveBeenCalled();
  fireEvent.change(within(dialog).getByLabelText('Reason (optional)'), { target: { value: 'too slow' } });
  fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel job' }));
  expect(await within(dialog).findByRole('alert')).toHaveTextContent('Refused: job already finished (cancelled)');
  expect(post).toHaveBeenCalledWith('/v1/jobs/{id}/cancel', { params: { path: { id: 'job_1' } }, body: { reason: 'too slow' } });
});

test('a finished job offers no cancel', () => {
  renderDetail(job({ status: 'succeeded', progress: 100 }), []);
  expect(screen.queryByRole('button', { name: 'Cancel job' })).toBeNull();
  expect(screen.getByTestId('job-phase')).toHaveTextContent('succeeded — attempt 1 of 5');
});
