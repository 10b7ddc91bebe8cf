/**
 * Crash safety of per-minute billing with a real process: a driver
 * (`testing/meter-driver.ts`) meters calls on a SQLite file and is SIGKILLed
 * at different moments, seven times, then runs to the end. Every minute it
 * reported charged is in the database (never lost), no minute is charged
 * twice (not by the retries it makes after each restart either), each call's
 * minutes run 1..n without a gap, no meter stays running, and the money adds
 * up: credits = balances + charges.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../storage/index.js';
import { GATED_SCHEMA, createSqliteGatedStore } from './store/index.js';

const DRIVER = fileURLToPath(new URL('./testing/meter-driver.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'parley-meter-crash-'));
const path = join(dir, 'gated.sqlite');
const CREDITS = { 'acc-1': 100_000, 'acc-2': 100_000, 'acc-3': 60 };
/** Kill after this many `charged` lines of each run (different moments of the calls). */
const KILL_AFTER = [3, 11, 1, 17, 6, 25, 9];
const MINUTE_MS = 40;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the driver until `killAfter` charges were reported (then SIGKILL), or to its end. */
function drive(
  run: number,
  killAfter: number | undefined,
  reported: Map<string, number>,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; lines: string[] }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', DRIVER, path, String(run), String(MINUTE_MS)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines: string[] = [];
  let charged = 0;
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    const [what, callId, minute] = line.split(' ');
    if (what !== 'charged' || !callId) return;
    reported.set(callId, Math.max(reported.get(callId) ?? 0, Number(minute)));
    charged += 1;
    if (killAfter !== undefined && charged === killAfter) child.kill('SIGKILL');
  });
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, lines })),
  );
}

describe('billing across gateway crashes', () => {
  // Eight processes start (tsx compiles the driver each time): minutes on a loaded machine.
  it(
    'loses no charged minute and charges none twice, through seven SIGKILLs',
    { timeout: 240_000 },
    async () => {
      const seed = openDatabase(path, [GATED_SCHEMA]);
      const store = createSqliteGatedStore(seed);
      for (const [id, amount] of Object.entries(CREDITS)) {
        await store.accounts.insert({
          tenant: 'facility',
          id,
          number: id.replace(/\D/g, '').padStart(10, '7'),
          name: id,
          phones: [],
          webLogin: null,
          ratePerMinute: 7,
          balance: 0,
          status: 'active',
          pinSet: false,
          pinHash: null,
          createdAt: 0,
          updatedAt: 0,
        });
        await store.billing.credit({
          tenant: 'facility',
          accountId: id,
          key: `seed-${id}`,
          amount,
          note: null,
          actor: 'test',
          at: 0,
        });
      }
      seed.close();

      const reported = new Map<string, number>();
      for (const [i, killAfter] of KILL_AFTER.entries()) {
        const result = await drive(i + 1, killAfter, reported);
        expect(result.signal, result.lines.join('\n')).toBe('SIGKILL');
      }
      const last = await drive(99, undefined, reported);
      expect(last.code, last.lines.join('\n')).toBe(0);
      expect(last.lines).toContain('done');

      const db = openDatabase(path, [GATED_SCHEMA]);
      const meters = db
        .prepare('SELECT call_id, minutes_charged, state FROM gated_meters')
        .all() as {
        call_id: string;
        minutes_charged: number;
        state: string;
      }[];
      const charges = db
        .prepare('SELECT call_id, minute, amount FROM gated_charges ORDER BY call_id, minute')
        .all() as { call_id: string; minute: number; amount: number }[];
      const balances = db
        .prepare("SELECT SUM(balance) FROM gated_accounts WHERE tenant = 'facility'")
        .pluck()
        .get() as number;
      db.close();

      expect(meters.filter((m) => m.state === 'running')).toEqual([]);
      // The kills left meters to recover, and the runs went on after them.
      expect(meters.filter((m) => m.state === 'interrupted').length).toBeGreaterThanOrEqual(
        KILL_AFTER.length,
      );
      const byCall = new Map<string, number[]>();
      for (const c of charges) byCall.set(c.call_id, [...(byCall.get(c.call_id) ?? []), c.minute]);
      for (const m of meters) {
        const minutes = byCall.get(m.call_id) ?? [];
        // 1..n, no gap and (the key) no minute twice; the meter counts the same n.
        expect(minutes, m.call_id).toEqual(Array.from({ length: minutes.length }, (_, k) => k + 1));
        expect(m.minutes_charged, m.call_id).toBe(minutes.length);
        // Never lost: every minute reported charged is there. A kill between the
        // commit and the report leaves at most one minute more than reported.
        const said = reported.get(m.call_id) ?? 0;
        expect(minutes.length, m.call_id).toBeGreaterThanOrEqual(said);
        expect(minutes.length, m.call_id).toBeLessThanOrEqual(said + 1);
      }
      expect(charges.every((c) => c.amount === 7)).toBe(true);
      const credited = Object.values(CREDITS).reduce((a, b) => a + b, 0);
      expect(balances + charges.length * 7).toBe(credited);
    },
  );
});
