/**
 * baresip's `ctrl_tcp` control socket: netstring-framed JSON both ways
 * (`LEN:{...},`). Commands are `{"command","params","token"}`; the answer
 * echoes the token (`{"response":true,"ok":…,"data":…,"token":…}`); events
 * arrive unasked (`{"event":true,"type":"CALL_RINGING",…}`).
 */
import { EventEmitter } from 'node:events';
import * as net from 'node:net';

import { TestkitError } from './testkit-error.js';

/** Event types baresip 1.0.0 sends (the list is open: unknown types pass through). */
export type BaresipEventType =
  | 'REGISTERING'
  | 'REGISTER_OK'
  | 'REGISTER_FAIL'
  | 'UNREGISTERING'
  | 'FALLBACK_OK'
  | 'FALLBACK_FAIL'
  | 'MWI_NOTIFY'
  | 'CREATE'
  | 'SHUTDOWN'
  | 'EXIT'
  | 'CALL_INCOMING'
  | 'CALL_RINGING'
  | 'CALL_PROGRESS'
  | 'CALL_ANSWERED'
  | 'CALL_ESTABLISHED'
  | 'CALL_CLOSED'
  | 'CALL_TRANSFER'
  | 'CALL_TRANSFER_FAILED'
  | 'CALL_DTMF_START'
  | 'CALL_DTMF_END'
  | 'CALL_RTPESTAB'
  | 'CALL_RTCP'
  | 'CALL_MENC'
  | 'CALL_LOCAL_SDP'
  | 'CALL_REMOTE_SDP'
  | 'VU_TX'
  | 'VU_RX'
  | 'AUDIO_ERROR'
  | 'MODULE'
  | (string & {});

export interface BaresipEvent {
  readonly type: BaresipEventType;
  /** `call`, `register`, `application`, `other`, … */
  readonly class: string | undefined;
  readonly accountaor: string | undefined;
  readonly direction: 'incoming' | 'outgoing' | undefined;
  readonly peeruri: string | undefined;
  readonly peerdisplayname: string | undefined;
  /** The call's id (its SIP Call-ID) on call events. */
  readonly id: string | undefined;
  /** Type-specific: the reason on CALL_CLOSED, the digit on CALL_DTMF_START, … */
  readonly param: string | undefined;
  /** Date.now() when it was read from the socket. */
  readonly receivedAt: number;
  /** The JSON object as sent. */
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface BaresipResponse {
  readonly ok: boolean;
  readonly data: string;
}

/** Encodes one netstring. */
export function encodeNetstring(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]);
}

/** Splits complete netstrings off the front of `buffer`; returns them and the rest. */
export function decodeNetstrings(buffer: Buffer): {
  readonly payloads: string[];
  readonly rest: Buffer;
} {
  const payloads: string[] = [];
  let offset = 0;
  for (;;) {
    const colon = buffer.indexOf(0x3a, offset);
    if (colon < 0) break;
    const lengthText = buffer.subarray(offset, colon).toString('ascii');
    if (!/^\d+$/.test(lengthText)) {
      throw new TestkitError('tool_failed', `bad netstring length "${lengthText.slice(0, 20)}"`);
    }
    const length = Number(lengthText);
    const end = colon + 1 + length;
    if (buffer.length < end + 1) break;
    if (buffer[end] !== 0x2c)
      throw new TestkitError('tool_failed', 'netstring without trailing comma');
    payloads.push(buffer.subarray(colon + 1, end).toString('utf8'));
    offset = end + 1;
  }
  return { payloads, rest: buffer.subarray(offset) };
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function toBaresipEvent(
  raw: Record<string, unknown>,
  receivedAt = Date.now(),
): BaresipEvent {
  const direction = str(raw.direction);
  return {
    type: str(raw.type) ?? 'UNKNOWN',
    class: str(raw.class),
    accountaor: str(raw.accountaor),
    direction: direction === 'incoming' || direction === 'outgoing' ? direction : undefined,
    peeruri: str(raw.peeruri),
    peerdisplayname: str(raw.peerdisplayname),
    id: str(raw.id),
    param: str(raw.param),
    receivedAt,
    raw,
  };
}

interface Pending {
  readonly resolve: (response: BaresipResponse) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** A connected ctrl_tcp client. */
export class BaresipControl {
  readonly events = new EventEmitter<{ event: [BaresipEvent]; close: [] }>();
  readonly #socket: net.Socket;
  readonly #pending = new Map<string, Pending>();
  #buffer: Buffer = Buffer.alloc(0);
  #nextToken = 1;
  #closed = false;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    this.events.setMaxListeners(0);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => {
      // 'close' follows; commands in flight are rejected there.
    });
    socket.on('close', () => {
      this.#closed = true;
      for (const [token, pending] of this.#pending) {
        clearTimeout(pending.timer);
        pending.reject(
          new TestkitError(
            'process_exited',
            `baresip control socket closed (command token ${token})`,
          ),
        );
      }
      this.#pending.clear();
      this.events.emit('close');
    });
  }

  /** Connects, retrying until baresip listens or `timeoutMs` passes (or `giveUp()` says so). */
  static async connect(
    port: number,
    options: { readonly timeoutMs?: number; readonly giveUp?: () => string | undefined } = {},
  ): Promise<BaresipControl> {
    const deadline = Date.now() + (options.timeoutMs ?? 5000);
    let lastError: unknown;
    while (Date.now() < deadline) {
      const reason = options.giveUp?.();
      if (reason) throw new TestkitError('process_exited', reason);
      try {
        const socket = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect({ host: '127.0.0.1', port });
          s.once('connect', () => {
            s.removeListener('error', reject);
            resolve(s);
          });
          s.once('error', reject);
        });
        socket.setNoDelay(true);
        return new BaresipControl(socket);
      } catch (error) {
        lastError = error;
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    throw new TestkitError(
      'timeout',
      `baresip ctrl_tcp on 127.0.0.1:${port} did not accept a connection`,
      {
        cause: lastError,
      },
    );
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends a command and waits for its response. */
  command(command: string, params?: string, timeoutMs = 5000): Promise<BaresipResponse> {
    if (this.#closed) {
      return Promise.reject(
        new TestkitError('process_exited', `baresip control socket is closed (${command})`),
      );
    }
    const token = String(this.#nextToken++);
    const message: Record<string, string> = { command, token };
    if (params !== undefined) message.params = params;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(token);
        reject(
          new TestkitError('timeout', `baresip did not answer "${command}" within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.#pending.set(token, { resolve, reject, timer });
      this.#socket.write(encodeNetstring(JSON.stringify(message)));
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    let decoded: ReturnType<typeof decodeNetstrings>;
    try {
      decoded = decodeNetstrings(this.#buffer);
    } catch {
      this.#socket.destroy();
      return;
    }
    this.#buffer = decoded.rest;
    for (const payload of decoded.payloads) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(payload);
      } catch {
        continue;
      }
      if (typeof parsed !== 'object' || parsed === null) continue;
      const object = parsed as Record<string, unknown>;
      if (object.event === true) {
        this.events.emit('event', toBaresipEvent(object));
      } else if (object.response === true) {
        const token = str(object.token);
        const pending = token === undefined ? undefined : this.#pending.get(token);
        if (!pending || token === undefined) continue;
        this.#pending.delete(token);
        clearTimeout(pending.timer);
        pending.resolve({ ok: object.ok === true, data: str(object.data) ?? '' });
      }
    }
  }
}
