import { act, screen, waitFor, within } from '@testing-library/react';
import { FLEET_BILLING_KEY, type FleetBilling } from '../api/providers';
import { staleKeys } from '../live/stream';
import { PROVIDERS } from '../test/providers';
import { renderAt } from '../test/render';
import { FleetCost } from './FleetCost';

const cost = (droplet_count: number, monthly_cost: number) => ({
  droplet_count, monthly_cost, hourly_cost: Math.round((monthly_cost / 720) * 1e6) / 1e6,
});

const fleet: FleetBilling = {
  ...cost(3, 61.2),
  by_provider: { simcloud: cost(1, 6), nimbus: cost(2, 55.2) },
  by_region: { nyc1: cost(1, 6), fra1: cost(2, 55.2) },
  position: 42,
};

function renderCost(compact: boolean, billing: FleetBilling | undefined = fleet) {
  const data: [unknown[], unknown][] = billing ? [[[...FLEET_BILLING_KEY], billing]] : [];
  return renderAt('/', '/', <FleetCost providers={PROVIDERS} compact={compact} />, data);
}

test('the fleet total per hour and per month, then each provider, costliest first', () => {
  renderCost(false);
  expect(screen.getByTestId('fleet-hourly')).toHaveTextContent('$0.085');
  expect(screen.getByTestId('fleet-monthly')).toHaveTextContent('$61.20');
  expect(screen.getByTestId('fleet-droplets')).toHaveTextContent('3');
  const [nimbus, simcloud] = screen.getAllByRole('row').slice(1);
  expect(nimbus).toHaveAttribute('data-testid', 'fleet-cost-nimbus');
  expect(within(nimbus!).getByText('Nimbus')).toBeInTheDocument();
  expect(within(nimbus!).getByText('$55.20')).toBeInTheDocument();
  expect(within(nimbus!).getByText('90%')).toBeInTheDocument();
  expect(within(simcloud!).getByText('$6.00')).toBeInTheDocument();
});

test('the Dashboard card lists each provider on one line', () => {
  renderCost(true);
  expect(screen.getByTestId('fleet-monthly')).toHaveTextContent('$61.20');
  expect(screen.queryByTestId('fleet-droplets')).toBeNull();
  const lines = within(screen.getByRole('list', { name: 'Cost by provider' })).getAllByRole('listitem');
  expect(lines.map((l) => l.dataset.testid)).toEqual(['fleet-cost-nimbus', 'fleet-cost-simcloud']);
  expect(lines[0]).toHaveTextContent('Nimbus2 droplets$0.076667/h');
  expect(lines[1]).toHaveTextContent('1 droplet');
});

test('a fleet without billed droplets says so', () => {
  renderCost(true, { ...cost(0, 0), by_provider: {}, by_region: {}, position: 0 });
  expect(screen.getByTestId('fleet-hourly')).toHaveTextContent('$0.00');
  expect(screen.getByText(/No droplet is billed yet/)).toBeInTheDocument();
});

test('a new answer shows at once', async () => {
  const client = renderCost(true);
  await act(async () => {
    client.setQueryData([...FLEET_BILLING_KEY], { ...fleet, ...cost(4, 67.2), by_provider: { simcloud: cost(4, 67.2) } });
  });
  await waitFor(() => expect(screen.getByTestId('fleet-monthly')).toHaveTextContent('$67.20'));
  expect(screen.queryByTestId('fleet-cost-nimbus')).toBeNull();
});

test('droplet and provider events of the live stream make the fleet cost stale', () => {
  const covers = (keys: string[][]) =>
    keys.some((key) => key.every((part, i) => FLEET_BILLING_KEY[i] === part));
  const event = (aggregate_type: string, type: string) => ({ position: 1, aggregate_type, aggregate_id: 'x', type });
  expect(covers(staleKeys(event('droplet', 'droplet.resized')))).toBe(true);
  expect(covers(staleKeys(event('provider', 'provider.updated')))).toBe(true);
  expect(covers(staleKeys(event('job', 'job.progressed')))).toBe(false);
});
