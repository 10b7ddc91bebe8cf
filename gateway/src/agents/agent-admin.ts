/**
 * Agents managed at run time (the `/v1/agents` API), next to the agents of the
 * config file: validated, kept in storage with only their digest H(A1) values,
 * and applied to the live directory at once, so an agent can register a minute
 * after being created, and a deleted one is dropped from routing and the registrar.
 */
import { z } from 'zod';
import { ParleyError } from '@parley/shared/errors';
import { phoneNumber } from '../config/agents.js';
import { apiVoicemailSettings } from '../config/voicemail.js';
import type { Logger } from '../observability/index.js';
import { checkAgentContact, digestHa1 } from '../sip/message/index.js';
import type { AgentStore, StoredAgent } from '../storage/index.js';
import type { AgentConfig, AgentDirectory, AgentPresence } from './agent-directory.js';

/** Characters a SIP user part takes unescaped (RFC 3261 §25.1 `user`), minus `:` and `@`. */
const SIP_USER = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/]+$/;
export const AGENT_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The body of `PUT /v1/agents/:id`. */
export const agentInputSchema = z
  .strictObject({
    /** Needed only with an API key that is not bound to one tenant. */
    tenant: z.string().min(1).optional(),
    /** Digest username of the agent's phone and desk (default: the id). */
    username: z.string().min(1).max(64).regex(SIP_USER, 'not a SIP user part').optional(),
    /** Required when creating the agent or changing its username; otherwise the old one stays. */
    password: z.string().min(8).max(128).optional(),
    // It becomes a SIP display name: CR/LF or other control characters would split headers.
    displayName: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[^\p{Cc}\p{Zl}\p{Zp}]+$/u, 'no control characters')
      .optional(),
    queues: z.array(z.string().min(1)).min(1).max(50),
    maxCalls: z.number().int().min(1).max(10).default(1),
    tier: z.string().min(1).max(50).optional(),
    skills: z.array(z.string().min(1).max(50)).max(50).optional(),
    digestAlgorithms: z
      .array(z.enum(['SHA-256', 'MD5']))
      .min(1)
      .optional(),
    // It becomes the Request-URI of the agent's INVITE: a plain SIP URI, no headers.
    contact: z
      .string()
      .max(512)
      .refine((value) => checkAgentContact(value) === undefined, {
        error: (issue) => checkAgentContact(String(issue.input)) ?? 'not a SIP URI',
      })
      .optional(),
    /** A telephone number the agent answers, called through a trunk (docs/trunks.md); not with `contact`. */
    phone: phoneNumber.optional(),
    /** With `phone`: the trunk to call it through (default: the tenant's first outbound trunk). */
    trunk: z.string().min(1).max(64).optional(),
    /**
     * The agent's own voicemail box: a direct call to them they do not answer
     * (docs/voicemail.md); the settings of `agents[].voicemail`, greetings spoken only.
     */
    voicemail: apiVoicemailSettings.optional(),
  })
  .refine((a) => a.contact === undefined || a.phone === undefined, {
    path: ['phone'],
    error: 'give either contact (a SIP URI) or phone (a number called through a trunk), not both',
  })
  .refine((a) => a.trunk === undefined || a.phone !== undefined, {
    path: ['trunk'],
    error: 'trunk names the trunk a phone agent is called through: give phone too',
  });
export type AgentInput = z.input<typeof agentInputSchema>;

/**
 * What a tenant may do with its agents beyond the schema (config
 * `tenants.<id>.agentNamespace`, `agentContactHosts`): each returns why not, or undefined.
 */
export interface AgentPolicy {
  /** An id or username an API key bound to `tenant` may not take. */
  nameRefusal(tenant: string, id: string, username: string): string | undefined;
  /** A contact host `tenant`'s agents may not point at. */
  contactRefusal(tenant: string, contact: string): string | undefined;
}

export interface AgentAdminOptions {
  readonly directory: AgentDirectory;
  readonly store: AgentStore;
  /** The digest realm the H(A1) values are made for (the gateway's SIP domain). */
  readonly realm: string;
  /** Agents of the config file: read-only here. */
  readonly configured: ReadonlySet<string>;
  readonly tenantExists: (tenant: string) => boolean;
  /** The tenant a queue belongs to, or undefined for no such queue. */
  readonly queueTenant: (queue: string) => string | undefined;
  /** The voices a voicemail greeting may name (`speech.tts.voices`); unset: any. */
  readonly voices?: readonly string[];
  readonly policy?: AgentPolicy;
  /**
   * Why `tenant`'s agent could not be called at `phone` through `trunk`
   * (`config/cross-checks.ts`: the trunks' outbound rules); unset, no agent
   * may have a phone (a gateway without trunks).
   */
  readonly phoneRefusal?: (
    tenant: string,
    trunk: string | undefined,
    phone: string,
  ) => { readonly field: 'trunk' | 'phone'; readonly detail: string } | undefined;
  readonly logger: Logger;
  readonly now?: () => number;
}

const bad = (detail: string) => new ParleyError('bad_request', detail, { expose: true });
const conflict = (detail: string) => new ParleyError('conflict', detail, { expose: true });

function toConfig(agent: StoredAgent): AgentConfig {
  return {
    id: agent.id,
    tenant: agent.tenant,
    username: agent.username,
    ha1: agent.ha1,
    queues: agent.profile.queues,
    maxCalls: agent.profile.maxCalls,
    displayName: agent.profile.displayName,
    tier: agent.profile.tier,
    skills: agent.profile.skills,
    digestAlgorithms: agent.profile.digestAlgorithms,
    contact: agent.profile.contact,
    phone: agent.profile.phone,
    trunk: agent.profile.trunk,
    voicemail: agent.profile.voicemail,
    source: 'api',
  };
}

export class AgentAdmin {
  readonly #o: AgentAdminOptions;
  readonly #log: Logger;
  readonly #now: () => number;

  constructor(options: AgentAdminOptions) {
    this.#o = options;
    this.#log = options.logger.child({ module: 'agent-admin' });
    this.#now = options.now ?? Date.now;
  }

  #phoneRefusal(tenant: string, trunk: string | undefined, phone: string) {
    const check = this.#o.phoneRefusal;
    return check
      ? check(tenant, trunk, phone)
      : { field: 'phone' as const, detail: 'this gateway has no trunks to call a number through' };
  }

  /** Puts the stored agents into the directory (at start-up, after the config's). */
  async load(): Promise<number> {
    let loaded = 0;
    for (const agent of await this.#o.store.list()) {
      const skip = (why: string) =>
        this.#log.warn({ agentId: agent.id }, `stored agent skipped: ${why}`);
      if (this.#o.configured.has(agent.id)) {
        skip('the config file defines an agent with this id');
        continue;
      }
      const contact = agent.profile.contact;
      const badContact = contact === undefined ? undefined : checkAgentContact(contact);
      if (badContact) {
        skip(`its contact is not accepted any more (${badContact}); set it again`);
        continue;
      }
      const { phone, trunk } = agent.profile;
      const badPhone =
        phone === undefined ? undefined : this.#phoneRefusal(agent.tenant, trunk, phone);
      if (badPhone) {
        skip(`its ${badPhone.field} is not accepted any more (${badPhone.detail}); set it again`);
        continue;
      }
      if (agent.realm !== this.#o.realm) {
        this.#log.warn(
          { agentId: agent.id, storedRealm: agent.realm, realm: this.#o.realm },
          'stored agent has credentials for another SIP domain: set its password again',
        );
      }
      try {
        this.#o.directory.upsert(toConfig(agent));
        loaded += 1;
      } catch (error) {
        skip((error as Error).message);
      }
    }
    return loaded;
  }

  /**
   * Creates or replaces an agent. `scope` is the tenant the caller's API key is
   * bound to (undefined: any tenant).
   */
  async put(
    scope: string | undefined,
    id: string,
    body: unknown,
  ): Promise<{ created: boolean; agent: AgentPresence }> {
    if (!AGENT_ID.test(id)) throw bad('the agent id is 1-64 of A-Z a-z 0-9 . _ -');
    const parsed = agentInputSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw bad(`${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
    }
    const input = parsed.data;
    const tenant = input.tenant ?? scope;
    if (tenant === undefined) throw bad('tenant: required with an API key for every tenant');
    if (scope !== undefined && tenant !== scope)
      throw bad(`tenant: this API key manages tenant "${scope}" only`);
    if (!this.#o.tenantExists(tenant)) throw bad(`tenant: no tenant "${tenant}"`);
    for (const queue of input.queues) {
      const owner = this.#o.queueTenant(queue);
      if (owner !== tenant) throw bad(`queues: no queue "${queue}" for tenant "${tenant}"`);
    }
    // An unknown voice would only fail at call time, the caller hearing no greeting.
    for (const key of ['greeting', 'closedGreeting'] as const) {
      const voice = input.voicemail?.[key]?.voice;
      if (voice !== undefined && this.#o.voices && !this.#o.voices.includes(voice))
        throw bad(`voicemail.${key}.voice: "${voice}" is not one of speech.tts.voices`);
    }
    const username = input.username ?? id;
    // A tenant's key names agents only inside its namespace: another tenant's ids and
    // usernames are never "taken" for it, so trying them tells it nothing.
    const outside =
      scope !== undefined ? this.#o.policy?.nameRefusal(tenant, id, username) : undefined;
    if (outside) throw bad(outside);
    const pointsAt =
      input.contact !== undefined
        ? this.#o.policy?.contactRefusal(tenant, input.contact)
        : undefined;
    if (pointsAt) throw bad(`contact: ${pointsAt}`);
    const unreachable =
      input.phone !== undefined ? this.#phoneRefusal(tenant, input.trunk, input.phone) : undefined;
    if (unreachable) throw bad(`${unreachable.field}: ${unreachable.detail}`);
    if (this.#o.configured.has(id))
      throw conflict(`agent "${id}" is defined in the config file; change it there`);
    const existing = await this.#o.store.get(id);
    if (existing && existing.tenant !== tenant) throw conflict(`the agent id "${id}" is taken`);
    const holder = this.#o.directory.credentials(username);
    if (holder && holder.agentId !== id) throw conflict(`the username "${username}" is taken`);

    let ha1 = existing?.ha1;
    if (input.password !== undefined) {
      ha1 = {
        MD5: digestHa1(username, this.#o.realm, input.password, 'MD5'),
        'SHA-256': digestHa1(username, this.#o.realm, input.password, 'SHA-256'),
      };
    } else if (!existing) {
      throw bad('password: required to create an agent');
    } else if (existing.username !== username || existing.realm !== this.#o.realm) {
      throw bad('password: required to change the username (the digest secret depends on it)');
    }
    const now = this.#now();
    const agent: StoredAgent = {
      id,
      tenant,
      username,
      realm: this.#o.realm,
      ha1: ha1!,
      profile: {
        queues: input.queues,
        maxCalls: input.maxCalls,
        ...(input.displayName !== undefined ? { displayName: input.displayName } : {}),
        ...(input.tier !== undefined ? { tier: input.tier } : {}),
        ...(input.skills !== undefined ? { skills: input.skills } : {}),
        ...(input.digestAlgorithms !== undefined
          ? { digestAlgorithms: input.digestAlgorithms }
          : {}),
        ...(input.contact !== undefined ? { contact: input.contact } : {}),
        ...(input.phone !== undefined ? { phone: input.phone } : {}),
        ...(input.trunk !== undefined ? { trunk: input.trunk } : {}),
        ...(input.voicemail !== undefined ? { voicemail: input.voicemail } : {}),
      },
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    // Stored first: an agent the directory routes to is never one a restart would lose.
    await this.#o.store.put(agent);
    this.#o.directory.upsert(toConfig(agent));
    this.#log.info(
      { agentId: id, tenant, created: !existing },
      existing ? 'agent updated' : 'agent created',
    );
    return { created: !existing, agent: this.#o.directory.get(id)! };
  }

  /** Deletes an API-managed agent; its phones are unregistered and its desk signed out. */
  async remove(scope: string | undefined, id: string): Promise<void> {
    const existing = await this.#o.store.get(id);
    if (!existing || (scope !== undefined && existing.tenant !== scope)) {
      if (
        this.#o.configured.has(id) &&
        (scope === undefined || this.#o.directory.get(id)?.tenant === scope)
      )
        throw conflict(`agent "${id}" is defined in the config file; remove it there`);
      throw new ParleyError('not_found', `no agent "${id}"`, { expose: true });
    }
    await this.#o.store.delete(id);
    this.#o.directory.remove(id);
    this.#log.info({ agentId: id, tenant: existing.tenant }, 'agent deleted');
  }
}
