/**
 * Media applications: the gateway speaking and listening on a call's legs.
 * Engine-independent: everything here runs on a leg's {@link MediaEndpoint}
 * (engine.ts), so every engine that opens endpoints provides the same
 * applications.
 *
 * ```ts
 * const apps = new MediaApps({ logger, metrics });            // one per gateway
 * const leg = await apps.attach(router, transport, { codec, telephoneEvent });
 * const said = await leg.play(wavFile('/prompts/welcome.wav'), { signal });
 * leg.dtmf.on('digit', ({ digit }) => …);                      // RFC 4733 + injected INFO
 * const rec = leg.record({ files: { mixed: '/rec/call.wav' }, maxDurationMs: 60_000 });
 * const feed = leg.feed({ sampleRate: 16000 });                // feed.readable → recogniser
 * leg.close();                                                 // or close the transport
 * ```
 */
import type { Logger } from 'pino';
import type {
  AudioCodec,
  MediaEndpoint,
  MediaEndpointOptions,
  MediaRouter,
  MediaTransport,
} from '../engine.js';
import { ParleyError } from '@parley/shared/errors';
import { pcmCodecFor, type PcmCodec } from './codec.js';
import { DtmfListener } from './dtmf-listener.js';
import { Pacer } from './pacer.js';
import { PcmFeed, type PcmFeedOptions } from './pcm-feed.js';
import { Player, type PlayOptions, type PlayResult } from './player.js';
import { Recorder, type RecordOptions } from './recorder.js';
import type { PcmSource } from './sources.js';

/** Counters and gauges the owner exposes (Prometheus in the gateway); all optional. */
export interface MediaAppsMetrics {
  readonly players?: { inc(): void; dec(): void };
  readonly recorders?: { inc(): void; dec(): void };
  readonly feeds?: { inc(): void; dec(): void };
  /** Pacer ticks that ran a frame or more late, and ticks skipped after a stall. */
  readonly lateFrames?: { inc(value?: number): void };
  readonly skippedFrames?: { inc(value?: number): void };
  /** Applications that ended in error, by kind (player, recorder). */
  readonly errors?: { inc(labels: { kind: string }): void };
}

export interface MediaAppsOptions {
  readonly logger: Logger;
  readonly metrics?: MediaAppsMetrics;
  /** A shared clock; by default one is made (one per gateway is the point). */
  readonly pacer?: Pacer;
  readonly now?: () => number;
}

export class MediaApps {
  readonly pacer: Pacer;
  readonly #logger: Logger;
  readonly #metrics: MediaAppsMetrics;
  readonly #now: () => number;
  readonly #legs = new Set<LegMedia>();
  #closed = false;

  constructor(options: MediaAppsOptions) {
    this.#logger = options.logger.child({ module: 'media-apps' });
    this.#metrics = options.metrics ?? {};
    this.#now = options.now ?? Date.now;
    const metrics = this.#metrics;
    this.pacer =
      options.pacer ??
      new Pacer({
        onLate: (late, skipped) => {
          if (late) metrics.lateFrames?.inc(late);
          if (skipped) metrics.skippedFrames?.inc(skipped);
        },
        onError: (error) => this.#logger.error({ err: error }, 'media application tick threw'),
      });
  }

  /** Live legs with applications, for leak checks. */
  get legs(): number {
    return this.#legs.size;
  }

  /**
   * Opens the media endpoint of `transport` (a leg of `router`) with the
   * codec the leg negotiated, and its applications. Rejects with
   * `offer_required` when media applications cannot speak the codec.
   */
  async attach(
    router: MediaRouter,
    transport: MediaTransport,
    options: MediaEndpointOptions,
  ): Promise<LegMedia> {
    if (this.#closed) throw new ParleyError('internal', 'media applications are closed');
    const codec = pcmCodecFor(options.codec);
    if (!codec) {
      throw new ParleyError(
        'offer_required',
        `media applications cannot speak ${describe(options.codec)}`,
      );
    }
    let endpoint: MediaEndpoint;
    try {
      endpoint = await router.openEndpoint(transport, options);
    } catch (error) {
      codec.close();
      throw error;
    }
    const leg = new LegMedia({
      endpoint,
      codec,
      pacer: this.pacer,
      logger: this.#logger.child({ transportId: transport.id, endpointId: endpoint.id }),
      metrics: this.#metrics,
      now: this.#now,
      onClose: (l) => this.#legs.delete(l),
    });
    this.#legs.add(leg);
    return leg;
  }

  /** Closes every leg's applications and stops the clock (safe twice). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const leg of [...this.#legs]) leg.close();
    this.pacer.close();
  }
}

interface LegMediaDeps {
  readonly endpoint: MediaEndpoint;
  readonly codec: PcmCodec;
  readonly pacer: Pacer;
  readonly logger: Logger;
  readonly metrics: MediaAppsMetrics;
  readonly now: () => number;
  readonly onClose: (leg: LegMedia) => void;
}

/**
 * One leg's media applications. At most one player at a time (a new one
 * replaces the current one, which ends `replaced`); any number of recorders
 * and feeds; one DTMF listener, always on. Closing the leg (or its transport)
 * ends them all.
 */
export class LegMedia {
  readonly endpoint: MediaEndpoint;
  readonly codec: PcmCodec;
  /** Key presses on this leg: RFC 4733 events, plus INFO digits the call injects. */
  readonly dtmf: DtmfListener;
  readonly #deps: LegMediaDeps;
  readonly #recorders = new Set<Recorder>();
  readonly #feeds = new Set<PcmFeed>();
  #player: Player | undefined;
  #closed = false;

  constructor(deps: LegMediaDeps) {
    this.#deps = deps;
    this.endpoint = deps.endpoint;
    this.codec = deps.codec;
    this.dtmf = new DtmfListener(deps.endpoint, deps.now);
    deps.endpoint.once('close', () => this.close());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The player playing now, if any. */
  get player(): Player | undefined {
    return this.#player;
  }

  /**
   * Plays `source` on the leg; resolves when it ends (never rejects: a file
   * that cannot be read resolves `error` and the leg stays up).
   */
  play(source: PcmSource | Promise<PcmSource>, options: PlayOptions = {}): Promise<PlayResult> {
    return this.startPlayer(source, options).done;
  }

  /** Like {@link play}, returning the player (to stop it or read its source). */
  startPlayer(source: PcmSource | Promise<PcmSource>, options: PlayOptions = {}): Player {
    this.#player?.stop('replaced');
    const { metrics, logger } = this.#deps;
    // `let`: a player on a closed leg ends inside its constructor, before this is assigned.
    let player: Player | undefined = undefined;
    player = new Player(
      {
        endpoint: this.endpoint,
        codec: this.codec,
        pacer: this.#deps.pacer,
        logger,
        now: () => performance.now(),
        onStart: () => metrics.players?.inc(),
        onEnd: (result) => {
          metrics.players?.dec();
          if (result.reason === 'error') metrics.errors?.inc({ kind: 'player' });
          if (this.#player === player) this.#player = undefined;
        },
      },
      source,
      options,
    );
    if (!player.ended) this.#player = player;
    return player;
  }

  /** Starts recording the leg; `recorder.done` resolves with the files and duration. */
  record(options: RecordOptions): Recorder {
    const { metrics, logger } = this.#deps;
    const recorder = new Recorder(
      {
        endpoint: this.endpoint,
        codec: this.codec,
        pacer: this.#deps.pacer,
        logger,
        onStart: () => metrics.recorders?.inc(),
        onEnd: (result) => {
          metrics.recorders?.dec();
          if (result.reason === 'error') metrics.errors?.inc({ kind: 'recorder' });
          this.#recorders.delete(recorder);
        },
      },
      options,
    );
    if (!recorder.ended) this.#recorders.add(recorder);
    return recorder;
  }

  /** A PCM feed of the leg for a recogniser (16 kHz mono by default); close it when done. */
  feed(options: PcmFeedOptions = {}): PcmFeed {
    const { metrics } = this.#deps;
    const feed = new PcmFeed(
      {
        endpoint: this.endpoint,
        codec: this.codec,
        pacer: this.#deps.pacer,
        onStart: () => metrics.feeds?.inc(),
        onEnd: () => {
          metrics.feeds?.dec();
          this.#feeds.delete(feed);
        },
      },
      options,
    );
    if (this.#closed) feed.close();
    else this.#feeds.add(feed);
    return feed;
  }

  /** Ends every application and closes the endpoint (safe twice). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#player?.stop('closed');
    for (const recorder of [...this.#recorders]) void recorder.stop();
    for (const feed of [...this.#feeds]) feed.close();
    this.dtmf.close();
    this.endpoint.close();
    this.codec.close();
    this.#deps.onClose(this);
  }
}

function describe(codec: AudioCodec): string {
  return `${codec.name}/${codec.clockRate}`;
}
