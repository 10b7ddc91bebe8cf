/**
 * The registrar's digest check: a response against the agent's password or
 * its stored H(A1) per algorithm (RFC 8760), and the stand-in for an unknown
 * user that costs the same work and never matches.
 */
import { randomUUID } from 'node:crypto';
import { verifyDigestResponse, type DigestCredentials } from '../message/index.js';
import type { RegistrarCredentials } from './registrar.js';

/** Stands in for an unknown user: the same digest work, never a match. */
export const NOBODY: RegistrarCredentials = {
  agentId: '',
  password: `\u0000nobody-${randomUUID()}`,
};

/** Checks the digest response against the password, or the stored H(A1) of its algorithm. */
export function verifySecret(
  credentials: DigestCredentials,
  known: RegistrarCredentials,
  method: string,
): boolean {
  const algorithm = credentials.algorithm ?? 'MD5';
  const base = algorithm.startsWith('SHA-256')
    ? 'SHA-256'
    : algorithm.startsWith('MD5')
      ? 'MD5'
      : undefined;
  const ha1 = base ? known.ha1?.[base] : undefined;
  if (known.password === undefined && ha1 === undefined) return false;
  try {
    return verifyDigestResponse(credentials, {
      method,
      username: credentials.username,
      ...(known.password === undefined ? { ha1 } : { password: known.password }),
    });
  } catch {
    return false;
  }
}
