import type { VoicemailSettings } from '../config/voicemail.js';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type {
  AgentAvailability,
  AgentConfig,
  AgentContact,
  AgentCredentials,
  AgentDirectoryEvents,
  AgentPresence,
  ChangeOrigin,
  LocalAgentState,
} from './agent-types.js';
import { LOCAL_AGENT_LOCKS, type AgentLocks } from './slot-claims.js';
import { fixedContacts } from './contacts.js';
import {
  callTotals,
  presenceOf,
  reachable,
  usernameOf,
  type AgentEntry,
  type RemoteCalls,
} from './agent-entry.js';

export type {
  AgentAvailability,
  AgentConfig,
  AgentContact,
  AgentCredentials,
  AgentDirectoryEvents,
  AgentPresence,
  AgentState,
  ChangeOrigin,
  LocalAgentState,
} from './agent-types.js';

const HANDLE_WINDOW = 10;
const LOCAL: ChangeOrigin = 'local';

/**
 * The agents of every tenant and what each is doing right now: registered
 * contacts (from the registrar), calls ringing and in progress (from calls/).
 */
export class AgentDirectory extends EventEmitter<AgentDirectoryEvents> {
  readonly #agents = new Map<string, AgentEntry>();
  readonly #byUsername = new Map<string, AgentEntry>();
  readonly #now: () => number;
  /** Slot claims shared with the cluster's other gateways (none alone). */
  readonly locks: AgentLocks;

  constructor(
    agents: readonly AgentConfig[],
    now: () => number = Date.now,
    locks: AgentLocks = LOCAL_AGENT_LOCKS,
  ) {
    super();
    this.#now = now;
    this.locks = locks;
    for (const config of agents) this.upsert(config);
  }

  /** Digest credentials for a username (the registrar's and the desk's lookup). */
  credentials(username: string): AgentCredentials | undefined {
    const entry = this.#byUsername.get(username);
    return entry
      ? {
          agentId: entry.config.id,
          username: usernameOf(entry.config),
          password: entry.config.password,
          ha1: entry.config.ha1,
          algorithms: entry.config.digestAlgorithms,
        }
      : undefined;
  }

  /**
   * A short fingerprint of the agent's secret: desk sessions carry it, so a
   * password change signs the agent's desks out.
   */
  credentialStamp(agentId: string): string | undefined {
    const entry = this.#agents.get(agentId);
    if (!entry) return undefined;
    const { password, ha1 } = entry.config;
    const secret = `${usernameOf(entry.config)}\u0000${password ?? ''}\u0000${ha1?.['SHA-256'] ?? ''}\u0000${ha1?.MD5 ?? ''}`;
    return createHash('sha256').update(secret).digest('base64url').slice(0, 16);
  }

  /** The agent's own voicemail box, if it has one (docs/voicemail.md). */
  voicemail(agentId: string): VoicemailSettings | undefined {
    return this.#agents.get(agentId)?.config.voicemail;
  }

  /** The agent's digest username (its id unless configured otherwise). */
  username(agentId: string): string | undefined {
    const entry = this.#agents.get(agentId);
    return entry ? usernameOf(entry.config) : undefined;
  }

  /**
   * Adds an agent, or replaces the settings of an existing one while keeping what
   * it is doing (registrations, calls, availability, wrap-up).
   * Throws a TypeError when the username belongs to another agent.
   */
  upsert(config: AgentConfig): 'created' | 'updated' {
    const username = usernameOf(config);
    const holder = this.#byUsername.get(username);
    if (holder && holder.config.id !== config.id)
      throw new TypeError(`username "${username}" belongs to agent "${holder.config.id}"`);
    const existing = this.#agents.get(config.id);
    if (existing) {
      this.#byUsername.delete(usernameOf(existing.config));
      const registered = existing.contacts.filter((c) => Number.isFinite(c.expiresAt));
      existing.config = config;
      existing.contacts = [...fixedContacts(config), ...registered];
      if (existing.idleSince === undefined && fixedContacts(config).length > 0)
        existing.idleSince = this.#now();
      this.#byUsername.set(username, existing);
      this.#changed(existing);
      return 'updated';
    }
    const entry: AgentEntry = {
      config,
      contacts: fixedContacts(config),
      remote: new Map(),
      remoteCalls: new Map(),
      remoteCallsTimer: undefined,
      availabilityAt: 0,
      activeCalls: 0,
      ringing: 0,
      idleSince: fixedContacts(config).length > 0 ? this.#now() : undefined,
      availability: 'available',
      wrapUpUntil: undefined,
      wrapUpLocal: false,
      wrapUpAt: 0,
      wrapUpTimer: undefined,
      handled: [],
    };
    this.#agents.set(config.id, entry);
    this.#byUsername.set(username, entry);
    this.#changed(entry);
    return 'created';
  }

  /** Deletes an agent: no new calls; calls in progress go on to their end. */
  remove(agentId: string): boolean {
    const entry = this.#agents.get(agentId);
    if (!entry) return false;
    this.#endWrapUp(entry);
    clearTimeout(entry.remoteCallsTimer);
    this.#agents.delete(agentId);
    this.#byUsername.delete(usernameOf(entry.config));
    this.emit('removed', agentId);
    return true;
  }

  get(agentId: string): AgentPresence | undefined {
    const entry = this.#agents.get(agentId);
    return entry ? presenceOf(entry, this.#now()) : undefined;
  }

  list(filter: { tenant?: string } = {}): AgentPresence[] {
    return [...this.#agents.values()]
      .filter((e) => filter.tenant === undefined || e.config.tenant === filter.tenant)
      .map((e) => presenceOf(e, this.#now()));
  }

  /**
   * The current bindings of an agent (replaces the previous set from that
   * origin): this gateway's registrar's (`local`), or another gateway's.
   */
  setContacts(
    agentId: string,
    contacts: readonly AgentContact[],
    origin: ChangeOrigin = LOCAL,
  ): void {
    const entry = this.#agents.get(agentId);
    if (!entry) return;
    const wasRegistered = reachable(entry, this.#now()).length > 0;
    if (origin === LOCAL) entry.contacts = [...fixedContacts(entry.config), ...contacts];
    else if (contacts.length > 0) entry.remote.set(origin, contacts);
    else entry.remote.delete(origin);
    if (!wasRegistered && contacts.length > 0 && entry.activeCalls === 0)
      entry.idleSince = this.#now();
    this.#changed(entry);
    if (origin === LOCAL) this.emit('localChange', agentId);
  }

  /** What this gateway tells the others of the agent. */
  localState(agentId: string): LocalAgentState | undefined {
    const entry = this.#agents.get(agentId);
    if (!entry) return undefined;
    return {
      contacts: entry.contacts.filter((c) => Number.isFinite(c.expiresAt)),
      availability: entry.availability,
      availabilityAt: entry.availabilityAt,
      wrapUpUntil: entry.wrapUpLocal ? entry.wrapUpUntil : undefined,
      wrapUpAt: entry.wrapUpLocal ? entry.wrapUpAt : undefined,
      ringing: entry.ringing,
      activeCalls: entry.activeCalls,
    };
  }

  /**
   * The agent's calls on another gateway (`origin`), as it told them: counted
   * in the agent's state (ringing, busy) until `calls.until`, unless told
   * again. An older telling than the one held (a read of Redis overtaken by a
   * message) is ignored.
   */
  setRemoteCalls(agentId: string, origin: ChangeOrigin, calls: RemoteCalls): void {
    const entry = this.#agents.get(agentId);
    const now = this.#now();
    if (!entry || origin === LOCAL || calls.until <= now) return;
    const held = entry.remoteCalls.get(origin);
    if (held && held.until > calls.until) return;
    const before = callTotals(entry, now);
    entry.remoteCalls.set(origin, calls);
    const after = callTotals(entry, now);
    if (before.activeCalls > 0 && after.activeCalls === 0) entry.idleSince = now;
    this.#watchRemoteCalls(entry);
    if (before.ringing !== after.ringing || before.activeCalls !== after.activeCalls)
      this.#changed(entry);
  }

  /** The other gateways this gateway holds the agent's contacts and calls of (a reload's removals). */
  remoteOrigins(agentId: string): { contacts: ChangeOrigin[]; calls: ChangeOrigin[] } {
    const entry = this.#agents.get(agentId);
    return {
      contacts: [...(entry?.remote.keys() ?? [])],
      calls: [...(entry?.remoteCalls.keys() ?? [])],
    };
  }

  /** `origin` has no call of the agent any more (its field gone from Redis: it ended unheard). */
  clearRemoteCalls(agentId: string, origin: ChangeOrigin): void {
    const entry = this.#agents.get(agentId);
    const held = entry?.remoteCalls.get(origin);
    if (!entry || !held) return;
    const now = this.#now();
    this.setRemoteCalls(agentId, origin, {
      ringing: 0,
      activeCalls: 0,
      until: Math.max(now + 1, held.until),
    });
    entry.remoteCalls.delete(origin);
    this.#watchRemoteCalls(entry);
  }

  /** An agent leg started ringing at this agent. Returns a function to call once it stopped ringing. */
  ringStarted(agentId: string): () => void {
    const entry = this.#agents.get(agentId);
    if (!entry) return () => undefined;
    entry.ringing += 1;
    this.#callsChanged(entry);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      entry.ringing -= 1;
      this.#callsChanged(entry);
    };
  }

  /**
   * The agent answered. Returns a function to call when that call ends, with
   * the wrap-up time the queue gives (the agent gets no call during it).
   */
  callStarted(agentId: string): (wrapUpSeconds?: number) => void {
    const entry = this.#agents.get(agentId);
    if (!entry) return () => undefined;
    entry.activeCalls += 1;
    const startedAt = this.#now();
    this.#callsChanged(entry);
    let done = false;
    return (wrapUpSeconds = 0) => {
      if (done) return;
      done = true;
      entry.activeCalls -= 1;
      const now = this.#now();
      entry.handled.push((now - startedAt) / 1000);
      if (entry.handled.length > HANDLE_WINDOW) entry.handled.shift();
      if (entry.activeCalls === 0) entry.idleSince = now;
      if (wrapUpSeconds > 0) this.#startWrapUp(entry, now + wrapUpSeconds * 1000, true);
      this.#callsChanged(entry);
      if (wrapUpSeconds > 0) this.emit('localChange', agentId);
    };
  }

  /**
   * Another gateway (`origin`) gave the agent a wrap-up after a call there, until `until`
   * (epoch ms): no call here either until then. Only lengthens a wrap-up; "available"
   * chosen on a desk ends it (`setAvailability`).
   */
  setWrapUp(agentId: string, until: number, origin: ChangeOrigin): void {
    const entry = this.#agents.get(agentId);
    if (!entry || origin === LOCAL) return;
    if (until <= this.#now() || until <= (entry.wrapUpUntil ?? 0)) return;
    this.#startWrapUp(entry, until, false);
    this.#changed(entry);
  }

  /**
   * The agent's own choice on the desk: available, or away (no calls). From
   * another gateway (`origin` its instance id, `at` when chosen) it is taken
   * unless this gateway has seen a later choice.
   */
  setAvailability(
    agentId: string,
    availability: AgentAvailability,
    origin: ChangeOrigin = LOCAL,
    at: number = this.#now(),
  ): void {
    const entry = this.#agents.get(agentId);
    if (!entry) return;
    if (origin !== LOCAL && at < entry.availabilityAt) return;
    // A choice made now, not one told again (another gateway's every message carries it).
    const fresh = origin === LOCAL || at > entry.availabilityAt;
    entry.availability = availability;
    entry.availabilityAt = at;
    if (availability === 'available' && fresh) this.#endWrapUp(entry);
    this.#changed(entry);
    if (origin === LOCAL) this.emit('localChange', agentId);
  }

  close(): void {
    for (const entry of this.#agents.values()) {
      this.#endWrapUp(entry);
      clearTimeout(entry.remoteCallsTimer);
      entry.remoteCallsTimer = undefined;
    }
  }

  /**
   * Drops the other gateways' calls of the agent as they lapse (a dead
   * gateway's, which no one renews), told as a change when any was ringing or up.
   */
  #watchRemoteCalls(entry: AgentEntry): void {
    clearTimeout(entry.remoteCallsTimer);
    entry.remoteCallsTimer = undefined;
    if (entry.remoteCalls.size === 0) return;
    const first = Math.min(...[...entry.remoteCalls.values()].map((c) => c.until));
    entry.remoteCallsTimer = setTimeout(
      () => {
        entry.remoteCallsTimer = undefined;
        const now = this.#now();
        let shown = false;
        let talking = false;
        for (const [origin, calls] of entry.remoteCalls) {
          if (calls.until > now) continue;
          entry.remoteCalls.delete(origin);
          shown ||= calls.ringing + calls.activeCalls > 0;
          talking ||= calls.activeCalls > 0;
        }
        if (talking && callTotals(entry, now).activeCalls === 0) entry.idleSince = now;
        this.#watchRemoteCalls(entry);
        if (shown) this.#changed(entry);
      },
      Math.max(0, first - this.#now()),
    );
    entry.remoteCallsTimer.unref();
  }

  /** This gateway's calls of the agent changed: shown here, and told to the cluster. */
  #callsChanged(entry: AgentEntry): void {
    this.#changed(entry);
    this.emit('localCalls', entry.config.id);
  }

  /** Wrap-up until `until` (epoch ms); `local`: given after a call on this gateway. */
  #startWrapUp(entry: AgentEntry, until: number, local: boolean): void {
    this.#endWrapUp(entry);
    entry.wrapUpUntil = until;
    entry.wrapUpLocal = local;
    entry.wrapUpAt = this.#now();
    entry.wrapUpTimer = setTimeout(
      () => {
        entry.wrapUpTimer = undefined;
        entry.wrapUpUntil = undefined;
        entry.wrapUpLocal = false;
        this.#changed(entry);
      },
      Math.max(0, until - this.#now()),
    );
    entry.wrapUpTimer.unref();
  }

  #endWrapUp(entry: AgentEntry): void {
    if (entry.wrapUpTimer) clearTimeout(entry.wrapUpTimer);
    entry.wrapUpTimer = undefined;
    entry.wrapUpUntil = undefined;
    entry.wrapUpLocal = false;
  }

  #changed(entry: AgentEntry): void {
    this.emit('change', presenceOf(entry, this.#now()));
  }
}
