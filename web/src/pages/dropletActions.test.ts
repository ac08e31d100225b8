import { actionState, blockedReason, migrationTargets } from './dropletActions';
import { PROVIDERS } from '../test/providers';

const idle = (status: string) => ({ status, pending_job_id: null });
const allowed = (status: string) =>
  Object.entries(actionState(idle(status))).filter(([, why]) => why === null).map(([action]) => action).sort();

test('each status takes the commands its state machine allows', () => {
  expect(allowed('active')).toEqual(['destroy', 'migrate', 'power_off', 'resize', 'restart']);
  expect(allowed('off')).toEqual(['destroy', 'migrate', 'power_on', 'resize']);
  expect(allowed('failed')).toEqual(['destroy']);
  expect(allowed('provisioning')).toEqual([]);
  expect(allowed('destroyed')).toEqual([]);
  expect(actionState(idle('off')).power_off).toBe('Not while the droplet is off.');
});

test('nothing is taken while a job works on the droplet', () => {
  const busy = actionState({ status: 'active', pending_job_id: 'job_1' });
  expect(Object.values(busy).every((why) => why?.includes('job_1'))).toBe(true);
  expect(blockedReason({ status: 'active', pending_job_id: 'job_1' })).toMatch(/job is working/);
  expect(blockedReason(idle('destroyed'))).toMatch(/destroyed/);
  expect(blockedReason(idle('off'))).toBeNull();
});

test('a droplet migrates to another provider offering its region and size', () => {
  const names = (d: { provider: string | null; region: string; size: string }) =>
    migrationTargets(d, PROVIDERS).map((p) => p.name);
  expect(names({ provider: 'stratus', region: 'fra1', size: 's-1vcpu-1gb' })).toEqual(['nimbus', 'simcloud']);
  expect(names({ provider: 'simcloud', region: 'fra1', size: 'c-2' })).toEqual(['nimbus']);
  expect(names({ provider: 'simcloud', region: 'sfo1', size: 's-1vcpu-1gb' })).toEqual([]);
});
