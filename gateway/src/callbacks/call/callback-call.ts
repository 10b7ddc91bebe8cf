/**
 * One attempt of a callback, live (S5):
 *
 *   dial the customer ──answered──▶ prompt, one key ──"1"──▶ can the advertiser pay?
 *        │ busy, no answer,              │ "2", no key,         │ no: apology, hang up
 *        │ failed                        │ hung up              │ yes: ringback, dial the
 *        ▼                               ▼                      ▼ advertiser ──answered──▶
 *   attempt over                 advertiser never called     connected (charged), bridged
 *
 * The customer leg goes through a trunk with the listing's or queue's number
 * as caller ID; the gateway answers its media itself (prompts, keys by RFC
 * 4733 and SIP INFO, ringback); the advertiser leg is offered the customer's
 * codec, and the two are joined by the relay as they are. The owner
 * (`CallbackRunner`) persists every step the host is told of before the next
 * one is taken.
 */
import type { ErrorCode } from '@parley/shared/errors';
import type { PrivateClaims } from '@parley/shared/tokens';
import type { AgentDirectory } from '../../agents/index.js';
import {
  InDialog,
  storedInvite,
  type CallLeg,
  type OutboundLeg,
  type StoredInvite,
} from '../../calls/index.js';
import type { CallbacksConfig } from '../../config/callbacks.js';
import type { LegMedia, MediaApps } from '../../media/apps/index.js';
import type { MediaEngine, MediaRouter } from '../../media/index.js';
import type { Logger } from '../../observability/index.js';
import type { QueueSettings, ValueService } from '../../routing/index.js';
import type { Dialog, SipStack } from '../../sip/index.js';
import type { TextToSpeech } from '../../speech/index.js';
import type { OutboundTrunkCall, Trunks } from '../../trunks/index.js';
import type { AttemptLog } from '../attempt-log.js';
import type { AdvertiserTarget, CallbackOutcome } from '../model.js';
import { DECLINE, askForKey, say, type PromptDeps } from './acceptance-prompt.js';
import { dialAdvertiser } from './advertiser-dial.js';
import { ringback } from './ringback.js';
import { dialThroughTrunk } from './trunk-dial.js';

export interface CallbackCallDeps {
  readonly stack: SipStack;
  readonly trunks: Trunks;
  readonly media: MediaEngine;
  readonly mediaApps: MediaApps;
  readonly tts: TextToSpeech;
  readonly agents: AgentDirectory;
  readonly queue: (name: string) => QueueSettings;
  readonly value?: ValueService | undefined;
  readonly logger: Logger;
  readonly domain: string;
  readonly config: CallbacksConfig;
  readonly mediaInactivityMs: number;
  readonly now: () => number;
}

/** What one attempt is about (from the callback's record). */
export interface CallbackCallInit {
  readonly id: string;
  readonly tenant: string;
  readonly sessionId: string;
  readonly phone: string;
  readonly callerNumber: string;
  readonly advertiserName: string;
  readonly target: AdvertiserTarget;
  readonly privateClaims: PrivateClaims;
}

/** The owner's side: each step is persisted before the call goes on. */
export interface CallbackCallHost {
  /** The customer's phone rings (a 180/183 from the carrier). */
  ringing(): void;
  /** The customer answered: the prompt plays. */
  prompting(): void;
  /** "1": may the advertiser be called (can it pay the fee)? */
  accepted(): boolean;
  /** The advertiser is being called; the customer hears ringback. */
  connecting(): void;
  /** One of the advertiser's phones rings (its first provisional response). */
  advertiserRinging(): void;
  /** An agent's phone rings for this callback, or stopped (the desk). */
  agent(agentId: string, ringing: boolean): void;
  /**
   * The advertiser answered: the connection is recorded and the fee charged
   * (once) before the legs are bridged.
   */
  connected(party: string, agentId: string | undefined): void | Promise<void>;
}

export interface AttemptResult {
  readonly outcome: Exclude<CallbackOutcome, 'expired' | 'interrupted'>;
  /** The registry code of a failure (`number_busy`, `callback_declined`…). */
  readonly code: ErrorCode | undefined;
  readonly detail: string;
}

export class CallbackCall {
  readonly #deps: CallbackCallDeps;
  readonly #init: CallbackCallInit;
  readonly #log: AttemptLog;
  readonly #host: CallbackCallHost;
  readonly #logger: Logger;
  readonly #abort = new AbortController();
  readonly #peers = new Map<CallLeg, CallLeg>();
  #customer: OutboundLeg | undefined;
  #advertiser: OutboundLeg | undefined;
  /** The advertiser's legs dialled (agents), for their INVITEs while they ring. */
  readonly #dialled = new Set<OutboundLeg>();
  /** The trunk calls made (the customer, an advertiser's number), for their INVITEs while they ring. */
  readonly #trunkDials = new Map<OutboundTrunkCall, string>();
  #media: LegMedia | undefined;

  constructor(
    deps: CallbackCallDeps,
    init: CallbackCallInit,
    log: AttemptLog,
    host: CallbackCallHost,
  ) {
    this.#deps = deps;
    this.#init = init;
    this.#log = log;
    this.#host = host;
    this.#logger = deps.logger.child({ module: 'callbacks', callback: init.id, attempt: log.n });
  }

  /** What the prompts need, logging with this attempt's context. */
  #promptDeps(): PromptDeps {
    return { tts: this.#deps.tts, config: this.#deps.config, logger: this.#logger };
  }

  /** The answered legs' dialogs (stored, so that a start after a crash can send them a BYE). */
  dialogs(): [string, Dialog][] {
    const out: [string, Dialog][] = [];
    for (const leg of [this.#customer, this.#advertiser])
      if (leg?.dialog && !leg.ended) out.push([leg.name, leg.dialog]);
    return out;
  }

  /** The INVITEs sent and still ringing, both phones' (stored, so that a start after a crash CANCELs them). */
  ringing(): StoredInvite[] {
    const out: StoredInvite[] = [];
    for (const [call, name] of this.#trunkDials) {
      const pending = call.ringingInvite();
      const stored = pending && storedInvite(name, pending.invite, pending.target);
      if (stored) out.push(stored);
    }
    for (const leg of this.#dialled) {
      if (leg.state !== 'calling' && leg.state !== 'ringing' && leg.state !== 'early') continue;
      const stored = storedInvite(leg.name, leg.invite, leg.target);
      if (stored) out.push(stored);
    }
    return out;
  }

  /** Stops the attempt (shutdown, a cancel): legs cancelled or hung up with `reason`. */
  abort(reason: string): void {
    this.#abort.abort(reason);
    this.#customer?.close(reason);
    this.#advertiser?.close(reason);
  }

  /** Runs the attempt to its end; never rejects. */
  async run(): Promise<AttemptResult> {
    const router = this.#deps.media.createRouter({
      callId: this.#init.id,
      inactivityTimeoutMs: this.#deps.mediaInactivityMs,
    });
    router.on('inactive', ({ transportId }) => {
      this.#logger.warn({ transportId }, 'media stopped: ending the callback');
      this.abort('media_timeout');
    });
    try {
      const result = await this.#attempt(router);
      this.#log.outcome = result.outcome;
      return result;
    } catch (error) {
      this.#logger.error({ err: error }, 'callback attempt failed');
      this.#log.outcome = 'failed';
      return { outcome: 'failed', code: 'internal', detail: String(error) };
    } finally {
      this.#log.endedAt ??= this.#deps.now();
      this.#media?.close();
      this.#customer?.close('normal_clearing');
      this.#advertiser?.close('normal_clearing');
      router.close();
    }
  }

  async #attempt(router: MediaRouter): Promise<AttemptResult> {
    const { config, now } = this.#deps;
    const init = this.#init;
    const customerLog = this.#log.customer;
    const dialled = await dialThroughTrunk(this.#deps, router, {
      tenant: init.tenant,
      trunk: config.trunk,
      to: init.phone,
      callerNumber: init.callerNumber,
      callerName: init.advertiserName,
      ringTimeoutMs: config.ringTimeoutSeconds * 1000,
      name: 'customer',
      headers: [['X-Parley-Callback', init.id]],
      signal: this.#abort.signal,
      onDial: (call) => this.#trunkDials.set(call, 'customer'),
      onRinging: () => {
        customerLog.ringingAt = now();
        this.#host.ringing();
      },
    });
    customerLog.callId = dialled.callId;
    if (dialled.kind === 'failed') {
      const f = dialled.failure;
      customerLog.endedAt = now();
      customerLog.status = f.status ?? null;
      customerLog.result = f.reason;
      const outcome =
        f.reason === 'busy'
          ? 'busy'
          : f.reason === 'no_answer'
            ? 'no_answer'
            : f.reason === 'cancelled'
              ? 'cancelled'
              : 'failed';
      return { outcome, code: f.code, detail: f.detail };
    }
    const customer = dialled.leg;
    this.#customer = customer;
    customerLog.answeredAt = now();
    customerLog.result = 'answered';
    customer.once('ended', () => (customerLog.endedAt = now()));
    const inDialog = new InDialog({
      log: this.#logger,
      caller: customer,
      peerOf: (leg) => this.#peers.get(leg),
      onHold: () => undefined,
      onDtmf: (_leg, digit) => this.#media?.dtmf.inject(digit, 160, 'info'),
      onDialogChange: () => undefined,
    });
    customer.on('request', (request, tx) => inDialog.handle(customer, request, tx));
    const transport = customer.media;
    if (!transport || this.#abort.signal.aborted) return cancelled('the callback ended');
    const media = await this.#deps.mediaApps.attach(router, transport, {
      codec: dialled.codec.codec,
      telephoneEvent: dialled.codec.telephoneEvent,
    });
    this.#media = media;
    this.#host.prompting();
    this.#log.promptAt = now();

    const key = await askForKey(this.#promptDeps(), customer, media, {
      advertiserName: init.advertiserName,
      log: this.#log,
      signal: this.#abort.signal,
    });
    if (key === 'hung_up')
      return {
        outcome: 'no_key',
        code: 'callback_no_key',
        detail: 'the customer hung up before a key',
      };
    if (key === undefined) {
      customer.hangUp('callback_no_key');
      return { outcome: 'no_key', code: 'callback_no_key', detail: 'no key in time' };
    }
    if (key === DECLINE) {
      await say(this.#promptDeps(), media, config.prompt.declined, this.#abort.signal);
      customer.hangUp('callback_declined');
      return { outcome: 'declined', code: 'callback_declined', detail: 'the customer pressed 2' };
    }
    if (!this.#host.accepted()) {
      await say(this.#promptDeps(), media, config.prompt.apology, this.#abort.signal);
      customer.hangUp('callback_cannot_pay');
      return {
        outcome: 'advertiser_cannot_pay',
        code: 'callback_cannot_pay',
        detail: 'the advertiser cannot pay the callback fee',
      };
    }
    return this.#connect(router, customer, media, dialled.codec);
  }

  async #connect(
    router: MediaRouter,
    customer: OutboundLeg,
    media: LegMedia,
    codec: Parameters<typeof dialAdvertiser>[1]['codec'],
  ): Promise<AttemptResult> {
    const { config, now } = this.#deps;
    const init = this.#init;
    this.#host.connecting();
    const ringing = media.startPlayer(ringback(), { loop: true });
    // The customer hanging up while the advertiser rings stops the dialling.
    const gone = new AbortController();
    const onCustomerEnd = () => gone.abort('customer hung up');
    customer.once('ended', onCustomerEnd);
    const signal = AbortSignal.any([this.#abort.signal, gone.signal]);
    const result = await dialAdvertiser(this.#deps, {
      tenant: init.tenant,
      target: init.target,
      router,
      codec,
      customer: { number: init.phone, displayName: `Callback ${init.phone}` },
      callback: { id: init.id, tenant: init.tenant, sessionId: init.sessionId },
      privateClaims: init.privateClaims,
      ringTimeoutMs: config.advertiserRingTimeoutSeconds * 1000,
      log: this.#log,
      signal,
      onAgent: (agentId, isRinging) => this.#host.agent(agentId, isRinging),
      onLeg: (leg) => {
        this.#dialled.add(leg);
        leg.once('ended', () => this.#dialled.delete(leg));
      },
      onTrunkDial: (call) => this.#trunkDials.set(call, 'advertiser'),
      onRinging: () => this.#host.advertiserRinging(),
    });
    customer.off('ended', onCustomerEnd);
    if (customer.ended || this.#abort.signal.aborted) {
      if (result.kind === 'answered') result.leg.close('cancelled');
      return cancelled('the customer hung up while the advertiser was called');
    }
    if (result.kind === 'failed') {
      ringing.stop('aborted');
      await say(this.#promptDeps(), media, config.prompt.apology, this.#abort.signal);
      customer.hangUp('callback_advertiser_unavailable');
      return {
        outcome: 'advertiser_unavailable',
        code: 'callback_advertiser_unavailable',
        detail: `${result.code}: ${result.detail}`,
      };
    }
    const advertiser = result.leg;
    this.#advertiser = advertiser;
    // Recorded and charged before the media joins: a crash from here on is charged once, at restart.
    await this.#host.connected(result.party, result.agentId);
    ringing.stop('aborted');
    media.close();
    this.#media = undefined;
    if (this.#abort.signal.aborted || customer.ended || advertiser.ended) {
      // Ended (a cancel, a hang-up) while the charge was written (the shared ledger is a
      // round trip away): connected and charged, never bridged; `run()` closes the legs.
      result.endCall?.(result.wrapUpSeconds);
      if (result.agentId !== undefined) this.#host.agent(result.agentId, false);
      return { outcome: 'completed', code: undefined, detail: 'ended as it connected' };
    }
    const customerMedia = customer.media;
    const advertiserMedia = advertiser.media;
    if (!customerMedia || !advertiserMedia) return cancelled('a leg lost its media');
    router.pipe(customerMedia, advertiserMedia);
    this.#peers.set(customer, advertiser);
    this.#peers.set(advertiser, customer);
    this.#log.bridgedAt = now();
    const inDialog = new InDialog({
      log: this.#logger,
      caller: customer,
      peerOf: (leg) => this.#peers.get(leg),
      onHold: () => undefined,
      onDtmf: () => undefined,
      onDialogChange: () => undefined,
    });
    customer.removeAllListeners('request');
    customer.on('request', (request, tx) => inDialog.handle(customer, request, tx));
    advertiser.on('request', (request, tx) => inDialog.handle(advertiser, request, tx));
    this.#logger.info({ advertiser: result.party }, 'callback connected');
    // Talking until either side hangs up (or the gateway stops it).
    const ended = await Promise.race([
      once(customer, 'customer'),
      once(advertiser, 'advertiser'),
      new Promise<'gateway'>((resolve) =>
        this.#abort.signal.addEventListener('abort', () => resolve('gateway'), { once: true }),
      ),
    ]);
    if (ended === 'customer') advertiser.hangUp('normal_clearing');
    else if (ended === 'advertiser') customer.hangUp('normal_clearing');
    result.endCall?.(result.wrapUpSeconds);
    if (result.agentId !== undefined) this.#host.agent(result.agentId, false);
    return { outcome: 'completed', code: undefined, detail: `ended by the ${ended}` };
  }
}

function cancelled(detail: string): AttemptResult {
  return { outcome: 'cancelled', code: 'callback_cancelled', detail };
}

/** Resolves with `name` when the leg ends. */
function once<T extends string>(leg: OutboundLeg, name: T): Promise<T> {
  return new Promise((resolve) => {
    if (leg.ended) resolve(name);
    else leg.once('ended', () => resolve(name));
  });
}
