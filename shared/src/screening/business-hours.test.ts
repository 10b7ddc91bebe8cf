import { describe, expect, it } from 'vitest';
import { compileBusinessHours, type BusinessHours } from './business-hours.js';

const at = (iso: string) => Date.parse(iso);

describe('business hours', () => {
  it('opens and closes on local wall-clock time (Europe/Berlin, winter and summer)', () => {
    const hours = compileBusinessHours({
      timeZone: 'Europe/Berlin',
      weekly: { mon: [['09:00', '17:30']] },
    });
    // Monday 2026-01-05, CET = UTC+1.
    expect(hours.isOpen(at('2026-01-05T07:59:00Z'))).toBe(false);
    expect(hours.isOpen(at('2026-01-05T08:00:00Z'))).toBe(true);
    expect(hours.isOpen(at('2026-01-05T16:29:59Z'))).toBe(true);
    expect(hours.isOpen(at('2026-01-05T16:30:00Z'))).toBe(false);
    // Monday 2026-07-06, CEST = UTC+2.
    expect(hours.isOpen(at('2026-07-06T06:59:00Z'))).toBe(false);
    expect(hours.isOpen(at('2026-07-06T07:00:00Z'))).toBe(true);
    // Tuesday: not listed, closed.
    expect(hours.isOpen(at('2026-01-06T10:00:00Z'))).toBe(false);
    expect(hours.describe(at('2026-01-05T08:00:00Z'))).toBe('mon 2026-01-05 09:00 Europe/Berlin');
  });

  it('takes several ranges per day and 24:00 as the end of the day', () => {
    const hours = compileBusinessHours({
      timeZone: 'UTC',
      weekly: {
        fri: [
          ['08:00', '12:00'],
          ['13:00', '24:00'],
        ],
        sat: [['00:00', '02:00']],
      },
    });
    expect(hours.isOpen(at('2026-01-02T12:30:00Z'))).toBe(false);
    expect(hours.isOpen(at('2026-01-02T23:59:00Z'))).toBe(true);
    expect(hours.isOpen(at('2026-01-03T00:00:00Z'))).toBe(true);
    expect(hours.isOpen(at('2026-01-03T02:00:00Z'))).toBe(false);
  });

  it('is closed on the listed local dates, even when the UTC date differs', () => {
    const hours = compileBusinessHours({
      timeZone: 'Europe/Berlin',
      weekly: { thu: [['00:00', '24:00']], fri: [['00:00', '24:00']] },
      closed: ['2026-12-25'],
    });
    expect(hours.isOpen(at('2026-12-24T22:30:00Z'))).toBe(true); // Thu 23:30 local
    expect(hours.isOpen(at('2026-12-24T23:30:00Z'))).toBe(false); // Fri 00:30 local, Christmas
  });

  describe('on the days daylight saving time changes (America/New_York)', () => {
    const sundays: BusinessHours = {
      timeZone: 'America/New_York',
      weekly: { sun: [['09:00', '17:00']] },
    };

    it('opens at 09:00 EDT = 13:00Z on the spring-forward day (2026-03-08), at 14:00Z a week before', () => {
      const hours = compileBusinessHours(sundays);
      expect(hours.isOpen(at('2026-03-01T13:30:00Z'))).toBe(false); // 08:30 EST
      expect(hours.isOpen(at('2026-03-01T14:00:00Z'))).toBe(true);
      expect(hours.isOpen(at('2026-03-08T12:59:00Z'))).toBe(false); // 08:59 EDT
      expect(hours.isOpen(at('2026-03-08T13:00:00Z'))).toBe(true); // 09:00 EDT
      expect(hours.isOpen(at('2026-03-08T20:59:00Z'))).toBe(true); // 16:59 EDT
      expect(hours.isOpen(at('2026-03-08T21:00:00Z'))).toBe(false); // 17:00 EDT
    });

    it('never opens a range inside the skipped hour, and spans it otherwise', () => {
      const gap = compileBusinessHours({
        timeZone: 'America/New_York',
        weekly: { sun: [['02:00', '03:00']] },
      });
      for (let t = at('2026-03-08T05:00:00Z'); t < at('2026-03-08T09:00:00Z'); t += 60_000) {
        expect(gap.isOpen(t)).toBe(false);
      }
      const across = compileBusinessHours({
        timeZone: 'America/New_York',
        weekly: { sun: [['01:30', '03:30']] },
      });
      expect(across.isOpen(at('2026-03-08T06:59:00Z'))).toBe(true); // 01:59 EST
      expect(across.isOpen(at('2026-03-08T07:00:00Z'))).toBe(true); // 03:00 EDT
      expect(across.isOpen(at('2026-03-08T07:30:00Z'))).toBe(false); // 03:30 EDT
    });

    it('is open in both runs of the repeated hour on the fall-back day (2026-11-01)', () => {
      const repeated = compileBusinessHours({
        timeZone: 'America/New_York',
        weekly: { sun: [['01:00', '02:00']] },
      });
      expect(repeated.isOpen(at('2026-11-01T05:30:00Z'))).toBe(true); // 01:30 EDT
      expect(repeated.isOpen(at('2026-11-01T06:30:00Z'))).toBe(true); // 01:30 EST
      expect(repeated.isOpen(at('2026-11-01T07:00:00Z'))).toBe(false); // 02:00 EST
      const hours = compileBusinessHours(sundays);
      expect(hours.isOpen(at('2026-10-25T20:59:00Z'))).toBe(true); // 16:59 EDT
      expect(hours.isOpen(at('2026-10-25T21:00:00Z'))).toBe(false); // 17:00 EDT
      expect(hours.isOpen(at('2026-11-01T21:30:00Z'))).toBe(true); // 16:30 EST
      expect(hours.isOpen(at('2026-11-01T22:00:00Z'))).toBe(false); // 17:00 EST
    });
  });

  describe('validation', () => {
    const bad: [string, unknown, RegExp][] = [
      [
        'an unknown time zone',
        { timeZone: 'Europe/Berln', weekly: {} },
        /Europe\/Berln.*not a known IANA/,
      ],
      ['a missing time zone', { weekly: {} }, /timeZone must be an IANA time zone/],
      [
        'a weekday typo',
        { timeZone: 'UTC', weekly: { monday: [] } },
        /weekly\.monday: not a weekday/,
      ],
      [
        'a range crossing midnight',
        { timeZone: 'UTC', weekly: { fri: [['22:00', '02:00']] } },
        /weekly\.fri\[0\].*may not cross midnight/,
      ],
      [
        'an empty range',
        { timeZone: 'UTC', weekly: { fri: [['09:00', '09:00']] } },
        /ends before it starts/,
      ],
      [
        'a one-digit hour',
        { timeZone: 'UTC', weekly: { fri: [['9:00', '17:00']] } },
        /"9:00" is not a time/,
      ],
      [
        '24:00 as a start',
        { timeZone: 'UTC', weekly: { fri: [['24:00', '24:00']] } },
        /"24:00" is not a time/,
      ],
      ['minutes past 59', { timeZone: 'UTC', weekly: { fri: [['09:60', '17:00']] } }, /not a time/],
      [
        'a range that is not a pair',
        { timeZone: 'UTC', weekly: { fri: [['09:00']] } },
        /\[start, end\] pair/,
      ],
      [
        'ranges that are not a list',
        { timeZone: 'UTC', weekly: { fri: '09:00-17:00' } },
        /list of \[start, end\]/,
      ],
      [
        'an impossible date',
        { timeZone: 'UTC', weekly: {}, closed: ['2026-02-30'] },
        /closed\[0\].*YYYY-MM-DD/,
      ],
      [
        'a date in another format',
        { timeZone: 'UTC', weekly: {}, closed: ['25.12.2026'] },
        /YYYY-MM-DD/,
      ],
    ];
    it.each(bad)('refuses %s', (_name, hours, message) => {
      expect(() => compileBusinessHours(hours as BusinessHours)).toThrow(message);
    });
  });
});
