import { fireEvent, render, screen } from '@testing-library/react';
import { ProblemError } from '../api/client';
import { JobForm, checkJobForm } from './JobForm';

const CLUSTERS = [{ id: 'cl_a', name: 'web-prod' }, { id: 'cl_b', name: 'batch' }];

function renderForm(props: Partial<Parameters<typeof JobForm>[0]> = {}) {
  const onSubmit = vi.fn();
  render(<JobForm clusters={CLUSTERS} busy={false} error={null} onSubmit={onSubmit} onCancel={() => {}} {...props} />);
  return onSubmit;
}

test('a diagnose job is started on the chosen cluster, without parameters', () => {
  const onSubmit = renderForm();
  fireEvent.change(screen.getByLabelText('Cluster'), { target: { value: 'cl_b' } });
  fireEvent.click(screen.getByRole('button', { name: 'Start job' }));
  expect(onSubmit).toHaveBeenCalledWith({ type: 'diagnose', cluster_id: 'cl_b' });
});

test('a scale-up carries the count, size and image of the droplets to add', () => {
  const onSubmit = renderForm({ initialCluster: 'cl_a' });
  fireEvent.change(screen.getByLabelText('Type'), { target: { value: 'scale_up' } });
  fireEvent.change(screen.getByLabelText('Count'), { target: { value: '3' } });
  fireEvent.change(screen.getByLabelText('Size'), { target: { value: 'c-2' } });
  fireEvent.click(screen.getByRole('button', { name: 'Start job' }));
  expect(onSubmit).toHaveBeenCalledWith({
    type: 'scale_up', cluster_id: 'cl_a', parameters: { count: 3, size: 'c-2', image: 'ubuntu-22-04-x64' },
  });
});

test('a missing cluster or a count out of range is shown at its field, and nothing is sent', () => {
  const onSubmit = renderForm();
  fireEvent.change(screen.getByLabelText('Type'), { target: { value: 'scale_up' } });
  fireEvent.change(screen.getByLabelText('Count'), { target: { value: '21' } });
  fireEvent.click(screen.getByRole('button', { name: 'Start job' }));
  expect(onSubmit).not.toHaveBeenCalled();
  expect(screen.getByLabelText('Cluster')).toHaveAttribute('aria-invalid', 'true');
  expect(screen.getByText('Choose the cluster the job works on.')).toHaveClass('error');
  expect(screen.getByLabelText('Count')).toHaveAttribute('aria-invalid', 'true');
  expect(screen.getByText('A whole number from 1 to 20.')).toHaveClass('error');
});

test('the form checks counts as whole numbers from 1 to 20', () => {
  const check = (count: string) => checkJobForm({ cluster_id: 'cl_a', type: 'scale_up', count }).count;
  expect(check('1')).toBeUndefined();
  expect(check('20')).toBeUndefined();
  expect(check('0')).toBeDefined();
  expect(check('2.5')).toBeDefined();
  expect(check('')).toBeDefined();
  expect(checkJobForm({ cluster_id: 'cl_a', type: 'diagnose', count: '' })).toEqual({});
});

test("the API's field errors are shown beside their fields", () => {
  const error = new ProblemError(422, {
    title: 'Unprocessable Entity', detail: 'invalid input',
    errors: { cluster_id: 'cluster cl_a does not exist', type: 'provision jobs are started through the droplet endpoints' },
  });
  renderForm({ error, initialCluster: 'cl_a' });
  expect(screen.getByText('cluster cl_a does not exist')).toHaveClass('error');
  expect(screen.getByLabelText('Cluster')).toHaveAttribute('aria-invalid', 'true');
  expect(screen.getByText('provision jobs are started through the droplet endpoints')).toHaveClass('error');
  expect(screen.queryByRole('alert')).toBeNull();
});

test('an error without fields is shown as an alert', () => {
  renderForm({ error: new ProblemError(429, { title: 'Too Many Requests', detail: 'rate limit jobs exceeded; retry in 3 s' }) });
  expect(screen.getByRole('alert')).toHaveTextContent('retry in 3 s');
});
