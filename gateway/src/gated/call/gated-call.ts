/**
 * One visitor's call to a gated facility (docs/gated.md, steps 2–7), on the
 * call's legs: the Gate authorises it before any device is notified; allowed,
 * every live registration of the resident's devices rings, showing the
 * caller's name only; the device that answers proves the resident (the app's
 * ticket in its 200 OK, or a PIN keyed on a SIP phone), the Gate re-verifies
 * it, the meter charges the first minute, and only then are the legs joined.
 * Refused at any stage: the caller gets `480` with
 * `Reason: SIP;cause=480;text="callee_not_available"`, whatever failed (a
 * phone caller hears the not-available prompt, then a BYE). Refused by a
 * recheck once connected: the device is hung up at once, the meter stops,
 * and the caller gets the same answer (a BYE with that Reason; a phone
 * caller hears the prompt first).
 */
import type { Call, OutboundLeg } from '../../calls/index.js';
import { agentLeg } from '../../calls/agent-request.js';
import { joinAnswered } from '../../calls/join-legs.js';
import type { MediaApps } from '../../media/apps/index.js';
import type { Logger } from '../../observability/index.js';
import type { SipResponse, SipStack } from '../../sip/index.js';
import type { TextToSpeech } from '../../speech/index.js';
import type { GateDecision, DeviceTarget } from '../decision.js';
import type { Gate } from '../gate.js';
import type { Meter } from '../meter.js';
import type { GatedTenantConfig } from '../../config/gated.js';
import { calleeOf, printable } from './callee.js';
import { CallerAnnouncer, type SpokenCaller } from './announcer.js';
import { phonePin } from './device-pin.js';
import { chargeFirstMinute, startRechecks } from './connected.js';

export interface GatedCallDeps {
  readonly gate: Gate;
  readonly meter: Meter;
  readonly stack: SipStack;
  readonly domain: string;
  readonly mediaApps: MediaApps;
  readonly tts: TextToSpeech;
  readonly settings: (tenant: string) => GatedTenantConfig | undefined;
  readonly logger: Logger;
}

/** The device's proof of the PIN keyed on the app (docs/gated.md, "The PIN on the app"). */
const TICKET_HEADER = 'x-parley-device-ticket';

export type { SpokenCaller } from './announcer.js';

export class GatedCall {
  readonly call: Call;
  readonly #deps: GatedCallDeps;
  readonly #log: Logger;
  readonly #ringing = new Map<OutboundLeg, DeviceTarget>();
  #chosen: OutboundLeg | undefined;
  #connectedAt: number | undefined;
  #over = false;
  #ringTimer: NodeJS.Timeout | undefined;
  #recheckTimer: NodeJS.Timeout | undefined;
  readonly #spoken: SpokenCaller | undefined;
  readonly #announcer: CallerAnnouncer;
  #callerName = '';
  #refusing = false;

  constructor(deps: GatedCallDeps, call: Call, spoken?: SpokenCaller) {
    this.#deps = deps;
    this.call = call;
    this.#spoken = spoken;
    this.#log = deps.logger.child({ module: 'gated-call', callId: call.id, tenant: call.tenant });
    this.#announcer = new CallerAnnouncer({
      call,
      spoken,
      mediaApps: deps.mediaApps,
      tts: deps.tts,
      log: this.#log,
      gone: () => this.#gone,
      refusing: () => this.#refusing,
    });
    call.once('ended', () => this.#ended());
  }

  /** When the caller was joined to the re-verified device (ms since the epoch); undefined: never. */
  get connectedAt(): number | undefined {
    return this.#connectedAt;
  }

  get #gone(): boolean {
    return this.#over || this.call.state === 'ended';
  }

  /** Authorises the call and rings the resident's devices (or refuses it). */
  run(): Promise<void> {
    return this.#guarded(() => this.#run());
  }

  /** Rings the devices of an allowed `authorize` decision (the phone path authorises first itself). */
  ring(decision: GateDecision): Promise<void> {
    return this.#guarded(() => {
      this.#callerName = decision.callerName ?? this.#tokenName();
      return this.#ringDevices(decision);
    });
  }

  /** A Gate or store failure (PostgreSQL away) refuses the call: it is never left open. */
  async #guarded(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (err) {
      this.#log.error({ err }, 'gated call failed');
      if (!this.#gone && !this.#refusing) this.#refuse('the gate could not decide');
    }
  }

  async #run(): Promise<void> {
    const { gate } = this.#deps;
    const call = this.call;
    if (this.#gone) return;
    const flow = call.caller.flow;
    const callee = calleeOf(call);
    const decision = await gate.authorize({
      callId: call.id,
      tenant: call.tenant,
      channel: flow.protocol === 'WS' || flow.protocol === 'WSS' ? 'browser' : 'sip',
      privateClaims: call.token?.privateClaims ?? {},
      ...(callee ? { callee } : {}),
    });
    if (this.#gone) return;
    if (!decision.allowed) return this.#refuse('refused by the gate');
    this.#callerName = decision.callerName ?? this.#tokenName();
    await this.#ringDevices(decision);
  }

  /** The meter's warning: the balance pays the minute under way and no more. The caller hears it. */
  balanceWarning(secondsLeft: number): void {
    this.#log.info({ secondsLeft }, 'gated call: balance for one more minute');
    void this.#announcer.announce(this.#deps.gate.prompt(this.call.tenant, 'balanceWarning'));
  }

  /** The meter could not pay the next minute (its meter is closed): the caller hears why, then the call ends. */
  balanceExhausted(): void {
    if (this.#refusing) return; // the call is ending already, with its own prompt
    const end = (): void =>
      this.call.end({ outcome: 'answered', endedBy: 'gateway', reason: 'balance_exhausted' });
    void this.#announcer
      .announce(this.#deps.gate.prompt(this.call.tenant, 'balanceExhausted'))
      .then(end, end);
  }

  async #ringDevices(decision: GateDecision): Promise<void> {
    const { gate, stack, domain } = this.#deps;
    const call = this.call;
    const router = call.router;
    if (!router || router.closed) return this.#refuse('no media router');
    // The caller's name only: their number is never shown to the resident.
    const displayName = printable(decision.callerName ?? '');
    let attempt = 0;
    for (const device of decision.devices) {
      for (const contact of gate.deviceContacts(call.tenant, device.address)) {
        if (this.#gone) return;
        try {
          const leg = await agentLeg({
            stack,
            router,
            logger: this.#log,
            domain,
            agentId: device.sipUser,
            contact,
            caller: call.caller,
            // A caller the gateway answered (a phone): the device gets that codec only.
            only: call.gatewayCodec,
            attempt: attempt++,
            identity: { number: 'anonymous', displayName },
            // A phone call's session is the caller's number (tel:…): never shown to the resident.
            call: {
              id: call.id,
              sessionId: call.record.channel === 'phone' ? call.id : call.record.sessionId,
              tenant: call.tenant,
            },
          });
          this.#ring(leg, device);
        } catch (error) {
          this.#log.warn({ err: error, device: device.address }, 'a device could not be rung');
        }
      }
    }
    if (this.#ringing.size === 0) return this.#refuse('no device could be rung');
    const seconds = this.#deps.settings(call.tenant)?.pendingSeconds ?? 120;
    this.#ringTimer = setTimeout(() => {
      if (!this.#chosen) this.#refuse('no device answered');
    }, seconds * 1000);
  }

  #ring(leg: OutboundLeg, device: DeviceTarget): void {
    const call = this.call;
    if (this.#gone) {
      leg.close('cancelled');
      return;
    }
    call.adoptLeg(leg);
    this.#ringing.set(leg, device);
    leg.on('progress', () => {
      if (this.#chosen || this.#gone) return;
      call.showRinging(undefined, true);
      call.caller.ring();
    });
    leg.on('answered', (_sdp, response) => {
      // The Gate's stores can fail (PostgreSQL away): the call is refused, never left to crash Node.
      this.#answered(leg, device, response).catch((err: unknown) => {
        this.#log.error({ err }, 'gated call failed after the answer');
        if (this.#gone || this.#refusing) return;
        leg.close('callee_not_available');
        if (this.#connectedAt === undefined) this.#refuse('the answer could not be verified');
        else this.#withdraw();
      });
    });
    leg.on('ended', (end) => {
      this.#ringing.delete(leg);
      // Refusing: the call ends once the caller heard why (`#refuse`, `#withdraw`).
      if (this.#gone || this.#refusing) return;
      if (leg === this.#chosen) {
        if (this.#connectedAt !== undefined)
          call.end({ outcome: 'answered', endedBy: 'agent', reason: 'normal_clearing' });
        else this.#refuse('the device hung up before it was verified');
      } else if (!this.#chosen && this.#ringing.size === 0) {
        this.#refuse(`no device took the call (${end.reason})`);
      }
    });
    leg.start();
  }

  async #answered(leg: OutboundLeg, device: DeviceTarget, response: SipResponse): Promise<void> {
    const { gate, meter } = this.#deps;
    const call = this.call;
    if (this.#chosen || this.#gone) {
      leg.close('answered_elsewhere');
      return;
    }
    this.#chosen = leg;
    clearTimeout(this.#ringTimer);
    // One device answered: the others stop ringing (RFC 3326 cause 200).
    for (const other of this.#ringing.keys()) if (other !== leg) other.close('answered_elsewhere');
    const verdict =
      device.kind === 'app'
        ? await gate.reverify(call.id, {
            device: device.address,
            ticket: response.headers.get(TICKET_HEADER) ?? '',
          })
        : await phonePin({
            call,
            leg,
            gate,
            mediaApps: this.#deps.mediaApps,
            tts: this.#deps.tts,
            device: device.address,
            callerName: this.#callerName,
            attempts: this.#deps.settings(call.tenant)?.dtmfPinAttempts ?? 3,
            gone: () => this.#gone,
            log: this.#log,
          });
    if (this.#gone) return;
    if (!verdict?.allowed) {
      leg.close('callee_not_available');
      return this.#refuse(`re-verification refused (${verdict?.failed ?? 'no PIN'})`);
    }
    const accountId = verdict.accountId;
    if (accountId) {
      const started = await chargeFirstMinute(meter, call, { ...verdict, accountId }, this.#log);
      // Gone while the first minute was charged: its hang-up's stop may have come first.
      if (this.#gone) return this.#stopMeter('hangup');
      if (!started) {
        leg.close('callee_not_available');
        return this.#refuse('the first minute could not be charged');
      }
      if (!started.ok) {
        leg.close('balance_exhausted');
        call.end({ outcome: 'failed', endedBy: 'gateway', reason: 'balance_exhausted' });
        return;
      }
    }
    const joined = await joinAnswered(
      {
        caller: call.caller,
        gatewayCodec: call.gatewayCodec,
        gatewayMade: () => call.answerMade(),
        bridge: (a, b) => call.bridge(a, b),
        gone: () => this.#gone,
      },
      leg,
    );
    if (joined === 'joined') {
      this.#connectedAt = Date.now();
      call.targetAnswered(leg);
      this.#log.info({ device: device.address }, 'gated call connected');
      this.#recheckTimer = startRechecks(
        this.#deps.gate,
        call.id,
        this.#deps.settings(call.tenant)?.reverifyIntervalSeconds ?? 0,
        (failed) => {
          if (this.#gone) return;
          this.#log.info({ failed }, 'gated call refused on recheck: ending it');
          this.#withdraw();
        },
        this.#log,
      );
    } else if (joined === 'codec') {
      leg.close('offer_required');
      call.end({ outcome: 'failed', endedBy: 'gateway', reason: 'offer_required', status: 488 });
    }
  }

  #tokenName(): string {
    const name = this.call.token?.privateClaims.name;
    return typeof name === 'string' ? name : '';
  }

  /**
   * A connected call the Gate no longer allows (suspended, approval
   * withdrawn): the resident's device is hung up at once; a phone caller
   * hears the not-available prompt (never why), then the BYE; a web caller
   * gets the BYE with the one code, which the widget shows.
   */
  #withdraw(): void {
    if (this.#gone || this.#refusing) return;
    this.#refusing = true;
    clearInterval(this.#recheckTimer);
    // No minute is charged while the caller hears why (the meter's record says why it stopped).
    this.#stopMeter('callee_not_available');
    const end = (): void =>
      this.call.end({ outcome: 'answered', endedBy: 'gateway', reason: 'callee_not_available' });
    if (!this.#spoken) return end();
    this.#chosen?.close('callee_not_available');
    void this.#spoken
      .speak(this.#deps.gate.prompt(this.call.tenant, 'notAvailable'))
      .then(end, end);
  }

  /**
   * The caller hears "not available" (a visitor: 480 with the one code; a
   * phone caller: the spoken prompt, then a BYE), never which check failed.
   */
  #refuse(why: string): void {
    if (this.#gone || this.#refusing) return;
    this.#refusing = true;
    this.#log.info({ why }, 'gated call not connected');
    const end = (): void =>
      this.call.end({
        outcome: 'failed',
        endedBy: 'gateway',
        reason: 'callee_not_available',
        ...(this.#spoken ? {} : { status: 480 }),
      });
    if (!this.#spoken) return end();
    for (const leg of this.#ringing.keys()) leg.close('callee_not_available');
    this.#chosen?.close('callee_not_available');
    void this.#spoken
      .speak(this.#deps.gate.prompt(this.call.tenant, 'notAvailable'))
      .then(end, end);
  }

  #ended(): void {
    if (this.#over) return;
    this.#over = true;
    clearTimeout(this.#ringTimer);
    clearInterval(this.#recheckTimer);
    this.#stopMeter('hangup');
    this.#deps.gate.forget(this.call.id);
  }

  #stopMeter(reason: string): void {
    void this.#deps.meter.stop(this.call.id, reason).catch((err: unknown) => {
      // Left running in the database: closed as interrupted at this gateway's next start.
      this.#log.error({ err }, "the call's meter could not be closed");
    });
  }
}
