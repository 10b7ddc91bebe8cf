/** A bare UDP socket speaking SIP text, for tests that need exact control of every byte and timer. */
import { createSocket, type Socket } from 'node:dgram';
import {
  answerDigestChallenge,
  formatDigestCredentials,
  parseDigestChallenge,
  parseMessage,
  type SipRequest,
  type SipResponse,
} from '../src/sip/message/index.js';

export class RawSipClient {
  readonly #socket: Socket;
  readonly received: { at: number; message: SipRequest | SipResponse }[] = [];
  readonly #waiters: {
    predicate: (m: SipRequest | SipResponse) => boolean;
    resolve: (m: SipRequest | SipResponse) => void;
  }[] = [];
  port = 0;
  address = '127.0.0.1';

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('message', (data) => {
      let message: SipRequest | SipResponse;
      try {
        message = parseMessage(data);
      } catch {
        return;
      }
      this.received.push({ at: Date.now(), message });
      for (const waiter of [...this.#waiters]) {
        if (waiter.predicate(message)) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.resolve(message);
        }
      }
    });
  }

  /** A client on `address` (any of 127.0.0.0/8: each is another source to the gateway). */
  static async open(address = '127.0.0.1'): Promise<RawSipClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, address, resolve));
    const client = new RawSipClient(socket);
    client.port = socket.address().port;
    client.address = address;
    return client;
  }

  send(target: string, text: string | Buffer): void {
    const [host = '127.0.0.1', port = '5060'] = target.split(':');
    const data = typeof text === 'string' ? Buffer.from(text.replace(/\r?\n/g, '\r\n')) : text;
    this.#socket.send(data, Number(port), host);
  }

  /** Resolves with the first message (already received or arriving) that matches. */
  waitFor(
    predicate: (m: SipRequest | SipResponse) => boolean,
    timeoutMs = 3000,
  ): Promise<SipRequest | SipResponse> {
    const found = this.received.find((r) => predicate(r.message));
    if (found) return Promise.resolve(found.message);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('timed out waiting for a SIP message')),
        timeoutMs,
      );
      this.#waiters.push({
        predicate,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  responses(status?: number): SipResponse[] {
    return this.received
      .map((r) => r.message)
      .filter(
        (m): m is SipResponse =>
          m.type === 'response' && (status === undefined || m.status === status),
      );
  }

  close(): void {
    this.#socket.close();
  }

  /** CSeq of the last REGISTER built by {@link registerText}. */
  cseq = 0;

  /** A REGISTER of `user` at parley.test from this client. */
  registerText(
    user: string,
    contacts: string[],
    extra: string[] = [],
    callId = `reg-${user}`,
  ): string {
    this.cseq += 1;
    const cseq = this.cseq;
    return [
      `REGISTER sip:parley.test SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.address}:${this.port};branch=z9hG4bK-r${cseq}-${Date.now()};rport`,
      `From: <sip:${user}@parley.test>;tag=f${cseq}`,
      `To: <sip:${user}@parley.test>`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} REGISTER`,
      ...contacts.map((c) => `Contact: ${c}`),
      ...extra,
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  }

  /** The response to the REGISTER with CSeq `seq`. */
  async responseTo(seq: number): Promise<SipResponse> {
    return (await this.waitFor(
      (m) => m.type === 'response' && m.cseq.method === 'REGISTER' && m.cseq.seq === seq,
    )) as SipResponse;
  }

  /** REGISTER at `target`, answer the challenge with `algorithm`, return the final response. */
  async register(
    target: string,
    user: string,
    password: string,
    contacts: string[],
    extra: string[] = [],
    algorithm = 'SHA-256',
  ): Promise<SipResponse> {
    this.send(target, this.registerText(user, contacts, extra));
    const challenge = await this.responseTo(this.cseq);
    if (challenge.status !== 401) return challenge;
    const offered = challenge.headers.getAll('www-authenticate').map(parseDigestChallenge);
    const chosen = offered.find((c) => c.algorithm === algorithm);
    if (!chosen)
      throw new Error(`no ${algorithm} challenge in ${offered.map((c) => c.algorithm).join(', ')}`);
    const credentials = answerDigestChallenge(chosen, {
      username: user,
      password,
      method: 'REGISTER',
      uri: 'sip:parley.test',
      cnonce: 'c0ffee',
      nc: 1,
    });
    this.send(
      target,
      this.registerText(user, contacts, [
        ...extra,
        `Authorization: ${formatDigestCredentials(credentials)}`,
      ]),
    );
    return this.responseTo(this.cseq);
  }
}

let seq = 0;
/** A minimal INVITE from the raw client (no SDP unless given). */
export function inviteText(o: {
  to: string;
  port: number;
  branch?: string;
  callId?: string;
  headers?: string[];
  sdp?: string;
  /** The address the client's socket is bound to (default 127.0.0.1). */
  host?: string;
  /** The user in From (default `visitor`). */
  from?: string;
}): string {
  seq += 1;
  const body = o.sdp ?? '';
  const host = o.host ?? '127.0.0.1';
  return [
    `INVITE sip:${o.to} SIP/2.0`,
    `Via: SIP/2.0/UDP ${host}:${o.port};branch=${o.branch ?? `z9hG4bK-raw-${seq}`};rport`,
    `From: <sip:${o.from ?? 'visitor'}@${host}:${o.port}>;tag=raw${seq}`,
    `To: <sip:${o.to}>`,
    `Call-ID: ${o.callId ?? `raw-call-${seq}-${Date.now()}`}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:${o.from ?? 'visitor'}@${host}:${o.port}>`,
    'Max-Forwards: 70',
    ...(o.headers ?? []),
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}
