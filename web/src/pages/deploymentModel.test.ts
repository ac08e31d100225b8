import { deployment } from '../test/deployments';
import {
  canPromote, canRollback, deployField, dropletProgress, EMPTY_DEPLOY, phaseText, strategyText, validateDeploy,
  type DeployForm,
} from './deploymentModel';

const form = (changes: Partial<DeployForm> = {}): DeployForm => ({ ...EMPTY_DEPLOY, version: '1.2.0', ...changes });

test('a rolling deployment sends its batch size, and no gate unless set', () => {
  expect(validateDeploy(form({ batch: '2' }))).toEqual({ errors: {}, body: { strategy: 'rolling', version: '1.2.0', batch_size: 2 } });
});

test('a canary sends its share and auto-promote; blue-green neither', () => {
  expect(validateDeploy(form({ strategy: 'canary', percent: '50', autoPromote: false })).body).toEqual({
    strategy: 'canary', version: '1.2.0', target_percent: 50, auto_promote: false,
  });
  expect(validateDeploy(form({ strategy: 'blue_green' })).body).toEqual({ strategy: 'blue_green', version: '1.2.0' });
});

test('the version, batch, share and gate are checked as the API does', () => {
  expect(validateDeploy(form({ version: '' })).errors).toEqual({ version: 'required, e.g. 1.4.2' });
  expect(validateDeploy(form({ version: 'v 2' })).errors).toEqual({ version: "1 to 64 letters, digits, '.', '_' or '-'" });
  expect(validateDeploy(form({ version: 'x'.repeat(65) })).errors.version).toBeDefined();
  expect(validateDeploy(form({ batch: '0' })).errors).toEqual({ batch_size: 'a whole number, 1 or more' });
  expect(validateDeploy(form({ strategy: 'canary', percent: '101' })).errors).toEqual({ target_percent: 'a whole percent, 1 to 100' });
  expect(validateDeploy(form({ gate: true, max: 'x', window: '4' })).errors).toEqual({
    'health_gate.max': 'a number', 'health_gate.window_seconds': 'a whole number of seconds, 5 to 3600',
  });
  expect(validateDeploy(form({ gate: true, metric: 'memory', max: '80', window: '60' })).body?.health_gate)
    .toEqual({ metric: 'memory', max: 80, window_seconds: 60 });
});

test('Rollback applies while it runs; Promote only to a canary waiting at its target', () => {
  expect(canRollback(deployment())).toBe(true);
  expect(canRollback(deployment({ status: 'succeeded' }))).toBe(false);
  expect(canPromote(deployment())).toBe(false);
  expect(canPromote(deployment({ strategy: 'canary', waiting_for_promotion: true }))).toBe(true);
  expect(canPromote(deployment({ strategy: 'canary', waiting_for_promotion: true, status: 'rolled_back' }))).toBe(false);
});

test('progress counts droplets at the target version; strategies read in words', () => {
  expect(dropletProgress(deployment())).toEqual({ done: 1, total: 2, percent: 50 });
  // Blue-green: the retired blue droplets no longer count.
  const d = deployment();
  expect(dropletProgress({ ...d, droplets: [d.droplets[0]!, { ...d.droplets[1]!, status: 'destroyed' }] }))
    .toEqual({ done: 1, total: 1, percent: 100 });
  expect(strategyText(deployment({ batch_size: 2 }))).toBe('rolling, 2 droplets a batch');
  expect(strategyText(deployment({ strategy: 'canary', target_percent: 25, auto_promote: false })))
    .toBe('canary to 25 %, then waits for Promote');
  expect(deployField('health_gate[max]')).toBe('health_gate.max');
  expect(deployField('/health_gate/window_seconds')).toBe('health_gate.window_seconds');
});

test('the phase is not said twice when the badge says it', () => {
  const w = deployment({ waiting_for_promotion: true, phase: 'waiting for promotion' });
  expect(phaseText(w)).toBe('');
  expect(phaseText(deployment({ waiting_for_promotion: true, phase: 'canary at 34 %, waiting for promotion' })))
    .toBe('canary at 34 %, waiting for promotion');
  expect(phaseText(deployment())).toBe('gate after batch 1 of 2');
});
