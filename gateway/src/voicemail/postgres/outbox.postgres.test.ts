/**
 * The webhook outbox's contract (`../outbox-contract.ts`) on a real
 * PostgreSQL (Debian `postgresql`, started by the testkit), migrated by the
 * gateway's own path, with two gateways' outboxes on two pools of one
 * database. And what a dead holder leaves: its connection gone (the server
 * ends its session), the lane is free at once and the head it was sending is
 * sent again by the other, with the same delivery id.
 */
import { startPostgres, type Postgres } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../observability/index.js';
import { createPgPool, migratePostgres, type PgPool } from '../../storage/postgres/index.js';
import type { OutboxEntry } from '../outbox.js';
import { webhookOutboxContract } from '../outbox-contract.js';
import { VOICEMAIL_PG_MIGRATIONS } from './pg-schema.js';
import { PgWebhookOutbox } from './pg-outbox.js';

let pg: Postgres;
const pools: PgPool[] = [];
beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await pg?.stop();
});

const logger = createLogger('silent');
let databases = 0;
/** Two pools on a new migrated database: two gateways. */
async function twoPools(poolSize?: number): Promise<[PgPool, PgPool]> {
  const url = await pg.createDatabase(`vm_outbox_${(databases += 1)}`);
  const [a, b] = [createPgPool({ url, poolSize }), createPgPool({ url, poolSize })];
  pools.push(a, b);
  await migratePostgres(a, [{ name: 'voicemail', postgres: VOICEMAIL_PG_MIGRATIONS }]);
  return [a, b];
}

webhookOutboxContract('PostgreSQL', async () => {
  const [a, b] = await twoPools();
  return { a: new PgWebhookOutbox(a, logger), b: new PgWebhookOutbox(b, logger) };
});

describe('the PostgreSQL webhook outbox', () => {
  it("frees a lane when its holder's connection dies: the other sends the same head", async () => {
    const [poolA, poolB] = await twoPools();
    const a = new PgWebhookOutbox(poolA, logger);
    const b = new PgWebhookOutbox(poolB, logger);
    const lane = { tenant: 'acme', url: 'https://acme.test/hooks' };
    await a.add({ ...lane, delivery: 'd-1', body: '{}', at: 1 });
    await a.add({ ...lane, delivery: 'd-2', body: '{}', at: 2 });
    // A's send is cut off mid-way: the server ends the session holding the lane's lock.
    const dying = a.turn(lane, 10, async () => {
      const { rows } = await poolB.query<{ pid: number }>(
        `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()`,
      );
      expect(rows).toHaveLength(1);
      expect(await b.turn(lane, 10, () => Promise.resolve({ sent: true }))).toEqual({
        kind: 'busy',
      });
      // With a timeout it returns once the backend is gone (its lock let go), not when signalled.
      await poolB.query('SELECT pg_terminate_backend($1, 5000)', [rows[0]!.pid]);
      return { sent: true };
    });
    await expect(dying).rejects.toThrow();
    const heads: OutboxEntry[] = [];
    const take = async (head: OutboxEntry) => (heads.push(head), { sent: true } as const);
    expect(await b.turn(lane, 10, take)).toEqual({ kind: 'sent' });
    expect(await b.turn(lane, 10, take)).toEqual({ kind: 'sent' });
    expect(heads.map((h) => [h.delivery, h.attempts])).toEqual([
      ['d-1', 0],
      ['d-2', 0],
    ]);
    expect(await a.pending()).toBe(0);
  });

  it('lands an add tried again after its insert committed, and gives up on one that cannot land', async () => {
    const [pool] = await twoPools();
    const a = new PgWebhookOutbox(pool, logger);
    const lane = { tenant: 'acme', url: 'https://acme.test/hooks' };
    await a.add({ ...lane, delivery: 'd-1', body: '{}', at: 1 });
    // The same insert again (its first reply was lost): already there, not a failure.
    await a.add({ ...lane, delivery: 'd-1', body: '{}', at: 1 });
    // A body PostgreSQL refuses (22021) fails for good: rejected, not tried for ever.
    await expect(a.add({ ...lane, delivery: 'd-2', body: '\u0000', at: 2 })).rejects.toMatchObject({
      code: '22021',
    });
    // Neither holds back the lane's next add.
    await a.add({ ...lane, delivery: 'd-3', body: '{}', at: 3 });
    const { rows } = await pool.query<{ delivery: string }>(
      'SELECT delivery FROM vm_webhook_outbox ORDER BY id',
    );
    expect(rows.map((r) => r.delivery)).toEqual(['d-1', 'd-3']);
  });

  it('holds at most a quarter of its pool in turns, and lists only the lanes whose head is due', async () => {
    // A pool of 7: one turn at a time.
    const [pool] = await twoPools(7);
    const a = new PgWebhookOutbox(pool, logger);
    const acme = { tenant: 'acme', url: 'https://acme.test/hooks' };
    const globex = { tenant: 'globex', url: 'https://globex.test/hooks' };
    const initech = { tenant: 'initech', url: 'https://initech.test/hooks' };
    for (const lane of [acme, globex, initech])
      await a.add({ ...lane, delivery: `${lane.tenant}-1`, body: '{}', at: 1 });
    let entered: () => void = () => undefined;
    const sending = new Promise<void>((resolve) => (entered = resolve));
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const slow = a.turn(acme, 10, async () => {
      entered();
      await released;
      return { sent: true };
    });
    await sending;
    // A slow receiver holds the one turn: another lane waits (no second connection held).
    expect(await a.turn(globex, 10, () => Promise.resolve({ sent: true }))).toEqual({
      kind: 'busy',
    });
    release();
    expect(await slow).toEqual({ kind: 'sent' });
    expect(await a.turn(globex, 10, () => Promise.resolve({ sent: true }))).toEqual({
      kind: 'sent',
    });
    // Initech's head fails: backing off until 5000, its lane is not listed before.
    const fail = () => Promise.resolve({ sent: false, error: 'HTTP 503', retryAt: 5000 } as const);
    expect(await a.turn(initech, 10, fail)).toEqual({ kind: 'sent' });
    await a.add({ ...acme, delivery: 'acme-2', body: '{}', at: 20 });
    expect(await a.lanes(4999)).toEqual([acme]);
    expect((await a.lanes(5000)).map((l) => l.tenant)).toEqual(['acme', 'initech']);
  });

  it('keeps the order of one gateway’s adds to a lane sent at once (several connections)', async () => {
    const [pool] = await twoPools();
    const a = new PgWebhookOutbox(pool, logger);
    const lane = { tenant: 'acme', url: 'https://acme.test/hooks' };
    await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        a.add({ ...lane, delivery: `d-${n}`, body: '{}', at: n }),
      ),
    );
    const { rows } = await pool.query<{ delivery: string }>(
      'SELECT delivery FROM vm_webhook_outbox ORDER BY id',
    );
    expect(rows.map((r) => r.delivery)).toEqual(Array.from({ length: 20 }, (_, n) => `d-${n}`));
  });
});
