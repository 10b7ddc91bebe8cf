/**
 * The flow event store's contract (`../flow-event-store-contract.ts`) on a
 * real PostgreSQL (Debian `postgresql`, started by the testkit), migrated by
 * the gateway's own path (`migratePostgres` with the flows module), with a
 * second gateway's store on its own pool to the same database: it reads what
 * the first wrote. And what a write that fails does: tried again while the
 * failure is transient, logged when it is not, the call's later events still
 * stored in order.
 */
import { until } from '@parley/testkit';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../observability/index.js';
import { migratePostgres, type PgPool } from '../../storage/postgres/index.js';
import { useTestPostgres } from '../../storage/postgres/test-postgres.js';
import { flowEventStoreContract, sayResult } from '../flow-event-store-contract.js';
import { PgFlowEventStore } from './pg-flow-event-store.js';
import { FLOW_PG_MIGRATIONS } from './pg-schema.js';

const pg = useTestPostgres('flows');
const logger = createLogger('silent');

/** A fresh database, migrated, and `count` pools to it (one per gateway). */
async function database(count: number): Promise<PgPool[]> {
  const url = await pg.database();
  const made = Array.from({ length: count }, () => pg.pool(url));
  await migratePostgres(made[0]!, [{ name: 'flows', postgres: FLOW_PG_MIGRATIONS }]);
  return made;
}

flowEventStoreContract('PostgreSQL', async () => {
  const [a, b] = await database(2);
  return { store: new PgFlowEventStore(a!, logger), other: new PgFlowEventStore(b!, logger) };
});

describe('the PostgreSQL flow event store', () => {
  it('migrates once: a second run applies nothing', async () => {
    const [pool] = await database(1);
    expect(await migratePostgres(pool!, [{ name: 'flows', postgres: FLOW_PG_MIGRATIONS }])).toEqual(
      { applied: 0 },
    );
  });

  it("tries an insert again when the server ends its connection; the call's next events wait", async () => {
    const [pool, admin] = await database(2);
    const store = new PgFlowEventStore(pool!, logger, { retryMs: [20, 20, 20, 20, 20] });
    // Another session holds the table: the insert waits on its lock...
    const holder = await admin!.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE flow_events IN ACCESS EXCLUSIVE MODE');
      store.event(sayResult('call-retry', 1));
      // ...until the server ends the waiting connection (57P01, as in a restart): a transient failure.
      // Asked outside the holder's transaction, which sees one snapshot of pg_stat_activity.
      const waiting = async () =>
        (
          await admin!.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity
             WHERE query LIKE 'INSERT INTO flow_events%' AND wait_event_type = 'Lock'`,
          )
        ).rows[0]?.pid;
      const pid = await until(waiting, 'the insert waiting for the lock', 10_000, 20);
      // The call's next event, handed over while its first is under way: the next insert.
      store.event(sayResult('call-retry', 2));
      await admin!.query('SELECT pg_terminate_backend($1)', [pid]);
      // Tried again: it waits on the lock once more, a new connection.
      await until(
        async () => ((await waiting()) ?? pid) !== pid || undefined,
        'the insert tried again on a new connection',
        10_000,
        20,
      );
      await holder.query('COMMIT');
    } finally {
      holder.release();
    }
    expect(await store.list('call-retry')).toEqual([
      sayResult('call-retry', 1),
      sayResult('call-retry', 2),
    ]);
  });

  it("logs an insert that cannot succeed and stores the call's next events", async () => {
    const [pool] = await database(1);
    const lines: Record<string, unknown>[] = [];
    const log = createLogger('warn', {
      write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
    });
    const store = new PgFlowEventStore(pool!, log, { retryMs: [20, 20, 20] });
    await pool!.query('ALTER TABLE flow_events RENAME TO flow_events_away');
    store.event(sayResult('call-lost', 1));
    await store.idle();
    await pool!.query('ALTER TABLE flow_events_away RENAME TO flow_events');
    store.event(sayResult('call-lost', 2));
    expect(await store.list('call-lost')).toEqual([sayResult('call-lost', 2)]);
    // Not tried again (42P01 fails every time), logged once with what was lost.
    expect(lines.map((l) => l['msg'])).toEqual(['flow events not stored']);
    expect(lines[0]).toMatchObject({ callId: 'call-lost', seq: [1], level: 50 });
  });
});
