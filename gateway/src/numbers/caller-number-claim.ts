/**
 * S6: "a web application assigns a number … that uniquely identifies the
 * current Web session, and injects this number into a signalling message …
 * towards a WebRTC gateway". In Parley the company's web application may put
 * that number in the call token as `callerNumber`; the gateway takes it only
 * when it lies in the tenant's own blocks, so one company cannot present
 * another's numbers (or any number at all) to the telephone network.
 */
import type { CallTokenPublicClaims, PrivateClaims } from '@parley/shared/tokens';
import { E164, type NumberRanges } from './number-ranges.js';

/** Why a claim was not taken (the metric's `reason` label). */
export type ClaimRefusal = 'not_e164' | 'no_ranges' | 'outside_ranges';

export type ClaimCheck =
  | { readonly ok: true; readonly number: string }
  | { readonly ok: false; readonly reason: ClaimRefusal };

/**
 * The token's `callerNumber` claim: the private claims' (only the gateway reads
 * them) first, else the public claims'. Undefined when neither names one.
 */
export function callerNumberClaim(token: {
  readonly claims: CallTokenPublicClaims;
  readonly privateClaims: PrivateClaims;
}): unknown {
  return token.privateClaims.callerNumber ?? token.claims.callerNumber;
}

/**
 * Whether a claim may be used: a string in E.164 exactly (no separators, no
 * national form: a value that chooses what the telephone network shows is
 * taken as written or not at all) inside the tenant's blocks.
 */
export function checkCallerNumberClaim(
  claim: unknown,
  ranges: NumberRanges | undefined,
): ClaimCheck {
  if (typeof claim !== 'string' || !E164.test(claim)) return { ok: false, reason: 'not_e164' };
  if (!ranges || ranges.empty) return { ok: false, reason: 'no_ranges' };
  if (!ranges.has(claim)) return { ok: false, reason: 'outside_ranges' };
  return { ok: true, number: claim };
}
