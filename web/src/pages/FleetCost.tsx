// The fleet's costs: every billed droplet of every cluster, in total and by provider. The
// Dashboard shows it as a card, the Providers & billing page above its costs by cluster; the
// live stream refreshes it (see `FLEET_BILLING_KEY`).
import { useFleetBilling, type FleetBilling } from '../api/providers';
import { CostTable } from './CostTable';
import { costRows, hourlyUsd, monthlyUsd } from './providerModel';

interface Props {
  /** Display names by provider name (the provider list), if at hand. */
  providers?: readonly { name: string; display_name: string }[];
  /** The Dashboard's card: the totals and one line per provider, no table. */
  compact?: boolean;
}

export function FleetCost({ providers = [], compact = false }: Props) {
  const billing = useFleetBilling();
  if (billing.isError) {
    return <p className="error" role="alert">The fleet&apos;s costs could not be read: {billing.error.message}</p>;
  }
  if (!billing.data) return <p className="muted">Loading…</p>;
  return <FleetCostView billing={billing.data} providers={providers} compact={compact} />;
}

export function FleetCostView({ billing: b, providers = [], compact = false }: Props & { billing: FleetBilling }) {
  const rows = costRows(b, providers);
  return (
    <div className="fleet-cost">
      <dl className="billing-totals">
        <div><dt>Per hour</dt><dd className="stat" data-testid="fleet-hourly">{hourlyUsd(b.hourly_cost)}</dd></div>
        <div><dt>Per month</dt><dd className="stat" data-testid="fleet-monthly">{monthlyUsd(b.monthly_cost)}</dd></div>
        {!compact && <div><dt>Billed droplets</dt><dd className="stat" data-testid="fleet-droplets">{b.droplet_count}</dd></div>}
      </dl>
      {rows.length === 0 ? (
        <p className="empty">No droplet is billed yet (destroyed and failed ones cost nothing).</p>
      ) : compact ? (
        <ul className="fleet-providers" aria-label="Cost by provider">
          {rows.map((row) => (
            <li key={row.provider} data-testid={`fleet-cost-${row.provider}`}>
              <span>{row.label}</span>
              <span className="muted">{row.droplets} {row.droplets === 1 ? 'droplet' : 'droplets'}</span>
              <span>{hourlyUsd(row.hourly)}/h</span>
            </li>
          ))}
        </ul>
      ) : (
        <CostTable rows={rows} caption="Costs of the fleet by provider" testIdPrefix="fleet-cost-" />
      )}
    </div>
  );
}
