/**
 * A call's flow results shared by the cluster (issue 16 item 1 for the flow
 * events): gateways A and B on one PostgreSQL (`storage.kind: postgres`,
 * migrated at start), each with its own SQLite file for what stays per
 * gateway. A sipp carrier calls a DID on A, whose flow says a sentence and
 * hangs up; B, which never saw the call, answers `GET /v1/calls/<id>` with
 * the record and the flow's events as A stored them, in order. Redis is not
 * needed for this: nothing hot is shared, only the records. A key limited to
 * another tenant gets 404 on either gateway, as for a call that does not exist.
 */
import type { FlowEvent } from '@parley/shared/protocol';
import {
  bundledScenario,
  runSipp,
  sippAvailable,
  startPostgres,
  stopAll,
  type Postgres,
} from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARRIER, carrierTrunk } from '../carrier.js';
import { API_KEY, TENANT, startTestGateway, testKeys, type TestGateway } from '../harness.js';

const DID = '+14155550163';
const GLOBEX_KEY = 'globex-api-key-0123456789';

let postgres: Postgres;
let a: TestGateway;
let b: TestGateway;

afterAll(async () => {
  await a?.close();
  await b?.close();
  await postgres?.stop();
  await stopAll();
});

describe.skipIf(!sippAvailable())('flow events shared by two gateways', () => {
  beforeAll(async () => {
    postgres = await startPostgres();
    const url = await postgres.createDatabase('parley_flow_events');
    const keys = await testKeys();
    const start = (instanceId: string) =>
      startTestGateway({
        keys,
        config: {
          storage: { path: ':memory:', kind: 'postgres', postgres: { url } },
          api: {
            keys: [
              // The harness's own key (gw.api uses it): every tenant.
              { id: 'test', key: API_KEY, privateClaims: true },
              { id: 'globex', key: GLOBEX_KEY, tenant: 'globex', privateClaims: true },
            ],
          },
          // Each its own owner of the calls it takes (a start closes only its own open records).
          shared: { instanceId },
          flows: {
            hello: [{ verb: 'say', text: 'Hello from gateway A.' }, { verb: 'hangup' }],
          },
          trunks: { carrier: carrierTrunk({ dids: { [DID]: 'hello' } }) },
        },
      });
    a = await start('gw-a');
    b = await start('gw-b');
  }, 60_000);

  it("reads through B's API the flow A ran, in order", async () => {
    const caller = await runSipp({
      scenario: await bundledScenario('uac-carrier-await-bye'),
      remote: a.udp,
      address: CARRIER,
      calls: 1,
      injection: { rows: [[DID, '4155550199']] },
      timeoutMs: 60_000,
      recvTimeoutMs: 30_000,
    });
    expect(caller.stats.successful, `${caller.output}\n${caller.errors}`).toBe(1);
    await a.callsEnded();
    // A's writes are queued behind the call (the runner never waits for them): landed now.
    await a.gateway.telephony.events.idle();
    const [record] = await b.gateway.callStore.listRecent(1, { tenant: TENANT });
    expect(record).toMatchObject({ channel: 'phone', called: DID, flow: 'hello' });

    const onB = await b.api<{ id: string; flow: FlowEvent[] }>(`/v1/calls/${record!.id}`);
    expect(onB.status).toBe(200);
    const flow = onB.body.flow;
    const all = JSON.stringify(flow);
    expect(
      flow.map((e) => [e.type, 'verb' in e ? e.verb : null]),
      all,
    ).toEqual([
      ['flow.start', null],
      ['verb.start', 'say'],
      ['verb.result', 'say'],
      ['verb.start', 'hangup'],
      ['verb.result', 'hangup'],
      ['flow.end', null],
    ]);
    expect(flow.map((e) => e.seq)).toEqual([...flow.map((e) => e.seq)].sort((x, y) => x - y));
    expect(flow.every((e) => e.callId === record!.id && e.flow === 'hello')).toBe(true);
    expect(flow.find((e) => e.type === 'verb.result' && e.verb === 'say')).toMatchObject({
      result: { status: 'completed' },
    });
    // A, which ran it, shows the same.
    expect((await a.api<{ flow: FlowEvent[] }>(`/v1/calls/${record!.id}`)).body.flow).toEqual(flow);
    // Another tenant's key sees neither the call nor its flow, on either gateway.
    for (const gw of [a, b]) {
      const res = await fetch(`${gw.gateway.httpUrl}/v1/calls/${record!.id}`, {
        headers: { authorization: `Bearer ${GLOBEX_KEY}` },
      });
      const body = await res.text();
      expect(res.status, body).toBe(404);
      expect(body).not.toContain('flow.start');
      expect(JSON.parse(body)).toMatchObject({ error: { code: 'not_found' } });
    }
  });
});
