/**
 * Attack (issue 17 item 2): the registrar as a stranger attacks it, from
 * several source addresses of the loopback range: user enumeration (unknown
 * user against wrong password), nonce and nonce-count reuse, an exact replay
 * of a successful REGISTER, and distributed password guessing against one
 * account. baresip's own registrations (nc and nonce reuse done right) are in
 * registrar-security.baresip.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  answerDigestChallenge,
  formatDigestCredentials,
  parseDigestChallenge,
  type DigestChallenge,
  type SipResponse,
} from '../src/sip/message/index.js';
import { startTestGateway, type TestGateway } from './harness.js';
import { RawSipClient } from './raw-sip.js';

let gw: TestGateway;
const clients: RawSipClient[] = [];

beforeAll(async () => {
  gw = await startTestGateway({
    agents: [{ id: 'agent1' }, { id: 'agent2' }, { id: 'agent3' }],
    sipExtra: {
      registration: {
        minExpires: 1,
        maxExpires: 3600,
        defaultExpires: 3600,
        nonceSeconds: 300,
        backoffAfter: 4,
        lockoutAfter: 6,
        lockoutSeconds: 600,
      },
    },
  });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await gw?.close();
});

/** A client on its own loopback address: another source each time. */
let nextHost = 10;
async function stranger(): Promise<RawSipClient> {
  const client = await RawSipClient.open(`127.0.0.${nextHost++}`);
  clients.push(client);
  return client;
}

async function challenge(client: RawSipClient, user: string): Promise<DigestChallenge> {
  client.send(gw.udp, client.registerText(user, [`<sip:${user}@${client.address}:5060>`]));
  const response = await client.responseTo(client.cseq);
  expect(response.status).toBe(401);
  return parseDigestChallenge(response.headers.getAll('www-authenticate').at(-1)!);
}

/** The Authorization header value answering `chosen` with `password` and nonce count `nc`. */
function authorization(
  chosen: DigestChallenge,
  user: string,
  password: string,
  nc = 1,
  cnonce = 'c0ffee',
): string {
  return formatDigestCredentials(
    answerDigestChallenge(chosen, {
      username: user,
      password,
      method: 'REGISTER',
      uri: 'sip:parley.test',
      cnonce,
      nc,
    }),
  );
}

async function registerWith(
  client: RawSipClient,
  user: string,
  header: string,
): Promise<SipResponse> {
  client.send(
    gw.udp,
    client.registerText(
      user,
      [`<sip:${user}@${client.address}:5060>`],
      [`Authorization: ${header}`],
    ),
  );
  return client.responseTo(client.cseq);
}

const counter = async (name: 'registrarAuthFailures' | 'registrarLockouts', label?: string) =>
  (await gw.gateway.metrics[name].get()).values
    .filter((v) => label === undefined || v.labels['reason'] === label)
    .reduce((sum, v) => sum + v.value, 0);

describe('registrar under attack', () => {
  it('answers an unknown user exactly as a known one with a wrong password', async () => {
    const client = await stranger();
    const nobody = await registerWith(
      client,
      'nobody',
      authorization(await challenge(client, 'nobody'), 'nobody', 'guess'),
    );
    const wrong = await registerWith(
      client,
      'agent3',
      authorization(await challenge(client, 'agent3'), 'agent3', 'guess'),
    );
    expect(wrong.status).toBe(403);
    expect([nobody.status, nobody.reason]).toEqual([wrong.status, wrong.reason]);
    const names = (r: SipResponse) => [...r.headers].map(([name]) => name.toLowerCase());
    expect(names(nobody)).toEqual(names(wrong));
  });

  it('refuses a nonce count used before, and a replay of a successful REGISTER', async () => {
    const client = await stranger();
    const chosen = await challenge(client, 'agent1');
    const header = authorization(chosen, 'agent1', 'secret', 1);
    const first = await registerWith(client, 'agent1', header);
    expect(first.status).toBe(200);
    // nc 2 with the same nonce is how a phone re-registers: taken.
    expect(
      (await registerWith(client, 'agent1', authorization(chosen, 'agent1', 'secret', 2))).status,
    ).toBe(200);
    // The same nc again, from an eavesdropper on another address (a new transaction).
    const eavesdropper = await stranger();
    const replayed = await registerWith(eavesdropper, 'agent1', header);
    expect(replayed.status).toBe(401);
    expect(replayed.headers.getAll('www-authenticate').join()).toMatch(/stale=true/i);
    // ... nor 900 times more (the same nonce and nc used about 900 times once passed).
    for (let i = 0; i < 900; i += 1) {
      eavesdropper.send(
        gw.udp,
        eavesdropper.registerText(
          'agent1',
          ['<sip:evil@127.0.0.99:5060>'],
          [`Authorization: ${header}`],
        ),
      );
    }
    const last = (await eavesdropper.waitFor(
      (m) => m.type === 'response' && m.cseq.seq === eavesdropper.cseq,
      15_000,
    )) as SipResponse;
    // Every one of them was refused.
    expect(eavesdropper.responses(200)).toEqual([]);
    expect(last.status).toBe(401);
    const views = (
      await gw.api<{ agents: { id: string; contacts: { uri: string }[] }[] }>('/v1/agents')
    ).body.agents;
    expect(views.find((a) => a.id === 'agent1')?.contacts.map((c) => c.uri)).not.toContain(
      'sip:evil@127.0.0.99:5060',
    );
  });

  it('refuses the exact bytes of a successful REGISTER sent again once its transaction is over', async () => {
    const client = await stranger();
    const chosen = await challenge(client, 'agent2');
    const text = client.registerText(
      'agent2',
      [`<sip:agent2@${client.address}:5060>`],
      [`Authorization: ${authorization(chosen, 'agent2', 'secret', 1)}`],
    );
    client.send(gw.udp, text);
    expect((await client.responseTo(client.cseq)).status).toBe(200);
    // Within its transaction a copy is a retransmission (answered from the transaction,
    // RFC 3261 §17.2.2); after Timer J it is a new request, and must not pass.
    const deadline = Date.now() + 20_000;
    while (gw.gateway.stack.transactions.stats().server > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    const seen = client.received.length;
    client.send(gw.udp, text);
    const again = (await client.waitFor(
      (m) =>
        m.type === 'response' &&
        m.cseq.seq === client.cseq &&
        client.received.findIndex((r) => r.message === m) >= seen,
    )) as SipResponse;
    expect(again.status).toBe(401);
  });

  it(
    'locks an account guessed at from many addresses, and only that account',
    { timeout: 40_000 },
    async () => {
      const lockoutsBefore = await counter('registrarLockouts');
      // Four wrong guesses, each from another address: the back-off starts.
      for (let i = 0; i < 4; i += 1) {
        const guesser = await stranger();
        const r = await registerWith(
          guesser,
          'agent3',
          authorization(await challenge(guesser, 'agent3'), 'agent3', `guess-${i}`),
        );
        expect(r.status).toBe(403);
      }
      // At once, even the right password is refused, unchecked (back-off).
      const phone = await stranger();
      const early = await registerWith(
        phone,
        'agent3',
        authorization(await challenge(phone, 'agent3'), 'agent3', 'secret'),
      );
      expect(early.status).toBe(403);
      expect(await counter('registrarAuthFailures', 'backoff')).toBeGreaterThan(0);
      // Guessing on, from new addresses: once the wait is over, two more checked guesses lock it.
      const bound = Date.now() + 20_000;
      while ((await counter('registrarLockouts')) === lockoutsBefore && Date.now() < bound) {
        const guesser = await stranger();
        await registerWith(
          guesser,
          'agent3',
          authorization(await challenge(guesser, 'agent3'), 'agent3', 'guess-more'),
        );
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect((await counter('registrarLockouts')) - lockoutsBefore).toBe(1);
      const late = await registerWith(
        phone,
        'agent3',
        authorization(await challenge(phone, 'agent3'), 'agent3', 'secret'),
      );
      expect(late.status).toBe(403);
      expect(await counter('registrarAuthFailures', 'locked')).toBeGreaterThan(0);
      // Another account, from the guessers' addresses, is not affected.
      const other = await registerWith(
        phone,
        'agent2',
        authorization(await challenge(phone, 'agent2'), 'agent2', 'secret', 1, 'other'),
      );
      expect(other.status).toBe(200);
    },
  );
});
