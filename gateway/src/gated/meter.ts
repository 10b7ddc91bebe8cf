/**
 * Per-minute billing of a connected gated call against its account, prepaid:
 * each minute is charged when it starts (the first at connect), so a minute
 * the caller is talking in is always paid already, and a crash can lose no
 * minute that was used. Charges are idempotent per (call, minute) and atomic
 * with the balance (`BillingStore`), so a retried tick or a restarted process
 * never charges twice.
 *
 * ```
 *  start ──charge 1──▶ running ──each minute: charge n──▶ running
 *                         │ after a charge, the balance cannot pay the next minute:
 *                         │   `warning` (60 s left)
 *                         ▼
 *              next minute cannot be charged (still): `end` balance_exhausted
 *  stop(callId) at hang-up; meters a crash left running are closed at start-up (`recover`),
 *  a lost gateway's by a survivor of its cluster (`recoverLost`)
 * ```
 *
 * A top-up during the call counts: the next minute's charge succeeds and the
 * call goes on after the warning.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../observability/index.js';
import type { GatedMetrics } from './metrics.js';
import type { BillingStore, MeterRecord } from './store/index.js';

export interface MeterCall {
  readonly callId: string;
  readonly tenant: string;
  readonly accountId: string;
  readonly ratePerMinute: number;
}

export interface MeterEvents {
  /** A minute was charged (the first at connect). */
  charged: [
    { callId: string; minute: number; amount: number; balance: number; duplicate: boolean },
  ];
  /** The balance pays for the minute under way and no more: about 60 s are left. */
  warning: [{ callId: string; accountId: string; balance: number; secondsLeft: number }];
  /** The balance could not pay the next minute: end the call now (its meter is closed). */
  end: [{ callId: string; accountId: string; reason: 'balance_exhausted'; minutes: number }];
}

export type MeterStart =
  | { readonly ok: true; readonly balance: number; readonly duplicate: boolean }
  | { readonly ok: false; readonly reason: 'insufficient' | 'no_account' | 'no_meter' };

export interface MeterOptions {
  readonly billing: BillingStore;
  readonly metrics?: GatedMetrics;
  readonly logger: Logger;
  readonly now?: () => number;
  /** The length of a billed minute (tests and the crash test shorten it). */
  readonly minuteMs?: number;
}

interface Running {
  readonly call: MeterCall;
  readonly connectedAt: number;
  charged: number;
  warned: boolean;
  timer: NodeJS.Timeout | undefined;
}

export class Meter extends EventEmitter<MeterEvents> {
  readonly #o: MeterOptions;
  readonly #now: () => number;
  readonly #minuteMs: number;
  readonly #log: Logger;
  readonly #running = new Map<string, Running>();

  constructor(options: MeterOptions) {
    super();
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#minuteMs = options.minuteMs ?? 60_000;
    this.#log = options.logger.child({ module: 'gated-meter' });
  }

  /**
   * At connect: opens the meter and charges the first minute. Refused
   * (`insufficient`): do not connect (the balance changed since authorize).
   * A second start of the same call answers the first (`duplicate`).
   */
  async start(call: MeterCall): Promise<MeterStart> {
    const connectedAt = this.#now();
    const existing = await this.#o.billing.meter(call.callId);
    const opened = await this.#o.billing.openMeter({ ...call, connectedAt });
    if (!opened.ok) return opened;
    if (!opened.duplicate) this.#o.metrics?.minutesCharged.inc({ tenant: call.tenant });
    this.emit('charged', {
      callId: call.callId,
      minute: 1,
      amount: call.ratePerMinute,
      balance: opened.balance,
      duplicate: opened.duplicate,
    });
    if (!this.#running.has(call.callId) && (existing?.state ?? 'running') === 'running') {
      const running: Running = {
        call,
        connectedAt: existing?.connectedAt ?? connectedAt,
        charged: existing?.minutesCharged ?? 1,
        warned: false,
        timer: undefined,
      };
      this.#running.set(call.callId, running);
      this.#afterCharge(running, opened.balance);
    }
    return opened;
  }

  /**
   * At hang-up (any side): no more minutes (none is charged once this is
   * called, even while the close is on its way). Safe twice; answers the
   * closed meter.
   */
  async stop(callId: string, reason = 'hangup'): Promise<MeterRecord | undefined> {
    const running = this.#running.get(callId);
    if (running?.timer) clearTimeout(running.timer);
    this.#running.delete(callId);
    const meter = await this.#o.billing.closeMeter(callId, this.#now(), reason);
    if (running && meter?.endReason === reason)
      this.#o.metrics?.meterEnds.inc({ tenant: running.call.tenant, reason });
    return meter;
  }

  /** At start-up: meters a crash or a kill left running are closed (`gateway_restart`). */
  async recover(): Promise<MeterRecord[]> {
    const closed = await this.#o.billing.closeInterrupted(this.#now());
    for (const m of closed)
      this.#o.metrics?.meterEnds.inc({ tenant: m.tenant, reason: 'gateway_restart' });
    if (closed.length > 0)
      this.#log.warn(
        { calls: closed.map((m) => ({ callId: m.callId, minutes: m.minutesCharged })) },
        'closed the meters of calls interrupted by the last stop (their charged minutes stand)',
      );
    return closed;
  }

  /**
   * A lost gateway's meters (the cluster's sweeper found its lease gone):
   * closed `gateway_lost` as its own restart would; no minute moves. Shared
   * stores only: with SQLite nothing is another gateway's.
   */
  async recoverLost(owner: string): Promise<MeterRecord[]> {
    const closed = (await this.#o.billing.closeLost?.(owner, this.#now())) ?? [];
    for (const m of closed)
      this.#o.metrics?.meterEnds.inc({ tenant: m.tenant, reason: 'gateway_lost' });
    if (closed.length > 0)
      this.#log.warn(
        {
          instance: owner,
          calls: closed.map((m) => ({ callId: m.callId, minutes: m.minutesCharged })),
        },
        'closed the meters of a lost gateway (their charged minutes stand)',
      );
    return closed;
  }

  /** Other gateways with running meters (shared stores), for the sweeper. */
  async openOwners(): Promise<string[]> {
    return (await this.#o.billing.openOwners?.()) ?? [];
  }

  isRunning(callId: string): boolean {
    return this.#running.has(callId);
  }

  /** Stops every timer (the process is going); the meters stay open until `stop` or `recover`. */
  close(): void {
    for (const running of this.#running.values()) if (running.timer) clearTimeout(running.timer);
    this.#running.clear();
  }

  #afterCharge(running: Running, balance: number): void {
    const rate = running.call.ratePerMinute;
    if (rate > 0 && balance < rate && !running.warned) {
      running.warned = true;
      const nextAt = running.connectedAt + running.charged * this.#minuteMs;
      this.emit('warning', {
        callId: running.call.callId,
        accountId: running.call.accountId,
        balance,
        secondsLeft: Math.max(0, Math.round((nextAt - this.#now()) / 1000)),
      });
    } else if (balance >= rate) {
      running.warned = false;
    }
    this.#schedule(running);
  }

  /** The next minute's tick, or (`delayMs`) a retry of a charge the database did not take. */
  #schedule(running: Running, delayMs?: number): void {
    const nextAt = running.connectedAt + running.charged * this.#minuteMs;
    running.timer = setTimeout(
      () => {
        running.timer = undefined;
        void this.#tick(running).catch((err: unknown) => {
          // A charge is idempotent (its call and minute): tried again shortly, until the call ends.
          this.#log.error({ err, callId: running.call.callId }, 'a minute could not be charged');
          if (this.#running.get(running.call.callId) === running)
            this.#schedule(running, Math.min(this.#minuteMs, 5000));
        });
      },
      delayMs ?? Math.max(0, nextAt - this.#now()),
    );
  }

  /** A minute boundary: charges every minute started since the last charge (a late timer catches up). */
  async #tick(running: Running): Promise<void> {
    if (this.#running.get(running.call.callId) !== running) return;
    const started = Math.floor((this.#now() - running.connectedAt) / this.#minuteMs) + 1;
    if (running.charged >= started) {
      this.#schedule(running); // early (the clock moved back): nothing started yet
      return;
    }
    let balance = 0;
    while (running.charged < started) {
      const minute = running.charged + 1;
      const result = await this.#o.billing.chargeMinute({
        tenant: running.call.tenant,
        accountId: running.call.accountId,
        callId: running.call.callId,
        minute,
        amount: running.call.ratePerMinute,
        at: this.#now(),
      });
      // Stopped while the charge was on its way (a charge made stands: the minute had started).
      if (this.#running.get(running.call.callId) !== running) return;
      if (!result.ok) {
        await this.#exhausted(running, result.reason);
        return;
      }
      running.charged = minute;
      balance = result.balance;
      if (!result.duplicate) this.#o.metrics?.minutesCharged.inc({ tenant: running.call.tenant });
      this.emit('charged', {
        callId: running.call.callId,
        minute,
        amount: running.call.ratePerMinute,
        balance,
        duplicate: result.duplicate,
      });
    }
    this.#afterCharge(running, balance);
  }

  async #exhausted(running: Running, reason: string): Promise<void> {
    const { callId, accountId, tenant } = running.call;
    this.#running.delete(callId);
    this.#o.metrics?.meterEnds.inc({ tenant, reason: 'balance_exhausted' });
    this.#log.info(
      { callId, accountId, minutes: running.charged, reason },
      'balance exhausted: ending the call',
    );
    try {
      await this.#o.billing.closeMeter(callId, this.#now(), 'balance_exhausted');
    } finally {
      // The call ends even when the database did not take the close (the hang-up closes it).
      this.emit('end', {
        callId,
        accountId,
        reason: 'balance_exhausted',
        minutes: running.charged,
      });
    }
  }
}
