/**
 * What the legs' and the call's unit tests run on: a real SIP stack and relay
 * media engine on 127.0.0.1 (ports from the testkit's allocator), and a raw
 * SIP peer that writes exactly the messages a test wants.
 * @internal
 */
import { pino } from 'pino';
import { PortAllocator } from '@parley/testkit';
import { RawSipClient } from '../../test/raw-sip.js';
import { createRelayEngine, type RelayEngine } from '../media/index.js';
import {
  SipStack,
  type InviteServerTransaction,
  type SipRequest,
  type SipResponse,
} from '../sip/index.js';

export const silent = pino({ level: 'silent' });
const ports = new PortAllocator();

export interface TestStack {
  readonly stack: SipStack;
  /** `127.0.0.1:port` of its UDP listener. */
  readonly address: string;
  /** The next INVITE the stack receives outside a dialog, with its server transaction. */
  nextInvite(): Promise<{ invite: SipRequest; tx: InviteServerTransaction }>;
  close(): Promise<void>;
}

export async function openTestStack(): Promise<TestStack> {
  const stack = new SipStack({
    listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
    maxMessageBytes: 65536,
    timers: { t1: 100, t2: 4000, t4: 5000 },
    userAgent: 'parley-test',
    logger: silent,
  });
  await stack.start();
  const waiting: ((value: { invite: SipRequest; tx: InviteServerTransaction }) => void)[] = [];
  stack.onInvite((invite, tx) => waiting.shift()?.({ invite, tx }));
  const local = stack.transport.local('UDP');
  return {
    stack,
    address: `127.0.0.1:${local?.port ?? 0}`,
    nextInvite: () => new Promise((resolve) => waiting.push(resolve)),
    close: () => stack.close(),
  };
}

/** A relay engine on allocated ports (plain RTP and WebRTC), and how to release them. */
export async function openTestEngine(): Promise<{ engine: RelayEngine; close(): Promise<void> }> {
  const [media, webrtc] = await Promise.all([
    ports.allocate(20, { protocols: ['udp'], even: true }),
    ports.allocate(10, { protocols: ['udp'] }),
  ]);
  const engine = createRelayEngine({
    address: '127.0.0.1',
    portMin: media.base,
    portMax: media.base + media.size - 1,
    webrtcPortMin: webrtc.base,
    webrtcPortMax: webrtc.base + webrtc.size - 1,
    logger: silent,
  });
  return {
    engine,
    async close() {
      await engine.close();
      media.release();
      webrtc.release();
    },
  };
}

/** A plain offer (or answer) of these codecs at 127.0.0.1:`port`. */
export function plainSdp(port: number, formats: readonly [number, string][]): string {
  return [
    'v=0',
    `o=peer 1 1 IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP ${formats.map(([pt]) => pt).join(' ')}`,
    ...formats.map(([pt, name]) => `a=rtpmap:${pt} ${name}`),
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/** A raw SIP peer: its own UDP socket, answering and asking exactly as told. */
export class SipPeer {
  readonly client: RawSipClient;
  #seq = 0;

  private constructor(client: RawSipClient) {
    this.client = client;
  }

  static async open(): Promise<SipPeer> {
    return new SipPeer(await RawSipClient.open());
  }

  get port(): number {
    return this.client.port;
  }

  get uri(): string {
    return `sip:peer@127.0.0.1:${this.client.port}`;
  }

  send(to: string, text: string): void {
    this.client.send(to, text);
  }

  /** The next request of `method` (optionally of one Call-ID) this peer receives. */
  async request(method: string, callId?: string, timeoutMs = 5000): Promise<SipRequest> {
    return (await this.client
      .waitFor(
        (m) =>
          m.type === 'request' &&
          m.method === method &&
          (callId === undefined || m.callId === callId) &&
          !this.#seen.has(m),
        timeoutMs,
      )
      .then((m) => {
        this.#seen.add(m);
        return m;
      })) as SipRequest;
  }

  /** The next response with `status` (and CSeq method) this peer receives for `callId`. */
  async response(
    callId: string,
    status: number,
    method = 'INVITE',
    timeoutMs = 5000,
  ): Promise<SipResponse> {
    return (await this.client
      .waitFor(
        (m) =>
          m.type === 'response' &&
          m.callId === callId &&
          m.status === status &&
          m.cseq.method === method &&
          !this.#seen.has(m),
        timeoutMs,
      )
      .then((m) => {
        this.#seen.add(m);
        return m;
      })) as SipResponse;
  }

  readonly #seen = new Set<unknown>();

  /** Answers `request` (RFC 3261 §8.2.6: Via, From, To, Call-ID, CSeq copied; our tag on To). */
  respond(
    to: string,
    request: SipRequest,
    status: number,
    options: { sdp?: string; tag?: string; reason?: string } = {},
  ): void {
    const body = options.sdp ?? '';
    const toHeader = request.headers.get('to') ?? '';
    this.send(
      to,
      [
        `SIP/2.0 ${status} ${options.reason ?? 'Peer'}`,
        ...request.headers.getLines('via').map((v) => `Via: ${v}`),
        `From: ${request.headers.get('from')}`,
        `To: ${/;tag=/.test(toHeader) || status === 100 ? toHeader : `${toHeader};tag=${options.tag ?? 'peer-tag'}`}`,
        `Call-ID: ${request.callId}`,
        `CSeq: ${request.headers.get('cseq')}`,
        `Contact: <${this.uri}>`,
        ...(body ? ['Content-Type: application/sdp'] : []),
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\r\n'),
    );
  }

  /** A request within the dialog a 2xx (to our INVITE) made: ACK, BYE, INFO… */
  inDialog(
    to: string,
    ok: SipResponse,
    method: string,
    cseq: number,
    extra: { headers?: string[]; body?: string; contentType?: string } = {},
  ): void {
    const target = /<([^>]+)>/.exec(ok.headers.get('contact') ?? '')?.[1] ?? '';
    const body = extra.body ?? '';
    this.#seq += 1;
    this.send(
      to,
      [
        `${method} ${target} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=z9hG4bK-peer-${this.#seq}-${Date.now()};rport`,
        `From: ${ok.headers.get('from')}`,
        `To: ${ok.headers.get('to')}`,
        `Call-ID: ${ok.callId}`,
        `CSeq: ${cseq} ${method}`,
        'Max-Forwards: 70',
        ...(extra.headers ?? []),
        ...(body ? [`Content-Type: ${extra.contentType ?? 'application/sdp'}`] : []),
        `Content-Length: ${Buffer.byteLength(body)}`,
        '',
        body,
      ].join('\r\n'),
    );
  }

  close(): void {
    this.client.close();
  }
}
