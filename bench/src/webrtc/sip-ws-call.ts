/**
 * One visitor call from Node: a WebRTC peer (media-peer.ts: libdatachannel or
 * libwebrtc) with a tone as its microphone and a `parley` data channel, calling
 * the gateway over its own SIP-over-WebSocket connection (RFC 7118, subprotocol `sip`)
 * with a call token as `Authorization: Bearer` (RFC 8898). The SIP side is a
 * port of e2e/src/raw-sip-page.ts: INVITE with the complete offer (no trickle
 * ICE), ACK for the final response, BYE to hang up, 200 to any request the
 * gateway sends (BYE, INFO).
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { MediaPeer } from './media-peer.js';

/**
 * The `ws` client, typed for what is used here: bench/ has `ws` but not
 * `@types/ws` (the gateway has them), and no new dependency is added for this.
 */
interface WsClient {
  readonly readyState: number;
  readonly OPEN: number;
  send(data: string): void;
  once(event: 'open', fn: () => void): void;
  once(event: 'error', fn: (error: Error) => void): void;
  on(event: 'message', fn: (data: Buffer | ArrayBuffer | Buffer[]) => void): void;
  on(event: 'close', fn: () => void): void;
  terminate(): void;
}
type WsClientClass = new (
  url: string,
  protocol: string,
  options: { origin: string; perMessageDeflate: boolean },
) => WsClient;
const WebSocket = createRequire(import.meta.url)('ws') as WsClientClass;

export interface CallOptions {
  /** The WebRTC end (offer, answer, audio, counters). */
  readonly peer: MediaPeer;
  /** `ws://host:port/sip` */
  readonly wsUrl: string;
  /** Sent as the handshake's Origin: the gateway matches it with the token's origin. */
  readonly origin: string;
  readonly token: string;
  readonly queue: string;
  readonly domain: string;
  /** INVITE → final response limit. */
  readonly answerTimeoutMs?: number;
}

export interface CallSetup {
  readonly ok: boolean;
  /** The INVITE's Call-ID (the gateway's call record keeps it as visitorCallId). */
  readonly callId: string;
  /** Final status of the INVITE; 0 when none came (timeout, WebSocket error). */
  readonly status: number;
  /** The Reason header (Parley's error code) or the failure. */
  readonly reason?: string;
  /** createOffer + ICE gathering, ms. */
  readonly gatherMs: number;
  /** WebSocket handshake, ms. */
  readonly wsMs: number;
  /** INVITE sent → final response, ms. */
  readonly inviteMs: number;
}

export interface CallCounters {
  readonly inboundPackets: number;
  readonly inboundBytes: number;
  readonly outboundPackets: number;
  readonly packetsLost: number;
  readonly jitterMs: number;
  readonly codec: string | undefined;
  readonly iceState: string;
  readonly dataChannelOpen: boolean;
  /** 200 OK → ICE connected, → DTLS done (connectionState connected), → first audio packet received, ms. */
  readonly iceMs: number | undefined;
  readonly dtlsMs: number | undefined;
  readonly firstAudioMs: number | undefined;
}

/** What the load clients drive, whichever server the call goes to (SipWsCall, JanusCall). */
export interface BenchCall {
  readonly up: boolean;
  readonly ended: string | undefined;
  start(): Promise<CallSetup>;
  counters(): Promise<CallCounters>;
  hangup(timeoutMs?: number): Promise<boolean>;
  close(): void;
}

/** The peer's counters, its times made relative to the answer. */
export async function countersSince(
  peer: MediaPeer,
  answeredAt: number | undefined,
): Promise<CallCounters> {
  const c = await peer.counters();
  const since = (t: number | undefined): number | undefined =>
    t !== undefined && answeredAt !== undefined ? t - answeredAt : undefined;
  return {
    inboundPackets: c.inboundPackets,
    inboundBytes: c.inboundBytes,
    outboundPackets: c.outboundPackets,
    packetsLost: c.packetsLost,
    jitterMs: c.jitterMs,
    codec: c.codec,
    iceState: c.iceState,
    dataChannelOpen: c.dataChannelOpen,
    iceMs: since(c.iceAt),
    dtlsMs: since(c.dtlsAt),
    firstAudioMs: since(c.firstAudioAt),
  };
}

const rand = (): string => randomBytes(6).toString('hex');
const CRLF = '\r\n';

function sipMessage(lines: readonly string[], body = ''): string {
  return `${lines.join(CRLF)}${CRLF}Content-Length: ${Buffer.byteLength(body)}${CRLF}${CRLF}${body}`;
}

function header(text: string, name: string): string | undefined {
  return new RegExp(`^${name}:\\s*(.*)$`, 'mi').exec(text)?.[1]?.trim();
}

export class SipWsCall implements BenchCall {
  readonly #o: CallOptions;
  readonly #callId = `${rand()}${rand()}`;
  readonly #fromTag = rand();
  readonly #host = `${rand()}.invalid`;
  readonly #target: string;
  #toTag = '';
  #cseq = 1;
  #ws: WsClient | undefined;
  #pendingBye: (() => void) | undefined;
  /** Why the call ended, when it did: `bye-from-gateway`, `ws-closed`, `hangup`. */
  ended: string | undefined;
  /** performance.now() of the 200 OK. */
  answeredAt: number | undefined;

  constructor(options: CallOptions) {
    this.#o = options;
    this.#target = `sip:${options.queue}@${options.domain}`;
  }

  get up(): boolean {
    return this.answeredAt !== undefined && this.ended === undefined;
  }

  async start(): Promise<CallSetup> {
    const t0 = performance.now();
    let gatherMs = 0;
    let wsMs = 0;
    let inviteAt = 0;
    const fail = (status: number, reason: string): CallSetup => ({
      ok: false,
      callId: this.#callId,
      status,
      reason,
      gatherMs,
      wsMs,
      inviteMs: inviteAt ? performance.now() - inviteAt : 0,
    });
    try {
      const offer = await this.#o.peer.offer();
      gatherMs = performance.now() - t0;
      if (!offer) return fail(0, 'no local description');

      const t1 = performance.now();
      const ws = new WebSocket(this.#o.wsUrl, 'sip', {
        origin: this.#o.origin,
        perMessageDeflate: false,
      });
      this.#ws = ws;
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      wsMs = performance.now() - t1;
      ws.on('close', () => {
        this.ended ??= 'ws-closed';
        this.#pendingBye?.();
      });

      const final = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('no final response')),
          this.#o.answerTimeoutMs ?? 20_000,
        );
        ws.on('message', (data) => {
          const text = Buffer.isBuffer(data)
            ? data.toString('utf8')
            : Array.isArray(data)
              ? Buffer.concat(data).toString('utf8')
              : Buffer.from(data).toString('utf8');
          const first = text.slice(0, text.indexOf(CRLF));
          if (first.startsWith('SIP/2.0')) {
            const status = Number(first.split(' ')[1]);
            const cseq = header(text, 'CSeq') ?? '';
            if (status >= 200 && /INVITE/i.test(cseq)) {
              clearTimeout(timer);
              resolve({ status, text });
            } else if (status >= 200 && /BYE/i.test(cseq)) {
              this.#pendingBye?.();
            }
            return;
          }
          this.#answerRequest(text, first);
        });
      });
      inviteAt = performance.now();
      ws.send(
        sipMessage(
          [
            `INVITE ${this.#target} SIP/2.0`,
            `Via: SIP/2.0/WS ${this.#host};branch=z9hG4bK${rand()}`,
            'Max-Forwards: 70',
            `To: <${this.#target}>`,
            `From: <sip:visitor@${this.#host}>;tag=${this.#fromTag}`,
            `Call-ID: ${this.#callId}`,
            'CSeq: 1 INVITE',
            `Contact: <sip:visitor@${this.#host};transport=ws>`,
            `Authorization: Bearer ${this.#o.token}`,
            'Content-Type: application/sdp',
          ],
          offer,
        ),
      );
      let response: { status: number; text: string };
      try {
        response = await final;
      } catch (error) {
        return fail(0, (error as Error).message);
      }
      const inviteMs = performance.now() - inviteAt;
      this.#toTag = /;tag=([^;\s]+)/.exec(header(response.text, 'To') ?? '')?.[1] ?? '';
      ws.send(
        sipMessage([
          `ACK ${this.#target} SIP/2.0`,
          `Via: SIP/2.0/WS ${this.#host};branch=z9hG4bK${rand()}`,
          'Max-Forwards: 70',
          `To: <${this.#target}>;tag=${this.#toTag}`,
          `From: <sip:visitor@${this.#host}>;tag=${this.#fromTag}`,
          `Call-ID: ${this.#callId}`,
          'CSeq: 1 ACK',
        ]),
      );
      if (response.status !== 200) {
        return {
          ...fail(
            response.status,
            header(response.text, 'Reason') ?? response.text.slice(0, response.text.indexOf(CRLF)),
          ),
          inviteMs,
        };
      }
      this.answeredAt = performance.now();
      const body = response.text.slice(response.text.indexOf(`${CRLF}${CRLF}`) + 4);
      await this.#o.peer.apply(body);
      return { ok: true, callId: this.#callId, status: 200, gatherMs, wsMs, inviteMs };
    } catch (error) {
      return fail(0, (error as Error).message);
    }
  }

  /** 200 OK to a request from the gateway (BYE ends the call). */
  #answerRequest(text: string, first: string): void {
    const lines = [
      'SIP/2.0 200 OK',
      `Via: ${header(text, 'Via') ?? ''}`,
      `From: ${header(text, 'From') ?? ''}`,
      `To: ${header(text, 'To') ?? ''}`,
      `Call-ID: ${header(text, 'Call-ID') ?? ''}`,
      `CSeq: ${header(text, 'CSeq') ?? ''}`,
    ];
    this.#ws?.send(sipMessage(lines));
    if (first.startsWith('BYE'))
      this.ended ??= `bye-from-gateway${header(text, 'Reason') ? ` (${header(text, 'Reason')})` : ''}`;
  }

  counters(): Promise<CallCounters> {
    return countersSince(this.#o.peer, this.answeredAt);
  }

  /** BYE (when the call is up), then closes the WebSocket and the peer connection. */
  async hangup(timeoutMs = 3000): Promise<boolean> {
    let confirmed = false;
    const ws = this.#ws;
    if (this.up && ws && ws.readyState === ws.OPEN) {
      this.#cseq += 1;
      const done = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), timeoutMs);
        this.#pendingBye = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      ws.send(
        sipMessage([
          `BYE ${this.#target} SIP/2.0`,
          `Via: SIP/2.0/WS ${this.#host};branch=z9hG4bK${rand()}`,
          'Max-Forwards: 70',
          `To: <${this.#target}>;tag=${this.#toTag}`,
          `From: <sip:visitor@${this.#host}>;tag=${this.#fromTag}`,
          `Call-ID: ${this.#callId}`,
          `CSeq: ${this.#cseq} BYE`,
        ]),
      );
      confirmed = await done;
      this.ended ??= 'hangup';
    }
    this.close();
    return confirmed;
  }

  close(): void {
    this.ended ??= 'closed';
    this.#o.peer.close();
    this.#ws?.terminate();
  }
}
