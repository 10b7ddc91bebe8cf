/**
 * Agent desk sessions: an HMAC-signed token in an HttpOnly, SameSite=Strict
 * cookie (`parley_desk`), naming the agent, its tenant and a stamp of its
 * credentials, valid 12 hours. Stateless: any gateway process with the same
 * secret accepts it, as long as the agent still exists in that tenant with the
 * same password (deleting an agent or changing its password signs its desks out).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const DESK_COOKIE = 'parley_desk';
const TTL_MS = 12 * 3600_000;

export interface DeskIdentity {
  readonly agentId: string;
  readonly tenant: string;
  readonly expiresAt: number;
}

/** What the desk session must still match: the agent's tenant and credential stamp. */
export type DeskAgentLookup = (
  agentId: string,
) => { readonly tenant: string; readonly stamp: string } | undefined;

export class DeskSessions {
  readonly #secret: Buffer;
  readonly #now: () => number;
  readonly #agent: DeskAgentLookup;

  constructor(options: {
    secret?: string | undefined;
    now?: () => number;
    agent: DeskAgentLookup;
  }) {
    this.#secret = options.secret ? Buffer.from(options.secret) : randomBytes(32);
    this.#now = options.now ?? Date.now;
    this.#agent = options.agent;
  }

  issue(agentId: string): { token: string; expiresAt: number } | undefined {
    const agent = this.#agent(agentId);
    if (!agent) return undefined;
    const expiresAt = this.#now() + TTL_MS;
    const body = Buffer.from(
      JSON.stringify({ a: agentId, t: agent.tenant, k: agent.stamp, e: expiresAt }),
    ).toString('base64url');
    return { token: `${body}.${this.#mac(body)}`, expiresAt };
  }

  verify(token: string | undefined): DeskIdentity | undefined {
    if (!token) return undefined;
    const [body, mac, extra] = token.split('.');
    if (!body || !mac || extra !== undefined) return undefined;
    const expected = Buffer.from(this.#mac(body));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    try {
      const { a, t, k, e } = JSON.parse(Buffer.from(body, 'base64url').toString()) as {
        a: unknown;
        t: unknown;
        k: unknown;
        e: unknown;
      };
      if (typeof a !== 'string' || typeof t !== 'string' || typeof e !== 'number') return undefined;
      if (e <= this.#now()) return undefined;
      const agent = this.#agent(a);
      if (!agent || agent.tenant !== t || agent.stamp !== k) return undefined;
      return { agentId: a, tenant: t, expiresAt: e };
    } catch {
      return undefined;
    }
  }

  /** The identity in a request's cookie, if valid. */
  fromRequest(req: IncomingMessage): DeskIdentity | undefined {
    return this.verify(readCookie(req.headers.cookie, DESK_COOKIE));
  }

  cookie(token: string, expiresAt: number, secure: boolean): string {
    return `${DESK_COOKIE}=${token}; Path=/desk; HttpOnly; SameSite=Strict; Expires=${new Date(expiresAt).toUTCString()}${secure ? '; Secure' : ''}`;
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#secret).update(body).digest('base64url');
  }
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}
