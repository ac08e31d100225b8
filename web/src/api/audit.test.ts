import { NEWEST, readBackward, readForward, readLogPage, type ReadEvents, type RecordedEvent } from './audit';
import { parseLogState } from '../pages/auditState';

type Request = Parameters<ReadEvents>[0];

/**
 * A fake server over a log of `n` events (positions 1..n, with gaps where asked): it
 * answers `GET /v1/events` as the API does, filters included, and counts its reads.
 */
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
  const calls: Request[] = [];
  const read: ReadEvents = async (request) => {
    calls.push(request);
    const { filters, limit } = request;
    const matching = events
      .filter((e) => !filters.aggregate_type || e.aggregate_type === filters.aggregate_type)
      .filter((e) => !filters.aggregate_id || e.aggregate_id === filters.aggregate_id)
      .filter((e) => !filters.type || e.type === filters.type)
      .filter((e) => !filters.actor || e.metadata.actor === filters.actor)
      .filter((e) => !filters.correlation_id || e.metadata.correlation_id === filters.correlation_id);
    if ('before' in request) {
      const items = matching.filter((e) => e.position < request.before).reverse().slice(0, limit);
      return {
        items,
        next_before: items[items.length - 1]?.position ?? request.before,
        next_after: items[0]?.position ?? request.before - 1,
      };
    }
    const items = matching.filter((e) => e.position > request.after).slice(0, limit);
    return { items, next_after: items[items.length - 1]?.position ?? request.after };
  };
  return { read, calls };
}

const positions = (items: RecordedEvent[]) => items.map((e) => e.position);

describe('reading the log forward', () => {
  test('a page and where the next one starts, in one read of one more than a page', async () => {
    const { read, calls } = fakeLog(25);
    const page = await readForward(read, { after: 0, pageSize: 10, filters: {} });
    expect(positions(page.items)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(page).toMatchObject({ hasOlder: false, hasNewer: true, newerAfter: 10, atHead: false });
    expect(calls).toEqual([{ after: 0, limit: 11, filters: {} }]);
  });

  test('the last page reaches the head', async () => {
    const { read } = fakeLog(25);
    const page = await readForward(read, { after: 20, pageSize: 10, filters: {} });
    expect(positions(page.items)).toEqual([21, 22, 23, 24, 25]);
    expect(page).toMatchObject({ hasOlder: true, olderBefore: 21, hasNewer: false, newerAfter: 25, atHead: true });
  });

  test('actor and correlation id are filtered by the server: one read, however sparse the matches', async () => {
    const { read, calls } = fakeLog(50_000, (p) => ({
      metadata: { actor: p % 10_000 === 0 ? 'ann' : 'bob' } as RecordedEvent['metadata'],
    }));
    const page = await readForward(read, { after: 0, pageSize: 10, filters: { actor: 'ann', aggregate_id: 'cl_even' } });
    expect(positions(page.items)).toEqual([10_000, 20_000, 30_000, 40_000, 50_000]);
    expect(calls).toEqual([{ after: 0, limit: 11, filters: { actor: 'ann', aggregate_id: 'cl_even' } }]);
    expect(page.atHead).toBe(true);
  });
});

describe('reading the log backward', () => {
  test('the newest page, read back from above any head in one read', async () => {
    const { read, calls } = fakeLog(100);
    const page = await readBackward(read, { pageSize: 10, filters: {} });
    expect(positions(page.items)).toEqual([91, 92, 93, 94, 95, 96, 97, 98, 99, 100]);
    expect(page).toMatchObject({ hasOlder: true, olderBefore: 91, hasNewer: false, newerAfter: 100, atHead: true });
    expect(calls).toEqual([{ before: NEWEST, limit: 11, filters: {} }]);
  });

  test('a page before a position, across gaps in the positions', async () => {
    const { read } = fakeLog(100, undefined, [45, 46, 47, 48]);
    const page = await readBackward(read, { before: 50, pageSize: 5, filters: {} });
    expect(positions(page.items)).toEqual([41, 42, 43, 44, 49]);
    expect(page).toMatchObject({ hasOlder: true, olderBefore: 41, hasNewer: true, newerAfter: 49, atHead: false });
  });

  test('the first page of the log has nothing older', async () => {
    const { read } = fakeLog(100);
    const page = await readBackward(read, { before: 4, pageSize: 10, filters: {} });
    expect(positions(page.items)).toEqual([1, 2, 3]);
    expect(page).toMatchObject({ hasOlder: false, hasNewer: true, newerAfter: 3 });
  });

  test('a correlation id is followed across aggregates, newest first, in one read', async () => {
    const kinds = ['droplet', 'job', 'cluster'] as const;
    const { read, calls } = fakeLog(30_000, (p) => ({
      aggregate_type: kinds[p % 3],
      metadata: { correlation_id: p >= 29_000 && p < 29_003 ? 'req-1' : `c${p}` } as RecordedEvent['metadata'],
    }));
    const page = await readBackward(read, { pageSize: 50, filters: { correlation_id: 'req-1' } });
    expect(positions(page.items)).toEqual([29_000, 29_001, 29_002]);
    expect(new Set(page.items.map((e) => e.aggregate_type))).toEqual(new Set(kinds));
    expect(calls).toHaveLength(1);
    expect(calls[0]!.filters).toEqual({ correlation_id: 'req-1' });
    expect(page).toMatchObject({ hasOlder: false, atHead: true });
  });

  test('an empty page before a position reads newer from just below it', async () => {
    const { read } = fakeLog(100);
    const page = await readBackward(read, { before: 60, pageSize: 10, filters: { actor: 'nobody' } });
    expect(page).toMatchObject({ items: [], hasOlder: false, olderBefore: 60, hasNewer: true, newerAfter: 59 });
  });

  test('an empty log is an empty head page', async () => {
    const { read } = fakeLog(0);
    const page = await readBackward(read, { pageSize: 10, filters: {} });
    expect(page).toMatchObject({ items: [], hasOlder: false, hasNewer: false, atHead: true });
  });
});

describe('a page of the log from the URL', () => {
  test('every filter in the URL goes to the server, with the cursor', async () => {
    const { read, calls } = fakeLog(10);
    const state = parseLogState(new URLSearchParams('actor=ann&correlation_id=req-9&type=cluster.renamed&before=9'));
    await readLogPage(state, 50, read);
    await readLogPage({ ...state, cursor: { after: 3 } }, 50, read);
    await readLogPage({ ...state, cursor: null, order: 'asc' }, 50, read);
    const filters = { actor: 'ann', correlation_id: 'req-9', type: 'cluster.renamed' };
    expect(calls).toEqual([
      { before: 9, limit: 51, filters },
      { after: 3, limit: 51, filters },
      { after: 0, limit: 51, filters },
    ]);
  });
});
