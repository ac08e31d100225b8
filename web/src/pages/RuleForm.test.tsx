import { fireEvent, render, screen } from '@testing-library/react';
import { ProblemError } from '../api/client';
import { RuleForm } from './RuleForm';
import { EMPTY_RULE } from './limitModel';

function renderForm(props: Partial<Parameters<typeof RuleForm>[0]> = {}) {
  const onSubmit = vi.fn();
  render(<RuleForm initial={EMPTY_RULE} editing={false} taken={['jobs_create']} busy={false} error={null}
    onSubmit={onSubmit} onCancel={() => {}} {...props} />);
  return onSubmit;
}

test('a new rule is sent with the routes picked', () => {
  const onSubmit = renderForm();
  fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'droplets_global' } });
  fireEvent.change(screen.getByLabelText('Scope'), { target: { value: 'global' } });
  fireEvent.change(screen.getByLabelText('Rate (tokens per second)'), { target: { value: '0.5' } });
  fireEvent.change(screen.getByLabelText('Capacity (burst)'), { target: { value: '4' } });
  fireEvent.click(screen.getByRole('checkbox', { name: /droplets\.create/ }));
  fireEvent.click(screen.getByRole('button', { name: 'Create' }));
  expect(onSubmit).toHaveBeenCalledWith({
    name: 'droplets_global', scope: 'global', rate_per_sec: 0.5, capacity: 4, endpoints: ['droplets.create'],
  });
});

test('errors are shown at their fields and nothing is sent', () => {
  const onSubmit = renderForm();
  fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'jobs_create' } });
  fireEvent.change(screen.getByLabelText('Capacity (burst)'), { target: { value: '0' } });
  fireEvent.click(screen.getByRole('button', { name: 'Create' }));
  expect(onSubmit).not.toHaveBeenCalled();
  expect(screen.getByText('a rule of this name exists: edit it instead')).toHaveClass('error');
  expect(screen.getByLabelText('Capacity (burst)')).toHaveAttribute('aria-invalid', 'true');
});

test("an edit keeps the name and shows the API's field errors", () => {
  renderForm({
    editing: true,
    initial: { name: 'jobs_create', scope: 'user', rate: '0.1', capacity: '3', endpoints: ['jobs.create'] },
    error: new ProblemError(422, { detail: 'x', errors: { scope: 'a cluster scope needs endpoints that name a cluster' } }),
  });
  expect(screen.getByLabelText('Name')).toHaveAttribute('readonly');
  expect(screen.getByText('a cluster scope needs endpoints that name a cluster')).toHaveClass('error');
  expect(screen.getByRole('checkbox', { name: /jobs\.create/ })).toBeChecked();
  expect(screen.getByRole('button', { name: 'Save' })).toBeInTheDocument();
});
