/**
 * Short-lived TURN credentials, the "TURN REST API" scheme coturn implements
 * (`use-auth-secret` + `static-auth-secret`, draft-uberti-behave-turn-rest):
 * the username is `<expiry unix seconds>:<user>` and the password is
 * base64(HMAC-SHA1(secret, username)). The TURN server checks both with the
 * same secret and refuses the username once its time has passed, so nothing
 * long-lived reaches a browser. Node only (node:crypto).
 */
import { createHmac } from 'node:crypto';
import { ParleyError } from '../errors/index.js';

export interface TurnRestOptions {
  /** The TURN server's `static-auth-secret`. */
  readonly secret: string;
  /** `turn:` / `turns:` URLs of the TURN server. */
  readonly urls: readonly string[];
  /** How long the credentials work. */
  readonly ttlSeconds: number;
  /** Shown in the TURN server's logs after the expiry: 1–64 of `A-Z a-z 0-9 . _ -`. Default `parley`. */
  readonly user?: string;
  /** ms since the epoch. Default `Date.now()`. */
  readonly now?: number;
}

export interface TurnCredentials {
  readonly urls: readonly string[];
  readonly username: string;
  readonly credential: string;
  readonly expiresAt: Date;
}

const TURN_URL = /^turns?:[^\s]+$/;
const TURN_USER = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Any name (a tenant id) as a user `turnRestCredentials` takes: coturn splits the
 * username at the first ':' and logs the rest, so other characters become `_`.
 */
export function turnUserName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64) || 'parley';
}

/** Fresh credentials; throws `ParleyError('invalid_config')` on bad options. */
export function turnRestCredentials(options: TurnRestOptions): TurnCredentials {
  const { secret, urls, ttlSeconds } = options;
  if (typeof secret !== 'string' || secret.length < 16) {
    throw new ParleyError('invalid_config', 'turn: secret must be at least 16 characters');
  }
  if (!Array.isArray(urls) || urls.length === 0 || !urls.every((u) => TURN_URL.test(u))) {
    throw new ParleyError('invalid_config', 'turn: urls must be turn: or turns: URLs');
  }
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) {
    throw new ParleyError('invalid_config', 'turn: ttlSeconds must be a positive integer');
  }
  const user = options.user ?? 'parley';
  // coturn splits the username at the first ':' (its rest-api-separator) and logs the rest.
  if (typeof user !== 'string' || !TURN_USER.test(user)) {
    throw new ParleyError('invalid_config', 'turn: user must be 1-64 of A-Z a-z 0-9 . _ -');
  }
  const now = options.now ?? Date.now();
  if (!Number.isFinite(now)) {
    throw new ParleyError('invalid_config', 'turn: now must be a finite number of ms');
  }
  const expiry = Math.floor(now / 1000) + ttlSeconds;
  const username = `${expiry}:${user}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { urls: [...urls], username, credential, expiresAt: new Date(expiry * 1000) };
}
