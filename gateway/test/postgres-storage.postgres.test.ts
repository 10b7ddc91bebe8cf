/**
 * A gateway on PostgreSQL (`storage.kind: postgres`, issue 16 item 1): a
 * real PostgreSQL from Debian (the testkit's), a sipp visitor with a call
 * token, a baresip agent. The call's record, its web session and number, and
 * an agent made through the API are read back from PostgreSQL itself, and
 * from a second gateway started on the same database after the first one
 * stopped (what lasts, lasts in the database, not in the process).
 */
import pg from 'pg';
import {
  bundledScenario,
  runSipp,
  sippAvailable,
  startBaresipAgent,
  startPostgres,
  stopAll,
  type BaresipAgent,
  type Postgres,
} from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT, startTestGateway, type TestGateway } from './harness.js';

let postgres: Postgres;
let url: string;
let client: pg.Client;

beforeAll(async () => {
  postgres = await startPostgres();
  url = await postgres.createDatabase('parley_gateway');
  client = new pg.Client({ connectionString: url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await postgres?.stop();
  await stopAll();
});

const onPostgres = () => ({
  storage: { path: ':memory:', kind: 'postgres' as const, postgres: { url } },
  shared: { instanceId: 'gw-pg' },
});

describe('a gateway whose PostgreSQL cannot be used', () => {
  it('refuses to start with invalid_config naming storage.postgres, not a driver stack', async () => {
    const missing = postgres.urlOf('parley_no_such_database');
    const started = startTestGateway({
      config: {
        storage: { path: ':memory:', kind: 'postgres' as const, postgres: { url: missing } },
        shared: { instanceId: 'gw-pg' },
      },
    });
    await expect(started).rejects.toMatchObject({
      code: 'invalid_config',
      detail: expect.stringMatching(
        /storage\.postgres: cannot use the database at .*parley_no_such_database.*does not exist/,
      ) as unknown,
    });
  });
});

describe.skipIf(!sippAvailable())('a gateway on PostgreSQL', () => {
  let gw: TestGateway;
  let agent: BaresipAgent;
  afterAll(async () => {
    await agent?.stop();
    await gw?.close();
  });

  it('stores the call, the session and its number, and an API-made agent in PostgreSQL', async () => {
    gw = await startTestGateway({ agents: [{ id: 'agent1' }], config: onPostgres() });
    agent = await startBaresipAgent({ user: 'agent1', password: 'secret', registrar: gw.udp });
    await agent.registered();

    const token = await gw.token({ subject: 'web-sess-PG', privateClaims: { name: 'Ada' } });
    const result = await runSipp({
      scenario: await bundledScenario('uac-bearer-pcmu'),
      remote: gw.udp,
      service: 'sales',
      calls: 1,
      callDurationMs: 1500,
      injection: { rows: [[token]] },
      timeoutMs: 30_000,
    });
    expect(result.stats.successful, result.output).toBe(1);
    const put = await gw.apiRequest('PUT', '/v1/agents/bob', {
      tenant: TENANT,
      password: 'a-long-password-for-bob',
      queues: ['sales'],
    });
    expect(put.status, JSON.stringify(put.body)).toBeLessThan(300);
    await gw.callsEnded();
    await gw.close();

    // Read from PostgreSQL itself: the final record (the writes were queued, not lost on close).
    const calls = await client.query<{ outcome: string; agent_id: string; session_id: string }>(
      'SELECT outcome, agent_id, session_id FROM calls',
    );
    expect(calls.rows).toEqual([
      { outcome: 'answered', agent_id: 'agent1', session_id: 'web-sess-PG' },
    ]);
    const sessions = await client.query<{ session_id: string; number: string }>(
      'SELECT session_id, number FROM sessions',
    );
    expect(sessions.rows).toHaveLength(1);
    expect(sessions.rows[0]).toMatchObject({ session_id: 'web-sess-PG' });
    expect(sessions.rows[0]?.number).toMatch(/^\+\d+$/);

    // A second gateway on the same database sees all of it.
    gw = await startTestGateway({ agents: [{ id: 'agent1' }], config: onPostgres() });
    const listed = await gw.api<{ calls: { sessionId: string; outcome: string }[] }>('/v1/calls');
    expect(listed.body.calls).toEqual([
      expect.objectContaining({ sessionId: 'web-sess-PG', outcome: 'answered' }),
    ]);
    const agents = await gw.api<{ agents: { id: string }[] }>('/v1/agents');
    expect(agents.body.agents.map((a) => a.id).sort()).toEqual(['agent1', 'bob']);
  });
});

describe('the marketplace money of a gateway on PostgreSQL', () => {
  it('keeps deposits and balances in the shared ledger, once per key', async () => {
    const gw = await startTestGateway({ config: onPostgres() });
    try {
      const created = await gw.apiRequest('POST', '/v1/advertisers', {
        tenant: TENANT,
        name: 'Plumbing PG',
        initialBalanceCents: 2_500,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const id = (created.body as { id: string }).id;
      for (const expected of [201, 200]) {
        const deposit = await gw.apiRequest('POST', `/v1/advertisers/${id}/deposits`, {
          amountCents: 1_000,
          key: 'topup-pg',
        });
        expect(deposit.status, JSON.stringify(deposit.body)).toBe(expected);
      }
      const shown = await gw.api<{ balanceCents: number }>(`/v1/advertisers/${id}`);
      expect(shown.body.balanceCents).toBe(3_500);
      // Read from PostgreSQL itself: the money is there, not in the gateway's SQLite file.
      const account = await client.query<{ balance: string }>(
        'SELECT balance FROM ledger_accounts WHERE id = $1',
        [`advertiser:${id}`],
      );
      expect(account.rows).toEqual([{ balance: '3500' }]);
      const deposits = await client.query<{ key: string }>(
        `SELECT key FROM ledger_transactions WHERE kind = 'deposit' ORDER BY id`,
      );
      expect(deposits.rows.map((r) => r.key)).toEqual([
        `deposit:${id}:initial`,
        `deposit:${id}:topup-pg`,
      ]);
    } finally {
      await gw.close();
    }
  });
});
