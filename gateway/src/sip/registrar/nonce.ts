import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Stateless digest nonces: `<issued-at ms, base36>.<HMAC>`, so any gateway
 * process with the same secret accepts them and no table grows with
 * unauthenticated traffic. Freshness is checked against `maxAgeMs`; a stale
 * nonce gets a new challenge with `stale=true` (RFC 7616 §3.3).
 */
export class NonceFactory {
  readonly #secret: Buffer;
  readonly #maxAgeMs: number;
  readonly #now: () => number;

  constructor(options: { secret?: Buffer; maxAgeMs?: number; now?: () => number } = {}) {
    this.#secret = options.secret ?? randomBytes(32);
    this.#maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  create(): string {
    const issued = this.#now().toString(36);
    return `${issued}.${this.#mac(issued)}`;
  }

  /** 'valid', 'stale' (ours but too old) or 'invalid' (not ours). */
  check(nonce: string): 'valid' | 'stale' | 'invalid' {
    const [issued, mac, extra] = nonce.split('.');
    if (!issued || !mac || extra !== undefined) return 'invalid';
    const expected = Buffer.from(this.#mac(issued));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'invalid';
    const age = this.#now() - parseInt(issued, 36);
    if (!Number.isFinite(age) || age < -60_000) return 'invalid';
    return age > this.#maxAgeMs ? 'stale' : 'valid';
  }

  #mac(issued: string): string {
    return createHmac('sha256', this.#secret).update(issued).digest('base64url').slice(0, 32);
  }
}
