/**
 * Agent desk sessions: an HMAC-signed token in an HttpOnly, SameSite=Strict
 * cookie (`parley_desk`), naming the agent and its tenant, valid 12 hours.
 * Stateless: any gateway process with the same secret accepts it.
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

export class DeskSessions {
  readonly #secret: Buffer;
  readonly #now: () => number;

  constructor(options: { secret?: string | undefined; now?: () => number } = {}) {
    this.#secret = options.secret ? Buffer.from(options.secret) : randomBytes(32);
    this.#now = options.now ?? Date.now;
  }

  issue(agentId: string, tenant: string): { token: string; expiresAt: number } {
    const expiresAt = this.#now() + TTL_MS;
    const body = Buffer.from(JSON.stringify({ a: agentId, t: tenant, e: expiresAt })).toString(
      'base64url',
    );
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
      const { a, t, e } = JSON.parse(Buffer.from(body, 'base64url').toString()) as {
        a: unknown;
        t: unknown;
        e: unknown;
      };
      if (
        typeof a !== 'string' ||
        typeof t !== 'string' ||
        typeof e !== 'number' ||
        e <= this.#now()
      )
        return undefined;
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
