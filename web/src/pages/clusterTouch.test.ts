import { CommandError } from '../api/droplets';
import { destroyEach, readAll, retryWait, type Progress } from './clusterTouch';

const refused = (status: number, retryAfter: number | null = null, detail = 'no') =>
  new CommandError(status, { detail }, retryAfter);

test('every page of a list is read, following its cursor, up to a bound', async () => {
  const pages: Record<string, { items: number[]; next_cursor?: string | null }> = {
    start: { items: [1, 2], next_cursor: 'b' },
    b: { items: [3, 4], next_cursor: 'c' },
    c: { items: [5], next_cursor: null },
  };
  const asked: (string | undefined)[] = [];
  const read = async (cursor?: string) => { asked.push(cursor); return pages[cursor ?? 'start']!; };
  expect(await readAll(read)).toEqual({ items: [1, 2, 3, 4, 5], complete: true });
  expect(asked).toEqual([undefined, 'b', 'c']);
  expect(await readAll(read, 3)).toEqual({ items: [1, 2, 3, 4], complete: false });
});

test('a 429 or 503 says how long to wait before trying again; other refusals are final', () => {
  expect(retryWait(refused(429, 3))).toBe(3);
  expect(retryWait(refused(429))).toBe(1);
  expect(retryWait(refused(503, 900))).toBe(60);
  expect(retryWait(refused(409))).toBeNull();
  expect(retryWait(new Error('network'))).toBeNull();
});

function recorder() {
  const seen: [string, Progress][] = [];
  return { seen, report: (id: string, p: Progress) => seen.push([id, p]) };
}

test('one destroy per droplet, in turn: a 429 waits its Retry-After and tries again, a refusal is kept', async () => {
  const calls: string[] = [];
  let limited = true;
  const destroy = async (id: string, version: number) => {
    calls.push(`${id}@${version}`);
    if (id === 'dr_b' && limited) { limited = false; throw refused(429, 2, 'rule droplets'); }
    if (id === 'dr_c') throw refused(409, null, 'a job is working on the droplet');
    return { position: calls.length * 10, job: { id: `job_${id}` } };
  };
  const sleep = vi.fn(async () => {});
  const { seen, report } = recorder();
  const positions = await destroyEach(
    [{ id: 'dr_a', version: 1 }, { id: 'dr_b', version: 4 }, { id: 'dr_c', version: 2 }],
    destroy, report, { sleep, stopped: () => false },
  );
  expect(calls).toEqual(['dr_a@1', 'dr_b@4', 'dr_b@4', 'dr_c@2']);
  expect(sleep).toHaveBeenCalledWith(2000);
  expect(positions).toEqual([10, 30]);
  const last = Object.fromEntries(seen);
  expect(last.dr_a).toEqual({ state: 'requested', jobId: 'job_dr_a' });
  expect(last.dr_b).toEqual({ state: 'requested', jobId: 'job_dr_b' });
  expect(last.dr_c).toEqual({ state: 'failed', reason: 'Refused: a job is working on the droplet.' });
  expect(seen).toContainEqual(['dr_b', { state: 'retrying', seconds: 2, reason: 'Too many requests: rule droplets. Try again in 2 s.' }]);
});

test('a droplet still limited after its tries fails; a stopped run sends no more', async () => {
  const destroy = vi.fn(async (): Promise<{ position?: number }> => { throw refused(429, 1); });
  const { seen, report } = recorder();
  let stop = false;
  await destroyEach([{ id: 'dr_a', version: 1 }, { id: 'dr_b', version: 1 }, { id: 'dr_c', version: 1 }], destroy, report, {
    sleep: async () => {}, stopped: () => stop, maxTries: 2,
  });
  expect(destroy).toHaveBeenCalledTimes(6);
  expect(Object.fromEntries(seen).dr_c).toEqual({ state: 'failed', reason: 'Too many requests: no. Try again in 1 s.' });

  const ok = vi.fn(async () => { stop = true; return { position: 1 }; });
  const second = recorder();
  stop = false;
  await destroyEach([{ id: 'dr_a', version: 1 }, { id: 'dr_b', version: 1 }], ok, second.report, {
    sleep: async () => {}, stopped: () => stop,
  });
  expect(ok).toHaveBeenCalledTimes(1);
  expect(Object.fromEntries(second.seen).dr_b).toEqual({ state: 'not sent' });
});
