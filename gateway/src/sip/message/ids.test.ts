import { describe, expect, it } from 'vitest';
import { generateBranch, generateCallId, generateTag } from './ids.js';
import { MAGIC_COOKIE } from './via.js';

describe('SIP identifiers', () => {
  it('are distinct token strings of their full length across many refills of the random pool', () => {
    const seen = new Set<string>();
    // 2,000 rounds take 72 KiB of random bytes: the 4 KiB pool is refilled 18 times.
    for (let i = 0; i < 2000; i += 1) {
      const branch = generateBranch();
      const tag = generateTag();
      const callId = generateCallId('gw.example');
      expect(branch.startsWith(MAGIC_COOKIE)).toBe(true);
      expect(branch.slice(MAGIC_COOKIE.length)).toMatch(/^[A-Za-z0-9_-]{16}$/);
      expect(tag).toMatch(/^[A-Za-z0-9_-]{11}$/);
      expect(callId).toMatch(/^[A-Za-z0-9_-]{22}@gw\.example$/);
      for (const id of [branch, tag, callId]) seen.add(id);
    }
    expect(seen.size).toBe(6000);
  });
});
