import { describe, expect, it } from 'vitest';
import { checkCsvHeader, csvRowToValue, parseEntry } from './entry.js';

const NOW = Date.UTC(2025, 5, 1);

describe('parseEntry', () => {
  it('takes ISO times with a zone and epoch milliseconds', () => {
    expect(
      parseEntry({ id: 'a', deviceId: 'd', startedAt: '2025-05-31T10:00:00+02:00' }, NOW),
    ).toMatchObject({
      ok: true,
      entry: { startedAt: Date.UTC(2025, 4, 31, 8), data: {} },
    });
    expect(
      parseEntry(
        { id: 'a', deviceId: 'd', startedAt: 1_700_000_000_000, durationSeconds: 12.5 },
        NOW,
      ),
    ).toMatchObject({
      ok: true,
      entry: { startedAt: 1_700_000_000_000, durationSeconds: 12.5 },
    });
  });

  it('refuses bad times, unknown fields and bad values, naming the field', () => {
    const reason = (v: Record<string, unknown>) => {
      const r = parseEntry(
        { id: 'a', deviceId: 'd', startedAt: '2025-05-31T10:00:00Z', ...v },
        NOW,
      );
      return r.ok ? 'ok' : r.reason;
    };
    expect(reason({ startedAt: '2025-02-30T10:00:00Z' })).toBe('startedAt: not a real time');
    expect(reason({ startedAt: '2023-02-29T10:00:00Z' })).toBe('startedAt: not a real time');
    expect(reason({ startedAt: '2024-02-29T10:00:00Z' })).toBe('ok');
    expect(reason({ startedAt: '2025-04-31T10:00:00Z' })).toBe('startedAt: not a real time');
    expect(reason({ startedAt: '2025-05-31 10:00' })).toMatch(/^startedAt: must be an ISO 8601/);
    expect(reason({ startedAt: '2025-05-31T10:00:00' })).toMatch(/^startedAt: must be an ISO 8601/);
    expect(reason({ startedAt: '2026-01-01T00:00:00Z' })).toBe('startedAt: in the future');
    expect(reason({ startedAt: -5 })).toMatch(/^startedAt/);
    expect(reason({ colour: 'red' })).toBe('unknown field "colour"');
    expect(reason({ number: '555-1234' })).toBe('number: must be an E.164 number');
    expect(reason({ durationSeconds: -1 })).toMatch(/^durationSeconds/);
    expect(reason({ durationSeconds: '30' })).toMatch(/^durationSeconds/);
    expect(reason({ deviceId: '' })).toMatch(/^deviceId/);
    expect(reason({ data: [1] })).toBe('data: must be an object');
    expect(parseEntry('x', NOW)).toEqual({
      ok: false,
      id: undefined,
      reason: 'an entry must be a JSON object',
    });
  });
});

describe('CSV rows', () => {
  it('checks the header and turns rows into entries', () => {
    expect(checkCsvHeader(['id', 'deviceId', 'startedAt', 'data.campaign'])).toBeUndefined();
    expect(checkCsvHeader(['id', 'device', 'startedAt'])).toMatch(/unknown column "device"/);
    expect(checkCsvHeader(['id', 'startedAt'])).toMatch(/no "deviceId"/);
    expect(
      csvRowToValue(
        ['id', 'deviceId', 'startedAt', 'durationSeconds', 'number', 'data.campaign'],
        ['e1', 'd1', '1700000000000', '30', '', 'x'],
      ),
    ).toEqual({
      id: 'e1',
      deviceId: 'd1',
      startedAt: 1_700_000_000_000,
      durationSeconds: 30,
      data: { campaign: 'x' },
    });
  });
});
