/**
 * Sealed impression references (S3, S8): the impression a web call claims
 * comes from the visitor's browser (`X-Parley-Impression`), so it is only a
 * claim. The gateway seals each impression it hands a page, `<id>.<mac>` with
 * an HMAC-SHA256 over the impression id, its listing and its device, under a
 * key only the gateway holds (kept in its database, so a restart keeps the
 * references already shown valid). A visitor cannot name another impression
 * or another listing without the key; a reference that does not open is not
 * attributed (the call still goes through, see `marketplace.ts`).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SqliteDatabase } from '../storage/index.js';
import type { PgPool } from '../storage/postgres/index.js';
import type { Impression } from './model.js';

/** 128 bits of the MAC are plenty against guessing and keep the header short (22 characters). */
const MAC_BYTES = 16;
const KEY_NAME = 'impression-seal';

/** The result of opening a reference: the impression it names, or why it does not open. */
export type OpenedReference =
  | { readonly ok: true; readonly impression: Impression }
  | { readonly ok: false; readonly why: 'unsealed' | 'forged' | 'unknown' };

export class ImpressionSeal {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    this.#key = key;
  }

  /** The database's sealing key, made at its first start. */
  static fromDatabase(db: SqliteDatabase): ImpressionSeal {
    db.prepare('INSERT OR IGNORE INTO mp_keys (name, secret) VALUES (?, ?)').run(
      KEY_NAME,
      randomBytes(32),
    );
    const row = db
      .prepare<[string], { secret: Buffer }>('SELECT secret FROM mp_keys WHERE name = ?')
      .get(KEY_NAME);
    if (!row) throw new Error('the impression sealing key is missing');
    return new ImpressionSeal(row.secret);
  }

  /**
   * The cluster's sealing key in PostgreSQL (`storage.kind: postgres`): the
   * first gateway to start makes it, every other reads the same, so a
   * reference one gateway sealed opens on any other.
   */
  static async fromPostgres(pool: PgPool): Promise<ImpressionSeal> {
    await pool.query(
      'INSERT INTO mp_keys (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING',
      [KEY_NAME, randomBytes(32)],
    );
    const { rows } = await pool.query<{ secret: Buffer }>(
      'SELECT secret FROM mp_keys WHERE name = $1',
      [KEY_NAME],
    );
    const secret = rows[0]?.secret;
    if (!secret) throw new Error('the impression sealing key is missing');
    return new ImpressionSeal(secret);
  }

  /** The reference a page gets for an impression: `<impression id>.<mac>`. */
  seal(impression: Pick<Impression, 'id' | 'listingId' | 'deviceId'>): string {
    return `${impression.id}.${this.#mac(impression).toString('base64url')}`;
  }

  /**
   * Opens a reference: the impression when the MAC matches the stored
   * impression's id, listing and device; else why not (`unsealed`: a bare id,
   * `forged`: a MAC that does not match, `unknown`: no such impression).
   */
  async open(
    reference: string,
    find: (id: string) => Promise<Impression | undefined>,
  ): Promise<OpenedReference> {
    const dot = reference.indexOf('.');
    if (dot < 0) return { ok: false, why: 'unsealed' };
    const impression = await find(reference.slice(0, dot));
    if (!impression) return { ok: false, why: 'unknown' };
    const given = Buffer.from(reference.slice(dot + 1), 'base64url');
    const expected = this.#mac(impression);
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { ok: false, why: 'forged' };
    return { ok: true, impression };
  }

  #mac(i: Pick<Impression, 'id' | 'listingId' | 'deviceId'>): Buffer {
    return createHmac('sha256', this.#key)
      .update(`parley-impression-v1\n${i.id}\n${i.listingId}\n${i.deviceId}`)
      .digest()
      .subarray(0, MAC_BYTES);
  }
}
