import { describe, expect, it } from 'vitest';
import { ZonedClock, compileSchedule, isTimeZone } from './zoned-time.js';

describe('schedules in a time zone', () => {
  const clock = new ZonedClock();
  // Wednesday 2025-01-15 14:30 UTC = 09:30 in New York (EST).
  const wed1430utc = Date.UTC(2025, 0, 15, 14, 30);

  it('reads the local weekday, minute and day', () => {
    expect(clock.local('America/New_York', wed1430utc)).toEqual({
      weekday: 3,
      minute: 9 * 60 + 30,
      day: '2025-01-15',
    });
    expect(clock.day('Pacific/Auckland', wed1430utc)).toBe('2025-01-16');
  });

  it('opens inside a window and closes outside it, in the schedule zone', () => {
    const open = compileSchedule(
      {
        timeZone: 'America/New_York',
        windows: [{ days: ['mon', 'wed'], from: '09:00', to: '17:00' }],
      },
      clock,
    );
    expect(open(wed1430utc)).toBe(true);
    expect(open(wed1430utc - 60 * 60_000)).toBe(false); // 08:30 local
    expect(open(wed1430utc + 24 * 3600_000)).toBe(false); // Thursday
    expect(compileSchedule(null, clock)(wed1430utc)).toBe(true);
  });

  it('knows real time zones from made-up ones', () => {
    expect(isTimeZone('Europe/Paris')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});
