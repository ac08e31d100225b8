// A bill by provider: droplets, hourly and monthly cost, and share of the total.
import { hourlyUsd, monthlyUsd, type CostRow } from './providerModel';

export function CostTable({ rows, caption, testIdPrefix }: { rows: CostRow[]; caption: string; testIdPrefix: string }) {
  return (
    <table className="data">
      <caption className="sr-only">{caption}</caption>
      <thead><tr><th>Provider</th><th>Droplets</th><th>Per hour</th><th>Per month</th><th>Share</th></tr></thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.provider} data-testid={`${testIdPrefix}${row.provider}`}>
            <td>{row.label} <span className="mono muted">{row.provider}</span></td>
            <td>{row.droplets}</td>
            <td>{hourlyUsd(row.hourly)}</td>
            <td>{monthlyUsd(row.monthly)}</td>
            <td>{Math.round(row.share * 100)}%</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
