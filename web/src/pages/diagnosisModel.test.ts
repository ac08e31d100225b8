import { ProblemError } from '../api/client';
import { CommandError } from '../api/droplets';
import { actionSummary, diagnosisRefusal, engineText, gaugeArc, implementable, scoreTone } from './diagnosisModel';

test('each action reads as what its job will do', () => {
  expect(actionSummary({ type: 'scale_up', count: 2, size: 's-2vcpu-4gb' })).toBe('Scale up: add 2 droplets of size s-2vcpu-4gb');
  expect(actionSummary({ type: 'scale_up' })).toBe('Scale up: add 1 droplet');
  expect(actionSummary({ type: 'scale_down', count: 1 })).toBe('Scale down: remove 1 droplet');
  expect(actionSummary({ type: 'create_droplet', size: 's-1vcpu-1gb', image: 'ubuntu-22-04-x64' }))
    .toBe('Create a droplet of size s-1vcpu-1gb (image: ubuntu-22-04-x64)');
  expect(actionSummary({ type: 'resize', droplet_id: 'dr_1', size: 'c-2' })).toBe('Resize droplet dr_1 to c-2');
  expect(actionSummary({ type: 'restart' })).toBe('Restart the failed droplets');
  expect(actionSummary({ type: 'monitor', duration_seconds: 300 })).toBe('Start a monitoring job (duration seconds: 300)');
  expect(actionSummary({ type: 'none' })).toBe('Nothing to do');
  expect(implementable({ type: 'none' })).toBe(false);
  expect(implementable({ type: 'monitor' })).toBe(true);
});

test('the score is toned by its label', () => {
  expect([95, 80, 79, 60, 59, 0].map(scoreTone)).toEqual(['ok', 'ok', 'warn', 'warn', 'danger', 'danger']);
});

test('the engine that answered, and why not the one asked', () => {
  const base = { model: null, prompt_version: null, fallback_reason: null };
  expect(engineText({ ...base, engine: 'rules', requested_engine: 'rules' })).toBe('rules engine');
  expect(engineText({ ...base, engine: 'llm', requested_engine: 'llm', model: 'gpt-x', prompt_version: 'v2' }))
    .toBe('LLM gpt-x, prompt v2');
  expect(engineText({ ...base, engine: 'rules', requested_engine: 'llm', fallback_reason: 'it timed out after 10 s' }))
    .toBe('rules engine (the LLM was asked but it timed out after 10 s)');
});

test('the gauge arc runs from the left end over the top to the right end', () => {
  expect(gaugeArc(0)).toBe('M 10 50 A 40 40 0 0 1 10.00 50.00');
  expect(gaugeArc(0.5)).toBe('M 10 50 A 40 40 0 0 1 50.00 10.00');
  expect(gaugeArc(1)).toBe('M 10 50 A 40 40 0 0 1 90.00 50.00');
  expect(gaugeArc(7)).toBe(gaugeArc(1));
});

test('refusals say what happened and what to do', () => {
  const problem = (status: number, detail: string) => ({ status, title: '', type: '', detail });
  expect(diagnosisRefusal(new ProblemError(409, problem(409, 'a newer diagnosis exists'))))
    .toBe('This recommendation is outdated: a newer diagnosis exists. Run a new diagnosis, or implement one of the latest.');
  expect(diagnosisRefusal(new CommandError(429, problem(429, 'rate limit diagnose exceeded'), 4)))
    .toBe('Too many diagnoses of this cluster: rate limit diagnose exceeded. Try again in 4 s.');
  expect(diagnosisRefusal(new ProblemError(422, problem(422, 'engine llm is not configured'))))
    .toBe('Refused: engine llm is not configured.');
  expect(diagnosisRefusal(new Error('network down'))).toBe('network down');
});
