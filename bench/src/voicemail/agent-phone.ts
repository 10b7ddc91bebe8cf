/**
 * The agent's phone of the live voicemail bench: a raw UDP SIP phone, busy
 * (486) until `answering`, then it answers an INVITE with PCMU at once and
 * sends RTP every 20 ms (payload bytes AGENT_MARK, so the caller knows its
 * packets); it notes when the INVITE came, when it answered and the first
 * packet that reached it.
 */
import { createSocket, type Socket } from 'node:dgram';
import {
  createResponse,
  parseMessage,
  serialize,
  type SipRequest,
} from '../../../gateway/src/sip/message/index.js';

export const AGENT_MARK = 0x55;

export class AgentPhone {
  readonly sip: Socket;
  readonly rtp: Socket;
  answering = false;
  inviteAt = 0;
  answeredAt = 0;
  firstPacketAt = 0;
  #timer: NodeJS.Timeout | undefined;

  private constructor(sip: Socket, rtp: Socket) {
    this.sip = sip;
    this.rtp = rtp;
    sip.on('message', (data, from) => this.#onSip(data, from.port, from.address));
    rtp.on('message', () => {
      if (this.answeredAt && !this.firstPacketAt) this.firstPacketAt = performance.now();
    });
  }

  static async open(): Promise<AgentPhone> {
    const bind = async (): Promise<Socket> => {
      const socket = createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      return socket;
    };
    return new AgentPhone(await bind(), await bind());
  }

  get address(): string {
    return `127.0.0.1:${this.sip.address().port}`;
  }

  reset(): void {
    this.answering = false;
    this.inviteAt = this.answeredAt = this.firstPacketAt = 0;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  close(): void {
    this.reset();
    this.sip.close();
    this.rtp.close();
  }

  #onSip(data: Buffer, port: number, host: string): void {
    let message;
    try {
      message = parseMessage(data);
    } catch {
      return;
    }
    if (message.type !== 'request') return;
    const reply = (status: number, body?: string): void => {
      const text = serialize(this.#response(message, status, body));
      this.sip.send(Buffer.from(text), port, host);
    };
    if (message.method === 'INVITE') {
      if (!this.answering) return reply(486);
      if (this.inviteAt) return; // a retransmission: the 200 is on its way
      this.inviteAt = performance.now();
      const offer = message.body.toString();
      const mediaHost = /^c=IN IP4 (\S+)/m.exec(offer)?.[1] ?? '127.0.0.1';
      const mediaPort = Number(/^m=audio (\d+)/m.exec(offer)?.[1]);
      const sdp = [
        'v=0',
        'o=agent 1 1 IN IP4 127.0.0.1',
        's=-',
        'c=IN IP4 127.0.0.1',
        't=0 0',
        `m=audio ${this.rtp.address().port} RTP/AVP 0`,
        'a=rtpmap:0 PCMU/8000',
        'a=ptime:20',
        'a=sendrecv',
        '',
      ].join('\r\n');
      reply(200, sdp);
      this.answeredAt = performance.now();
      let seq = 0;
      this.#timer = setInterval(() => {
        const header = Buffer.alloc(12);
        header[0] = 0x80;
        header.writeUInt16BE(seq & 0xffff, 2);
        header.writeUInt32BE((seq * 160) >>> 0, 4);
        header.writeUInt32BE(0x0a6e7001, 8);
        seq += 1;
        this.rtp.send(Buffer.concat([header, Buffer.alloc(160, AGENT_MARK)]), mediaPort, mediaHost);
      }, 20);
    } else if (message.method === 'BYE' || message.method === 'CANCEL') reply(200);
  }

  /** Via, From, To (tagged if it was not), Call-ID, CSeq copied (RFC 3261 §8.2.6), our Contact. */
  #response(request: SipRequest, status: number, body?: string) {
    return createResponse(request, status, undefined, {
      toTag: `agent-${Date.now()}`,
      headers: [
        ['Contact', `<sip:a0@${this.address}>`],
        ...(body !== undefined ? ([['Content-Type', 'application/sdp']] as const) : []),
      ],
      ...(body !== undefined ? { body } : {}),
    });
  }
}
