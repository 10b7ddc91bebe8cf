/**
 * A SIP visitor for voicemail tests: our raw SIP client (a call token in the
 * INVITE, as the widget sends it) with an RTP socket that sends PCMU every
 * 20 ms: silence, or the audio queued with `say` (a flite sentence), and keeps
 * what it hears. It answers the gateway's BYE.
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyse, makeTone, runCommand, speak, type AudioAnalysis } from '@parley/testkit';
import type { SipRequest, SipResponse } from '../src/sip/message/index.js';
import { RawSipClient, inviteText } from './raw-sip.js';

const SILENCE = 0xff; // µ-law zero

export class VoicemailCaller {
  readonly sip: RawSipClient;
  readonly #rtp: Socket;
  readonly #queue: Buffer[] = [];
  readonly heard: Buffer[] = [];
  #timer: NodeJS.Timeout | undefined;
  #ok: SipResponse | undefined;
  callId = '';
  /** When the last frame of the audio queued by `say` was sent (performance.now()). */
  spokenUntil = 0;
  /** When the first frame of the audio queued by the last `say` on a quiet line was sent (performance.now()). */
  spokenFrom = 0;
  /** Each RTP payload heard, with when (performance.now()): for benchmarks. */
  onHeard: ((payload: Buffer, at: number) => void) | undefined;
  #startPending = false;

  /** The loopback address the caller sends from (a carrier's is 127.0.0.2). */
  readonly address: string;

  private constructor(sip: RawSipClient, rtp: Socket, address: string) {
    this.sip = sip;
    this.address = address;
    this.#rtp = rtp;
    rtp.on('message', (data) => {
      if (data.length > 12 && (data[1]! & 0x7f) === 0) {
        this.heard.push(data.subarray(12));
        this.onHeard?.(data.subarray(12), performance.now());
      }
    });
  }

  static async open(address = '127.0.0.1'): Promise<VoicemailCaller> {
    const rtp = createSocket('udp4');
    await new Promise<void>((resolve) => rtp.bind(0, address, resolve));
    return new VoicemailCaller(await RawSipClient.open(address), rtp, address);
  }

  /** `text` spoken by flite, as 8 kHz µ-law. */
  static async speech(text: string): Promise<Buffer> {
    const dir = await mkdtemp(join(tmpdir(), 'parley-vm-caller-'));
    const wav = await speak({ text, path: join(dir, 'speech.wav'), rate: 8000 });
    const raw = join(dir, 'speech.ul');
    await runCommand('sox', [wav, '-r', '8000', '-c', '1', '-e', 'u-law', '-t', 'raw', raw]);
    return readFile(raw);
  }

  /** `seconds` of a `hz` sine, as 8 kHz µ-law. */
  static async tone(hz: number, seconds: number): Promise<Buffer> {
    const dir = await mkdtemp(join(tmpdir(), 'parley-vm-tone-'));
    const path = await makeTone({
      path: join(dir, 'tone.ul'),
      freqHz: hz,
      seconds,
      raw: true,
      encoding: 'u-law',
    });
    return readFile(path);
  }

  /** Drops what is queued: silence from the next frame on. */
  quiet(): void {
    this.#queue.length = 0;
  }

  /** Frames queued and not sent yet. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * INVITEs the gateway's UDP address with `token` (a visitor; none: a phone
   * on a trunk, `to` its DID); resolves with the 200, ACKed, RTP flowing.
   */
  async call(
    gateway: string,
    token: string | undefined,
    timeoutMs = 30_000,
    to = 'sales',
  ): Promise<SipResponse> {
    const port = this.#rtp.address().port;
    const local = this.address;
    this.callId = `voicemail-${port}-${Date.now()}`;
    const sdp = [
      'v=0',
      `o=visitor 1 1 IN IP4 ${local}`,
      's=-',
      `c=IN IP4 ${local}`,
      't=0 0',
      `m=audio ${port} RTP/AVP 0 101`,
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-15',
      'a=ptime:20',
      'a=sendrecv',
      '',
    ].join('\r\n');
    this.sip.send(
      gateway,
      inviteText({
        to: `${to}@${gateway}`,
        port: this.sip.port,
        callId: this.callId,
        headers: token === undefined ? [] : [`Authorization: Bearer ${token}`],
        sdp,
        host: local,
        ...(token === undefined ? { from: '+14155550199' } : {}),
      }),
    );
    const ok = (await this.sip.waitFor(
      (m) => m.type === 'response' && m.callId === this.callId && m.status === 200,
      timeoutMs,
    )) as SipResponse;
    this.#ok = ok;
    this.sip.send(gateway, this.#inDialog('ACK', 1));
    const body = ok.body.toString();
    const host = /^c=IN IP4 (\S+)/m.exec(body)?.[1] ?? '127.0.0.1';
    const mediaPort = Number(/^m=audio (\d+)/m.exec(body)?.[1]);
    this.#send(host, mediaPort);
    return ok;
  }

  /** Queues audio (µ-law) to be sent after what is queued already. */
  say(ulaw: Buffer): void {
    if (this.#queue.length === 0) this.#startPending = true;
    for (let i = 0; i < ulaw.length; i += 160) {
      const frame = Buffer.alloc(160, SILENCE);
      ulaw.copy(frame, 0, i, Math.min(i + 160, ulaw.length));
      this.#queue.push(frame);
    }
  }

  /** Resolves with the gateway's BYE, answered 200. */
  async byeFromGateway(gateway: string, timeoutMs = 30_000): Promise<SipRequest> {
    const bye = (await this.sip.waitFor(
      (m) => m.type === 'request' && m.method === 'BYE' && m.callId === this.callId,
      timeoutMs,
    )) as SipRequest;
    this.sip.send(gateway, respond(bye, this.sip.port, this.address));
    return bye;
  }

  /** Hangs up (BYE). */
  hangUp(gateway: string): void {
    this.sip.send(gateway, this.#inDialog('BYE', 2));
  }

  /** What the caller heard (PCMU), measured by sox. */
  async analyseHeard(from = 0): Promise<AudioAnalysis> {
    const dir = await mkdtemp(join(tmpdir(), 'parley-vm-heard-'));
    const path = join(dir, 'heard.ul');
    await writeFile(path, Buffer.concat(this.heard.slice(from)));
    return analyse(path);
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#rtp.close();
    this.sip.close();
  }

  /** 20 ms frames paced by the wall clock (a late timer catches up), as a phone sends them. */
  #send(host: string, port: number): void {
    let seq = 0;
    const start = performance.now();
    this.#timer = setInterval(() => {
      const due = Math.floor((performance.now() - start) / 20) + 1;
      while (seq < due) {
        const payload = this.#queue.shift() ?? Buffer.alloc(160, SILENCE);
        if (this.#startPending) {
          this.#startPending = false;
          this.spokenFrom = performance.now();
        }
        if (this.#queue.length === 0 && payload[0] !== SILENCE)
          this.spokenUntil = performance.now();
        const header = Buffer.alloc(12);
        header[0] = 0x80;
        header[1] = 0;
        header.writeUInt16BE(seq & 0xffff, 2);
        header.writeUInt32BE((seq * 160) >>> 0, 4);
        header.writeUInt32BE(0x5eed1234, 8);
        this.#rtp.send(Buffer.concat([header, payload]), port, host);
        seq += 1;
      }
    }, 10);
  }

  #inDialog(method: 'ACK' | 'BYE', cseq: number): string {
    const ok = this.#ok;
    if (!ok) throw new Error('no dialog');
    const routes = [...ok.headers.getAll('record-route')].reverse().map((r) => `Route: ${r}`);
    const contact = ok.headers.get('contact') ?? '';
    const uri = /<([^>]+)>/.exec(contact)?.[1] ?? contact.trim();
    return [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.address}:${this.sip.port};branch=z9hG4bK-${method}-${cseq}-${Date.now()};rport`,
      `From: ${ok.headers.get('from')}`,
      `To: ${ok.headers.get('to')}`,
      `Call-ID: ${ok.callId}`,
      `CSeq: ${cseq} ${method}`,
      ...routes,
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
  }
}

function respond(request: SipRequest, port: number, host: string): string {
  return [
    'SIP/2.0 200 OK',
    ...request.headers.getLines('via').map((v) => `Via: ${v}`),
    `From: ${request.headers.get('from')}`,
    `To: ${request.headers.get('to')}`,
    `Call-ID: ${request.callId}`,
    `CSeq: ${request.headers.get('cseq')}`,
    `Contact: <sip:visitor@${host}:${port}>`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}
