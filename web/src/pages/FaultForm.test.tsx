import { fireEvent, render, screen } from '@testing-library/react';
import { ProblemError } from '../api/client';
import { FaultForm } from './FaultForm';

function renderForm(props: Partial<Parameters<typeof FaultForm>[0]> = {}) {
  const onSubmit = vi.fn();
  render(<FaultForm provider="stratus" initial={{ failure_rate: 0.2, spike_rate: 0, spike_ms: 0, outage: false }}
    busy={false} error={null} onSubmit={onSubmit} {...props} />);
  return onSubmit;
}

test('the form starts from the current faults and applies percentages as rates', () => {
  const onSubmit = renderForm();
  expect(screen.getByLabelText('Failure rate (%)')).toHaveValue(20);
  fireEvent.change(screen.getByLabelText('Failure rate (%)'), { target: { value: '100' } });
  fireEvent.click(screen.getByLabelText('Outage (every call fails at once)'));
  fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
  expect(onSubmit).toHaveBeenCalledWith({ failure_rate: 1, spike_rate: 0, spike_ms: 0, outage: true });
});

test('a bad value is shown at its field and nothing is sent', () => {
  const onSubmit = renderForm();
  fireEvent.change(screen.getByLabelText('Spike rate (%)'), { target: { value: '150' } });
  fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
  expect(onSubmit).not.toHaveBeenCalled();
  expect(screen.getByLabelText('Spike rate (%)')).toHaveAttribute('aria-invalid', 'true');
  expect(screen.getByText('a percentage from 0 to 100')).toHaveClass('error');
});

test("the API's 422 lands on the field it names", () => {
  renderForm({ error: new ProblemError(422, { detail: 'bad', errors: { 'faults.spike_ms': 'must be at most 600000' } }) });
  expect(screen.getByText('must be at most 600000')).toHaveClass('error');
  expect(screen.getByLabelText('Spike latency (ms)')).toHaveAttribute('aria-invalid', 'true');
});

test('another failure is an alert', () => {
  renderForm({ error: new ProblemError(404, { detail: 'provider nope not found' }) });
  expect(screen.getByRole('alert')).toHaveTextContent('provider nope not found');
});
