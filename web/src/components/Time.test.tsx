import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { formatTime, Time, ZoneContext } from './Time';

const AT = '2026-12-05T22:01:54.123456Z';

describe('Time', () => {
  it('shows UTC times with their zone, and the viewer’s zone by default', () => {
    expect(formatTime(AT, 'utc')).toMatch(/10:01:54\sPM UTC$|22:01:54 UTC$/);
    expect(formatTime(AT, 'local')).not.toMatch(/UTC$/);
  });

  it('follows the zone chosen for the whole console', () => {
    render(
      <ZoneContext.Provider value="utc">
        <Time at={AT} />
      </ZoneContext.Provider>,
    );
    const shown = screen.getByText(/UTC$/);
    expect(shown.getAttribute('dateTime')).toBe(AT);
    expect(shown.getAttribute('title')).toBe('2026-12-05T22:01:54.123Z');
  });
});
