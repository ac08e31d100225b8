import {
  correlationLink, diffCounts, diffStates, flatten, fromLocalInput, indexAtOrBefore, indexAtTime, logSearch,
  pageRequest, parseLogState, parseStreamState, provenance, sameValue, showValue, streamSearch, toLocalInput,
  withFilters,
} from './auditState';

const q = (s: string) => new URLSearchParams(s);

describe('the log state in the URL', () => {
  test('filters, order and cursor are read back as written', () => {
    const state = parseLogState(q('type=cluster.created&aggregate_type=cluster&aggregate_id=cl_1&actor=ann&correlation_id=c-1&order=asc&after=40'));
    expect(state).toEqual({
      filters: { type: 'cluster.created', aggregate_type: 'cluster', aggregate_id: 'cl_1', actor: 'ann', correlation_id: 'c-1' },
      order: 'asc',
      cursor: { after: 40 },
    });
    expect(parseLogState(q(logSearch(state)))).toEqual(state);
  });

  test('the defaults are newest first from the head, and are left out of the URL', () => {
    const state = parseLogState(q(''));
    expect(state).toEqual({ filters: {}, order: 'desc', cursor: null });
    expect(logSearch(state)).toBe('');
    expect(pageRequest(state)).toEqual({ direction: 'backward' });
    expect(pageRequest({ ...state, order: 'asc' })).toEqual({ direction: 'forward', after: 0 });
  });

  test('what does not parse is dropped', () => {
    const state = parseLogState(q('type=no.such&aggregate_type=planet&aggregate_id=%20%20&before=-3&after=x&order=sideways'));
    expect(state).toEqual({ filters: {}, order: 'desc', cursor: null });
    expect(parseLogState(q('before=0')).cursor).toBeNull();
    expect(parseLogState(q('before=12&after=3')).cursor).toEqual({ before: 12 });
    const long = 'x'.repeat(256);
    expect(parseLogState(q(`actor=${long}&correlation_id=${long}`)).filters).toEqual({});
    expect(parseLogState(q(`correlation_id=${long.slice(1)}`)).filters).toEqual({ correlation_id: long.slice(1) });
  });

  test('cursors say which way a page is read, whatever the order', () => {
    expect(pageRequest(parseLogState(q('before=90')))).toEqual({ direction: 'backward', before: 90 });
    expect(pageRequest(parseLogState(q('order=asc&before=90')))).toEqual({ direction: 'backward', before: 90 });
    expect(pageRequest(parseLogState(q('after=7')))).toEqual({ direction: 'forward', after: 7 });
  });

  test('changing a filter goes back to the first page; an empty value clears it', () => {
    const state = parseLogState(q('actor=ann&order=asc&after=40'));
    const next = withFilters(state, { actor: '', aggregate_id: ' cl_9 ' });
    expect(next).toEqual({ filters: { aggregate_id: 'cl_9' }, order: 'asc', cursor: null });
    expect(logSearch(next)).toBe('?aggregate_id=cl_9&order=asc');
    expect(withFilters(state, { aggregate_type: 'planet' }).filters).toEqual({ actor: 'ann' });
  });

  test('a correlation id links to the log filtered by it alone', () => {
    expect(correlationLink('a b&c')).toBe('/audit?correlation_id=a+b%26c');
  });
});

describe('the stream state in the URL', () => {
  test('a position wins over a time; the diff points come along', () => {
    expect(parseStreamState(q('at=12&time=2026-01-01T00:00:00Z&from=3&to=9'))).toEqual({ at: 12, from: 3, to: 9 });
    expect(parseStreamState(q('time=2026-01-01T01:00:00%2B01:00'))).toEqual({ time: '2026-01-01T00:00:00.000Z' });
    expect(parseStreamState(q('time=yesterday&at=-1&from=x'))).toEqual({});
    const state = { time: '2026-01-01T00:00:00.000Z', from: 1, to: 2 };
    expect(parseStreamState(q(streamSearch(state)))).toEqual(state);
    expect(streamSearch({})).toBe('');
  });

  test('a point maps to the last event at or before it', () => {
    expect(indexAtOrBefore([3, 7, 20], 2)).toBe(-1);
    expect(indexAtOrBefore([3, 7, 20], 7)).toBe(1);
    expect(indexAtOrBefore([3, 7, 20], 19)).toBe(1);
    expect(indexAtOrBefore([3, 7, 20], 99)).toBe(2);
    const events = [{ recorded_at: '2026-01-01T00:00:00Z' }, { recorded_at: '2026-01-01T00:00:10Z' }];
    expect(indexAtTime(events, '2025-12-31T23:59:59Z')).toBe(-1);
    expect(indexAtTime(events, '2026-01-01T00:00:05Z')).toBe(0);
    expect(indexAtTime(events, '2026-01-01T00:00:10Z')).toBe(1);
  });

  test('a datetime-local value round-trips through UTC', () => {
    const iso = fromLocalInput('2026-03-04T05:06:07');
    expect(iso).toMatch(/^2026-03-0\dT\d\d:\d\d:07\.000Z$/);
    expect(toLocalInput(iso!)).toBe('2026-03-04T05:06:07');
    expect(fromLocalInput('2026-03-04')).toBeNull();
    expect(fromLocalInput('')).toBeNull();
    expect(toLocalInput('nonsense')).toBe('');
  });
});

describe('the diff of two states', () => {
  test('fields added, removed, changed and unchanged, nested ones by their path', () => {
    const before = { name: 'web', droplet_count: 0, gone: 'x', parameters: { size: 's-1', tags: ['a'] }, provider: null };
    const after = { name: 'web', droplet_count: 2, parameters: { size: 's-2', tags: ['a'] }, provider: null, new_one: false };
    expect(diffStates(before, after)).toEqual([
      { field: 'name', kind: 'unchanged', before: 'web', after: 'web' },
      { field: 'droplet_count', kind: 'changed', before: 0, after: 2 },
      { field: 'parameters.size', kind: 'changed', before: 's-1', after: 's-2' },
      { field: 'parameters.tags', kind: 'unchanged', before: ['a'], after: ['a'] },
      { field: 'provider', kind: 'unchanged', before: null, after: null },
      { field: 'new_one', kind: 'added', after: false },
      { field: 'gone', kind: 'removed', before: 'x' },
    ]);
  });

  test('an aggregate that did not exist has every field added (or removed)', () => {
    const rows = diffStates(null, { id: 'cl_1', version: 1 });
    expect(rows.map((r) => r.kind)).toEqual(['added', 'added']);
    expect(diffCounts(diffStates({ id: 'cl_1' }, null))).toEqual({ added: 0, removed: 1, changed: 0, unchanged: 0 });
  });

  test('a null value is present, not absent; arrays compare whole', () => {
    expect(diffStates({ a: null }, { a: 1 })).toEqual([{ field: 'a', kind: 'changed', before: null, after: 1 }]);
    expect(diffStates({ a: [1, 2] }, { a: [2, 1] })[0]!.kind).toBe('changed');
    expect(sameValue({ x: 1, y: [1, { z: 2 }] }, { y: [1, { z: 2 }], x: 1 })).toBe(true);
    expect(sameValue({ x: 1 }, { x: 1, y: undefined })).toBe(false);
  });

  test('flattening keeps empty objects and scalar roots out of the way', () => {
    expect(flatten({ a: { b: { c: 1 } }, e: {} })).toEqual({ 'a.b.c': 1, e: {} });
    expect(flatten(null)).toEqual({});
    expect(flatten(5)).toEqual({});
  });

  test('values show as text', () => {
    expect(showValue('web')).toBe('web');
    expect(showValue(0)).toBe('0');
    expect(showValue(null)).toBe('null');
    expect(showValue(undefined)).toBe('—');
    expect(showValue({ a: 1 })).toBe('{"a":1}');
  });
});

describe('provenance', () => {
  test('each field is credited to the event that last changed it', () => {
    const points = [
      { position: 1, state: { name: 'web', droplet_count: 0, version: 1 } },
      { position: 4, state: { name: 'web', droplet_count: 1, version: 2 } },
      { position: 9, state: { name: 'api', droplet_count: 1, version: 3 } },
      { position: 12, state: { name: 'api', droplet_count: 1, version: 4, provider: 'aws' } },
    ];
    expect(provenance(points)).toEqual({ name: 9, droplet_count: 4, version: 12, provider: 12 });
  });

  test('a field that comes back after it was removed is credited to its return', () => {
    const points = [
      { position: 1, state: { a: 1 } },
      { position: 2, state: {} },
      { position: 3, state: { a: 1 } },
    ];
    expect(provenance(points)).toEqual({ a: 3 });
  });

  test('before creation the state is absent: the first event sets everything', () => {
    expect(provenance([{ position: 5, state: null }, { position: 6, state: { id: 'x' } }])).toEqual({ id: 6 });
    expect(provenance([])).toEqual({});
    expect(provenance([{ position: 5, state: { id: 'x', n: { m: 1 } } }])).toEqual({ id: 5, 'n.m': 5 });
  });
});

test('a field that turns from a value into an object is one change, the object whole', () => {
  const rows = diffStates({ result: null, status: 'running' }, { result: { ip: '10.0.0.2', size: 's-1' }, status: 'done' });
  expect(rows).toEqual([
    { field: 'result', kind: 'changed', before: null, after: { ip: '10.0.0.2', size: 's-1' } },
    { field: 'status', kind: 'changed', before: 'running', after: 'done' },
  ]);
  expect(diffStates({ r: { x: 1 } }, { r: 'gone' })).toEqual([{ field: 'r', kind: 'changed', before: { x: 1 }, after: 'gone' }]);
});
