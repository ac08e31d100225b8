import { render, screen } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import { Freshness, freshnessText } from './Freshness';

describe('freshnessText', () => {
  it('says a read model is up to date, or how far behind the log it is', () => {
    expect(freshnessText(42, 0)).toBe('Up to date with the log (position 42)');
    expect(freshnessText(40, 1)).toBe('1 event behind the log (read model at position 40)');
    expect(freshnessText(30, 12)).toBe('12 events behind the log (read model at position 30)');
  });

  it('names the read model where the page does not', () => {
    expect(freshnessText(42, 0, 'droplets')).toBe('From the droplets read model, up to date with the log (position 42)');
    expect(freshnessText(40, 3, 'jobs')).toBe('From the jobs read model, 3 events behind the log (at position 40)');
  });
});

describe('Freshness', () => {
  it('shows the named read model of the projections, flagged when behind', () => {
    const client = new QueryClient({ defaultOptions: { queries: { enabled: false } } });
    client.setQueryData(['dashboard', 'projections'], {
      items: [
        { name: 'clusters', position: 9, lag: 0, status: 'running', events_per_second: 0, parked: 0 },
        { name: 'jobs', position: 7, lag: 2, status: 'running', events_per_second: 0, parked: 0 },
      ],
    });
    render(
      <QueryClientProvider client={client}>
        <Freshness projection="clusters" named inCard />
        <Freshness projection="jobs" named />
      </QueryClientProvider>,
    );
    expect(screen.getByTestId('freshness-clusters')).toHaveTextContent('From the clusters read model, up to date with the log (position 9)');
    expect(screen.getByTestId('freshness-clusters')).toHaveClass('in-card');
    expect(screen.getByTestId('freshness-jobs')).toHaveClass('behind');
  });
});
