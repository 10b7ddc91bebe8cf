/** The `typ` header of a Parley call token (RFC 8725 §3.11: explicit typing). */
export const CALL_TOKEN_TYP = 'parley-call+jwt';
/** The `cty` header of the encrypted part. */
export const PRIVATE_CLAIMS_CTY = 'parley-private+json';

export const DEFAULT_TTL_SECONDS = 60;
export const MAX_TTL_SECONDS = 300;
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;
export const DEFAULT_MAX_TOKEN_BYTES = 8192;

export const SIGNING_ALGORITHMS = ['ES256', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];
export const KEY_MANAGEMENT_ALGORITHM = 'ECDH-ES+A256KW';
export const CONTENT_ENCRYPTION_ALGORITHM = 'A256GCM';

/**
 * What a call token allows: a space-separated list (RFC 8693 §4.2 style) of
 * `queue:<name>` and `listing:<id>` entries, and `callback:<destination>`
 * (a queue name or `listing.<id>`): the gateway may call the customer back
 * for that destination, at the number and time in the private `callback`
 * claim (docs/callbacks.md).
 */
export type ScopeEntry = `queue:${string}` | `listing:${string}` | `callback:${string}`;

/** The claims anyone holding the token can read. */
export interface CallTokenPublicClaims {
  /** Tenant id. */
  readonly iss: string;
  /** Gateway id. */
  readonly aud: string;
  /** Web session id. */
  readonly sub: string;
  readonly jti: string;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  /** Space-separated scope entries. */
  readonly scope: string;
  /** The page origin the token was issued for, e.g. `https://shop.example`. */
  readonly origin: string;
  /**
   * The caller-ID number (E.164) the company's web application assigned to
   * this web session (S6); the gateway uses it only inside the tenant's
   * configured blocks. May also be given as a private claim.
   */
  readonly callerNumber?: string;
}

/**
 * The claims only the gateway can read. Anything JSON; the well-known fields are
 * used by the gateway (display name on the agent's phone, routing by tier).
 */
export interface PrivateClaims {
  readonly customerId?: string;
  readonly name?: string;
  readonly phone?: string;
  readonly tier?: string;
  /** As the public `callerNumber`, hidden from the browser; this one wins when both are given. */
  readonly callerNumber?: string;
  /**
   * A callback token's request, as the company's screening accepted it: the
   * number to call (E.164) and when (`now`, `agent-free`, or an ISO 8601
   * instant). The gateway calls exactly this number at this time.
   */
  readonly callback?: CallbackClaim;
  readonly [claim: string]: unknown;
}

/** What a callback token lets the gateway do (the private claim `callback`). */
export interface CallbackClaim {
  readonly phone: string;
  readonly when: string;
}

/** The signed payload: public claims plus the compact JWE in `enc`. */
export interface CallTokenPayload extends CallTokenPublicClaims {
  readonly enc: string;
}

/** What the gateway knows after verifying a token. */
export interface VerifiedCallToken {
  readonly claims: CallTokenPublicClaims;
  readonly privateClaims: PrivateClaims;
  /** Signing key id, for logs. */
  readonly kid: string;
  readonly alg: SigningAlgorithm;
}

/** Plaintext of the JWE: bound to its outer token by `iss` and `jti`. */
export interface EncryptedEnvelope {
  readonly iss: string;
  readonly jti: string;
  readonly claims: PrivateClaims;
}

export function scopeEntries(scope: string): string[] {
  return scope.split(' ').filter((entry) => entry.length > 0);
}

export function formatScope(entries: readonly ScopeEntry[]): string {
  return entries.join(' ');
}

/** True when `required` (e.g. `queue:sales`) is one of the token's scope entries. */
export function scopeAllows(scope: string, required: string): boolean {
  return scopeEntries(scope).includes(required);
}
