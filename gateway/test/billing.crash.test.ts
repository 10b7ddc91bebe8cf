/**
 * Money is counted once across crashes and across processes: a real child
 * process (a driver of the billing on a SQLite file) is killed with SIGKILL
 * at random moments, many of them inside a charge's transaction; after every
 * restart, each call that had qualified has exactly one charge, and the books
 * (ledger, call states, daily counts) agree. Then two processes qualify the
 * same calls at once: each call is charged once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LEDGER_SCHEMA, SqliteLedgerStore } from '../src/ledger/index.js';
import { MARKETPLACE_SCHEMA } from '../src/marketplace/index.js';
import { openDatabase } from '../src/storage/index.js';

const DRIVER = fileURLToPath(new URL('./fixtures/billing-driver.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'parley-billing-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function driver(db: string, logFile: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', DRIVER, db, logFile, ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

const lines = (logFile: string) =>
  existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean) : [];

/**
 * Counts the complete lines of a growing log, reading only the bytes appended
 * since the last call: the wait below polls every millisecond, and reading
 * the whole log each time (thousands of lines by the last rounds) took a core
 * from the driver it waits for, so on a loaded machine the test outran its
 * timeout.
 */
function lineCounter(logFile: string): { count(): number; close(): void } {
  const buffer = Buffer.allocUnsafe(64 * 1024);
  let fd: number | undefined;
  let offset = 0;
  let count = 0;
  return {
    count() {
      if (fd === undefined) {
        if (!existsSync(logFile)) return 0;
        fd = openSync(logFile, 'r');
      }
      for (let n = readSync(fd, buffer, 0, buffer.length, offset); n > 0;) {
        offset += n;
        for (let i = 0; i < n; i += 1) if (buffer[i] === 0x0a) count += 1;
        n = readSync(fd, buffer, 0, buffer.length, offset);
      }
      return count;
    },
    close() {
      if (fd !== undefined) closeSync(fd);
    },
  };
}

/** Waits until the log has `count` lines or the child exits; true when the child is still running. */
async function waitForLines(child: ChildProcess, logFile: string, count: number): Promise<boolean> {
  let done = false;
  void exited(child).then(() => (done = true));
  const counter = lineCounter(logFile);
  try {
    while (!done && counter.count() < count) await new Promise((r) => setTimeout(r, 1));
  } finally {
    counter.close();
  }
  return !done;
}

function books(dbPath: string) {
  const db = openDatabase(dbPath, [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
  try {
    const ledger = new SqliteLedgerStore(db);
    const charges = db
      .prepare<[], { key: string; n: number; amount: number }>(
        `SELECT t.key, COUNT(*) AS n, -SUM(p.amount) AS amount FROM ledger_transactions t
         JOIN ledger_postings p ON p.transaction_id = t.id AND p.account_id LIKE 'advertiser:%'
         WHERE t.kind = 'charge' GROUP BY t.key`,
      )
      .all();
    const calls = db
      .prepare<
        [],
        {
          call_id: string;
          charged: number;
          qualified_at: number | null;
          connected_at: number | null;
        }
      >('SELECT call_id, charged, qualified_at, connected_at FROM mp_calls')
      .all();
    const daily = db
      .prepare<[], { qualified: number; spend: number }>(
        'SELECT SUM(qualified) AS qualified, SUM(spend) AS spend FROM mp_daily',
      )
      .get();
    const advertiser = db
      .prepare<[], { balance: number }>(
        "SELECT balance FROM ledger_accounts WHERE kind = 'advertiser'",
      )
      .get();
    return { problems: ledger.verify(), charges, calls, daily, advertiser };
  } finally {
    db.close();
  }
}

describe('billing under SIGKILL', () => {
  it(
    'charges every qualified call exactly once, whenever the process is killed',
    { timeout: 300_000 },
    async () => {
      const db = join(dir, 'crash.sqlite');
      const logFile = join(dir, 'crash.log');
      expect(await exited(driver(db, logFile, ['setup']))).toBe(0);
      const KILLS = 16;
      const PER_RUN = 40;
      let next = 0;
      let killedInTransaction = 0;
      let kills = 0;
      for (let round = 0; round < KILLS + 1; round += 1) {
        const before = lines(logFile).length;
        const child = driver(db, logFile, ['run', String(next), String(PER_RUN)]);
        next += PER_RUN;
        if (round < KILLS) {
          // A random step of the run: started, connected, due, committing (inside the transaction), charged.
          const target = before + 1 + Math.floor(Math.random() * PER_RUN * 4);
          if (await waitForLines(child, logFile, target)) {
            child.kill('SIGKILL');
            kills += 1;
            const last = lines(logFile).at(-1) ?? '';
            if (last.startsWith('committing')) killedInTransaction += 1;
          }
        }
        await exited(child);
      }
      // A last start recovers what the last kill left (the driver's start() runs recovery).
      expect(await exited(driver(db, logFile, ['run', String(next), '0']))).toBe(0);

      const log = lines(logFile);
      const due = new Set(log.filter((l) => l.startsWith('due ')).map((l) => l.slice(4)));
      const chargedInRun = log.filter((l) => l.startsWith('charged ')).map((l) => l.slice(8));
      const { problems, charges, calls, daily, advertiser } = books(db);
      expect(kills).toBeGreaterThan(KILLS / 2);
      expect(problems).toEqual([]);
      // No call charged twice (by the key), in the ledger or in the runs' own reports.
      expect(charges.every((c) => c.n === 1 && c.amount === 700)).toBe(true);
      expect(new Set(chargedInRun).size).toBe(chargedInRun.length);
      // Every call that was owed a charge has exactly one; none that never connected has one.
      const charged = new Set(charges.map((c) => c.key.slice('charge:'.length)));
      for (const callId of due) expect(charged.has(callId), callId).toBe(true);
      for (const callId of charged)
        expect(calls.find((c) => c.call_id === callId)?.connected_at).not.toBeNull();
      // The call states and the daily counts agree with the ledger.
      expect(
        calls
          .filter((c) => c.qualified_at !== null)
          .map((c) => c.call_id)
          .sort(),
      ).toEqual([...charged].sort());
      expect(daily).toEqual({ qualified: charged.size, spend: charged.size * 700 });
      expect(advertiser?.balance).toBe(10_000_000 - charged.size * 700);
      // Most kills hit a run; report how many hit inside a charge's transaction.
      console.info(
        `billing crash test: ${kills} kills (${killedInTransaction} inside a charge's transaction), ${due.size} calls owed, ${charged.size} charged`,
      );
    },
  );

  it(
    'charges each call once when two processes qualify the same calls at once',
    { timeout: 120_000 },
    async () => {
      const db = join(dir, 'race.sqlite');
      const setupLog = join(dir, 'race-setup.log');
      expect(await exited(driver(db, setupLog, ['setup']))).toBe(0);
      // 300 calls started and connected a second ago, none qualified yet.
      const base = 300;
      const dbh = openDatabase(db, [LEDGER_SCHEMA, MARKETPLACE_SCHEMA]);
      const listing = dbh
        .prepare<[], { id: string; advertiser_id: string }>(
          'SELECT id, advertiser_id FROM mp_listings',
        )
        .get();
      const now = Date.now();
      const insert = dbh.prepare(
        `INSERT INTO mp_calls (call_id, tenant, kind, listing_id, advertiser_id, price, min_connected_seconds, day, started_at, connected_at, qualifies_at)
       VALUES (?, 'acme', 'direct', ?, ?, 700, 1, '2000-01-01', ?, ?, ?)`,
      );
      dbh.transaction(() => {
        for (let i = 0; i < base; i += 1)
          insert.run(`race-${i}`, listing?.id, listing?.advertiser_id, now - 2000, now - 1000, now);
      })();
      dbh.close();
      const a = join(dir, 'race-a.log');
      const b = join(dir, 'race-b.log');
      // Both walk the same calls; `race` mode only qualifies.
      const raceIds = (log: string) =>
        driver(db, log, ['race', '0', String(base), listing?.id ?? '']);
      const [ca, cb] = [raceIds(a), raceIds(b)];
      expect(await Promise.all([exited(ca), exited(cb)])).toEqual([0, 0]);
      // Each call: one process charged it, the other found it charged.
      const both = [...lines(a), ...lines(b)];
      for (let i = 0; i < base; i += 1) {
        expect(both.filter((l) => l === `charged race-${i}`)).toHaveLength(1);
        expect(both.filter((l) => l === `duplicate race-${i}`)).toHaveLength(1);
      }
      const { problems, charges } = books(db);
      expect(problems).toEqual([]);
      const raceCharges = charges.filter((c) => c.key.startsWith('charge:race-'));
      expect(raceCharges).toHaveLength(base);
      expect(raceCharges.every((c) => c.n === 1)).toBe(true);
    },
  );
});
