/**
 * A gateway that stopped without ending its calls (a crash, a kill -9) leaves
 * their records open. The next start closes them, saying why; ended calls are
 * left as they were.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteCallStore, openDatabase, type CallRecord } from '../src/storage/index.js';
import { testCallRecord } from '../src/storage/test-records.js';
import { TENANT, startTestGateway, type TestGateway } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-restart-'));
const path = join(dir, 'parley.db');
const at = Date.parse('2026-11-25T10:00:00Z');

const record = (id: string, state: CallRecord['state'], extra: Partial<CallRecord> = {}) =>
  testCallRecord(id, {
    tenant: TENANT,
    createdAt: at,
    agentCallId: `agent-${id}`,
    agentId: 'agent1',
    state,
    ringingAt: at + 300,
    ...extra,
  });

let gw: TestGateway;

beforeAll(async () => {
  // What the stopped gateway left behind.
  const db = openDatabase(path);
  const store = new SqliteCallStore(db);
  store.insert(record('talking', 'answered', { answeredAt: at + 2000, sipStatus: 200 }));
  store.insert(record('ringing', 'ringing'));
  store.insert(
    record('done', 'ended', {
      answeredAt: at + 2000,
      endedAt: at + 60_000,
      outcome: 'answered',
      endedBy: 'visitor',
      reason: 'normal_clearing',
    }),
  );
  db.close();
  gw = await startTestGateway({ config: { storage: { path } } });
});
afterAll(async () => {
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

type View = { state: string; outcome: string; endedBy: string; reason: string; endedAt: string };

describe('after a stop that ended no call', () => {
  it('closes an answered call as answered, ended by the gateway, reason gateway_restart', async () => {
    const { body } = await gw.api<View>('/v1/calls/talking');
    expect(body).toMatchObject({
      state: 'ended',
      outcome: 'answered',
      endedBy: 'gateway',
      reason: 'gateway_restart',
    });
    expect(Date.parse(body.endedAt)).toBeGreaterThan(at);
  });

  it('closes a call that was still ringing as failed', async () => {
    const { body } = await gw.api<View>('/v1/calls/ringing');
    expect(body).toMatchObject({ state: 'ended', outcome: 'failed', reason: 'gateway_restart' });
  });

  it('leaves an ended call as it was', async () => {
    const { body } = await gw.api<View>('/v1/calls/done');
    expect(body).toMatchObject({
      outcome: 'answered',
      endedBy: 'visitor',
      reason: 'normal_clearing',
      endedAt: new Date(at + 60_000).toISOString(),
    });
  });
});
