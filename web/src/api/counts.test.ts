import { describe, expect, it } from 'vitest';
import { countText } from './counts';

describe('countText', () => {
  it('shows an exact count as it is, an estimate with ≈, and … while loading', () => {
    expect(countText({ total: 12, estimate: false })).toBe('12');
    expect(countText({ total: 1200, estimate: true })).toBe('≈1200');
    expect(countText({ total: 0, estimate: false })).toBe('0');
    expect(countText(undefined)).toBe('…');
  });
});
