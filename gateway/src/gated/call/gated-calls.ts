/**
 * The gated call path for the composition root: a visitor INVITE (web or
 * SIP) whose call token is of a gated tenant is admitted as a call that
 * rings no agent (`CallManager.admit` with `ringAgents: false`) and is run
 * by a {@link GatedCall}; a call from the telephone network to a gated
 * tenant's DID is the telephony core's trunk application ({@link TrunkCallApp}):
 * a {@link GatedPhoneCall} answers and authorises it, then a GatedCall rings.
 * The meter's events reach the call they are about.
 */
import type { GateResult } from '@parley/shared/protocol';
import type { Call, CallManager } from '../../calls/index.js';
import type { CallRecord } from '../../storage/index.js';
import type { TrunkCallApp } from '../../calls/flow/telephony.js';
import type { FlowCall, GateOptions, SpeechSynthesizer } from '../../flows/index.js';
import type { InviteContext } from '../../sbc/invite-pipeline.js';
import type { MeterEvents } from '../meter.js';
import { GatedCall, type GatedCallDeps } from './gated-call.js';
import { GatedPhoneCall } from './gated-phone.js';

export interface GatedCallPathDeps extends GatedCallDeps {
  readonly calls: CallManager;
}

export class GatedCallPath implements TrunkCallApp {
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
    await this.#track(new GatedCall(this.#deps, call)).run();
    return call;
  }

  /** A trunk DID's call is this path's when its tenant is gated (instead of the DID's flow). */
  handlesTrunk(tenant: string): boolean {
    return this.#deps.gate.isGated(tenant);
  }

  /**
   * A phone caller on a gated DID, from its flow's `gate` verb: answered,
   * authorised (account and PIN by DTMF), then the devices ring. Resolves
   * when the call is over.
   */
  async runTrunk(
    call: Call,
    port: FlowCall,
    speech: SpeechSynthesizer,
    options: GateOptions = {},
  ): Promise<GateResult> {
    const { gate, settings, logger } = this.#deps;
    const phone = new GatedPhoneCall(
      { gate, attempts: (tenant) => settings(tenant)?.dtmfPinAttempts ?? 3, logger },
      call,
      port,
      speech,
    );
    const over = callOver(call, port);
    const decision = await phone.authorize(options);
    if (!decision || call.ending) return outcome(await over, undefined);
    const gated = this.#track(new GatedCall(this.#deps, call, phone));
    await gated.ring(decision);
    return outcome(await over, gated.connectedAt);
  }

  #track(gated: GatedCall): GatedCall {
    const call = gated.call;
    this.#calls.set(call.id, gated);
    call.once('ended', () => this.#calls.delete(call.id));
    return gated;
  }

  /** Stops listening to the meter (the calls end with the call manager's drain). Safe twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#deps.meter.off('warning', this.#onWarning);
    this.#deps.meter.off('end', this.#onEnd);
  }
}

/**
 * Resolves with the call's record once the call is over: when the flow
 * port's `ended` aborts (the port listens to the call's end; at once when it
 * already has).
 */
function callOver(call: Call, port: FlowCall): Promise<CallRecord> {
  const ended = port.ended;
  if (ended.aborted) return Promise.resolve(call.record);
  return new Promise((resolve) =>
    ended.addEventListener('abort', () => resolve(call.record), { once: true }),
  );
}

/** The `gate` verb's result: the flow learns connected, refused or hangup, never which check failed. */
function outcome(record: CallRecord, connectedAt: number | undefined): GateResult {
  if (connectedAt !== undefined) {
    const end = record.endedAt ?? Date.now();
    return {
      status: 'connected',
      talkSeconds: Math.max(0, Math.round((end - connectedAt) / 1000)),
    };
  }
  return { status: record.endedBy === 'visitor' ? 'hangup' : 'refused' };
}
