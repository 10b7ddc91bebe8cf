/**
 * The queue on real calls, measured on the wire (issue 10 item 7's figure:
 * "a free agent gets the next caller within 100 ms"). `bench/src/queue.ts`
 * measures the queue's decision on fakes; this one measures what a caller
 * waiting on a phone line gets: callers from the telephone network (bare UDP
 * sockets on 127.0.0.2, the trunk's allowed source) call a DID whose flow is
 * `enqueue` to a queue with one agent. The agent is a UDP user agent in this
 * process that answers every INVITE at once, talks for `--hold-ms`, then
 * hangs up with a BYE. The figure: the agent's BYE sent (the agent is free)
 * → the next caller's INVITE at the agent, for every hand-over. It includes
 * the gateway's BYE handling, the caller's call end, the queue's decision,
 * the new agent leg's INVITE and its way over loopback.
 *
 * The gateway runs in its own process (pinned to CPU 0 with `--pin`); the
 * callers and the agent share this one.
 *
 *   ./scripts/in-netns.sh node --import tsx bench/src/queue-calls.ts [--callers 20] [--hold-ms 300] [--pin]
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PortAllocator } from '@parley/testkit';
import {
  createResponse,
  parseMessage,
  serialize,
  type SipRequest,
  type SipResponse,
} from '../../gateway/src/sip/message/index.js';
import { QUEUE, REPO_ROOT, startBenchGateway, TENANT } from './bench-gateway.js';
import { summarize } from './latency-stats.js';
import { gitCommit, machineLine } from './run-info.js';

const { values } = parseArgs({
  options: {
    callers: { type: 'string', default: '20' },
    'hold-ms': { type: 'string', default: '300' },
    pin: { type: 'boolean', default: false },
    engine: { type: 'string' },
  },
});
const CALLERS = Number(values.callers);
const HOLD_MS = Number(values['hold-ms']);
const CALLER_ADDRESS = '127.0.0.2';
const DID = '+14155550143';

const random = () => Math.random().toString(36).slice(2);

/** An SDP offer or answer for PCMU on `port` (nothing is sent to it: the figure is signalling). */
const sdpOn = (address: string, port: number) =>
  [
    'v=0',
    `o=- 1 1 IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0`,
    'a=rtpmap:0 PCMU/8000',
    'a=sendrecv',
    '',
  ].join('\r\n');

const bind = (socket: Socket, address: string) =>
  new Promise<void>((resolve) => socket.bind(0, address, resolve));

/**
 * The queue's one agent: answers each INVITE with 200 at once, hangs up
 * `HOLD_MS` after the ACK, and notes when each INVITE came and each BYE left.
 */
class Agent {
  readonly socket = createSocket('udp4');
  readonly invitesAt: number[] = [];
  readonly byesAt: number[] = [];
  #timers = new Set<NodeJS.Timeout>();

  async open(): Promise<string> {
    await bind(this.socket, '127.0.0.1');
    this.socket.on('message', (data, from) => this.#onMessage(data, from.address, from.port));
    return `127.0.0.1:${this.socket.address().port}`;
  }

  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.socket.close();
  }

  #onMessage(data: Buffer, host: string, port: number): void {
    let message: SipRequest | SipResponse;
    try {
      message = parseMessage(data);
    } catch {
      return;
    }
    if (message.type === 'response') return; // the 200 to our BYE
    const reply = (response: SipResponse) => this.socket.send(serialize(response), port, host);
    if (message.method === 'INVITE') {
      const { address, port: own } = this.socket.address();
      const ok = okWithSdp(message, address, own, { Contact: `<sip:agent@${address}:${own}>` });
      // A re-INVITE (its To has our tag): the session stays as it is.
      if (message.to.tag === undefined) {
        this.invitesAt.push(performance.now());
        this.#pending.set(message.callId, { invite: message, ok, host, port });
      }
      reply(ok);
      return;
    }
    if (message.method === 'ACK') {
      const dialog = this.#pending.get(message.callId);
      if (!dialog) return;
      this.#pending.delete(message.callId);
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#hangUp(dialog);
      }, HOLD_MS);
      this.#timers.add(timer);
      return;
    }
    // BYE, CANCEL, OPTIONS, INFO: 200 (a CANCEL of an answered INVITE changes nothing).
    reply(createResponse(message, 200));
  }

  readonly #pending = new Map<
    string,
    { invite: SipRequest; ok: SipResponse; host: string; port: number }
  >();

  #hangUp(dialog: { invite: SipRequest; ok: SipResponse; host: string; port: number }): void {
    const { invite, ok } = dialog;
    const target = /<([^>]+)>/.exec(invite.headers.get('contact') ?? '')?.[1] ?? invite.requestUri;
    const { address, port } = this.socket.address();
    const bye = [
      `BYE ${target} SIP/2.0`,
      `Via: SIP/2.0/UDP ${address}:${port};branch=z9hG4bK${random()};rport`,
      'Max-Forwards: 70',
      `From: ${ok.headers.get('to') ?? ''}`,
      `To: ${invite.headers.get('from') ?? ''}`,
      `Call-ID: ${invite.callId}`,
      'CSeq: 1 BYE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    this.byesAt.push(performance.now());
    this.socket.send(Buffer.from(bye), dialog.port, dialog.host);
  }
}

/** 200 to an INVITE with our SDP (and a To tag when it has none: a new dialog). */
function okWithSdp(
  request: SipRequest,
  address: string,
  port: number,
  headers: Record<string, string> = {},
): SipResponse {
  return createResponse(request, 200, undefined, {
    toTag: true,
    headers: { 'Content-Type': 'application/sdp', ...headers },
    body: sdpOn(address, port),
  });
}

/** A caller from the carrier: INVITE to the DID, ACK the 200, answer the gateway's BYE (and any re-INVITE). */
class Caller {
  readonly socket = createSocket('udp4');
  readonly callId = `queue-bench-${random()}`;
  readonly #tag = random();
  readonly ended: Promise<'ended' | string>;
  #end!: (how: 'ended' | string) => void;

  constructor(private readonly gateway: { host: string; port: number; sip: string }) {
    this.ended = new Promise((resolve) => (this.#end = resolve));
  }

  async call(): Promise<void> {
    await bind(this.socket, CALLER_ADDRESS);
    this.socket.on('message', (data) => this.#onMessage(data));
    const port = this.socket.address().port;
    const sdp = sdpOn(CALLER_ADDRESS, port);
    this.#send(
      [
        `INVITE sip:${DID}@${this.gateway.sip} SIP/2.0`,
        `Via: SIP/2.0/UDP ${CALLER_ADDRESS}:${port};branch=z9hG4bK${random()};rport`,
        'Max-Forwards: 70',
        `From: <sip:+14155550199@${CALLER_ADDRESS}>;tag=${this.#tag}`,
        `To: <sip:${DID}@${this.gateway.sip}>`,
        `Call-ID: ${this.callId}`,
        'CSeq: 1 INVITE',
        `Contact: <sip:+14155550199@${CALLER_ADDRESS}:${port}>`,
        'Content-Type: application/sdp',
        `Content-Length: ${Buffer.byteLength(sdp)}`,
        '',
        sdp,
      ].join('\r\n'),
    );
  }

  close(): void {
    this.socket.close();
  }

  #send(text: string | Buffer): void {
    this.socket.send(
      typeof text === 'string' ? Buffer.from(text) : text,
      this.gateway.port,
      this.gateway.host,
    );
  }

  #onMessage(data: Buffer): void {
    let message: SipRequest | SipResponse;
    try {
      message = parseMessage(data);
    } catch {
      return;
    }
    if (message.type === 'response') {
      if (message.cseq.method !== 'INVITE' || message.status < 200) return;
      if (message.status >= 300) {
        this.#end(`INVITE ${message.status}`);
        return;
      }
      const contact =
        /<([^>]+)>/.exec(message.headers.get('contact') ?? '')?.[1] ?? `sip:${this.gateway.sip}`;
      this.#send(
        [
          `ACK ${contact} SIP/2.0`,
          `Via: SIP/2.0/UDP ${CALLER_ADDRESS}:${this.socket.address().port};branch=z9hG4bK${random()};rport`,
          'Max-Forwards: 70',
          `From: <sip:+14155550199@${CALLER_ADDRESS}>;tag=${this.#tag}`,
          `To: ${message.headers.get('to') ?? ''}`,
          `Call-ID: ${this.callId}`,
          'CSeq: 1 ACK',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      );
      return;
    }
    if (message.method === 'INVITE') {
      this.#send(serialize(okWithSdp(message, CALLER_ADDRESS, this.socket.address().port)));
      return;
    }
    if (message.method === 'ACK') return;
    this.#send(serialize(createResponse(message, 200)));
    if (message.method === 'BYE') this.#end('ended');
  }
}

const ports = new PortAllocator();
const media = await ports.allocate(4 * CALLERS + 16, { protocols: ['udp'], even: true });
const dir = mkdtempSync(join(tmpdir(), 'parley-queue-calls-'));
const agent = new Agent();
const agentContact = await agent.open();
const gateway = await startBenchGateway({
  dir,
  ports,
  agentContact,
  agents: 1,
  maxCallsPerAgent: 1,
  media,
  ...(values.pin ? { cpu: 0 } : {}),
  ...(values.engine === 'relay' || values.engine === 'mediasoup' ? { engine: values.engine } : {}),
  queueExtra: { waiting: { announceEverySeconds: 0 } },
  configExtra: {
    flows: { 'wait-line': [{ verb: 'enqueue', queue: QUEUE }] },
    trunks: {
      carrier: {
        peers: [{ host: '127.0.0.3' }],
        keepAlive: { intervalSeconds: 0 },
        defaultCountry: 'US',
        maxConcurrentCalls: 10_000,
        inbound: {
          allow: [CALLER_ADDRESS],
          numbers: [{ number: DID, tenant: TENANT, flow: 'wait-line' }],
        },
      },
    },
  },
});
const [host = '127.0.0.1', port = '5060'] = gateway.sip.split(':');

try {
  const callers = Array.from(
    { length: CALLERS },
    () => new Caller({ host, port: Number(port), sip: gateway.sip }),
  );
  // All call at once: the first takes the agent, the others wait in the queue.
  await Promise.all(callers.map((c) => c.call()));
  const guard = setTimeout(() => callers.forEach((c) => c.close()), CALLERS * (HOLD_MS + 5_000));
  const outcomes = await Promise.all(callers.map((c) => c.ended));
  clearTimeout(guard);
  callers.forEach((c) => c.close());
  // Hand-over k: the agent's k-th BYE → its (k+1)-th INVITE.
  const handOvers = agent.byesAt
    .map((bye, k) => (agent.invitesAt[k + 1] ?? Number.NaN) - bye)
    .filter((ms) => Number.isFinite(ms));
  const s = summarize(handOvers);
  const failed = outcomes.filter((o) => o !== 'ended');
  const fmt = (n: number) => n.toFixed(1);
  console.log(`${machineLine()}; commit ${gitCommit(REPO_ROOT)}; ${new Date().toISOString()}`);
  console.log(
    `${CALLERS} callers at once, one agent talking ${HOLD_MS} ms each; ${agent.invitesAt.length} answered, ${failed.length} failed${failed.length ? ` (${[...new Set(failed)].join(', ')})` : ''}`,
  );
  console.log(
    '| hand-overs | agent free (BYE sent) → next caller INVITE at the agent: p50 | p95 | max |',
  );
  console.log('|---|---|---|---|');
  console.log(`| ${s.samples} | ${fmt(s.p50Ms)} ms | ${fmt(s.p95Ms)} ms | ${fmt(s.maxMs)} ms |`);
} finally {
  agent.close();
  await gateway.stop();
  media.release();
}
