/**
 * Attack (issue 17 item 5): learning names one should not know. A caller
 * without a token probes queue names; a tenant probes another's queues with
 * its own tokens; a tenant's API key probes another tenant's agent ids and
 * usernames with `PUT /v1/agents/<id>`. Every probe must be answered exactly
 * as the same probe for a name that does not exist.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SipResponse } from '../src/sip/message/index.js';
import { API_KEY, startTestGateway, type TestGateway } from './harness.js';
import { RawSipClient, inviteText } from './raw-sip.js';

const ACME_KEY = 'acme-key-0123456789abcdef';
const GLOBEX_KEY = 'globex-key-0123456789abcdef';
let gw: TestGateway;
let client: RawSipClient;

beforeAll(async () => {
  gw = await startTestGateway({
    otherTenants: ['globex'],
    config: {
      api: {
        keys: [
          { id: 'test', key: API_KEY, privateClaims: true },
          { id: 'acme', key: ACME_KEY, tenant: 'acme' },
          { id: 'globex', key: GLOBEX_KEY, tenant: 'globex' },
        ],
      },
    },
  });
  client = await RawSipClient.open();
});
afterAll(async () => {
  client?.close();
  await gw?.close();
});

/** Status and Reason of the final answer to an INVITE for `queue`. */
async function probe(queue: string, token?: string): Promise<[number, string | undefined]> {
  const text = inviteText({
    to: `${queue}@parley.test`,
    port: client.port,
    headers: token ? [`Authorization: Bearer ${token}`] : [],
  });
  const callId = /Call-ID: (.*)\r/.exec(text.replace(/\r?\n/g, '\r\n'))![1]!;
  client.send(gw.udp, text);
  const final = (await client.waitFor(
    (m) => m.type === 'response' && m.status >= 200 && m.callId === callId,
    10_000,
  )) as SipResponse;
  return [final.status, final.headers.get('reason')];
}

async function put(key: string, id: string, body: unknown) {
  const res = await fetch(`${gw.gateway.httpUrl}/v1/agents/${id}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { error?: { code: string; detail?: string } };
  // The detail names what was asked for; everything else must match.
  return { status: res.status, code: json.error?.code, detail: json.error?.detail };
}

describe('queue names', () => {
  it('are not told to a caller without a token, nor with a bad one', async () => {
    expect(await probe('ghost')).toEqual(await probe('sales'));
    expect(await probe('ghost', 'not.a.token')).toEqual(await probe('sales', 'not.a.token'));
  });

  it('are not told to another tenant: its queue and no queue answer alike', async () => {
    const theirs = await probe('globex', await gw.token({ scope: 'queue:globex' }));
    const none = await probe('ghost', await gw.token({ scope: 'queue:ghost' }));
    expect(theirs).toEqual(none);
    expect(none[1]).toContain('unknown_queue');
  });
});

describe("another tenant's agents", () => {
  it('cannot be found by trying to take their ids or usernames', async () => {
    const body = { password: 'long enough secret', queues: ['globex'] };
    expect((await put(GLOBEX_KEY, 'globex.ada', body)).status).toBe(201);
    const mine = { password: 'long enough secret', queues: ['sales'] };
    // An id another tenant holds, and one nobody holds: the same answer.
    const taken = await put(ACME_KEY, 'globex.ada', mine);
    const free = await put(ACME_KEY, 'globex.zed', mine);
    expect([taken.status, taken.code]).toEqual([free.status, free.code]);
    expect(taken.detail).toBe(free.detail);
    expect(taken.status).not.toBe(409);
    // The same for usernames.
    const takenName = await put(ACME_KEY, 'acme.bob', { ...mine, username: 'globex.ada' });
    const freeName = await put(ACME_KEY, 'acme.bob', { ...mine, username: 'globex.zed' });
    expect(takenName).toEqual(freeName);
    // Inside its own namespace a tenant creates agents as before.
    expect((await put(ACME_KEY, 'acme.bob', mine)).status).toBe(201);
    expect((await gw.api(`/v1/agents/globex.ada`)).status).toBe(200);
  });
});
