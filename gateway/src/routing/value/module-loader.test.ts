import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadValueModule } from './module-loader.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-value-'));
const write = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return name;
};

describe('loadValueModule', () => {
  it('loads a tenant module and runs it', async () => {
    const file = write(
      'good.mjs',
      `export default { name: 'acme-ltv', version: '7', compute: (i) => ({ value: i.benefit.score * 2, tier: i.benefit.score > 10 ? 'high' : 'standard' }) };`,
    );
    const algorithm = await loadValueModule(file, dir);
    expect(algorithm).toMatchObject({ name: 'acme-ltv', version: '7' });
    const score = { score: 20, fallback: false, ms: 1, cached: false };
    const history = { windowDays: 30, calls: 0, answeredCalls: 0, minutes: 0, repeatContacts: 0 };
    expect(
      await algorithm.compute({
        tenant: 't',
        customerId: 'c',
        privateClaims: {},
        benefit: score,
        burden: score,
        history,
      }),
    ).toEqual({ value: 40, tier: 'high' });
  });

  it('refuses a module that is missing, broken or of the wrong shape', async () => {
    await expect(loadValueModule('nope.mjs', dir)).rejects.toMatchObject({
      code: 'invalid_config',
    });
    await expect(
      loadValueModule(write('broken.mjs', 'export default {'), dir),
    ).rejects.toMatchObject({ code: 'invalid_config' });
    await expect(
      loadValueModule(write('shape.mjs', 'export default { name: 1 }'), dir),
    ).rejects.toThrow(/default export must be/);
  });
});
