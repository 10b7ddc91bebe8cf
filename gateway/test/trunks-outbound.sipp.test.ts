/**
 * Calls into the telephone network, with sipp as the carrier (peers on
 * 127.0.0.2): digest challenges (401 and 407) answered and checked by the
 * carrier (sipp's verifyauth, and digest.ts on what it received), the
 * caller ID in From / P-Asserted-Identity / Privacy, early media, CANCEL of
 * a challenged and retried INVITE, failover on 503 and past a peer the
 * keep-alive marked down. Everything about the wire is asserted in sipp's
 * own message trace.
 */
import { once } from 'node:events';
import {
  PortAllocator,
  bundledScenario,
  sippAvailable,
  startSipp,
  stopAll,
  type PortBlock,
  type SippInstance,
} from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDigestCredentials, verifyDigestResponse } from '../src/sip/index.js';
import type {
  AnsweredTrunkCall,
  OutboundTrunkCall,
  Trunk,
  TrunkPeerInfo,
  TrunkProgress,
} from '../src/trunks/index.js';
import { TENANT, startTestGateway, type TestGateway } from './harness.js';
import { branchOf, transactionsIn } from './sipp-log.js';

const CARRIER = '127.0.0.2';
const OFFER = [
  'v=0',
  'o=parley 1 1 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 40000 RTP/AVP 0 8',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=sendrecv',
  '',
].join('\r\n');

const ports = new PortAllocator();
const held: PortBlock[] = [];
const peers: SippInstance[] = [];

async function port(): Promise<number> {
  const block = await ports.allocate(1, { protocols: ['udp'] });
  held.push(block);
  return block.base;
}

async function carrier(
  localPort: number,
  scenario: Parameters<typeof bundledScenario>[0],
): Promise<SippInstance> {
  const sipp = await startSipp({
    scenario: await bundledScenario(scenario),
    address: CARRIER,
    localPort,
    traceMessages: true,
    rtpEcho: true,
  });
  peers.push(sipp);
  return sipp;
}

/** Records a call's events until it settles. */
function watch(call: OutboundTrunkCall) {
  const attempts: TrunkPeerInfo[] = [];
  const progress: TrunkProgress[] = [];
  const challenged: number[] = [];
  call.on('attempt', (peer) => attempts.push(peer));
  call.on('progress', (p) => progress.push(p));
  call.on('challenged', (status) => challenged.push(status));
  return { attempts, progress, challenged };
}

/** What the leg does at the end of an answered call: BYE in the dialog, then close(). */
async function hangUp(gw: TestGateway, call: OutboundTrunkCall, answered: AnsweredTrunkCall) {
  const stack = gw.gateway.stack;
  const bye = answered.dialog.createRequest('BYE');
  const tx = stack.transactions.request(bye, answered.dialog.target());
  const [response] = (await once(tx, 'response')) as [{ status: number }];
  expect(response.status).toBe(200);
  call.close();
}

/** Waits until the trunk's peers are up (true) or down (false) as given, in order. */
async function peersReach(trunk: Trunk, states: readonly boolean[]): Promise<void> {
  const now = () => trunk.peers.map((p) => p.up);
  while (now().some((up, i) => up !== states[i]))
    await Promise.race([once(trunk, 'peerUp'), once(trunk, 'peerDown')]);
}

/** Waits for a keep-alive the peer on `port` answered. */
async function answersProbe(trunk: Trunk, port: number): Promise<void> {
  for (;;) {
    const [peer, result] = (await once(trunk, 'probe')) as [TrunkPeerInfo, { ok: boolean }];
    if (peer.port === port && result.ok) return;
  }
}

function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

afterAll(async () => {
  await Promise.all(peers.splice(0).map((p) => p.stop()));
  for (const block of held.splice(0)) block.release();
  await stopAll();
});

describe.skipIf(!sippAvailable())('trunk: calls to the telephone network (sipp carrier)', () => {
  let gw: TestGateway;
  const at: Record<string, number> = {};

  beforeAll(async () => {
    for (const name of ['www', 'proxy', 'ring', 'busy', 'spare', 'dead', 'alive', 'kept'])
      at[name] = await port();
    const auth = { username: 'trunkuser', password: 'trunkpass', realm: 'carrier.test' };
    const plain = { keepAlive: { intervalSeconds: 0 }, defaultCountry: 'US' };
    gw = await startTestGateway({
      tenantExtra: { callerNumbers: [{ from: '+14155550140', to: '+14155550149' }] },
      config: {
        trunks: {
          www: { ...plain, auth, peers: [{ host: CARRIER, port: at['www'] }] },
          proxy: { ...plain, auth, peers: [{ host: CARRIER, port: at['proxy'] }] },
          ring: { ...plain, auth, peers: [{ host: CARRIER, port: at['ring'] }] },
          pair: {
            ...plain,
            peers: [
              { host: CARRIER, port: at['busy'], priority: 1 },
              { host: CARRIER, port: at['spare'], priority: 2 },
            ],
          },
          watched: {
            defaultCountry: 'US',
            keepAlive: { intervalSeconds: 1, timeoutMs: 300, failuresBeforeDown: 1 },
            peers: [
              { host: CARRIER, port: at['dead'], priority: 1 },
              { host: CARRIER, port: at['alive'], priority: 2 },
            ],
          },
          kept: {
            keepAlive: { intervalSeconds: 1, timeoutMs: 300, failuresBeforeDown: 2 },
            peers: [{ host: CARRIER, port: at['kept'] }],
          },
        },
      },
    });
  });
  afterAll(() => gw.close());

  it('answers a 401 with digest credentials the carrier verifies, and shows the caller ID in From and P-Asserted-Identity', async () => {
    const sipp = await carrier(at['www'] as number, 'uas-carrier-auth');
    const call = gw.gateway.trunks.dial({
      tenant: TENANT,
      trunk: 'www',
      to: '(415) 555-0123',
      callerNumber: '+14155550142',
      callerName: 'Acme web',
      sdp: OFFER,
      headers: [['X-Parley-Call', 'c-401']],
    });
    const seen = watch(call);
    const outcome = await call.outcome;
    expect(outcome.kind, JSON.stringify(outcome)).toBe('answered');
    if (outcome.kind !== 'answered') return;
    expect(seen.challenged).toEqual([401]);
    // Early media: the 183's SDP came through as such, before the answer.
    const early = seen.progress.find((p) => p.status === 183);
    expect(early?.earlyMedia?.toString()).toMatch(/m=audio \d+ RTP\/AVP 0/);
    expect(outcome.call.sdp.toString()).toMatch(/a=rtpmap:0 PCMU\/8000/);
    await hangUp(gw, call, outcome.call);

    // sipp checked the credentials too (its verifyauth), or it would have answered 403.
    const result = await sipp.stop();
    expect(result.logs).toMatch(/INVITE authvalid=true/);
    const log = result.messages;
    const [first, second] = transactionsIn(log, 'INVITE');
    const host = `${CARRIER}:${at['www']}`;
    expect(first?.startLine).toBe(`INVITE sip:+14155550123@${host} SIP/2.0`);
    expect(first?.header('authorization')).toBeUndefined();
    expect(first?.header('cseq')).toBe('1 INVITE');
    expect(first?.header('from')).toMatch(/^"Acme web" <sip:\+14155550142@127\.0\.0\.1>;tag=/);
    expect(first?.header('p-asserted-identity')).toBe('"Acme web" <sip:+14155550142@127.0.0.1>');
    expect(first?.header('privacy')).toBeUndefined();
    expect(first?.header('to')).toBe(`<sip:+14155550123@${host}>`);
    expect(first?.header('x-parley-call')).toBe('c-401');
    // The retried INVITE: CSeq + 1, same Call-ID and From tag, new branch, credentials.
    expect(second?.startLine).toBe(first?.startLine);
    expect(second?.header('cseq')).toBe('2 INVITE');
    expect(second?.header('call-id')).toBe(first?.header('call-id'));
    expect(second?.header('from')).toBe(first?.header('from'));
    expect(branchOf(second!)).not.toBe(branchOf(first!));
    const credentials = parseDigestCredentials(second?.header('authorization') ?? '');
    expect(credentials).toMatchObject({
      username: 'trunkuser',
      realm: 'carrier.test',
      uri: `sip:+14155550123@${host}`,
      qop: 'auth',
      nc: '00000001',
      algorithm: 'MD5',
    });
    expect(verifyDigestResponse(credentials, { method: 'INVITE', password: 'trunkpass' })).toBe(
      true,
    );
    // The 401's ACK is the first INVITE's transaction; the 200's carries the credentials.
    const [ack401, ack200] = transactionsIn(log, 'ACK');
    expect(ack401?.header('cseq')).toBe('1 ACK');
    expect(branchOf(ack401!)).toBe(branchOf(first!));
    expect(ack200?.header('cseq')).toBe('2 ACK');
    expect(ack200?.header('authorization')).toBe(second?.header('authorization'));
    expect(transactionsIn(log, 'BYE')[0]?.header('cseq')).toBe('3 BYE');
    const metrics = await (await fetch(`${gw.gateway.httpUrl}/metrics`)).text();
    expect(
      metric(
        metrics,
        'parley_trunk_auth_challenges_total',
        'trunk="www",status="401",answered="true"',
      ),
    ).toBe(1);
    expect(
      metric(metrics, 'parley_trunk_dial_outcomes_total', 'trunk="www",outcome="answered"'),
    ).toBe(1);
  });

  it('answers a 407 with Proxy-Authorization, and with privacy sends an anonymous From, the number in P-Asserted-Identity and Privacy: id', async () => {
    const sipp = await carrier(at['proxy'] as number, 'uas-carrier-proxy-auth');
    const call = gw.gateway.trunks.dial({
      tenant: TENANT,
      trunk: 'proxy',
      to: '+44 20 7946 0000',
      callerNumber: '+14155550143',
      privacy: true,
      sdp: OFFER,
    });
    const seen = watch(call);
    const outcome = await call.outcome;
    expect(outcome.kind, JSON.stringify(outcome)).toBe('answered');
    if (outcome.kind !== 'answered') return;
    expect(seen.challenged).toEqual([407]);
    await hangUp(gw, call, outcome.call);
    const log = (await sipp.stop()).messages;
    const [first, second] = transactionsIn(log, 'INVITE');
    expect(first?.startLine).toBe(`INVITE sip:+442079460000@${CARRIER}:${at['proxy']} SIP/2.0`);
    expect(first?.header('from')).toMatch(/^"Anonymous" <sip:anonymous@anonymous\.invalid>;tag=/);
    expect(first?.header('p-asserted-identity')).toBe('<sip:+14155550143@127.0.0.1>');
    expect(first?.header('privacy')).toBe('id');
    expect(second?.header('authorization')).toBeUndefined();
    const credentials = parseDigestCredentials(second?.header('proxy-authorization') ?? '');
    expect(credentials).toMatchObject({ username: 'trunkuser', qop: 'auth', nc: '00000001' });
    expect(verifyDigestResponse(credentials, { method: 'INVITE', password: 'trunkpass' })).toBe(
      true,
    );
    const ack200 = transactionsIn(log, 'ACK')[1];
    expect(ack200?.header('proxy-authorization')).toBe(second?.header('proxy-authorization'));
  });

  it('cancels a challenged and retried INVITE: the CANCEL matches the authenticated transaction', async () => {
    const sipp = await carrier(at['ring'] as number, 'uas-carrier-auth-ring');
    const call = gw.gateway.trunks.dial({
      tenant: TENANT,
      trunk: 'ring',
      to: '4155550124',
      callerNumber: '+14155550144',
      sdp: OFFER,
    });
    call.on('progress', (p) => {
      if (p.status === 180) call.cancel();
    });
    const outcome = await call.outcome;
    expect(outcome).toMatchObject({
      kind: 'failed',
      failure: { reason: 'cancelled', status: 487 },
    });
    call.close();
    const result = await sipp.stop();
    const log = result.messages;
    const invites = transactionsIn(log, 'INVITE');
    expect(invites).toHaveLength(2);
    const retried = invites[1]!;
    const [cancel] = transactionsIn(log, 'CANCEL');
    expect(cancel?.header('cseq')).toBe('2 CANCEL');
    expect(branchOf(cancel!)).toBe(branchOf(retried));
    expect(cancel?.startLine).toBe(retried.startLine.replace('INVITE', 'CANCEL'));
    const acks = transactionsIn(log, 'ACK');
    expect(acks.map((a) => a.header('cseq'))).toEqual(['1 ACK', '2 ACK']);
    expect(branchOf(acks[1]!)).toBe(branchOf(retried));
    expect(gw.gateway.trunks.trunk('ring')?.activeCalls).toBe(0);
  });

  it('fails over to the next peer when the first answers 503', async () => {
    const busy = await carrier(at['busy'] as number, 'uas-carrier-503');
    const spare = await carrier(at['spare'] as number, 'uas-carrier-answer');
    const call = gw.gateway.trunks.dial({
      tenant: TENANT,
      trunk: 'pair',
      to: '4155550125',
      callerNumber: '+14155550145',
      sdp: OFFER,
    });
    const seen = watch(call);
    const outcome = await call.outcome;
    expect(outcome.kind, JSON.stringify(outcome)).toBe('answered');
    if (outcome.kind !== 'answered') return;
    expect(seen.attempts.map((p) => p.port)).toEqual([at['busy'], at['spare']]);
    expect(outcome.call.peer.port).toBe(at['spare']);
    await hangUp(gw, call, outcome.call);
    const first = transactionsIn((await busy.stop()).messages, 'INVITE')[0];
    const second = transactionsIn((await spare.stop()).messages, 'INVITE')[0];
    expect(first?.header('cseq')).toBe('1 INVITE');
    expect(second?.header('cseq')).toBe('2 INVITE');
    expect(second?.header('call-id')).toBe(first?.header('call-id'));
    expect(second?.startLine).toBe(`INVITE sip:+14155550125@${CARRIER}:${at['spare']} SIP/2.0`);
  });

  it('skips a peer the keep-alive marked down and dials the next one', async () => {
    const trunks = gw.gateway.trunks;
    const alive = await carrier(at['alive'] as number, 'uas-carrier-answer');
    // Nothing listens on the first peer's port: its OPTIONS go unanswered. The second answers
    // (it may have missed a probe sent before its sipp started: then the next one brings it up).
    const watched = trunks.trunk('watched') as Trunk;
    await answersProbe(watched, at['alive'] as number);
    await peersReach(watched, [false, true]);
    const call = trunks.dial({
      tenant: TENANT,
      trunk: 'watched',
      to: '4155550126',
      callerNumber: '+14155550146',
      sdp: OFFER,
    });
    const seen = watch(call);
    const outcome = await call.outcome;
    expect(outcome.kind, JSON.stringify(outcome)).toBe('answered');
    if (outcome.kind !== 'answered') return;
    expect(seen.attempts.map((p) => p.port)).toEqual([at['alive']]);
    await hangUp(gw, call, outcome.call);
    const log = (await alive.stop()).messages;
    // The live peer answered its keep-alive too.
    expect(transactionsIn(log, 'OPTIONS').length).toBeGreaterThan(0);
    expect(transactionsIn(log, 'INVITE')).toHaveLength(1);
  });

  it('marks a peer down when it stops answering OPTIONS and up when it answers again', async () => {
    const kept = gw.gateway.trunks.trunk('kept') as Trunk;
    const peer = kept.peers[0]!;
    const metrics = async () => (await fetch(`${gw.gateway.httpUrl}/metrics`)).text();
    const up = `trunk="kept",peer="${peer.id}"`;
    let options = await carrier(at['kept'] as number, 'uas-options');
    // Peers start up: wait for a probe this sipp answered (an earlier one may have gone
    // unanswered), and the next: each probe is a new Call-ID, so sipp answers it too (with one
    // Call-ID for every probe, sipp took the next ones for its finished call's and dropped them).
    await answersProbe(kept, at['kept'] as number);
    await answersProbe(kept, at['kept'] as number);
    await peersReach(kept, [true]);
    let log = (await options.stop()).messages;
    const probes = transactionsIn(log, 'OPTIONS');
    expect(new Set(probes.map((p) => p.header('call-id'))).size).toBe(probes.length);
    const probe = probes[0];
    expect(probe?.startLine).toBe(`OPTIONS sip:${CARRIER}:${at['kept']} SIP/2.0`);
    expect(probe?.header('cseq')).toMatch(/^\d+ OPTIONS$/);
    expect(probe?.header('from')).toMatch(/^<sip:parley@127\.0\.0\.1:\d+>;tag=/);
    // Stopped: two probes go unanswered and the peer is down.
    await peersReach(kept, [false]);
    expect(metric(await metrics(), 'parley_trunk_peer_up', up)).toBe(0);
    expect(kept.dialOrder()).toEqual([]);
    // Back on the same port: the next answer brings it up.
    options = await carrier(at['kept'] as number, 'uas-options');
    await peersReach(kept, [true]);
    const text = await metrics();
    expect(metric(text, 'parley_trunk_peer_up', up)).toBe(1);
    expect(metric(text, 'parley_trunk_options_rtt_seconds_count', up)).toBeGreaterThan(1);
    log = (await options.stop()).messages;
    expect(transactionsIn(log, 'OPTIONS').length).toBeGreaterThan(0);
  });
});
