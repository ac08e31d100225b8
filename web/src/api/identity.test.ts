import { api } from './client';
import { MAX_USER_ID, saveUserId, storedUserId, userIdError } from './identity';

/** Answers every request with an empty page and keeps the requests it was given. */
function recorder() {
  const requests: Request[] = [];
  const fetch = vi.fn(async (request: Request) => {
    requests.push(request);
    return new Response(JSON.stringify({ items: [], total: 0 }), { headers: { 'content-type': 'application/json' } });
  });
  // jsdom's Request needs an absolute URL (a browser resolves '' against the page).
  return { requests, fetch, baseUrl: 'http://console.test' };
}

afterEach(() => localStorage.clear());

test('without a name, requests carry no X-User-Id (the API records anonymous)', async () => {
  const { requests, ...init } = recorder();
  await api.GET('/v1/clusters', init);
  expect(requests).toHaveLength(1);
  expect(requests[0]?.headers.has('X-User-Id')).toBe(false);
});

test('with a name, reads and commands carry it as X-User-Id', async () => {
  saveUserId('  alice  ');
  const { requests, ...init } = recorder();
  await api.GET('/v1/clusters', init);
  await api.POST('/v1/clusters', { body: { name: 'web-prod', region: 'fra1' }, ...init });
  expect(requests.map((r) => r.method)).toEqual(['GET', 'POST']);
  expect(requests.map((r) => r.headers.get('X-User-Id'))).toEqual(['alice', 'alice']);
});

test('a change of name applies to the next request; clearing it goes back to anonymous', async () => {
  const { requests, ...init } = recorder();
  saveUserId('alice');
  await api.GET('/v1/clusters', init);
  saveUserId('bob');
  await api.GET('/v1/clusters', init);
  saveUserId(null);
  await api.GET('/v1/clusters', init);
  expect(requests.map((r) => r.headers.get('X-User-Id'))).toEqual(['alice', 'bob', null]);
});

test('a stored name the API would refuse is not sent', async () => {
  localStorage.setItem('cg-user-id', 'zoë');
  expect(storedUserId()).toBeNull();
  const { requests, ...init } = recorder();
  await api.GET('/v1/clusters', init);
  expect(requests[0]?.headers.has('X-User-Id')).toBe(false);
});

test('names are checked as the API checks X-User-Id', () => {
  expect(userIdError('alice')).toBeNull();
  expect(userIdError('Alice Smith <alice@example.com>')).toBeNull();
  expect(userIdError('')).toBeNull();
  expect(userIdError(`  ${'a'.repeat(MAX_USER_ID)}  `)).toBeNull();
  expect(userIdError('a'.repeat(MAX_USER_ID + 1))).toMatch(/^At most 200 characters \(this is 201\)/);
  expect(userIdError('zoë')).toMatch(/visible ASCII/);
  expect(userIdError('a\tb')).toMatch(/visible ASCII/);
  expect(userIdError('😀')).toMatch(/visible ASCII/);
});

test('saving remembers the trimmed name; empty forgets it', () => {
  saveUserId(' ops-bot ');
  expect(localStorage.getItem('cg-user-id')).toBe('ops-bot');
  expect(storedUserId()).toBe('ops-bot');
  saveUserId('   ');
  expect(localStorage.getItem('cg-user-id')).toBeNull();
  expect(storedUserId()).toBeNull();
});
