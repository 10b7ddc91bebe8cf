/**
 * Flows on real calls, measured on the wire (issue 10): callers from the
 * telephone network (bare UDP sockets on 127.0.0.2, the trunk's allowed
 * source) call a DID whose flow is say (interruptible) → gather → say →
 * record → hangup, on PCMU. The gateway runs in its own process (pinned to
 * CPU 0 when `--pin`); the callers, in this one, send a µ-law tone every
 * 20 ms and read the RTP they get back:
 *
 * - answer → first prompt packet: the caller's 200 OK → the first RTP packet
 *   with the marker bit (the player marks the first packet of each prompt);
 * - key press → next verb: the last RFC 4733 end packet of "1" sent while
 *   the first prompt plays → the next marked packet (the second `say`);
 * - gateway CPU per concurrent flow call (say + gather + record).
 *
 * Steps of concurrent calls (`--steps 10,25,50`), each call placed 20 ms
 * after the previous one. One call first, not counted, warms the flite cache.
 *
 *   ./scripts/in-netns.sh node --import tsx bench/src/flow-calls.ts [--steps 10,25,50] [--pin]
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PortAllocator } from '@parley/testkit';
import { dtmfPayload } from '../../gateway/src/media/rtp-rewriter.js';
import {
  createResponse,
  parseMessage,
  serialize,
  type SipRequest,
  type SipResponse,
} from '../../gateway/src/sip/message/index.js';
import { startBenchGateway, TENANT } from './bench-gateway.js';
import { summarize } from './latency-stats.js';
import { ProcSampler } from './proc-usage.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '10,25,50' },
    pin: { type: 'boolean', default: false },
    engine: { type: 'string' },
  },
});
const steps = values.steps.split(',').map(Number);
const CALLER_ADDRESS = '127.0.0.2';
const DID = '+14155550142';
const PROMPT =
  'Welcome to Parley. For sales, press one. For support, press two. For anything else, stay on the line.';
const MAX = Math.max(...steps);

const ports = new PortAllocator();
const media = await ports.allocate(4 * MAX + 16, { protocols: ['udp'], even: true });
const dir = mkdtempSync(join(tmpdir(), 'parley-flow-calls-'));
const gateway = await startBenchGateway({
  dir,
  ports,
  agentContact: '127.0.0.1:9',
  agents: 1,
  maxCallsPerAgent: 1,
  media,
  ...(values.pin ? { cpu: 0 } : {}),
  ...(values.engine === 'relay' || values.engine === 'mediasoup' ? { engine: values.engine } : {}),
  configExtra: {
    flows: {
      menu: [
        { verb: 'say', text: PROMPT, interruptible: true },
        { verb: 'gather', numDigits: 1, timeout: 10 },
        { verb: 'say', text: 'Thank you. Please leave a message.' },
        { verb: 'record', maxLengthSeconds: 3, beep: false },
        { verb: 'hangup' },
      ],
    },
    trunks: {
      carrier: {
        peers: [{ host: '127.0.0.3' }],
        keepAlive: { intervalSeconds: 0 },
        defaultCountry: 'US',
        maxConcurrentCalls: 10_000,
        inbound: {
          allow: [CALLER_ADDRESS],
          numbers: [{ number: DID, tenant: TENANT, flow: 'menu' }],
        },
      },
    },
  },
});
const sampler = new ProcSampler(gateway.pid);
const [gwHost = '127.0.0.1', gwPort = '5060'] = gateway.sip.split(':');

/** A µ-law frame of silence, sent every 20 ms (the caller's stream; its content does not matter here). */
const FRAME = Buffer.alloc(160, 0xff);

interface CallFigures {
  answerToPromptMs?: number;
  keyToNextVerbMs?: number;
  ended: boolean;
  failure?: string;
}

class FlowCaller {
  readonly #sip: Socket;
  readonly #rtp: Socket;
  readonly #callId = `flow-bench-${Math.random().toString(36).slice(2)}`;
  readonly #tag = Math.random().toString(36).slice(2);
  #remoteRtp: { host: string; port: number } | undefined;
  #seq = 0;
  #ts = 0;
  #ssrc = Math.floor(Math.random() * 2 ** 32);
  #answeredAt = 0;
  #keySentAt = 0;
  #markers = 0;
  readonly figures: CallFigures = { ended: false };
  readonly done: Promise<void>;
  #finish!: () => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(sip: Socket, rtp: Socket) {
    this.#sip = sip;
    this.#rtp = rtp;
    this.done = new Promise((resolve) => (this.#finish = resolve));
    sip.on('message', (data) => this.#onSip(data));
    rtp.on('message', (data) => this.#onRtp(data));
  }

  static async open(): Promise<FlowCaller> {
    const bind = (socket: Socket) =>
      new Promise<void>((resolve) => socket.bind(0, CALLER_ADDRESS, resolve));
    const sip = createSocket('udp4');
    const rtp = createSocket('udp4');
    await Promise.all([bind(sip), bind(rtp)]);
    return new FlowCaller(sip, rtp);
  }

  call(): void {
    const sipPort = this.#sip.address().port;
    const rtpPort = this.#rtp.address().port;
    const sdp = [
      'v=0',
      `o=- 1 1 IN IP4 ${CALLER_ADDRESS}`,
      's=-',
      `c=IN IP4 ${CALLER_ADDRESS}`,
      't=0 0',
      `m=audio ${rtpPort} RTP/AVP 0 101`,
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-15',
      'a=sendrecv',
      '',
    ].join('\r\n');
    this.#send(
      [
        `INVITE sip:${DID}@${gateway.sip} SIP/2.0`,
        `Via: SIP/2.0/UDP ${CALLER_ADDRESS}:${sipPort};branch=z9hG4bK${Math.random().toString(36).slice(2)};rport`,
        'Max-Forwards: 70',
        `From: <sip:+14155550199@${CALLER_ADDRESS}>;tag=${this.#tag}`,
        `To: <sip:${DID}@${gateway.sip}>`,
        `Call-ID: ${this.#callId}`,
        'CSeq: 1 INVITE',
        `Contact: <sip:+14155550199@${CALLER_ADDRESS}:${sipPort}>`,
        'Content-Type: application/sdp',
        `Content-Length: ${Buffer.byteLength(sdp)}`,
        '',
        sdp,
      ].join('\r\n'),
    );
  }

  close(): void {
    clearInterval(this.#timer);
    this.#sip.close();
    this.#rtp.close();
  }

  #send(text: string | Buffer): void {
    this.#sip.send(typeof text === 'string' ? Buffer.from(text) : text, Number(gwPort), gwHost);
  }

  #onSip(data: Buffer): void {
    let message: SipRequest | SipResponse;
    try {
      message = parseMessage(data);
    } catch {
      return;
    }
    if (message.type === 'response') {
      if (message.cseq.method !== 'INVITE' || message.status < 200) return;
      if (message.status >= 300) {
        this.figures.failure = `INVITE ${message.status}`;
        this.#end();
        return;
      }
      if (this.#answeredAt === 0) {
        this.#answeredAt = performance.now();
        this.#startMedia(message);
      }
      this.#ack(message);
      return;
    }
    if (message.method === 'BYE') {
      this.#send(serialize(createResponse(message, 200)));
      this.figures.ended = true;
      this.#end();
    }
  }

  #startMedia(ok: SipResponse): void {
    const body = ok.body.toString();
    const host = /c=IN IP4 (\S+)/.exec(body)?.[1];
    const port = Number(/m=audio (\d+)/.exec(body)?.[1]);
    if (!host || !port) {
      this.figures.failure = 'no SDP in 200';
      return;
    }
    this.#remoteRtp = { host, port };
    this.#timer = setInterval(() => this.#sendRtp(0, FRAME, false), 20);
  }

  #ack(ok: SipResponse): void {
    const to = ok.headers.get('to') ?? '';
    const contact = /<([^>]+)>/.exec(ok.headers.get('contact') ?? '')?.[1] ?? `sip:${gateway.sip}`;
    this.#send(
      [
        `ACK ${contact} SIP/2.0`,
        `Via: SIP/2.0/UDP ${CALLER_ADDRESS}:${this.#sip.address().port};branch=z9hG4bK${Math.random().toString(36).slice(2)};rport`,
        'Max-Forwards: 70',
        `From: <sip:+14155550199@${CALLER_ADDRESS}>;tag=${this.#tag}`,
        `To: ${to}`,
        `Call-ID: ${this.#callId}`,
        'CSeq: 1 ACK',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
  }

  #onRtp(data: Buffer): void {
    if (data.length < 12 || (data[1]! & 0x7f) !== 0 || (data[1]! & 0x80) === 0) return;
    const at = performance.now();
    this.#markers += 1;
    if (this.#markers === 1) {
      this.figures.answerToPromptMs = at - this.#answeredAt;
      // Press "1" a second into the prompt.
      setTimeout(() => this.#pressOne(), 1000);
    } else if (this.#keySentAt > 0 && this.figures.keyToNextVerbMs === undefined) {
      this.figures.keyToNextVerbMs = at - this.#keySentAt;
    }
  }

  /** RFC 4733 "1": three packets growing, then the end packet three times (§2.5.1.4). */
  #pressOne(): void {
    const ts = this.#ts;
    const sendEvent = (duration: number, end: boolean, marker: boolean) =>
      this.#sendRtp(101, dtmfPayload(1, end, duration), marker, ts);
    sendEvent(160, false, true);
    sendEvent(320, false, false);
    sendEvent(480, false, false);
    for (let i = 0; i < 3; i += 1) sendEvent(640, true, false);
    this.#keySentAt = performance.now();
  }

  #sendRtp(pt: number, payload: Buffer, marker: boolean, timestamp?: number): void {
    const remote = this.#remoteRtp;
    if (!remote) return;
    const header = Buffer.alloc(12);
    header[0] = 0x80;
    header[1] = (marker ? 0x80 : 0) | pt;
    header.writeUInt16BE(this.#seq++ & 0xffff, 2);
    header.writeUInt32BE((timestamp ?? this.#ts) >>> 0, 4);
    header.writeUInt32BE(this.#ssrc >>> 0, 8);
    if (timestamp === undefined) this.#ts += 160;
    this.#rtp.send(Buffer.concat([header, payload]), remote.port, remote.host);
  }

  #end(): void {
    clearInterval(this.#timer);
    this.#finish();
  }
}

async function step(calls: number): Promise<string> {
  const callers = await Promise.all(Array.from({ length: calls }, () => FlowCaller.open()));
  const from = performance.now();
  for (const caller of callers) {
    caller.call();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const guard = setTimeout(() => callers.forEach((c) => c.close()), 120_000);
  await Promise.all(callers.map((c) => c.done));
  clearTimeout(guard);
  const to = performance.now();
  callers.forEach((c) => c.close());
  const usage = sampler.window(from, to);
  const answer = summarize(callers.flatMap((c) => c.figures.answerToPromptMs ?? []));
  const key = summarize(callers.flatMap((c) => c.figures.keyToNextVerbMs ?? []));
  const failed = callers.filter((c) => c.figures.failure || !c.figures.ended).length;
  const fmt = (n: number) => n.toFixed(1);
  return (
    `| ${calls} | ${failed} | ${fmt(answer.p50Ms)} / ${fmt(answer.p95Ms)} / ${fmt(answer.maxMs)} ms` +
    ` | ${fmt(key.p50Ms)} / ${fmt(key.p95Ms)} / ${fmt(key.maxMs)} ms` +
    ` | ${usage ? `${fmt(usage.cpuPercent)} % (${(usage.cpuPercent / calls).toFixed(2)} % per call), peak ${fmt(usage.peakCpuPercent)} %, run-wait ${fmt(usage.runWaitPercent)} %` : 'n/a'} |`
  );
}

try {
  console.error('warming up (one call: flite synthesizes the prompts once)');
  console.error(await step(1));
  console.log(
    '| concurrent calls | failed | answer → first prompt packet p50 / p95 / max | key → next verb p50 / p95 / max | gateway CPU over the step |',
  );
  console.log('|---|---|---|---|---|');
  for (const calls of steps) console.log(await step(calls));
} finally {
  await gateway.stop();
  media.release();
}
