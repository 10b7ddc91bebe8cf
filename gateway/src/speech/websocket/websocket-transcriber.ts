/**
 * The `websocket` engine: each stream opens a WebSocket to the company's
 * recogniser (`protocol.ts`, docs/speech.md), sends PCM frames as binary
 * messages and maps the JSON results to the Transcriber's events.
 *
 * A connection that drops is opened again (`reconnectAttempts`, with
 * doubling delays); the audio since the last final (up to `replaySeconds`)
 * is kept and sent again, so an utterance cut by the drop is recognised
 * whole. A recogniser that refuses the upgrade with 4xx, says `error`, or
 * breaks the protocol is not retried. Dead peers are found by ping/pong.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';

import type { Logger } from '../../observability/index.js';
import type { SpeechMetrics } from '../speech-metrics.js';
import { TranscriberStreamBase, type StreamBaseOptions } from '../stream-base.js';
import type {
  Transcriber,
  TranscriberErrorCode,
  TranscriberStream,
  TranscriberStreamOptions,
} from '../transcriber.js';
import {
  binaryFromPcm,
  parseMessage,
  PROTOCOL_VERSION,
  serverMessage,
  type ClientMessage,
  type ServerMessage,
} from './protocol.js';

export interface WebSocketTranscriberOptions {
  readonly url: string;
  /** Sent with the upgrade request. */
  readonly headers: Readonly<Record<string, string>>;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
  /** What the recogniser takes (the media side resamples to it). */
  readonly sampleRate: number;
  readonly connectTimeoutMs: number;
  /** Reconnections in a row before the stream fails. */
  readonly reconnectAttempts: number;
  /** First delay between attempts; doubled each time. */
  readonly reconnectDelayMs: number;
  /** Audio since the last final kept to send again after a reconnect. */
  readonly replaySeconds: number;
  /** A ping this often; no pong before the next one ends the connection. */
  readonly pingIntervalMs: number;
  /** Audio queued in the socket beyond this means the recogniser is not reading. */
  readonly maxBacklogSeconds: number;
  readonly maxStreams: number;
  readonly endTimeoutMs: number;
  readonly logger: Logger;
  readonly metrics?: SpeechMetrics | undefined;
}

const ENGINE = 'websocket';
/** A connection that lived this long before dropping does not count as a failed attempt. */
const HEALTHY_MS = 5000;

export class WebSocketTranscriber implements Transcriber {
  readonly engine = ENGINE;
  readonly sampleRate: number;
  readonly #options: WebSocketTranscriberOptions;
  readonly #streams = new Set<TranscriberStream>();
  #closed = false;

  constructor(options: WebSocketTranscriberOptions) {
    this.#options = options;
    this.sampleRate = options.sampleRate;
  }

  get streamCount(): number {
    return this.#streams.size;
  }

  open(options: TranscriberStreamOptions = {}): TranscriberStream {
    const base: StreamBaseOptions = {
      id: options.id ?? randomUUID(),
      engine: ENGINE,
      sampleRate: this.sampleRate,
      endTimeoutMs: this.#options.endTimeoutMs,
      logger: this.#options.logger,
      metrics: this.#options.metrics,
    };
    const refusal: [TranscriberErrorCode, string] | undefined = this.#closed
      ? ['transcriber_unavailable', 'the transcriber is closed']
      : this.#streams.size >= this.#options.maxStreams
        ? ['transcriber_busy', `${this.#options.maxStreams} streams are open`]
        : undefined;
    const stream = new WebSocketStream(
      { ...base, onClosed: () => this.#streams.delete(stream) },
      this.#options,
      refusal,
    );
    if (!refusal) this.#streams.add(stream);
    return stream;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const stream of [...this.#streams]) stream.close();
  }
}

interface Frame {
  readonly startMs: number;
  readonly samples: Int16Array;
}

class WebSocketStream extends TranscriberStreamBase {
  readonly #options: WebSocketTranscriberOptions;
  #socket: WebSocket | undefined;
  /** The connection is open and `start` was sent. */
  #live = false;
  #everLive = false;
  /** Failed connections in a row (reset by a result). */
  #failures = 0;
  #offsetMs = 0;
  #replay: Frame[] = [];
  #utterance = 0;
  #ending = false;
  #awaitingPong = false;
  #openedAt = 0;
  #pingTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(
    base: StreamBaseOptions,
    options: WebSocketTranscriberOptions,
    refusal: [TranscriberErrorCode, string] | undefined,
  ) {
    super(base);
    this.#options = options;
    if (refusal) this.failLater(...refusal);
    else this.#connect();
  }

  protected sendAudio(samples: Int16Array): void {
    const frame = { startMs: this.writtenMs - (samples.length * 1000) / this.sampleRate, samples };
    this.#replay.push(frame);
    const keepAfter = this.writtenMs - this.#options.replaySeconds * 1000;
    while ((this.#replay[0]?.startMs ?? Infinity) < keepAfter) this.#replay.shift();
    if (!this.#live || this.#socket?.readyState !== WebSocket.OPEN) return;
    const backlog = (this.#options.maxBacklogSeconds * this.sampleRate * 2) | 0;
    if (this.#socket.bufferedAmount > backlog) {
      this.fail(
        'transcriber_failed',
        `the recogniser is not reading (${this.#socket.bufferedAmount} bytes queued)`,
      );
      return;
    }
    this.#socket.send(binaryFromPcm(samples));
  }

  protected sendEnd(): void {
    this.#ending = true;
    if (this.#live) this.#send({ type: 'end' });
  }

  protected release(): void {
    clearInterval(this.#pingTimer);
    clearTimeout(this.#retryTimer);
    this.#replay = [];
    const socket = this.#socket;
    this.#socket = undefined;
    this.#live = false;
    if (!socket) return;
    socket.removeAllListeners();
    socket.on('error', () => undefined);
    if (socket.readyState === WebSocket.OPEN) socket.close(1000);
    else socket.terminate();
  }

  #connect(): void {
    const headers: Record<string, string> = { ...this.#options.headers };
    if (this.#options.token) headers['authorization'] = `Bearer ${this.#options.token}`;
    const socket = new WebSocket(this.#options.url, {
      headers,
      handshakeTimeout: this.#options.connectTimeoutMs,
      perMessageDeflate: false,
    });
    this.#socket = socket;
    let lastError = '';
    socket.on('open', () => this.#opened(socket));
    socket.on('message', (data, isBinary) => this.#message(data, isBinary));
    socket.on('pong', () => (this.#awaitingPong = false));
    socket.on('error', (error) => (lastError = error.message));
    socket.on('close', (code, reason) =>
      this.#lost(socket, code, lastError || reason.toString() || `closed with ${code}`),
    );
  }

  #opened(socket: WebSocket): void {
    if (socket !== this.#socket) return;
    this.#live = true;
    this.#everLive = true;
    this.#openedAt = performance.now();
    this.#offsetMs = this.#replay[0]?.startMs ?? this.writtenMs;
    this.#send({
      type: 'start',
      version: PROTOCOL_VERSION,
      sampleRate: this.sampleRate,
      encoding: 'pcm_s16le',
      channels: 1,
      streamId: this.id,
      offsetMs: this.#offsetMs,
    });
    for (const frame of this.#replay) socket.send(binaryFromPcm(frame.samples));
    if (this.#ending) this.#send({ type: 'end' });
    this.#awaitingPong = false;
    clearInterval(this.#pingTimer);
    this.#pingTimer = setInterval(() => {
      if (this.#awaitingPong) {
        socket.terminate();
        return;
      }
      this.#awaitingPong = true;
      socket.ping();
    }, this.#options.pingIntervalMs);
  }

  #message(data: WebSocket.RawData, isBinary: boolean): void {
    const text = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    const message = isBinary ? undefined : parseMessage(serverMessage, text.toString('utf8'));
    if (!message) {
      this.fail('transcriber_failed', 'the recogniser sent a message outside the protocol');
      return;
    }
    this.#result(message);
  }

  #result(message: ServerMessage): void {
    const offset = this.#offsetMs;
    switch (message.type) {
      case 'partial':
        this.#failures = 0;
        this.emitPartial({
          utterance: this.#utterance,
          text: message.text,
          ...(message.audioMs !== undefined ? { audioMs: message.audioMs + offset } : {}),
        });
        return;
      case 'final': {
        this.#failures = 0;
        const endMs = message.endMs + offset;
        this.emitFinal({
          utterance: this.#utterance++,
          text: message.text,
          startMs: message.startMs + offset,
          endMs,
          ...(message.confidence !== undefined ? { confidence: message.confidence } : {}),
          words: (message.words ?? []).map((w) => ({
            ...w,
            startMs: w.startMs + offset,
            endMs: w.endMs + offset,
          })),
        });
        // Audio up to the end of a final is done with: a reconnect need not send it again.
        while (
          this.#replay[0] &&
          this.#replay[0].startMs + this.#frameMs(this.#replay[0]) <= endMs
        ) {
          this.#replay.shift();
        }
        return;
      }
      case 'error':
        this.fail('transcriber_failed', `the recogniser said: ${message.message}`);
        return;
      case 'ended':
        this.ended();
        return;
    }
  }

  #lost(socket: WebSocket, code: number, detail: string): void {
    if (socket !== this.#socket || this.state === 'closed') return;
    // A connection that held for a while was healthy: the count starts again.
    if (this.#live && performance.now() - this.#openedAt > HEALTHY_MS) this.#failures = 0;
    this.#live = false;
    clearInterval(this.#pingTimer);
    const status = /Unexpected server response: (\d+)/.exec(detail)?.[1];
    if (status && Number(status) >= 400 && Number(status) < 500) {
      this.fail(
        'transcriber_unavailable',
        `${this.#options.url} refused the stream: HTTP ${status}`,
      );
      return;
    }
    // A clean close after `end` is an end, even without `ended`.
    if (this.#ending && code === 1000) {
      this.ended();
      return;
    }
    if (this.#failures >= this.#options.reconnectAttempts) {
      this.fail(
        this.#everLive ? 'transcriber_failed' : 'transcriber_unavailable',
        `${this.#options.url}: ${detail}`,
      );
      return;
    }
    const delay = this.#options.reconnectDelayMs * 2 ** this.#failures;
    this.#failures += 1;
    this.logger.info(
      { detail, delay, attempt: this.#failures },
      'recogniser connection lost; reconnecting',
    );
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  #send(message: ClientMessage): void {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(message));
  }

  #frameMs(frame: Frame): number {
    return (frame.samples.length * 1000) / this.sampleRate;
  }
}
