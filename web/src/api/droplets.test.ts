import { ProblemError } from './client';
import { CommandError, refusal } from './droplets';

test('a refused command says so, with the problem detail', () => {
  expect(refusal(new ProblemError(409, { detail: 'droplet is busy with job job_1' })))
    .toBe('Refused: droplet is busy with job job_1.');
  expect(refusal(new ProblemError(422, { detail: 'droplet is already of size c-2' })))
    .toBe('Refused: droplet is already of size c-2.');
});

test('a stale version says the droplet changed', () => {
  expect(refusal(new ProblemError(412, { detail: 'version 2 is stale; the current version is 3' })))
    .toMatch(/^Refused: version 2 is stale; the current version is 3\. The droplet changed since it was shown/);
});

test('a rate-limited command says when to try again', () => {
  expect(refusal(new CommandError(429, { detail: 'rate limit exceeded.' }, 7)))
    .toBe('Too many requests: rate limit exceeded. Try again in 7 s.');
  expect(refusal(new CommandError(503, { detail: 'the job queue is full' }, 1)))
    .toBe('The service is busy: the job queue is full. Try again in 1 s.');
  expect(refusal(new CommandError(429, { title: 'Too Many Requests' }, null))).toBe('Too many requests: Too Many Requests.');
});

test('other errors are shown as they are', () => {
  expect(refusal(new ProblemError(500, { detail: 'internal error (logged)' }))).toBe('internal error (logged)');
  expect(refusal(new TypeError('Failed to fetch'))).toBe('Failed to fetch');
});
