/**
 * PINs are stored as scrypt hashes (RFC 7914, node:crypto's OpenSSL
 * implementation, run on libuv's thread pool so the event loop never waits),
 * in a PHC-style string that carries its own parameters:
 *
 *   $scrypt$ln=14,r=8,p=1$<salt, base64>$<32-byte hash, base64>
 *
 * Defaults: N = 2^14, r = 8, p = 1 (16 MiB of memory per hash, about 50 ms
 * on one core of the benchmark machine when idle), a 16-byte random salt.
 * That is below OWASP's figure for passwords (N = 2^17) on purpose: a PIN
 * space of 10^4 to 10^8 falls to an offline search at any cost factor, so what
 * protects a PIN is the online lockout (`pin-guard.ts`) and keeping the
 * database; the slow hash with its salt only makes a stolen table cost
 * minutes per resident instead of microseconds, without putting 100 ms+ on
 * every call a resident answers. Stored hashes keep their parameters, so
 * raising them later needs no migration (old hashes verify with theirs).
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { logN: 14, r: 8, p: 1 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const PHC =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+=*)\$([A-Za-z0-9+/]+=*)$/;

function derive(pin: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.logN;
  const options: ScryptOptions = {
    N,
    r: params.r,
    p: params.p,
    // OpenSSL refuses above maxmem; 128·N·r bytes is what scrypt needs, plus headroom.
    maxmem: 256 * N * params.r + 1024 * 1024,
  };
  return new Promise((resolve, reject) =>
    scrypt(pin.normalize('NFKC'), salt, KEY_BYTES, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

export class PinHasher {
  readonly #params: ScryptParams;
  /** A hash no PIN matches, verified against when a subject does not exist (same time). */
  #dummy: Promise<string> | undefined;

  constructor(params: ScryptParams = DEFAULT_SCRYPT) {
    if (params.logN < 1 || params.logN > 20) throw new RangeError('scrypt logN must be 1-20');
    this.#params = params;
  }

  get params(): ScryptParams {
    return this.#params;
  }

  async hash(pin: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    const key = await derive(pin, salt, this.#params);
    const { logN, r, p } = this.#params;
    return `$scrypt$ln=${logN},r=${r},p=${p}$${salt.toString('base64')}$${key.toString('base64')}`;
  }

  /**
   * Whether `pin` matches `stored`. With `stored` null or undefined (no such
   * resident or account, no PIN set) the work is the same and the answer false,
   * so timing does not tell whether the subject exists. A malformed stored
   * value never matches.
   */
  async verify(pin: string, stored: string | null | undefined): Promise<boolean> {
    if (stored === null || stored === undefined) {
      this.#dummy ??= this.hash('\u0000');
      await this.#check(pin, await this.#dummy);
      return false;
    }
    return this.#check(pin, stored);
  }

  async #check(pin: string, stored: string): Promise<boolean> {
    const m = PHC.exec(stored);
    if (!m) return false;
    const params = { logN: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
    if (params.logN < 1 || params.logN > 20) return false;
    const expected = Buffer.from(m[5] ?? '', 'base64');
    const key = await derive(pin, Buffer.from(m[4] ?? '', 'base64'), params);
    return expected.length === key.length && timingSafeEqual(expected, key);
  }
}
