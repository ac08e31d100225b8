import { fresh, knownPosition, observe, onPosition } from './position';

test('the known position only moves forward and is asked of reads', () => {
  const seen: number[] = [];
  const stop = onPosition((p) => seen.push(p));
  observe(5);
  observe(3);
  observe(undefined);
  observe(9);
  stop();
  observe(12);
  expect(knownPosition()).toBe(12);
  expect(seen).toEqual([5, 9]);
  expect(fresh()).toEqual({ min_position: 12 });
});
