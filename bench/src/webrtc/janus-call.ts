/**
 * One visitor call to Janus's SIP plugin, the way a Janus page makes it: a
 * WebSocket (subprotocol `janus-protocol`), a session, a handle on
 * `janus.plugin.sip`, a guest "registration" (no REGISTER goes out), then
 * `call` with the complete offer (no trickle); the plugin sends the INVITE to
 * the agent and returns its answer in the `accepted` event. The same visitor
 * as SipWsCall's (media-peer.ts), so the two servers see the same load.
 */
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { countersSince, type BenchCall, type CallCounters, type CallSetup } from './sip-ws-call.js';
import type { MediaPeer } from './media-peer.js';

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
  options: { perMessageDeflate: boolean },
) => WsClient;
const WebSocket = createRequire(import.meta.url)('ws') as WsClientClass;

export interface JanusCallOptions {
  readonly peer: MediaPeer;
  /** ws://host:port of Janus's WebSocket transport. */
  readonly wsUrl: string;
  /** The agent: `sip:agent@host:port`. */
  readonly calleeUri: string;
  readonly answerTimeoutMs?: number;
}

interface JanusMessage {
  readonly janus: string;
  readonly transaction?: string;
  readonly session_id?: number;
  readonly sender?: number;
  readonly data?: { readonly id?: number };
  readonly error?: { readonly code: number; readonly reason: string };
  readonly plugindata?: {
    readonly data?: {
      readonly sip?: string;
      readonly call_id?: string;
      readonly error?: string;
      readonly error_code?: number;
      readonly result?: {
        readonly event?: string;
        readonly code?: number;
        readonly reason?: string;
      };
    };
  };
  readonly jsep?: { readonly type: string; readonly sdp: string };
}

const rand = (): string => randomBytes(6).toString('hex');

export class JanusCall implements BenchCall {
  readonly #o: JanusCallOptions;
  #ws: WsClient | undefined;
  #session: number | undefined;
  #handle: number | undefined;
  readonly #waiters = new Set<(m: JanusMessage) => boolean>();
  ended: string | undefined;
  answeredAt: number | undefined;

  constructor(options: JanusCallOptions) {
    this.#o = options;
  }

  get up(): boolean {
    return this.answeredAt !== undefined && this.ended === undefined;
  }

  async start(): Promise<CallSetup> {
    const t0 = performance.now();
    let gatherMs = 0;
    let wsMs = 0;
    let inviteAt = 0;
    let callId = '';
    const fail = (status: number, reason: string): CallSetup => ({
      ok: false,
      callId,
      status,
      reason,
      gatherMs,
      wsMs,
      inviteMs: inviteAt ? performance.now() - inviteAt : 0,
    });
    try {
      const offer = await this.#o.peer.offer();
      gatherMs = performance.now() - t0;
      const t1 = performance.now();
      const ws = new WebSocket(this.#o.wsUrl, 'janus-protocol', { perMessageDeflate: false });
      this.#ws = ws;
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      wsMs = performance.now() - t1;
      ws.on('close', () => {
        this.ended ??= 'ws-closed';
      });
      ws.on('message', (data) => {
        const text = Buffer.isBuffer(data)
          ? data.toString('utf8')
          : Array.isArray(data)
            ? Buffer.concat(data).toString('utf8')
            : Buffer.from(data).toString('utf8');
        const message = JSON.parse(text) as JanusMessage;
        for (const waiter of [...this.#waiters]) if (waiter(message)) this.#waiters.delete(waiter);
        const result = message.plugindata?.data?.result?.event;
        if (message.janus === 'hangup' || result === 'hangup') this.ended ??= 'hangup-from-janus';
      });

      const created = await this.#request({ janus: 'create' });
      this.#session = created.data?.id;
      const attached = await this.#request({ janus: 'attach', plugin: 'janus.plugin.sip' });
      this.#handle = attached.data?.id;
      const registered = this.#event((e) => e === 'registered');
      this.#send({
        janus: 'message',
        body: {
          request: 'register',
          type: 'guest',
          username: `sip:visitor-${rand()}@bench.invalid`,
        },
      });
      await registered;

      const timeout = this.#o.answerTimeoutMs ?? 20_000;
      const accepted = this.#event((e) => e === 'accepted' || e === 'hangup', timeout);
      inviteAt = performance.now();
      this.#send({
        janus: 'message',
        body: { request: 'call', uri: this.#o.calleeUri },
        jsep: { type: 'offer', sdp: offer, trickle: false },
      });
      let answer: JanusMessage;
      try {
        answer = await accepted;
      } catch (error) {
        return fail(0, (error as Error).message);
      }
      const inviteMs = performance.now() - inviteAt;
      callId = answer.plugindata?.data?.call_id ?? '';
      const result = answer.plugindata?.data?.result;
      if (result?.event !== 'accepted' || !answer.jsep) {
        return { ...fail(result?.code ?? 0, result?.reason ?? 'hung up'), inviteMs };
      }
      this.answeredAt = performance.now();
      await this.#o.peer.apply(answer.jsep.sdp);
      return { ok: true, callId, status: 200, gatherMs, wsMs, inviteMs };
    } catch (error) {
      return fail(0, (error as Error).message);
    }
  }

  counters(): Promise<CallCounters> {
    return countersSince(this.#o.peer, this.answeredAt);
  }

  async hangup(timeoutMs = 3000): Promise<boolean> {
    let confirmed = false;
    if (this.up && this.#ws?.readyState === this.#ws?.OPEN) {
      const done = this.#event((e) => e === 'hangup', timeoutMs).then(
        () => true,
        () => false,
      );
      this.#send({ janus: 'message', body: { request: 'hangup' } });
      confirmed = await done;
      this.ended ??= 'hangup';
    }
    this.close();
    return confirmed;
  }

  close(): void {
    this.ended ??= 'closed';
    this.#o.peer.close();
    if (this.#session !== undefined && this.#ws?.readyState === this.#ws?.OPEN) {
      this.#send({ janus: 'destroy' });
    }
    this.#ws?.terminate();
  }

  #send(message: Record<string, unknown>): string {
    const transaction = rand();
    this.#ws?.send(
      JSON.stringify({
        ...message,
        transaction,
        ...(this.#session !== undefined ? { session_id: this.#session } : {}),
        ...(this.#handle !== undefined && message['janus'] === 'message'
          ? { handle_id: this.#handle }
          : {}),
      }),
    );
    return transaction;
  }

  /** A request answered with `success` (create, attach). */
  #request(message: Record<string, unknown>, timeoutMs = 10_000): Promise<JanusMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`janus: no answer to ${String(message['janus'])}`)),
        timeoutMs,
      );
      const transaction = this.#send(message);
      this.#waiters.add((m) => {
        if (m.transaction !== transaction) return false;
        clearTimeout(timer);
        if (m.janus === 'success') resolve(m);
        else reject(new Error(`janus ${String(message['janus'])}: ${m.error?.reason ?? m.janus}`));
        return true;
      });
    });
  }

  /** The next SIP plugin event whose name `match` accepts (or a plugin error). */
  #event(match: (event: string) => boolean, timeoutMs = 10_000): Promise<JanusMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('janus: no answer in time')), timeoutMs);
      this.#waiters.add((m) => {
        if (m.janus !== 'event') return false;
        const data = m.plugindata?.data;
        if (data?.error) {
          clearTimeout(timer);
          reject(new Error(`janus sip: ${data.error_code ?? ''} ${data.error}`));
          return true;
        }
        const event = data?.result?.event;
        if (!event || !match(event)) return false;
        clearTimeout(timer);
        resolve(m);
        return true;
      });
    });
  }
}
