import { fireEvent, render, screen } from '@testing-library/react';
import { ProblemError } from '../api/client';
import { staleKeys } from '../live/stream';
import { CATALOG } from '../test/catalog';
import { ProviderForm } from './ProviderForm';

function renderForm(props: Partial<Parameters<typeof ProviderForm>[0]> = {}) {
  const onSubmit = vi.fn();
  render(<ProviderForm catalog={CATALOG} busy={false} error={null} onSubmit={onSubmit} onCancel={() => {}} {...props} />);
  return onSubmit;
}

test('a registration names its regions; every size by default', () => {
  const onSubmit = renderForm();
  fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'edge' } });
  fireEvent.click(screen.getByRole('checkbox', { name: 'fra1' }));
  fireEvent.change(screen.getByLabelText('Price multiplier'), { target: { value: '3' } });
  fireEvent.click(screen.getByRole('button', { name: 'Register' }));
  expect(onSubmit).toHaveBeenCalledTimes(1);
  expect(onSubmit.mock.calls[0]?.[0]).toMatchObject({ name: 'edge', regions: ['fra1'], price_multiplier: 3, capacity_per_region: 50 });
  expect(onSubmit.mock.calls[0]?.[0].sizes).toHaveLength(7);
});

test('missing regions and a bad name are shown at their fields', () => {
  const onSubmit = renderForm();
  fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Edge' } });
  fireEvent.click(screen.getByRole('button', { name: 'Register' }));
  expect(onSubmit).not.toHaveBeenCalled();
  expect(screen.getByLabelText('Name')).toHaveAttribute('aria-invalid', 'true');
  expect(screen.getByText('pick at least one region')).toHaveClass('error');
});

test("the API's field errors are shown at their fields", () => {
  renderForm({ error: new ProblemError(422, { detail: 'x', errors: { 'latency.provision_ms': 'must be at most 600000 ms' } }) });
  expect(screen.getByText('must be at most 600000 ms')).toHaveClass('error');
  expect(screen.getByLabelText('Provision latency (ms)')).toHaveAttribute('aria-invalid', 'true');
});

test("droplet events make providers' usage stale", () => {
  expect(staleKeys({ position: 1, aggregate_type: 'droplet', aggregate_id: 'dr_1', type: 'droplet.provisioned' }))
    .toContainEqual(['provider']);
  expect(staleKeys({ position: 2, aggregate_type: 'provider', aggregate_id: 'edge', type: 'provider.updated' }))
    .toContainEqual(['provider']);
});
