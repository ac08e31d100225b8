import { scanBackward, scanForward, type ReadEvents, type RecordedEvent } from './audit';

/** A fake log of `n` events (positions 1..n, with gaps where asked) and its reads, counted. */
function fakeLog(n: number, shape: (p: number) => Partial<RecordedEvent> = () => ({}), gaps: number[] = []) {
  const events: RecordedEvent[] = [];
  for (let p = 1; p <= n; p += 1) {
    if (gaps.includes(p)) continue;
    const extra = shape(p);
    events.push({
      id: `e${p}`, position: p, aggregate_type: 'cluster', aggregate_id: p % 2 ? 'cl_odd' : 'cl_even', sequence: p,
      type: 'cluster.renamed', schema_version: 1, recorded_at: '2026-01-01T00:00:00Z', data: {},
      ...extra,
      metadata: { actor: 'anonymous', correlation_id: `c${p}`, causation_id: '', traceparent: '', ...extra.metadata },
    });
  }
  const calls: { after: number; limit: number }[] = [];
  const read: ReadEvents = async (after, limit, filters) => {
    calls.push({ after, limit });
    const items = events
      .filter((e) => e.position > after)
      .filter((e) => !filters.aggregate_id || e.aggregate_id === filters.aggregate_id)
      .filter((e) => !filters.type || e.type === filters.type)
      .slice(0, limit);
    return { items, next_after: items[items.length - 1]?.position ?? after };
  };
  return { read, calls };
}

const positions = (items: RecordedEvent[]) => items.map((e) => e.position);

describe('reading the log forward', () => {
  test('a page and where the next one starts, in one read without filters', async () => {
    const { read, calls } = fakeLog(25);
    const page = await scanForward(read, { after: 0, pageSize: 10, filters: {} });
    expect(positions(page.items)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(page).toMatchObject({ hasOlder: false, hasNewer: true, newerAfter: 10, atHead: false, limited: false });
    expect(calls).toEqual([{ after: 0, limit: 11 }]);
  });

  test('the last page reaches the head', async () => {
    const { read } = fakeLog(25);
    const page = await scanForward(read, { after: 20, pageSize: 10, filters: {} });
    expect(positions(page.items)).toEqual([21, 22, 23, 24, 25]);
    expect(page).toMatchObject({ hasOlder: true, olderBefore: 21, hasNewer: false, atHead: true });
  });

  test('filters the server does not know are applied here, within a budget', async () => {
    const { read, calls } = fakeLog(5000, (p) => ({ metadata: { actor: p % 1000 === 0 ? 'ann' : 'bob' } as RecordedEvent['metadata'] }));
    const page = await scanForward(read, { after: 0, pageSize: 10, filters: { actor: 'ann' }, budget: 3 });
    expect(positions(page.items)).toEqual([1000, 2000, 3000]);
    expect(calls.map((c) => c.limit)).toEqual([1000, 1000, 1000]);
    expect(page).toMatchObject({ limited: true, hasNewer: true, newerAfter: 3000, atHead: false, scanned: { from: 1, to: 3000 } });
  });
});

describe('reading the log backward', () => {
  test('the newest page from the head, in one read without filters', async () => {
    const { read, calls } = fakeLog(100);
    const page = await scanBackward(read, { head: 100, pageSize: 10, filters: {} });
    expect(positions(page.items)).toEqual([91, 92, 93, 94, 95, 96, 97, 98, 99, 100]);
    expect(page).toMatchObject({ hasOlder: true, olderBefore: 91, hasNewer: false, atHead: true, limited: false });
    expect(calls).toHaveLength(1);
  });

  test('a head that moved on since it was learnt is read to its end', async () => {
    const { read } = fakeLog(130);
    const page = await scanBackward(read, { head: 100, pageSize: 10, filters: {} });
    expect(positions(page.items)).toEqual([121, 122, 123, 124, 125, 126, 127, 128, 129, 130]);
  });

  test('a page before a position, across gaps in the positions', async () => {
    const { read } = fakeLog(100, undefined, [45, 46, 47, 48]);
    const page = await scanBackward(read, { before: 50, head: 100, pageSize: 5, filters: {} });
    expect(positions(page.items)).toEqual([40, 41, 42, 43, 44, 49].slice(-5));
    expect(page).toMatchObject({ hasOlder: true, hasNewer: true, newerAfter: 49, atHead: false });
    expect(page.olderBefore).toBe(41);
  });

  test('the first page of the log has nothing older', async () => {
    const { read } = fakeLog(100);
    const page = await scanBackward(read, { before: 4, head: 100, pageSize: 10, filters: {} });
    expect(positions(page.items)).toEqual([1, 2, 3]);
    expect(page).toMatchObject({ hasOlder: false, olderBefore: 1, limited: false });
  });

  test('sparse matches widen the window back until the page is full', async () => {
    const { read, calls } = fakeLog(3000, (p) => ({ aggregate_id: p % 300 === 0 ? 'cl_rare' : 'cl_other' }));
    const page = await scanBackward(read, { head: 3000, pageSize: 5, filters: { aggregate_id: 'cl_rare' } });
    expect(positions(page.items)).toEqual([1800, 2100, 2400, 2700, 3000]);
    expect(page).toMatchObject({ hasOlder: true, olderBefore: 1800 });
    // Windows of 200, 800, then 3200 positions back.
    expect(calls.map((c) => c.after)).toEqual([2800, 2000, 0]);
  });

  test('browser-side filters stop at the budget with one run of positions looked at', async () => {
    const { read } = fakeLog(50_000, (p) => ({ metadata: { correlation_id: p === 10 ? 'wanted' : `c${p}` } as RecordedEvent['metadata'] }));
    const page = await scanBackward(read, { head: 50_000, pageSize: 10, filters: { correlation_id: 'wanted' }, budget: 5 });
    expect(page.items).toEqual([]);
    expect(page.limited).toBe(true);
    expect(page.hasOlder).toBe(true);
    expect(page.scanned.to).toBe(50_000);
    expect(page.olderBefore).toBe(page.scanned.from);
    expect(page.scanned.from).toBeGreaterThan(10);
    // Searching on from there finds it.
    const more = await scanBackward(read, { before: page.olderBefore, head: 0, pageSize: 10, filters: { correlation_id: 'wanted' }, budget: 100 });
    expect(positions(more.items)).toEqual([10]);
    expect(more).toMatchObject({ hasOlder: false, limited: false });
  });

  test('an empty log is an empty head page', async () => {
    const { read } = fakeLog(0);
    const page = await scanBackward(read, { head: 0, pageSize: 10, filters: {} });
    expect(page).toMatchObject({ items: [], hasOlder: false, hasNewer: false, atHead: true });
  });
});
