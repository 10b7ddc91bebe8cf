/**
 * A call's packet counters and silence watch in the mediasoup engine. The
 * worker reports no per-packet events, so what the calls read (each leg's
 * packets in and out, the last RTP time behind the inactivity timer) is polled
 * from the bridges' consumers every `statsEveryMs`: one request per direction,
 * giving its leg's packets out and its peer's packets in. Legs relayed in Node
 * count in real time (their own counters). Silence is then checked as the
 * relay engine does: once media started on a leg, once per silence.
 */
import type { types } from 'mediasoup';
import type { TransportCounters } from '../rtp-channel.js';

/**
 * One direction of a bridge: a consumer on `leg` of its peer's producer; or
 * a media endpoint's tap (a DirectTransport consumer of the peer's producer:
 * no leg), which alone shows the peer is live once its bridge is gone.
 */
interface Feed {
  readonly consumer: types.Consumer;
  readonly leg: TransportCounters | undefined;
  readonly peer: TransportCounters;
  /** The peer's packets in at the last poll (undefined before the first). */
  lastIn: number | undefined;
}

export interface MeterOptions {
  readonly inactivityTimeoutMs: number;
  /** Longest interval between polls (sooner for a short inactivity timeout). */
  readonly statsIntervalMs: number;
  readonly now: () => number;
  /**
   * Calls `visit` for each leg to watch for silence, now (no list is made:
   * this runs every check, on every call).
   */
  readonly forEachLeg: (visit: (id: string, activity: TransportCounters) => void) => void;
  readonly onInactive: (event: { transportId: string; silentForMs: number }) => void;
}

/** How often silence is checked: a quarter of the timeout, between 20 ms and 1 s (as the relay). */
function checkIntervalMs(timeoutMs: number): number {
  return Math.min(1000, Math.max(20, Math.floor(timeoutMs / 4)));
}

export class CallMeter {
  readonly #options: MeterOptions;
  readonly #feeds: Feed[] = [];
  readonly #timer: NodeJS.Timeout;
  readonly #pollEveryMs: number;
  #lastPoll = 0;
  #polling = false;
  #stopped = false;

  constructor(options: MeterOptions) {
    this.#options = options;
    const timeout = options.inactivityTimeoutMs;
    this.#pollEveryMs =
      timeout > 0
        ? Math.min(options.statsIntervalMs, Math.max(250, Math.floor(timeout / 4)))
        : options.statsIntervalMs;
    // unref: a silent call must not keep the process alive on its own.
    this.#timer = setInterval(
      () => this.#tick(),
      timeout > 0 ? checkIntervalMs(timeout) : this.#pollEveryMs,
    ).unref();
  }

  /**
   * Counts what `consumer` (on the leg of `leg`; none for an endpoint's tap)
   * carries from the leg of `peer`.
   */
  watch(
    consumer: types.Consumer,
    leg: TransportCounters | undefined,
    peer: TransportCounters,
  ): void {
    this.#feeds.push({ consumer, leg, peer, lastIn: undefined });
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
  }

  #tick(): void {
    if (this.#stopped) return;
    const now = this.#options.now();
    if (this.#feeds.length > 0 && !this.#polling && now - this.#lastPoll >= this.#pollEveryMs) {
      this.#lastPoll = now;
      this.#polling = true;
      void this.#poll().finally(() => {
        this.#polling = false;
      });
    }
    if (this.#options.inactivityTimeoutMs > 0) this.#checkInactivity(now);
  }

  /** Reads each feed's consumer: its leg's packets out, its peer's packets in. */
  async #poll(): Promise<void> {
    await Promise.all(
      this.#feeds.map(async (feed) => {
        if (feed.consumer.closed) return;
        let stats: (types.ConsumerStat | types.ProducerStat)[];
        try {
          stats = await feed.consumer.getStats();
        } catch {
          return; // closed meanwhile
        }
        const now = this.#options.now();
        for (const stat of stats) {
          if (stat.type === 'outbound-rtp') {
            if (!feed.leg) continue;
            feed.leg.packetsOut = stat.packetCount;
            feed.leg.bytesOut = stat.byteCount;
          } else if (stat.type === 'inbound-rtp') {
            const peer = feed.peer;
            // A feed's first reading counts as activity only for a peer not known live yet:
            // the producer's total, read by a tap opened on a leg gone quiet, is no new packet.
            const fresh =
              feed.lastIn === undefined
                ? stat.packetCount > 0 && peer.lastRtpAt === undefined
                : stat.packetCount > feed.lastIn;
            feed.lastIn = stat.packetCount;
            if (fresh) {
              peer.lastRtpAt = now;
              peer.silent = false;
            }
            peer.packetsIn = stat.packetCount;
            peer.rtpPacketsIn = stat.packetCount;
            peer.bytesIn = stat.byteCount;
          }
        }
      }),
    );
  }

  #checkInactivity(now: number): void {
    const timeout = this.#options.inactivityTimeoutMs;
    this.#options.forEachLeg((id, activity) => {
      if (this.#stopped) return; // a listener closed the call
      // Only once media has started on this leg, and once per silence period.
      if (activity.lastRtpAt === undefined || activity.silent) return;
      const silentForMs = now - activity.lastRtpAt;
      if (silentForMs < timeout) return;
      activity.silent = true;
      this.#options.onInactive({ transportId: id, silentForMs });
    });
  }
}
