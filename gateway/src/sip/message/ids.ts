/**
 * Identifiers a UA or transaction layer creates (RFC 3261 §8.1.1.4, §8.1.1.7, §19.3):
 * random enough to be globally unique, made of token characters only.
 */
import { randomBytes } from 'node:crypto';
import { MAGIC_COOKIE } from './via.js';

/** A Via branch: the RFC 3261 magic cookie and 96 random bits. */
export function generateBranch(): string {
  return MAGIC_COOKIE + randomBytes(12).toString('base64url');
}

/** A From or To tag (at least 32 random bits, §19.3; here 64). */
export function generateTag(): string {
  return randomBytes(8).toString('base64url');
}

/** A Call-ID: 128 random bits, with `@host` when given. */
export function generateCallId(host?: string): string {
  const id = randomBytes(16).toString('base64url');
  return host === undefined ? id : `${id}@${host}`;
}
