import { describe, expect, it } from 'vitest';
import { freshnessText } from './Freshness';

describe('freshnessText', () => {
  it('says a read model is up to date, or how far behind the log it is', () => {
    expect(freshnessText(42, 0)).toBe('Up to date with the log (position 42)');
    expect(freshnessText(40, 1)).toBe('1 event behind the log (read model at position 40)');
    expect(freshnessText(30, 12)).toBe('12 events behind the log (read model at position 30)');
  });
});
