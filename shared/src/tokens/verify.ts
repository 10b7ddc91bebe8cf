import { createPublicKey, type JsonWebKey as NodeJsonWebKey } from 'node:crypto';
import type { JWK } from 'jose';
import {
  CALL_TOKEN_TYP,
  CONTENT_ENCRYPTION_ALGORITHM,
  DEFAULT_CLOCK_TOLERANCE_SECONDS,
  DEFAULT_MAX_TOKEN_BYTES,
  KEY_MANAGEMENT_ALGORITHM,
  MAX_TTL_SECONDS,
  SIGNING_ALGORITHMS,
  scopeAllows,
  type CallTokenPublicClaims,
  type PrivateClaims,
  type SigningAlgorithm,
  type VerifiedCallToken,
} from './claims.js';
import { ParleyError } from '../errors/index.js';
import { CallTokenError } from './errors.js';
import { decryptEcdhEs, verifyCompact } from './compact.js';
import { importEncryptionKey, type ImportedKey } from './keys.js';
import type { ReplayStore } from './replay-store.js';
import type { TenantKeyResolver } from './tenant-keys.js';

export interface CallTokenVerifierOptions {
  /** This gateway's id: tokens must carry it in `aud`. */
  readonly audience: string;
  /** Where tenant signing keys come from. */
  readonly tenantKeys: TenantKeyResolver;
  /** The gateway's private encryption JWKs (several during a rotation), by `kid`. */
  readonly decryptionKeys: readonly JWK[];
  /** Single use of `jti`. */
  readonly replayStore: ReplayStore;
  readonly clockToleranceSeconds?: number;
  readonly maxTokenBytes?: number;
  readonly now?: () => number;
}

/** What the caller knows about where the token was presented. */
export interface VerifyContext {
  /** The page origin the request came from (e.g. the WebSocket `Origin`); checked when given. */
  readonly origin?: string;
  /** The scope entry the call needs (e.g. `queue:sales`); checked when given. */
  readonly requiredScope?: string;
  /** When false, `jti` is checked but not consumed (a dry run). Default true. */
  readonly consume?: boolean;
  /**
   * What the token is spent on (a SIP INVITE's Call-ID): the same use again
   * is not a replay (`ReplayStore.consume`), any other is.
   */
  readonly use?: string;
  /**
   * The caller's own checks of the verified public claims (e.g. the gateway's
   * tenant origin allowlist), run after every other check and before `jti` is
   * used up, so a token they refuse is not burned. Throw a CallTokenError to
   * refuse; any other error is refused as `malformed`.
   */
  readonly check?: (claims: CallTokenPublicClaims) => void;
}

export interface CallTokenVerifier {
  /** Resolves with the verified claims or rejects with a CallTokenError; nothing else. */
  verify(token: unknown, context?: VerifyContext): Promise<VerifiedCallToken>;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const decoder = new TextDecoder('utf-8', { fatal: true });

function fail(reason: CallTokenError['code'], detail?: string, cause?: unknown): never {
  throw new CallTokenError(reason, detail, cause === undefined ? undefined : { cause });
}

function decodeJsonBytes(bytes: Uint8Array, what = 'payload'): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (cause) {
    fail('malformed', `${what} is not UTF-8 JSON`, cause);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail('malformed', `${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function decodeJsonPart(
  part: string,
  what: string,
  reason: 'malformed' | 'decrypt_failed' = 'malformed',
): Record<string, unknown> {
  try {
    return decodeJsonBytes(Buffer.from(part, 'base64url'), what);
  } catch (error) {
    if (reason === 'malformed') throw error;
    fail(reason, `${what} is not a base64url JSON object`, error);
  }
}

function importEpk(jwk: Record<string, unknown>) {
  return createPublicKey({ key: jwk as NodeJsonWebKey, format: 'jwk' });
}

/** A compact JWE: five parts, the IV, ciphertext and tag non-empty (RFC 7516 §7.1). */
function splitJwe(enc: string): string[] {
  const segments = enc.split('.');
  if (segments.length !== 5) fail('decrypt_failed', 'enc must be a compact JWE (5 parts)');
  segments.forEach((segment, i) => {
    if (!/^[A-Za-z0-9_-]*$/.test(segment) || (segment.length === 0 && i !== 1)) {
      fail('decrypt_failed', `enc part ${i + 1} is not base64url`);
    }
  });
  return segments;
}

function splitJws(token: string): string[] {
  const segments = token.split('.');
  if (segments.length !== 3) fail('malformed', 'a compact JWS has 3 parts');
  segments.forEach((segment, i) => {
    if (!BASE64URL.test(segment)) fail('malformed', `part ${i + 1} is not base64url`);
  });
  return segments;
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

function normaliseOrigin(origin: string): string {
  try {
    return new URL(origin).origin;
  } catch {
    return origin;
  }
}

interface ReadClaims {
  readonly claims: CallTokenPublicClaims;
  readonly audiences: readonly string[];
  readonly enc: string;
}

function readClaims(payload: Record<string, unknown>): ReadClaims {
  const { iss, aud, sub, jti, iat, exp, scope, origin, enc } = payload;
  const nbf = payload['nbf'] ?? iat;
  if (!isText(iss) || !isText(sub) || !isText(jti) || !isText(scope) || !isText(origin)) {
    fail('malformed', 'iss, sub, jti, scope and origin must be non-empty strings');
  }
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (audiences.length === 0 || !audiences.every(isText)) {
    fail('malformed', 'aud must be a string or an array of strings');
  }
  if (!isTime(iat) || !isTime(exp) || !isTime(nbf)) {
    fail('malformed', 'iat, nbf and exp must be integers');
  }
  if (!isText(enc)) fail('malformed', 'enc must be a compact JWE');
  const callerNumber = payload['callerNumber'];
  if (callerNumber !== undefined && !isText(callerNumber))
    fail('malformed', 'callerNumber must be a non-empty string');
  const claims = {
    iss,
    aud: audiences.join(' '),
    sub,
    jti,
    iat,
    nbf,
    exp,
    scope,
    origin,
    ...(callerNumber === undefined ? {} : { callerNumber }),
  };
  return { claims, audiences, enc };
}

/**
 * Imports the gateway's decryption keys once and returns a verifier. The order
 * of checks is deliberate: cheap structural checks first, the signature before
 * any claim is trusted, and the replay store last so that only a token that
 * passed everything else uses up its `jti`.
 */
export async function createCallTokenVerifier(
  options: CallTokenVerifierOptions,
): Promise<CallTokenVerifier> {
  const decryptionKeys = new Map<string, ImportedKey>();
  for (const jwk of options.decryptionKeys) {
    const imported = importEncryptionKey(jwk);
    if (imported.key.type !== 'private')
      throw new TypeError(`decryption key ${imported.kid} is not private`);
    decryptionKeys.set(imported.kid, imported);
  }
  const tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  const maxBytes = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
  const now = options.now ?? Date.now;

  async function verifyToken(token: unknown, context: VerifyContext): Promise<VerifiedCallToken> {
    if (typeof token !== 'string' || token.length === 0) fail('malformed', 'not a string');
    if (token.length > maxBytes) fail('too_large', `${token.length} > ${maxBytes} bytes`);
    const [headerPart = '', payloadPart = '', signaturePart = ''] = splitJws(token);

    const header = decodeJsonPart(headerPart, 'header');
    const alg = header['alg'];
    if (typeof alg !== 'string' || !(SIGNING_ALGORITHMS as readonly string[]).includes(alg)) {
      fail('unsupported_algorithm', String(alg));
    }
    if (header['typ'] !== CALL_TOKEN_TYP) fail('bad_header', `typ must be ${CALL_TOKEN_TYP}`);
    if (header['crit'] !== undefined) fail('bad_header', 'no crit extension is supported');
    const kid = header['kid'];
    if (!isText(kid)) fail('bad_header', 'kid is missing');

    // Read only to find the key; nothing from it is trusted before the signature checks.
    const payload = decodeJsonPart(payloadPart, 'payload');
    const unverifiedIss = payload['iss'];
    if (!isText(unverifiedIss)) fail('malformed', 'iss is missing');
    const signingKey = await options.tenantKeys.resolve(unverifiedIss, kid);
    if (signingKey.alg !== alg)
      fail('unsupported_algorithm', `key ${kid} is for ${signingKey.alg}`);

    if (
      !verifyCompact(
        headerPart,
        payloadPart,
        signaturePart,
        alg as SigningAlgorithm,
        signingKey.key,
      )
    ) {
      fail('bad_signature');
    }
    // The signature covers payloadPart, so what was decoded from it above is now trusted.
    const { claims, audiences, enc } = readClaims(payload);

    if (!audiences.includes(options.audience)) fail('wrong_audience', claims.aud);
    const nowSeconds = Math.floor(now() / 1000);
    if (claims.nbf > nowSeconds + tolerance || claims.iat > nowSeconds + tolerance) {
      fail('not_yet_valid', `nbf ${claims.nbf}, iat ${claims.iat}, now ${nowSeconds}`);
    }
    if (claims.exp <= nowSeconds - tolerance)
      fail('expired', `exp ${claims.exp}, now ${nowSeconds}`);
    if (claims.exp - claims.iat > MAX_TTL_SECONDS || claims.exp <= claims.iat) {
      fail('lifetime_too_long', `${claims.exp - claims.iat} s`);
    }
    if (
      context.origin !== undefined &&
      normaliseOrigin(context.origin) !== normaliseOrigin(claims.origin)
    ) {
      fail('origin_mismatch', `${context.origin} is not ${claims.origin}`);
    }
    if (context.requiredScope !== undefined && !scopeAllows(claims.scope, context.requiredScope)) {
      fail('scope_denied', context.requiredScope);
    }

    const privateClaims = await decryptEnvelope(enc, claims.iss, claims.jti);

    if (context.check) {
      try {
        context.check(claims);
      } catch (error) {
        if (error instanceof CallTokenError) throw error;
        fail('malformed', 'the caller could not check the claims', error);
      }
    }

    if (context.consume !== false) {
      const first = await options.replayStore.consume(
        `${claims.iss}\n${claims.jti}`,
        (claims.exp + tolerance) * 1000,
        context.use,
      );
      if (!first) fail('replayed', claims.jti);
    }
    return {
      claims,
      privateClaims,
      kid,
      alg: alg as SigningAlgorithm,
    };
  }

  async function decryptEnvelope(enc: string, iss: string, jti: string): Promise<PrivateClaims> {
    const parts = splitJwe(enc);
    const encHeader = decodeJsonPart(parts[0] ?? '', 'enc header', 'decrypt_failed');
    if (
      encHeader['alg'] !== KEY_MANAGEMENT_ALGORITHM ||
      encHeader['enc'] !== CONTENT_ENCRYPTION_ALGORITHM
    ) {
      fail(
        'decrypt_failed',
        `enc must use ${KEY_MANAGEMENT_ALGORITHM} with ${CONTENT_ENCRYPTION_ALGORITHM}`,
      );
    }
    if (encHeader['crit'] !== undefined) fail('decrypt_failed', 'no crit extension is supported');
    const encKid = encHeader['kid'];
    const key = isText(encKid) ? decryptionKeys.get(encKid) : undefined;
    if (!key) fail('decrypt_failed', `no decryption key ${String(encKid)}`);
    let plaintext: Buffer;
    try {
      plaintext = decryptEcdhEs(parts, encHeader, key.key, importEpk);
    } catch (cause) {
      fail('decrypt_failed', cause instanceof Error ? cause.message : undefined, cause);
    }
    let envelope: unknown;
    try {
      envelope = JSON.parse(decoder.decode(plaintext));
    } catch (cause) {
      fail('decrypt_failed', 'plaintext is not JSON', cause);
    }
    if (typeof envelope !== 'object' || envelope === null)
      fail('decrypt_failed', 'plaintext is not an object');
    const { iss: innerIss, jti: innerJti, claims } = envelope as Record<string, unknown>;
    if (innerIss !== iss || innerJti !== jti)
      fail('enc_mismatch', 'iss/jti of enc differ from the token');
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
      fail('decrypt_failed', 'private claims are not an object');
    }
    return claims as PrivateClaims;
  }

  return {
    async verify(token, context = {}) {
      try {
        return await verifyToken(token, context);
      } catch (error) {
        // The promise: nothing but a CallTokenError ever leaves.
        if (error instanceof CallTokenError) throw error;
        throw new CallTokenError('malformed', 'unexpected input', { cause: error });
      }
    },
  };
}

/** {@link CallTokenVerifierOptions} and the {@link VerifyContext} of the one token. */
export type VerifyCallTokenOptions = CallTokenVerifierOptions & VerifyContext;

/**
 * Verifies one token: imports the decryption keys each time, so use
 * {@link createCallTokenVerifier} for many. Same result as `verify`: resolves
 * with the verified claims or rejects with a CallTokenError (the token's
 * refusal). Keys that cannot be imported are the caller's configuration, not
 * the token's fault: they reject with a ParleyError `invalid_config`. Nothing
 * untyped ever leaves. `replayStore` stays required: a store made per call
 * would never see a token twice.
 */
export async function verifyCallToken(
  token: unknown,
  options: VerifyCallTokenOptions,
): Promise<VerifiedCallToken> {
  let verifier: CallTokenVerifier;
  try {
    verifier = await createCallTokenVerifier(options);
  } catch (error) {
    throw new ParleyError(
      'invalid_config',
      `decryptionKeys: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return verifier.verify(token, options);
}
