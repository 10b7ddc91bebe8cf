/**
 * The media half of a raw SIP visitor: one UDP socket on 127.0.0.1 that sends
 * a G.711 tone as RTP (20 ms packets) and keeps every payload it receives, so
 * a test can measure what the agent's phone sent through the relay.
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyse, makeTone, type AudioAnalysis } from '@parley/testkit';

export type G711 = 'PCMU' | 'PCMA';
const PAYLOAD_TYPE: Record<G711, number> = { PCMU: 0, PCMA: 8 };

export class RtpVisitor {
  readonly #socket: Socket;
  readonly #codec: G711;
  readonly #tone: Buffer;
  /** Payloads received, by RTP payload type. */
  readonly received = new Map<number, Buffer[]>();
  /** When each of those arrived (Date.now()), in the same order. */
  readonly arrivals = new Map<number, number[]>();
  #timer: NodeJS.Timeout | undefined;
  port = 0;

  private constructor(socket: Socket, codec: G711, tone: Buffer) {
    this.#socket = socket;
    this.#codec = codec;
    this.#tone = tone;
    socket.on('message', (data) => {
      if (data.length < 12 || data[0]! >> 6 !== 2) return;
      const pt = data[1]! & 0x7f;
      const list = this.received.get(pt) ?? [];
      // Skip CSRCs and the extension header, if any (RFC 3550 §5.1, §5.3.1).
      let offset = 12 + (data[0]! & 0x0f) * 4;
      if (data[0]! & 0x10) offset += 4 + data.readUInt16BE(offset + 2) * 4;
      list.push(data.subarray(offset));
      this.received.set(pt, list);
      const times = this.arrivals.get(pt) ?? [];
      times.push(Date.now());
      this.arrivals.set(pt, times);
    });
  }

  /** Opens the socket and makes `seconds` of a `toneHz` sine in the codec's encoding. */
  static async open(codec: G711, toneHz = 1000, seconds = 10): Promise<RtpVisitor> {
    const dir = await mkdtemp(join(tmpdir(), 'parley-rtp-visitor-'));
    const path = await makeTone({
      path: join(dir, `tone.${codec === 'PCMU' ? 'ul' : 'al'}`),
      freqHz: toneHz,
      seconds,
      raw: true,
      encoding: codec === 'PCMU' ? 'u-law' : 'a-law',
    });
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const visitor = new RtpVisitor(socket, codec, await readFile(path));
    visitor.port = socket.address().port;
    return visitor;
  }

  get payloadType(): number {
    return PAYLOAD_TYPE[this.#codec];
  }

  /** An SDP offer of this codec alone, plus telephone-event. */
  sdp(): string {
    const pt = this.payloadType;
    return [
      'v=0',
      `o=visitor 1 1 IN IP4 127.0.0.1`,
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${this.port} RTP/AVP ${pt} 101`,
      `a=rtpmap:${pt} ${this.#codec}/8000`,
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-15',
      'a=ptime:20',
      'a=sendrecv',
      '',
    ].join('\r\n');
  }

  /** Sends the tone to `host:port` every 20 ms until stop(). */
  start(host: string, port: number): void {
    const ssrc = 0x1234abcd;
    let seq = 0;
    let offset = 0;
    this.#timer = setInterval(() => {
      if (offset + 160 > this.#tone.length) offset = 0;
      const header = Buffer.alloc(12);
      header[0] = 0x80;
      header[1] = this.payloadType;
      header.writeUInt16BE(seq & 0xffff, 2);
      header.writeUInt32BE((seq * 160) >>> 0, 4);
      header.writeUInt32BE(ssrc, 8);
      this.#socket.send(
        Buffer.concat([header, this.#tone.subarray(offset, offset + 160)]),
        port,
        host,
      );
      seq += 1;
      offset += 160;
    }, 20);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Writes what arrived in the codec's payload type (before `before`, a
   * Date.now() time, when given) as raw G.711 and measures it with sox.
   */
  async analyseReceived(before?: number): Promise<AudioAnalysis & { packets: number }> {
    const at = this.arrivals.get(this.payloadType) ?? [];
    const payloads = (this.received.get(this.payloadType) ?? []).filter(
      (_, i) => before === undefined || (at[i] ?? Infinity) < before,
    );
    const dir = await mkdtemp(join(tmpdir(), 'parley-rtp-heard-'));
    const path = join(dir, `heard.${this.#codec === 'PCMU' ? 'ul' : 'al'}`);
    await writeFile(path, Buffer.concat(payloads));
    return { ...(await analyse(path)), packets: payloads.length };
  }

  close(): void {
    this.stop();
    this.#socket.close();
  }
}
