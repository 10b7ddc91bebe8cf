import { hangUpInterrupted } from '../calls/index.js';
import type { Logger } from '../observability/index.js';
import type { SipStack } from '../sip/index.js';
import type { SharedCallRecords } from '../storage/index.js';
import { ConfirmedLapses, lapsedInstances } from './lapsed.js';
import type { ClusterMetrics } from './metrics.js';
import type { GatewayPresence } from './presence.js';
import type { SharedState } from './shared-state.js';

/**
 * Starts the sweeper when the gateway shares both a database (PostgreSQL call
 * records) and Redis (the leases); else there is nothing to sweep: undefined.
 */
export function watchLostGateways(deps: {
  shared: SharedState;
  records: SharedCallRecords | undefined;
  stack: SipStack;
  heartbeatSeconds: number;
  leaseSeconds: number;
  logger: Logger;
  now: () => number;
  /** The modules with their own records of a lost instance's calls (marketplace, voicemail). */
  modules?: readonly LostGatewayModule[] | undefined;
}): LostGatewaySweeper | undefined {
  const { shared, records } = deps;
  if (!records || !shared.presence) return undefined;
  return new LostGatewaySweeper({
    records,
    presence: shared.presence,
    stack: deps.stack,
    metrics: shared.metrics,
    logger: deps.logger.child({ module: 'cluster' }),
    now: deps.now,
    heartbeatSeconds: deps.heartbeatSeconds,
    leaseSeconds: deps.leaseSeconds,
    modules: deps.modules ?? [],
  });
}

/**
 * A module keeping its own records of a gateway's calls (the marketplace's
 * calls, voicemails being recorded): the sweeper asks it which instances
 * have open records, and has it close a lost one's. Both idempotent: several
 * survivors may sweep the same instance, and a failure is tried again at the
 * next heartbeat.
 */
export interface LostGatewayModule {
  /** For the log. */
  readonly name: string;
  /** Instances with open records in the module's tables (swept even when no call record is open). */
  openOwners(): Promise<string[]>;
  /** Closes a lost instance's open records. */
  recoverLost(owner: string): Promise<unknown>;
}

/**
 * A surviving gateway closes a dead one's calls (issue 16): every heartbeat
 * it asks the shared database which other instances own open calls and, for
 * each whose lease in Redis is gone (missing on two sweeps at least
 * `leaseSeconds` apart: {@link ConfirmedLapses}), closes their records with `gateway_lost`
 * and sends a BYE in every answered leg's stored dialog, as a restarted
 * gateway does for its own (`calls/interrupted.ts`), then lets the modules
 * recover their own records of those calls ({@link LostGatewayModule}: the
 * marketplace's calls, the voicemails it was recording). The database closes each
 * call once however many survivors sweep at the same time (FOR UPDATE), so
 * each BYE goes out once.
 */
export class LostGatewaySweeper {
  readonly #deps: SweeperDeps;
  readonly #lapses: ConfirmedLapses;
  readonly #timer: NodeJS.Timeout;
  #running: Promise<number> | undefined;
  #closed = false;

  constructor(deps: SweeperDeps) {
    this.#deps = deps;
    // A gap of a lease between looks (no sweep could run) starts the count again.
    this.#lapses = new ConfirmedLapses({
      leaseMs: deps.leaseSeconds * 1000,
      maxGapMs: deps.leaseSeconds * 1000,
      now: deps.now,
    });
    this.#timer = setInterval(() => void this.sweep(), deps.heartbeatSeconds * 1000);
    this.#timer.unref();
  }

  /** One pass (one at a time); resolves with the number of calls it closed. */
  sweep(): Promise<number> {
    this.#running ??= this.#sweep().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #sweep(): Promise<number> {
    const { records, presence, stack, metrics, logger, now } = this.#deps;
    if (this.#closed) return 0;
    let closed = 0;
    try {
      // A lost instance is swept while any of its records is open, the call records' or a
      // module's: the modules' recovery does not hang on this survivor having closed the
      // call records (another survivor may have, or their rows were closed before its death),
      // and a failed recovery is tried again at the next heartbeat. Both are idempotent.
      const owners = new Set(await records.openOwners());
      for (const module of this.#deps.modules) {
        try {
          for (const owner of await module.openOwners()) owners.add(owner);
        } catch (error) {
          logger.warn(
            { err: error, module: module.name },
            'could not list a module’s open records',
          );
        }
      }
      // Never this gateway itself: a module lists its own open records too (voicemail's do),
      // and a Redis that lost the lease key (restarted empty) would make it look lapsed.
      owners.delete(presence.instanceId);
      this.#lapses.keepOnly(owners);
      // A lease missing once may be a Redis that lost every key: lost only when still missing
      // a lease later (each live gateway has written its own back by then).
      const alive = this.#lapses.alive((owner) => presence.alive(owner));
      for await (const owner of lapsedInstances(owners, alive, () => this.#closed)) {
        const calls = await records.closeOwned(owner, now(), 'gateway_lost');
        if (calls.length > 0) {
          closed += calls.length;
          metrics.lostCallsClosed.inc(calls.length);
          logger.warn(
            { instance: owner, calls: calls.length },
            'closed the open calls of a gateway whose lease lapsed',
          );
          if (!this.#closed) hangUpInterrupted(stack, calls, logger, 'gateway_lost');
        }
        // The modules' records of those calls (the marketplace's: closed, charged when due;
        // voicemails: ended, their event published). One failing does not keep the others.
        // The lease is looked at again before each: a gateway restarted under the same
        // instance id meanwhile has records of its own run that are not lost.
        for (const module of this.#deps.modules) {
          if (this.#closed || (await presence.alive(owner))) break;
          await module
            .recoverLost(owner)
            .catch((error: unknown) =>
              logger.warn(
                { err: error, instance: owner, module: module.name },
                'could not recover a lost gateway’s records',
              ),
            );
        }
      }
    } catch (error) {
      // The database is down or slow: the next heartbeat tries again.
      logger.warn({ err: error }, 'could not look for lost gateways’ calls');
    }
    return closed;
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
  }
}

export interface SweeperDeps {
  readonly records: Pick<SharedCallRecords, 'openOwners' | 'closeOwned'>;
  /** The leases: this gateway's id and whether another holds its own. */
  readonly presence: Pick<GatewayPresence, 'instanceId' | 'alive'>;
  readonly stack: SipStack;
  readonly metrics: ClusterMetrics;
  readonly logger: Logger;
  readonly now: () => number;
  readonly heartbeatSeconds: number;
  readonly leaseSeconds: number;
  readonly modules: readonly LostGatewayModule[];
}
