/**
 * Whether a failed query may succeed if tried again: an error of the connection, not of the
 * server (refused, reset, timed out: no severity), a connection exception (class 08), the
 * server shutting down or starting (57P01-57P03), too many connections (53300). Anything else
 * (a constraint, a syntax error) fails the same way every time.
 */
export function transientPgError(err: unknown): boolean {
  const { code, severity } = (err ?? {}) as { code?: unknown; severity?: unknown };
  if (typeof severity !== 'string' || typeof code !== 'string') return true;
  return code.startsWith('08') || /^57P0[123]$/.test(code) || code === '53300';
}

/** 23505 unique_violation: a key another transaction (or gateway) took first. */
export const isUniqueViolation = (err: unknown): boolean =>
  (err as { code?: unknown } | null)?.code === '23505';
