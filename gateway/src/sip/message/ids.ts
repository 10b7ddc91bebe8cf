/**
 * Identifiers a UA or transaction layer creates (RFC 3261 §8.1.1.4, §8.1.1.7, §19.3):
 * random enough to be globally unique, made of token characters only.
 */
import { randomBytes } from 'node:crypto';
import { MAGIC_COOKIE } from './via.js';

/**
 * Random bytes taken from a pool filled 4 KiB at a time: one call into
 * OpenSSL per ~100 identifiers instead of one each (a call makes several).
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let taken = 0;

function random(size: number): Buffer {
  if (taken + size > pool.length) {
    pool = randomBytes(POOL_BYTES);
    taken = 0;
  }
  const bytes = pool.subarray(taken, taken + size);
  taken += size;
  return bytes;
}

/** A Via branch: the RFC 3261 magic cookie and 96 random bits. */
export function generateBranch(): string {
  return MAGIC_COOKIE + random(12).toString('base64url');
}

/** A From or To tag (at least 32 random bits, §19.3; here 64). */
export function generateTag(): string {
  return random(8).toString('base64url');
}

/** A Call-ID: 128 random bits, with `@host` when given. */
export function generateCallId(host?: string): string {
  const id = random(16).toString('base64url');
  return host === undefined ? id : `${id}@${host}`;
}
