import { describe, expect, it } from 'vitest';
import { until } from './until.js';

describe('until', () => {
  it('returns the first value the probe gives', async () => {
    let n = 0;
    await expect(until(() => (++n >= 3 ? n : undefined), 'three', 5000, 1)).resolves.toBe(3);
  });

  it('fails with what it waited for once the bound passes', async () => {
    await expect(until(() => false, 'the moon', 20, 1)).rejects.toThrow(
      'timed out after 20 ms waiting for the moon',
    );
  });
});
