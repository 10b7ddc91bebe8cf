/**
 * The early answer (`media.earlyAnswer`, issue 15) without its cost at the
 * ring: the agent's INVITE leaves while the browser's 180 with SDP is being
 * made (its transport, DTLS parameters and producer in the media engine), not
 * after it. Real legs on 127.0.0.1, on both engines: a libwebrtc browser, a
 * raw SIP agent with a phone's RTP. The browser's answer is held at the
 * engine (its `answer()` waits for the test), so each ordering is made to
 * happen rather than hoped for: the agent's INVITE while it is held, the
 * agent's 200 before it is made (the call waits, then bridges with audio both
 * ways), a phone agent's 183 before it is made (its tone reaches the browser
 * once it is), its failure (the agent's INVITE cancelled with a Reason, the call
 * failed `media_failed`) and the browser's CANCEL meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { VerifiedCallToken } from '@parley/shared/tokens';
import { AgentDirectory } from '../agents/index.js';
import {
  BROWSER_HZ,
  PHONE_HZ,
  Phone,
  contractFixtures,
  type EngineFactory,
} from '../media/engine-contract/index.js';
import { createRelayEngine, type MediaEngine } from '../media/index.js';
import { createMediasoupEngine } from '../media/mediasoup/engine.js';
import { SessionNumberPool } from '../numbers/index.js';
import {
  SqliteCallStore,
  SqliteSessionStore,
  openDatabase,
  type SqliteDatabase,
} from '../storage/index.js';
import { inviteText } from '../../test/raw-sip.js';
import { Call } from './call.js';
import { earlyAnswerPolicy } from './early-answer.js';
import { SipPeer, openTestStack, plainSdp, silent, type TestStack } from './test-peers.js';

const logger = pino({ level: process.env['PARLEY_TEST_LOG'] ?? 'silent' });
const relay: EngineFactory = (ports) =>
  Promise.resolve(createRelayEngine({ address: '127.0.0.1', ...ports, logger }));
const mediasoup: EngineFactory = (ports) =>
  createMediasoupEngine({ address: '127.0.0.1', ...ports, workers: 1, logger });

const token = {
  claims: {
    iss: 'acme',
    aud: 'gw-test',
    sub: 'web-session-1',
    jti: 'jti-1',
    iat: 0,
    nbf: 0,
    exp: 0,
    scope: 'queue:sales',
    origin: 'https://shop.acme.test',
  },
  privateClaims: {},
  kid: 'k1',
  alg: 'ES256',
} as VerifiedCallToken;

let gw: TestStack;
let db: SqliteDatabase;
beforeAll(async () => {
  gw = await openTestStack();
  db = openDatabase(':memory:');
});
afterAll(async () => {
  await gw?.close();
  db?.close();
});

describe.each([
  ['relay', relay],
  ['mediasoup', mediasoup],
])('early answer on the %s engine', (name, factory) => {
  const fx = contractFixtures(`early-order-${name}`, factory);

  /**
   * A browser's call to the queue whose agents (one, or two rung at once) are
   * raw SIP peers; its answer may be held.
   */
  async function placeCall(ringAtOnce = 1) {
    const engine = await fx.engine();
    const held = holdAnswers(engine);
    const browser = fx.browser();
    const [caller, ...agents] = await Promise.all(
      Array.from({ length: 1 + ringAtOnce }, () => SipPeer.open()),
    );
    if (!caller) throw new Error('no SIP peer for the caller');
    const agent = agents[0]!;
    for (const peer of [caller, ...agents]) fx.cleanups.push(() => peer.close());
    const store = new SqliteCallStore(db);
    const callId = `order-${name}-${Date.now()}-${Math.random()}`;
    const invite = inviteText({
      to: `sales@${gw.address}`,
      port: caller.port,
      callId,
      sdp: await browser.offer(),
    });
    const arriving = gw.nextInvite();
    caller.send(gw.address, invite);
    const { invite: request, tx } = await arriving;
    const call = new Call(
      {
        stack: gw.stack,
        media: engine,
        agents: new AgentDirectory(
          agents.map((peer, i) => ({
            id: `agent${i}`,
            tenant: 'acme',
            password: 'secret',
            queues: ['sales'],
            maxCalls: 1,
            contact: peer.uri,
          })),
        ),
        numbers: new SessionNumberPool({
          config: {
            ranges: [{ from: '+15550100', to: '+15550109' }],
            fallback: '+15550199',
            graceSeconds: 0,
          },
          store: new SqliteSessionStore(db),
          logger: silent,
        }),
        calls: store,
        logger,
        domain: 'parley.test',
        tenantName: () => 'Acme Shop',
        queue: () => ({
          ringTimeoutSeconds: 20,
          maxAttempts: ringAtOnce,
          wrapUpSeconds: 0,
          routing: {
            strategy: ringAtOnce > 1 ? 'simultaneous' : 'sequential',
            ringAtOnce,
            bands: {},
          },
        }),
        mediaInactivityMs: 0,
        // `auto` with no registered agent: PCMU.
        earlyAnswer: earlyAnswerPolicy('auto', () => []),
      },
      { invite: request, tx, flow: tx.flow, token, queue: 'sales' },
    );
    fx.cleanups.push(() =>
      call.end({ outcome: 'failed', endedBy: 'gateway', reason: 'test_over' }),
    );
    /** The browser's CANCEL of its INVITE (its Via, From and To, RFC 3261 §9.1). */
    const header = (name: string) => new RegExp(`^${name}: .*$`, 'm').exec(invite)?.[0] ?? '';
    const cancel = () =>
      caller.send(
        gw.address,
        [
          `CANCEL sip:sales@${gw.address} SIP/2.0`,
          header('Via'),
          header('From'),
          header('To'),
          `Call-ID: ${callId}`,
          'CSeq: 1 CANCEL',
          'Max-Forwards: 70',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      );
    return { call, callId, caller, agent, agents, browser, held, store, cancel };
  }

  it("sends the agent's INVITE while the browser's early answer is being made", async () => {
    const { call, callId, caller, agent, held } = await placeCall();
    const hold = held();
    const starting = call.start();
    await hold.asked;
    // The browser's answer is not made yet, and the agent rings already: PCMU alone.
    const offer = await agent.request('INVITE');
    expect(formats(offer.body)[0]).toBe(0);
    expect(formats(offer.body).length).toBeLessThanOrEqual(2);
    expect(caller.client.responses(180)).toEqual([]);
    hold.release();
    const ringing = await caller.response(callId, 180);
    expect(ringing.body.toString()).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0\b/m);
    await starting;
    expect(call.state).not.toBe('ended');
  });

  it('bridges an agent who answered before the early answer was made, once it is, with audio both ways', async () => {
    const { call, callId, caller, agent, browser, held } = await placeCall();
    const hold = held();
    const starting = call.start();
    const offer = await agent.request('INVITE');
    const phone = await fx.phone();
    agent.respond(gw.address, offer, 180);
    agent.respond(gw.address, offer, 200, { sdp: plainSdp(phone.rtp.port, [[0, 'PCMU/8000']]) });
    // The gateway took the agent's 200 (its ACK), and the browser has nothing yet.
    await agent.request('ACK', offer.callId);
    expect(caller.client.responses(200)).toEqual([]);
    expect(call.state).not.toBe('answered');

    hold.release();
    const ok = await caller.response(callId, 200, 'INVITE', 10_000);
    const early = caller.client.responses(180).find((r) => r.body.length > 0);
    if (early) expect(ok.body.toString()).toBe(early.body.toString()); // RFC 3264 §8: the same
    caller.inDialog(gw.address, ok, 'ACK', 1);
    await starting;
    await browser.apply(ok.body.toString());
    await expect.poll(() => call.state, { timeout: 10_000 }).toBe('answered');

    await phone.talk(Number(audio(offer.body).split(' ')[1]));
    await expect.poll(() => browser.hears(PHONE_HZ), { timeout: 20_000 }).toBeGreaterThan(0.5);
    await expect
      .poll(() => Phone.hears(phone.rtp, BROWSER_HZ), { timeout: 20_000 })
      .toBeGreaterThan(0.5);
  }, 60_000);

  it('rings two agents at once while the early answer is made, and bridges the one who answers once it is', async () => {
    const { call, callId, caller, agents, browser, held } = await placeCall(2);
    const hold = held();
    const starting = call.start();
    const [ada, bob] = agents as [SipPeer, SipPeer];
    const [adaOffer, bobOffer] = await Promise.all([ada.request('INVITE'), bob.request('INVITE')]);
    ada.respond(gw.address, adaOffer, 180);
    bob.respond(gw.address, bobOffer, 180);
    const phone = await fx.phone();
    bob.respond(gw.address, bobOffer, 200, { sdp: plainSdp(phone.rtp.port, [[0, 'PCMU/8000']]) });
    await bob.request('ACK', bobOffer.callId);
    const cancel = await ada.request('CANCEL', adaOffer.callId);
    expect(cancel.headers.get('reason')).toBe('SIP;cause=200;text="Call completed elsewhere"');
    ada.respond(gw.address, cancel, 200);
    ada.respond(gw.address, adaOffer, 487);
    expect(caller.client.responses(200)).toEqual([]);

    hold.release();
    const ok = await caller.response(callId, 200, 'INVITE', 10_000);
    caller.inDialog(gw.address, ok, 'ACK', 1);
    await starting;
    await browser.apply(ok.body.toString());
    await expect.poll(() => call.agentId, { timeout: 10_000 }).toBe('agent1');
    await phone.talk(Number(audio(bobOffer.body).split(' ')[1]));
    await expect.poll(() => browser.hears(PHONE_HZ), { timeout: 20_000 }).toBeGreaterThan(0.5);
  }, 60_000);

  it("passes a phone agent's early media (183) that came before the early answer was made, once it is", async () => {
    const { call, callId, caller, agent, browser, held } = await placeCall();
    const hold = held();
    const starting = call.start();
    const offer = await agent.request('INVITE');
    const phone = await fx.phone();
    // The agent's network plays its tone from its 183, before the browser's answer is made.
    agent.respond(gw.address, offer, 183, { sdp: plainSdp(phone.rtp.port, [[0, 'PCMU/8000']]) });
    await expect.poll(() => call.state).toBe('ringing');
    await phone.talk(Number(audio(offer.body).split(' ')[1]));
    expect(caller.client.responses(180)).toEqual([]);

    hold.release();
    const ringing = await caller.response(callId, 180);
    const early = await caller.response(callId, 183);
    expect(early.body.toString()).toBe(ringing.body.toString()); // the 180 became 183, same SDP
    await starting;
    await browser.apply(early.body.toString());
    await expect.poll(() => browser.hears(PHONE_HZ), { timeout: 20_000 }).toBeGreaterThan(0.5);
    expect(call.state).toBe('ringing');
  }, 60_000);

  it("cancels the agent's INVITE with a Reason and fails the call when the early answer cannot be made", async () => {
    const { call, callId, caller, agent, held, store } = await placeCall();
    const hold = held();
    const starting = call.start();
    const offer = await agent.request('INVITE');
    agent.respond(gw.address, offer, 180);
    await expect.poll(() => call.state).toBe('ringing');
    hold.release(new Error('the worker died'));

    const refused = await caller.response(callId, 500);
    expect(refused.headers.get('reason')).toBe('SIP;cause=500;text="media_failed"');
    const cancel = await agent.request('CANCEL', offer.callId);
    expect(cancel.headers.get('reason')).toBe('SIP;cause=487;text="media_failed"');
    agent.respond(gw.address, cancel, 200);
    agent.respond(gw.address, offer, 487);
    await starting;
    expect(await store.get(call.id)).toMatchObject({
      state: 'ended',
      outcome: 'failed',
      reason: 'media_failed',
      sipStatus: 500,
    });
  });

  it("cancels the agent's INVITE when the browser cancels while its early answer is made", async () => {
    const { call, callId, caller, agent, held, store, cancel } = await placeCall();
    const hold = held();
    const starting = call.start();
    const offer = await agent.request('INVITE');
    agent.respond(gw.address, offer, 180);
    await expect.poll(() => call.state).toBe('ringing');
    cancel();

    await caller.response(callId, 487);
    const cancelled = await agent.request('CANCEL', offer.callId);
    expect(cancelled.headers.get('reason')).toMatch(/^SIP;cause=487;text="/);
    agent.respond(gw.address, cancelled, 200);
    agent.respond(gw.address, offer, 487);
    hold.release(); // the answer made for no one is dropped
    await starting;
    expect(caller.client.responses(180)).toEqual([]);
    expect(await store.get(call.id)).toMatchObject({ state: 'ended', outcome: 'cancelled' });
  });
});

/**
 * Makes the engine's browser answers wait: `held()` before a call returns
 * when its answer was asked for (`asked`) and `release(error?)`, which lets it
 * be made (or fail with `error`).
 */
function holdAnswers(engine: MediaEngine) {
  let gate: { readonly asked: () => void; readonly open: Promise<void> } | undefined;
  const createRouter = engine.createRouter.bind(engine);
  engine.createRouter = (options) => {
    const router = createRouter(options);
    const createWebRtc = router.createWebRtcTransport.bind(router);
    router.createWebRtcTransport = async (o) => {
      const transport = await createWebRtc(o);
      const answer = transport.answer.bind(transport);
      transport.answer = async (...args) => {
        const held = gate;
        held?.asked();
        await held?.open;
        return answer(...args);
      };
      return transport;
    };
    return router;
  };
  return () => {
    let asked!: () => void;
    let release!: (error?: Error) => void;
    const wasAsked = new Promise<void>((resolve) => (asked = resolve));
    const open = new Promise<void>((resolve, reject) => {
      release = (error) => (error ? reject(error) : resolve());
    });
    open.catch(() => undefined); // the answer that waits on it is the one that fails
    gate = { asked, open };
    return { asked: wasAsked, release };
  };
}

const audio = (sdp: string | Buffer) => /^m=audio .*$/m.exec(sdp.toString())?.[0] ?? '';
const formats = (sdp: string | Buffer) => audio(sdp).split(' ').slice(3).map(Number);
