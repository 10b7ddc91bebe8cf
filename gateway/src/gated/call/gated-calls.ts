/**
 * The gated call path for the composition root: a visitor INVITE (web or
 * SIP) whose call token is of a gated tenant is admitted as a call that
 * rings no agent (`CallManager.admit` with `ringAgents: false`) and is run
 * by a {@link GatedCall}; the meter's events reach the call they are about.
 */
import type { Call, CallManager } from '../../calls/index.js';
import type { InviteContext } from '../../sbc/invite-pipeline.js';
import type { MeterEvents } from '../meter.js';
import { GatedCall, type GatedCallDeps } from './gated-call.js';

export interface GatedCallPathDeps extends GatedCallDeps {
  readonly calls: CallManager;
}

export class GatedCallPath {
  readonly #deps: GatedCallPathDeps;
  readonly #calls = new Map<string, GatedCall>();
  readonly #onWarning = ({ callId, secondsLeft }: MeterEvents['warning'][0]): void =>
    this.#calls.get(callId)?.balanceWarning(secondsLeft);
  readonly #onEnd = ({ callId }: MeterEvents['end'][0]): void =>
    this.#calls.get(callId)?.balanceExhausted();
  #closed = false;

  constructor(deps: GatedCallPathDeps) {
    this.#deps = deps;
    deps.meter.on('warning', this.#onWarning);
    deps.meter.on('end', this.#onEnd);
  }

  /** Calls of gated tenants in progress. */
  get size(): number {
    return this.#calls.size;
  }

  /** Whether this admitted INVITE is a gated tenant's (its verified token's issuer). */
  handles(ctx: InviteContext): boolean {
    return ctx.token !== undefined && this.#deps.gate.isGated(ctx.token.claims.iss);
  }

  /** Admits the call (media, record, tenant cap) and runs it: authorise, ring devices, verify, connect. */
  async admit(ctx: InviteContext, cancelled: () => boolean): Promise<Call | undefined> {
    const call = await this.#deps.calls.admit(ctx, cancelled, { ringAgents: false });
    if (!call) return undefined;
    const gated = new GatedCall(this.#deps, call);
    this.#calls.set(call.id, gated);
    call.once('ended', () => this.#calls.delete(call.id));
    await gated.run();
    return call;
  }

  /** Stops listening to the meter (the calls end with the call manager's drain). Safe twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#deps.meter.off('warning', this.#onWarning);
    this.#deps.meter.off('end', this.#onEnd);
  }
}
