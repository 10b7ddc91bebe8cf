import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LEDGER_SCHEMA } from '../ledger/index.js';
import { openDatabase } from '../storage/index.js';
import { ImpressionSeal } from './impression-seal.js';
import type { Impression } from './model.js';
import { MARKETPLACE_SCHEMA } from './schema.js';

const shown = { id: 'im_aaaaaaaaaaaa', listingId: 'ls_one', deviceId: 'device-1' } as Impression;
const find = async (id: string) => (id === shown.id ? shown : undefined);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('ImpressionSeal', () => {
  it('opens its own references, and nothing else', async () => {
    const seal = new ImpressionSeal(Buffer.alloc(32, 7));
    const reference = seal.seal(shown);
    expect(reference).toMatch(/^im_aaaaaaaaaaaa\.[\w-]{22}$/);
    expect(await seal.open(reference, find)).toEqual({ ok: true, impression: shown });
    expect(await seal.open(shown.id, find)).toEqual({ ok: false, why: 'unsealed' });
    expect(await seal.open('im_other.AAAA', find)).toEqual({ ok: false, why: 'unknown' });
    const mac = reference.slice(reference.indexOf('.') + 1);
    const flipped = `${shown.id}.${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}`;
    expect(await seal.open(flipped, find)).toEqual({ ok: false, why: 'forged' });
    expect(await seal.open(`${shown.id}.${mac.slice(2)}`, find)).toEqual({
      ok: false,
      why: 'forged',
    });
    // Sealed for another listing or device: the stored impression's do not match.
    const elsewhere = seal.seal({ ...shown, listingId: 'ls_two' });
    expect(await seal.open(elsewhere, find)).toEqual({ ok: false, why: 'forged' });
    expect((await seal.open(seal.seal({ ...shown, deviceId: 'device-2' }), find)).ok).toBe(false);
    // Another gateway's key: forged.
    expect((await new ImpressionSeal(Buffer.alloc(32, 8)).open(reference, find)).ok).toBe(false);
  });

  it('keeps its key in the database: a reference shown before a restart still opens after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-seal-'));
    dirs.push(dir);
    const path = join(dir, 'p.db');
    const first = openDatabase(path, [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
    const reference = ImpressionSeal.fromDatabase(first).seal(shown);
    first.close();
    const again = openDatabase(path, [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
    expect((await ImpressionSeal.fromDatabase(again).open(reference, find)).ok).toBe(true);
    again.close();
    const other = openDatabase(join(dir, 'q.db'), [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
    expect((await ImpressionSeal.fromDatabase(other).open(reference, find)).ok).toBe(false);
    other.close();
  });
});
