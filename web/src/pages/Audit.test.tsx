import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router-dom';
import type { LogPage, RecordedEvent } from '../api/audit';
import { Audit } from './Audit';
import { DiffTable } from './AuditStream';
import { FilterField } from './AuditParts';
import { diffStates } from './auditState';

const page: { current: LogPage | undefined } = { current: undefined };
const asked: unknown[] = [];

vi.mock('../api/audit', async (original) => ({
  ...(await original<typeof import('../api/audit')>()),
  useLogPage: (state: unknown) => {
    asked.push(state);
    return { data: page.current, isPending: !page.current, isError: false, isFetching: false, isPlaceholderData: false };
  },
}));

function event(position: number, extra: Partial<RecordedEvent> = {}): RecordedEvent {
  return {
    id: `e${position}`, position, aggregate_type: 'cluster', aggregate_id: 'cl_1', sequence: position,
    type: 'cluster.renamed', schema_version: 1, recorded_at: '2026-01-01T00:00:00Z', data: { name: 'x' },
    metadata: { actor: 'ann', correlation_id: `corr-${position}`, causation_id: '', traceparent: '' },
    ...extra,
  };
}

function Where() {
  const location = useLocation();
  return <output data-testid="where">{location.pathname + location.search}</output>;
}

function renderAt(url: string) {
  const client = new QueryClient();
  render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[url]}>
        <Routes><Route path="/audit" element={<Audit />} /><Route path="*" element={null} /></Routes>
        <Where />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

const where = () => screen.getByTestId('where').textContent;

beforeEach(() => {
  asked.length = 0;
  page.current = {
    items: [event(7), event(8, { aggregate_type: 'droplet', aggregate_id: 'dr_1', type: 'droplet.requested' }), event(9)],
    hasOlder: true, olderBefore: 7, hasNewer: false, newerAfter: 9, atHead: true,
  };
});

test('newest first, each row linking to its aggregate, its actor and its correlation id', () => {
  renderAt('/audit');
  const rows = screen.getAllByRole('row').slice(1);
  expect(rows.map((r) => within(r).getAllByRole('cell')[0]!.textContent)).toEqual(['#9', '#8', '#7']);
  const droplet = within(rows[1]!);
  expect(droplet.getByRole('link', { name: 'dr_1' })).toHaveAttribute('href', '/audit/droplet/dr_1');
  expect(droplet.getByRole('link', { name: '#8' })).toHaveAttribute('href', '/audit/droplet/dr_1?at=8');
  expect(droplet.getByRole('link', { name: 'corr-8' })).toHaveAttribute('href', '/audit?correlation_id=corr-8');
  expect(droplet.getByRole('link', { name: 'ann' })).toHaveAttribute('href', '/audit?actor=ann');
  expect(screen.getByText(/live: new events appear at the top/)).toBeInTheDocument();
});

test('oldest first lists the page in position order; older pages are read before the first row', () => {
  renderAt('/audit?order=asc&before=50');
  // (a page that still has older rows stays where it is)
  const rows = screen.getAllByRole('row').slice(1);
  expect(rows.map((r) => within(r).getAllByRole('cell')[0]!.textContent)).toEqual(['#7', '#8', '#9']);
  fireEvent.click(screen.getByRole('button', { name: 'Older' }));
  expect(where()).toBe('/audit?order=asc&before=7');
  expect(screen.getByRole('button', { name: 'Newer' })).toBeDisabled();
});

test('paging keeps the filters; a filter change goes back to the first page', () => {
  vi.useFakeTimers();
  renderAt('/audit?aggregate_type=cluster&before=100');
  fireEvent.click(screen.getByRole('button', { name: 'Older' }));
  expect(where()).toBe('/audit?aggregate_type=cluster&before=7');
  fireEvent.change(screen.getByLabelText('Actor'), { target: { value: ' bob ' } });
  act(() => vi.advanceTimersByTime(200));
  expect(where()).toBe('/audit?aggregate_type=cluster&before=7');
  act(() => vi.advanceTimersByTime(200));
  expect(where()).toBe('/audit?aggregate_type=cluster&actor=bob');
  expect(asked[asked.length - 1]).toEqual({ filters: { aggregate_type: 'cluster', actor: 'bob' }, order: 'desc', cursor: null });
  expect(screen.queryByText(/in the browser/)).not.toBeInTheDocument();
  vi.useRealTimers();
});

test('a newer page that reaches the head becomes the first page', () => {
  renderAt('/audit?after=6');
  expect(where()).toBe('/audit');
});

test('following a correlation id from a row asks the server for it alone, from the newest event', () => {
  renderAt('/audit?aggregate_id=cl_1&before=100');
  const row = screen.getAllByRole('row')[2]!;
  fireEvent.click(within(row).getByRole('link', { name: 'corr-8' }));
  expect(where()).toBe('/audit?correlation_id=corr-8');
  expect(asked[asked.length - 1]).toEqual({ filters: { correlation_id: 'corr-8' }, order: 'desc', cursor: null });
  expect(screen.getByLabelText('Correlation id')).toHaveValue('corr-8');
  expect(screen.getByLabelText('Aggregate id')).toHaveValue('');
});

test('a filtered view pages by position both ways', () => {
  page.current = { ...page.current!, hasNewer: true, atHead: false };
  renderAt('/audit?correlation_id=corr-8&before=100');
  expect(screen.getByText('3 events, positions #9–#7')).toBeInTheDocument();
  fireEvent.click(screen.getByRole('button', { name: 'Older' }));
  expect(where()).toBe('/audit?correlation_id=corr-8&before=7');
  fireEvent.click(screen.getByRole('button', { name: 'Newer' }));
  expect(where()).toBe('/audit?correlation_id=corr-8&after=9');
  fireEvent.click(screen.getByRole('button', { name: 'Newest' }));
  expect(where()).toBe('/audit?correlation_id=corr-8');
});

test('no match says so; the metadata filters take at most what the server accepts', () => {
  page.current = { items: [], hasOlder: false, olderBefore: 1, hasNewer: false, newerAfter: 0, atHead: true };
  renderAt('/audit?correlation_id=zzz');
  expect(screen.getByText('No event matches these filters.')).toBeInTheDocument();
  expect(screen.getByLabelText('Correlation id')).toHaveAttribute('maxLength', '255');
  expect(screen.getByLabelText('Actor')).toHaveAttribute('maxLength', '255');
});

test('a filter field takes a value set from outside, without reporting it back', () => {
  vi.useFakeTimers();
  const onChange = vi.fn();
  const { rerender } = render(<FilterField id="f" label="Actor" value="ann" onChange={onChange} />);
  rerender(<FilterField id="f" label="Actor" value="bob" onChange={onChange} />);
  expect(screen.getByLabelText('Actor')).toHaveValue('bob');
  act(() => vi.advanceTimersByTime(1000));
  expect(onChange).not.toHaveBeenCalled();
  vi.useRealTimers();
});

test('the diff shows both points side by side, with each change named', () => {
  const rows = diffStates({ droplet_count: 0, gone: 'x' }, { droplet_count: 2, provider: 'aws' }).filter((r) => r.kind !== 'unchanged');
  render(<DiffTable rows={rows} from={1} to={9} />);
  expect(screen.getByRole('columnheader', { name: 'At #1' })).toBeInTheDocument();
  const cells = (field: string) => within(screen.getByTestId(`diff-${field}`)).getAllByRole('cell').map((c) => c.textContent);
  expect(cells('droplet_count')).toEqual(['0', '2', '~ changed']);
  expect(cells('provider')).toEqual(['absent', 'aws', '+ added']);
  expect(cells('gone')).toEqual(['x', 'absent', '− removed']);
});
