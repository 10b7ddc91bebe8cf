import { randomUUID } from 'node:crypto';
import type { SlotClaims } from '../agents/index.js';
import { callerNumberClaim } from '../numbers/index.js';
import type { Logger } from '../observability/index.js';
import type { InviteContext } from '../sbc/invite-pipeline.js';
import { reasonHeader, refuse } from '../sbc/refusal.js';
import type { Flow } from '../sip/index.js';
import type { SessionStore } from '../storage/index.js';
import type { CallDeps, CallInit, TrunkCaller } from './call-types.js';
import { Call } from './call.js';

export interface CallManagerDeps extends CallDeps {
  /** Where each admitted call's web session is noted (first and last seen, claims). */
  readonly sessions: SessionStore;
  /**
   * The tenants' concurrent calls across the cluster's gateways (the SBC's
   * cap counts this gateway's only), with each tenant's cap. None alone.
   */
  readonly tenantCalls?: {
    readonly claims: SlotClaims;
    readonly max: (tenant: string) => number;
    /** A claim made before a call is admitted lapses after this if its gateway dies. */
    readonly ttlMs: number;
  };
}

/**
 * The calls in progress: admits the INVITEs the SBC let through, counts them
 * per tenant (for the SBC's cap), ends the calls of a visitor connection that
 * closed, and drains on shutdown: `refuseNew()` then `idle()` (the calls
 * finish by themselves), then `drain()` ends what is left.
 */
export class CallManager {
  readonly #deps: CallManagerDeps;
  readonly #log: Logger;
  readonly #calls = new Map<string, Call>();
  readonly #perTenant = new Map<string, number>();
  #draining = false;
  readonly #onCall: ((call: Call) => void)[] = [];
  readonly #idle: (() => void)[] = [];

  constructor(deps: CallManagerDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ module: 'calls' });
    deps.agents.on('change', (presence) => {
      for (const call of this.#calls.values()) call.agentChanged(presence);
    });
  }

  /** Called for every call admitted, before it starts (to wire its messages). */
  onCall(listener: (call: Call) => void): void {
    this.#onCall.push(listener);
  }

  get size(): number {
    return this.#calls.size;
  }

  /**
   * Calls not answered yet (routing or ringing), the work an overload guard
   * watches; a caller the gateway answered itself (a flow, a queue) is set up.
   */
  get settingUp(): number {
    let n = 0;
    for (const call of this.#calls.values())
      if (
        (call.state === 'routing' || call.state === 'ringing') &&
        call.caller.state !== 'answered'
      )
        n += 1;
    return n;
  }

  activeCount(tenant: string): number {
    return this.#perTenant.get(tenant) ?? 0;
  }

  get(id: string): Call | undefined {
    return this.#calls.get(id);
  }

  list(): Call[] {
    return [...this.#calls.values()];
  }

  /**
   * Starts a call for an INVITE the SBC admitted (token verified, queue known).
   * `options.ringAgents: false`: the caller's module rings someone else (the
   * gated call path rings the resident's devices). `options.queue`: the queue
   * the record names instead of the Request-URI's (null: none; a listing's
   * web call names its destination's queue, if any).
   */
  async admit(
    ctx: InviteContext,
    cancelledEarly: () => boolean,
    options: { readonly ringAgents?: boolean; readonly queue?: string | null } = {},
  ): Promise<Call | undefined> {
    const { invite, tx, token } = ctx;
    if (!token || !ctx.queue) throw new Error('admit() needs a verified token and a queue');
    const queue = options.queue === undefined ? ctx.queue : (options.queue ?? undefined);
    this.#deps.sessions.touch({
      tenant: token.claims.iss,
      sessionId: token.claims.sub,
      origin: token.claims.origin,
      publicClaims: token.claims,
      privateClaims: token.privateClaims,
      at: (this.#deps.now ?? Date.now)(),
    });
    if (this.#draining) {
      this.#deps.stack.respond(tx, 503, {
        headers: [reasonHeader('gateway_shutdown'), ['Retry-After', '10']],
      });
      return undefined;
    }
    if (cancelledEarly()) {
      // CANCEL arrived while the SBC was still checking: answer the INVITE 487.
      this.#deps.stack.respond(tx, 487);
      return undefined;
    }
    // One of the tenant's concurrent calls across the cluster (shared.redis), claimed first.
    const slot = await this.#claimTenantCall(token.claims.iss);
    if (slot === false) {
      refuse(this.#deps.stack, tx, {
        code: 'tenant_call_limit',
        detail: token.claims.iss,
        headers: [['Retry-After', '30']],
      });
      return undefined;
    }
    // In a cluster the gateways agree on the session's caller-ID number first (shared.redis).
    await this.#deps.numbers.prepare(token.claims.iss, token.claims.sub, callerNumberClaim(token));
    if (cancelledEarly()) {
      slot?.();
      this.#deps.stack.respond(tx, 487);
      return undefined;
    }
    const call = new Call(this.#deps, {
      invite,
      tx,
      flow: ctx.flow,
      token,
      queue,
      ringAgents: options.ringAgents,
    });
    if (slot) call.once('ended', slot);
    this.#track(call);
    for (const listener of this.#onCall) listener(call);
    await call.start();
    return call;
  }

  /**
   * Starts a call from the telephone network (a trunk's accepted INVITE): the
   * caller's leg is set up but nothing rings; the DID's flow drives it
   * (`onTrunkCall`). The trunk slot is released when the call ends.
   */
  async admitTrunk(
    init: Pick<CallInit, 'invite' | 'tx' | 'flow'> & { readonly trunk: TrunkCaller },
  ): Promise<Call | undefined> {
    if (this.#draining) {
      init.trunk.release();
      this.#deps.stack.respond(init.tx, 503, {
        headers: [reasonHeader('gateway_shutdown'), ['Retry-After', '10']],
      });
      return undefined;
    }
    const call = new Call(this.#deps, { ...init, ringAgents: false });
    this.#track(call);
    for (const listener of this.#onCall) listener(call);
    await call.start();
    return call;
  }

  #track(call: Call): void {
    this.#calls.set(call.id, call);
    this.#perTenant.set(call.tenant, this.activeCount(call.tenant) + 1);
    call.once('ended', () => {
      this.#calls.delete(call.id);
      const left = this.activeCount(call.tenant) - 1;
      if (left > 0) this.#perTenant.set(call.tenant, left);
      else this.#perTenant.delete(call.tenant);
      if (this.#calls.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
    });
  }

  /**
   * One of the tenant's concurrent calls across the cluster: false when the
   * others hold them all; else a function releasing it (undefined alone).
   */
  async #claimTenantCall(tenant: string): Promise<(() => void) | false | undefined> {
    const shared = this.#deps.tenantCalls;
    if (!shared) return undefined;
    const holder = randomUUID();
    if (!(await shared.claims.claim(tenant, shared.max(tenant), holder, shared.ttlMs)))
      return false;
    shared.claims.hold(tenant, holder);
    return () => shared.claims.release(tenant, holder);
  }

  /**
   * A visitor's connection closed (a flow of ours, or a client's connection
   * to the edge proxy: `edge.ts`): its calls end (the agent gets a BYE or
   * CANCEL), except a browser's answered call, which waits `reconnectGraceMs`
   * (`visitors.reconnectGraceSeconds`) for the widget to come back over a new
   * connection and rebind it (`InboundLeg.holdForReconnect`, `rebind.ts`).
   */
  flowClosed(flow: Pick<Flow, 'id' | 'closedByPeer'>, reconnectGraceMs = 0): void {
    for (const call of this.#calls.values()) {
      if (call.caller.connection === flow.id) {
        this.#log.info({ callId: call.id, flow: flow.id }, 'visitor connection closed');
        // A page that closed its WebSocket on purpose (went away) is not coming back.
        const graceMs = flow.closedByPeer ? 0 : reconnectGraceMs;
        if (!this.#draining && call.caller.holdForReconnect(graceMs)) continue;
        call.caller.flowClosed();
      }
    }
  }

  /** From now on, INVITEs that reach admit() are refused 503 `gateway_shutdown`. */
  refuseNew(): void {
    this.#draining = true;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Resolves once no call is in progress (at once when none is). */
  idle(): Promise<void> {
    if (this.#calls.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Refuses new calls and ends every call in progress (`gateway_shutdown`). */
  drain(): void {
    this.#draining = true;
    for (const call of this.#calls.values()) {
      call.end({
        outcome: call.state === 'answered' ? 'answered' : 'failed',
        endedBy: 'gateway',
        reason: 'gateway_shutdown',
      });
    }
  }
}
