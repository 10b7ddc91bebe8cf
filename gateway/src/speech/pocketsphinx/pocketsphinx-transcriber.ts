/**
 * The default engine: pocketsphinx (Debian 12's libpocketsphinx3 and
 * pocketsphinx-en-us, no model download) in up to `processes` host
 * processes, started on the first stream and kept. A stream goes to the host
 * with the fewest streams (a new host while fewer than `processes` run), so
 * streams spread over the cores. A host that dies ends each of its streams
 * with one `transcriber_failed`; the next stream starts a new host.
 */
import { randomUUID } from 'node:crypto';

import type { Logger } from '../../observability/index.js';
import type { SpeechMetrics } from '../speech-metrics.js';
import { TranscriberStreamBase } from '../stream-base.js';
import type {
  Transcriber,
  TranscriberErrorCode,
  TranscriberStream,
  TranscriberStreamOptions,
} from '../transcriber.js';
import type { HostConfig, HostReply } from './host-protocol.js';
import { HostProcess, type HostExit } from './host-process.js';

export interface PocketsphinxOptions {
  /** Acoustic model directory (Debian: /usr/share/pocketsphinx/model/en-us/en-us). */
  readonly hmm: string;
  readonly dict: string;
  readonly lm: string;
  /** Host processes at most (decoding is CPU-bound: about one per core). */
  readonly processes: number;
  /** Streams at once over all hosts; more fail with `transcriber_busy`. */
  readonly maxStreams: number;
  /** Decoders each host keeps loaded between streams. */
  readonly idleDecoders: number;
  readonly partialIntervalMs: number;
  readonly endSilenceMs: number;
  readonly maxUtteranceSeconds: number;
  /** The second pass at each utterance's end (docs/speech.md: accuracy against time to the final). */
  readonly secondPass: boolean;
  /** A host not ready this long after its start is killed. */
  readonly startTimeoutMs: number;
  /** After `end()`, how long a stream waits for its last final. */
  readonly endTimeoutMs: number;
  readonly logger: Logger;
  readonly metrics?: SpeechMetrics | undefined;
}

const ENGINE = 'pocketsphinx';
/** The en-us acoustic model is 16 kHz (`-samprate 16000`); 8 kHz audio must be resampled. */
const SAMPLE_RATE = 16_000;

export class PocketsphinxTranscriber implements Transcriber {
  readonly engine = ENGINE;
  readonly sampleRate = SAMPLE_RATE;
  readonly #options: PocketsphinxOptions;
  readonly #hostConfig: HostConfig;
  readonly #hosts: HostProcess[] = [];
  readonly #streams = new Set<PocketsphinxStream>();
  #nextId = 1;
  #closed: Promise<void> | undefined;

  constructor(options: PocketsphinxOptions) {
    this.#options = options;
    this.#hostConfig = {
      hmm: options.hmm,
      dict: options.dict,
      lm: options.lm,
      sampleRate: SAMPLE_RATE,
      partialIntervalMs: options.partialIntervalMs,
      maxUtteranceMs: options.maxUtteranceSeconds * 1000,
      endSilenceMs: options.endSilenceMs,
      idleDecoders: options.idleDecoders,
      secondPass: options.secondPass,
    };
  }

  get streamCount(): number {
    return this.#streams.size;
  }

  /** The host processes' ids (diagnostics, and tests that kill one). */
  get processIds(): number[] {
    return this.#hosts.flatMap((host) => (host.pid === undefined ? [] : [host.pid]));
  }

  open(options: TranscriberStreamOptions = {}): TranscriberStream {
    const id = options.id ?? randomUUID();
    if (this.#closed)
      return this.#refused(id, 'transcriber_unavailable', 'the transcriber is closed');
    if (this.#streams.size >= this.#options.maxStreams) {
      return this.#refused(id, 'transcriber_busy', `${this.#options.maxStreams} streams are open`);
    }
    const host = this.#host();
    const stream = new PocketsphinxStream(this.#streamOptions(id), host, this.#nextId++, () =>
      this.#streams.delete(stream),
    );
    this.#streams.add(stream);
    return stream;
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      for (const stream of [...this.#streams]) stream.close();
      await Promise.all(this.#hosts.map((host) => host.stop()));
      this.#hosts.length = 0;
    })();
    return this.#closed;
  }

  /** The least loaded host; a new one while fewer than `processes` run and all are busy. */
  #host(): HostProcess {
    const least = this.#hosts.reduce<HostProcess | undefined>(
      (best, host) => (best === undefined || host.streams < best.streams ? host : best),
      undefined,
    );
    if (least && (least.streams === 0 || this.#hosts.length >= this.#options.processes)) {
      return least;
    }
    const host = new HostProcess(this.#hostConfig, this.#options.startTimeoutMs);
    this.#hosts.push(host);
    host.once('exit', (exit) => {
      const index = this.#hosts.indexOf(host);
      if (index >= 0) this.#hosts.splice(index, 1);
      if (!this.#closed)
        this.#options.logger.warn({ detail: exit.detail }, 'pocketsphinx host gone');
    });
    return host;
  }

  #streamOptions(id: string) {
    return {
      id,
      engine: ENGINE,
      sampleRate: SAMPLE_RATE,
      endTimeoutMs: this.#options.endTimeoutMs,
      logger: this.#options.logger,
      metrics: this.#options.metrics,
    };
  }

  #refused(id: string, code: TranscriberErrorCode, detail: string): TranscriberStream {
    const stream = new RefusedStream(this.#streamOptions(id));
    stream.refuse(code, detail);
    return stream;
  }
}

class PocketsphinxStream extends TranscriberStreamBase {
  readonly #host: HostProcess;
  readonly #hostId: number;
  /** The host already forgot this stream (it ended or failed there). */
  #released = false;

  constructor(
    options: ConstructorParameters<typeof TranscriberStreamBase>[0],
    host: HostProcess,
    hostId: number,
    onClosed: () => void,
  ) {
    super({ ...options, onClosed });
    this.#host = host;
    this.#hostId = hostId;
    if (!host.alive) {
      this.#released = true;
      this.failLater('transcriber_unavailable', 'pocketsphinx host is gone');
      return;
    }
    host.attach(hostId, {
      reply: (reply) => this.#reply(reply),
      exit: (exit: HostExit) => {
        this.#released = true;
        this.fail(exit.started ? 'transcriber_failed' : 'transcriber_unavailable', exit.detail);
      },
    });
    host.send({ t: 'open', id: hostId });
  }

  protected sendAudio(samples: Int16Array): void {
    this.#host.send({ t: 'audio', id: this.#hostId, pcm: samples });
  }

  protected sendEnd(): void {
    this.#host.send({ t: 'end', id: this.#hostId });
  }

  protected release(): void {
    this.#host.detach(this.#hostId);
    if (!this.#released) this.#host.send({ t: 'close', id: this.#hostId });
  }

  #reply(reply: Exclude<HostReply, { t: 'ready' | 'fatal' }>): void {
    switch (reply.t) {
      case 'partial':
        return this.emitPartial(reply.result);
      case 'final':
        return this.emitFinal(reply.result);
      case 'ended':
        this.#released = true;
        return this.ended();
      case 'error':
        this.#released = true;
        return this.fail('transcriber_failed', `pocketsphinx: ${reply.message}`);
    }
  }
}

/** A stream that never ran: one error on the next tick, then close. */
class RefusedStream extends TranscriberStreamBase {
  refuse(code: TranscriberErrorCode, detail: string): void {
    this.failLater(code, detail);
  }
  protected sendAudio(): void {}
  protected sendEnd(): void {}
  protected release(): void {}
}
