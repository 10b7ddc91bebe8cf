/**
 * The trunks of the gateway (`trunks.<id>` in the config): built from the
 * config, their keep-alives started, INVITEs from the telephone network
 * classified and handed to the composition root's hook, outbound calls dialled.
 * Metrics and logs for all of it live here, so the legs stay free of them.
 */
import { EventEmitter } from 'node:events';
import type { Config } from '../config/index.js';
import { E164 } from '../numbers/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import { refuse } from '../sbc/refusal.js';
import { DigestClient } from '../sip/digest-client.js';
import {
  clientOf,
  type Flow,
  type InviteServerTransaction,
  type SipRequest,
  type SipStack,
} from '../sip/index.js';
import { classifyInvite, type InboundTrunkCall, type TrunkClassification } from './classify.js';
import { failedBeforeDialling } from './dial-failure.js';
import type { DialRequest, TrunkDialFailure } from './dial-types.js';
import { OutboundTrunkCall } from './dialer.js';
import { outboundRefusal } from './outbound-rules.js';
import { Trunk, type TrunkPeerInfo } from './trunk.js';

/**
 * What the composition root does with an accepted trunk call: run the DID's
 * flow. It owns `tx` (answer it) and `call.slot` (release it when the call
 * ends). A slot whose INVITE ends with a failure is released anyway.
 */
export type TrunkCallHook = (
  call: InboundTrunkCall,
  invite: SipRequest,
  tx: InviteServerTransaction,
) => void;

export interface DialOptions extends Omit<DialRequest, 'to'> {
  /** The tenant calling out (the trunk must allow it: `outbound.tenants`). */
  readonly tenant: string;
  /** `trunks.<id>`; default the first trunk that lets the tenant call out. */
  readonly trunk?: string | undefined;
  /** The number to call: E.164, or national in the trunk's `defaultCountry`, separators allowed. */
  readonly to: string;
}

export interface TrunksEvents {
  peerUp: [trunk: string, peer: TrunkPeerInfo];
  peerDown: [trunk: string, peer: TrunkPeerInfo, reason: string];
}

export interface TrunksOptions {
  readonly config: Config['trunks'];
  readonly stack: SipStack;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Default: {@link noFlowAttached}. */
  readonly onTrunkCall?: TrunkCallHook | undefined;
  /** The weighted order of peers of one priority (tests fix it). */
  readonly random?: () => number;
}

export class Trunks extends EventEmitter<TrunksEvents> {
  readonly #stack: SipStack;
  readonly #log: Logger;
  readonly #metrics: Metrics;
  readonly #trunks: readonly Trunk[];
  readonly #digest = new Map<string, DigestClient>();
  #hook: TrunkCallHook;
  #closed = false;

  constructor(options: TrunksOptions) {
    super();
    this.#stack = options.stack;
    this.#log = options.logger.child({ module: 'trunks' });
    this.#metrics = options.metrics;
    this.#hook = options.onTrunkCall ?? noFlowAttached(options.stack);
    this.#trunks = Object.entries(options.config).map(([id, settings]) => {
      const trunk = new Trunk({
        settings: { ...settings, id },
        stack: options.stack,
        logger: options.logger,
        ...(options.random ? { random: options.random } : {}),
      });
      this.#observe(trunk);
      const auth = settings.auth;
      if (auth?.password)
        this.#digest.set(
          id,
          new DigestClient({ username: auth.username, password: auth.password, realm: auth.realm }),
        );
      return trunk;
    });
  }

  /** Starts every peer's OPTIONS keep-alive. */
  start(): void {
    for (const trunk of this.#trunks) trunk.start();
    if (this.#trunks.length > 0)
      this.#log.info(
        { trunks: this.#trunks.map((t) => ({ id: t.id, peers: t.peers.map((p) => p.id) })) },
        'trunks started',
      );
  }

  get list(): readonly Trunk[] {
    return this.#trunks;
  }

  trunk(id: string): Trunk | undefined {
    return this.#trunks.find((t) => t.id === id);
  }

  /** Who answers accepted trunk calls (the flows, once they exist). */
  setCallHook(hook: TrunkCallHook): void {
    this.#hook = hook;
  }

  /** Classifies without acting (an accepted result holds a slot: release it). */
  classify(invite: SipRequest, flow: Flow): TrunkClassification {
    return classifyInvite(this.#trunks, invite, flow);
  }

  /**
   * The INVITE dispatch's one call into trunks: true when the INVITE was a trunk
   * call (accepted and handed to the hook, or refused with a Reason), false when
   * it is the visitor pipeline's.
   */
  takeInvite(invite: SipRequest, tx: InviteServerTransaction): boolean {
    if (this.#trunks.length === 0) return false;
    const result = this.classify(invite, tx.flow);
    if (result.kind === 'not-trunk') return false;
    const source = clientOf(invite, tx.flow).address;
    if (result.kind === 'refused') {
      this.#metrics.trunkRefused.inc({ trunk: result.trunk ?? '-', reason: result.code });
      this.#log.info(
        {
          trunk: result.trunk,
          reason: result.code,
          detail: result.detail,
          source,
          callId: invite.callId,
        },
        'trunk INVITE refused',
      );
      refuse(this.#stack, tx, { code: result.code, detail: result.detail });
      return true;
    }
    const call = result.call;
    this.#metrics.trunkCalls.inc({ trunk: call.trunk, direction: 'inbound' });
    this.#log.info(
      {
        trunk: call.trunk,
        peer: call.peer?.id,
        called: call.called,
        caller: call.caller.kind === 'number' ? call.caller.number : 'anonymous',
        tenant: call.tenant,
        flow: call.flow,
        callId: invite.callId,
      },
      'trunk call in',
    );
    // A slot whose INVITE failed is free again, whatever the hook did.
    tx.once('terminated', () => {
      if ((tx.finalStatus ?? 500) >= 300) call.slot.release();
    });
    try {
      this.#hook(call, invite, tx);
    } catch (error) {
      this.#log.error({ err: error, callId: invite.callId }, 'trunk call hook failed');
      call.slot.release();
      if (tx.finalStatus === undefined) this.#stack.respond(tx, 500);
    }
    return true;
  }

  /** The trunk a tenant calls out through by default: the first that allows it. */
  outboundTrunk(tenant: string): string | undefined {
    return this.#trunks.find((t) => t.allowsTenant(tenant))?.id;
  }

  /**
   * Places an outbound call through a trunk. Returns at once; listen to the
   * call's events (or await `outcome`) — a call that cannot be dialled (unknown
   * trunk, tenant not allowed, invalid number, trunk full) fails on the next tick.
   */
  dial(options: DialOptions): OutboundTrunkCall {
    const trunkId = options.trunk ?? this.outboundTrunk(options.tenant);
    const trunk = trunkId === undefined ? undefined : this.trunk(trunkId);
    let refusal: TrunkDialFailure | undefined;
    const to = trunk?.normalise(options.to);
    // The caller ID is ours (the pool's or a checked claim): E.164 as it is, whatever its plan says.
    const caller = E164.test(options.callerNumber)
      ? options.callerNumber
      : trunk?.normalise(options.callerNumber);
    const rule =
      trunk && to !== undefined
        ? outboundRefusal(trunk.id, trunk.settings, options.tenant, to)
        : undefined;
    if (!trunk || !trunk.allowsTenant(options.tenant) || this.#closed) {
      refusal = failedBeforeDialling(
        'not_allowed',
        'trunk_not_allowed',
        trunk
          ? `tenant ${options.tenant} may not use trunk ${trunk.id}`
          : `no trunk ${trunkId ?? 'for ' + options.tenant}`,
      );
    } else if (rule?.kind === 'number') {
      refusal = failedBeforeDialling('not_allowed', 'number_not_allowed', rule.detail);
    } else if (to === undefined || caller === undefined) {
      refusal = failedBeforeDialling(
        'invalid_number',
        'number_invalid',
        to === undefined
          ? `cannot call ${options.to}`
          : `caller ID ${options.callerNumber} is no number`,
      );
    }
    const slot = refusal || !trunk ? undefined : trunk.acquire('outbound');
    if (!refusal && !slot && trunk) {
      refusal = failedBeforeDialling(
        'call_limit',
        'trunk_call_limit',
        `trunk ${trunk.id} holds ${trunk.activeCalls} of ${trunk.maxCalls} calls`,
      );
    }
    const call = new OutboundTrunkCall(
      {
        stack: this.#stack,
        trunk: refusal ? undefined : trunk,
        slot,
        digest: trunk ? this.#digest.get(trunk.id) : undefined,
        logger: this.#log,
        refusal,
        onChallenge: (status, answered) =>
          this.#metrics.trunkChallenges.inc({
            trunk: trunk?.id ?? '-',
            status: String(status),
            answered: String(answered),
          }),
      },
      { ...options, to: to ?? options.to, callerNumber: caller ?? options.callerNumber },
    );
    const label = trunk?.id ?? '-';
    if (!refusal) this.#metrics.trunkCalls.inc({ trunk: label, direction: 'outbound' });
    void call.outcome.then((outcome) =>
      this.#metrics.trunkDialOutcomes.inc({
        trunk: label,
        outcome: outcome.kind === 'answered' ? 'answered' : outcome.failure.reason,
      }),
    );
    setImmediate(() => call.start());
    return call;
  }

  close(): void {
    this.#closed = true;
    for (const trunk of this.#trunks) trunk.close();
  }

  #observe(trunk: Trunk): void {
    const metrics = this.#metrics;
    for (const peer of trunk.peers) metrics.trunkPeerUp.set({ trunk: trunk.id, peer: peer.id }, 1);
    metrics.trunkActiveCalls.set({ trunk: trunk.id }, 0);
    trunk.on('slots', (n) => metrics.trunkActiveCalls.set({ trunk: trunk.id }, n));
    trunk.on('probe', (peer, result) => {
      if (result.rttMs !== undefined)
        metrics.trunkOptionsRttSeconds.observe(
          { trunk: trunk.id, peer: peer.id },
          result.rttMs / 1000,
        );
    });
    trunk.on('peerUp', (peer) => {
      metrics.trunkPeerUp.set({ trunk: trunk.id, peer: peer.id }, 1);
      this.#log.info({ trunk: trunk.id, peer: peer.id }, 'trunk peer up');
      this.emit('peerUp', trunk.id, peer);
    });
    trunk.on('peerDown', (peer, reason) => {
      metrics.trunkPeerUp.set({ trunk: trunk.id, peer: peer.id }, 0);
      this.#log.warn({ trunk: trunk.id, peer: peer.id, reason }, 'trunk peer down');
      this.emit('peerDown', trunk.id, peer, reason);
    });
  }
}

/**
 * The hook until flows exist: the number is valid and the trunk accepted the
 * call, but nothing answers it yet, so the carrier hears 480 with
 * `Reason: …;text="no_flow_attached"` and the slot is free at once.
 */
export function noFlowAttached(stack: SipStack): TrunkCallHook {
  return (call, _invite, tx) => {
    call.slot.release();
    refuse(stack, tx, { code: 'no_flow_attached', detail: `flow ${call.flow}` });
  };
}
