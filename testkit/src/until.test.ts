import { describe, expect, expectTypeOf, it } from 'vitest';
import { until } from './until.js';

describe('until', () => {
  it('returns the first value the probe gives', async () => {
    let n = 0;
    await expect(until(() => (++n >= 3 ? n : undefined), 'three', 5000, 1)).resolves.toBe(3);
  });

  it('keeps polling while the probe gives null, as a record does for a field not set yet', async () => {
    const record: { ringingAt: string | null } = { ringingAt: null };
    let polls = 0;
    const ringingAt = until(
      () => {
        if (++polls === 3) record.ringingAt = '2026-01-01T00:00:00Z';
        return record.ringingAt;
      },
      'ringingAt',
      5000,
      1,
    );
    expectTypeOf(ringingAt).toEqualTypeOf<Promise<string>>();
    await expect(ringingAt).resolves.toBe('2026-01-01T00:00:00Z');
    expect(polls).toBe(3);
  });

  it('returns falsy values other than false, null and undefined (0, the empty string)', async () => {
    await expect(until(() => 0, 'zero', 5000, 1)).resolves.toBe(0);
    await expect(until(() => '', 'the empty string', 5000, 1)).resolves.toBe('');
  });

  it('gives a boolean probe true', async () => {
    const waited = until(() => Math.random() < 2, 'true', 5000, 1);
    expectTypeOf(waited).toEqualTypeOf<Promise<true>>();
    await expect(waited).resolves.toBe(true);
  });

  it('fails with what it waited for once the bound passes', async () => {
    await expect(until(() => false, 'the moon', 20, 1)).rejects.toThrow(
      'timed out after 20 ms waiting for the moon',
    );
    await expect(until(() => null, 'the sun', 20, 1)).rejects.toThrow(
      'timed out after 20 ms waiting for the sun',
    );
  });
});
