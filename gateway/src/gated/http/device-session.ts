/**
 * Resident device sessions: an HMAC-signed bearer token naming the tenant,
 * the device address and its credential stamp, valid 12 hours (like the
 * desk's, but a bearer token rather than a cookie: the resident element may
 * run on the facility's own kiosk page, another origin). Stateless; a new
 * device credential or a deleted device voids it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const TTL_MS = 12 * 3600_000;

export interface DeviceIdentity {
  readonly tenant: string;
  readonly address: string;
  readonly expiresAt: number;
}

/** The stamp a device's credential has now, or undefined when the device is gone. */
export type DeviceStampLookup = (tenant: string, address: string) => Promise<string | undefined>;

export class DeviceSessions {
  readonly #secret: Buffer;
  readonly #now: () => number;
  readonly #stamp: DeviceStampLookup;

  constructor(options: {
    secret?: string | undefined;
    now: () => number;
    stamp: DeviceStampLookup;
  }) {
    this.#secret = options.secret ? Buffer.from(`resident:${options.secret}`) : randomBytes(32);
    this.#now = options.now;
    this.#stamp = options.stamp;
  }

  issue(tenant: string, address: string, stamp: string): { token: string; expiresAt: number } {
    const expiresAt = this.#now() + TTL_MS;
    const body = Buffer.from(
      JSON.stringify({ t: tenant, a: address, k: stamp, e: expiresAt }),
    ).toString('base64url');
    return { token: `${body}.${this.#mac(body)}`, expiresAt };
  }

  async verify(token: string | undefined): Promise<DeviceIdentity | undefined> {
    if (!token || token.length > 2048) return undefined;
    const [body, mac, extra] = token.split('.');
    if (!body || !mac || extra !== undefined) return undefined;
    const expected = Buffer.from(this.#mac(body));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    let claims: Record<string, unknown>;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    const { t, a, k, e } = claims;
    if (typeof t !== 'string' || typeof a !== 'string' || typeof e !== 'number') return undefined;
    if (e <= this.#now() || (await this.#stamp(t, a)) !== k) return undefined;
    return { tenant: t, address: a, expiresAt: e };
  }

  #mac(body: string): string {
    return createHmac('sha256', this.#secret).update(body).digest('base64url');
  }
}
