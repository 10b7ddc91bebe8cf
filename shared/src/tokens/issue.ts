import { randomUUID } from 'node:crypto';
import type { JWK } from 'jose';
import { ParleyError } from '../errors/index.js';
import {
  CALL_TOKEN_TYP,
  DEFAULT_TTL_SECONDS,
  MAX_TTL_SECONDS,
  PRIVATE_CLAIMS_CTY,
  type CallTokenPublicClaims,
  type EncryptedEnvelope,
  type PrivateClaims,
} from './claims.js';
import { encryptEcdhEs, signCompact, type JoseSigningAlgorithm } from './compact.js';
import { importEncryptionKey, importSigningKey, type ImportedKey } from './keys.js';

export interface CallTokenIssuerOptions {
  /** Tenant id, the `iss` claim. */
  readonly issuer: string;
  /** Gateway id, the `aud` claim. */
  readonly audience: string;
  /** The tenant's private signing JWK (ES256 or EdDSA, with `kid`). */
  readonly signingKey: JWK;
  /** The gateway's public encryption JWK (ECDH-ES+A256KW, with `kid`), from its /.well-known/jwks.json. */
  readonly encryptionKey: JWK;
  readonly defaultTtlSeconds?: number;
  readonly now?: () => number;
}

export interface IssueParams {
  /** Web session id, the `sub` claim. */
  readonly subject: string;
  /** Space-separated scope entries, e.g. `queue:sales`. */
  readonly scope: string;
  /** Page origin, e.g. `https://shop.example`. */
  readonly origin: string;
  readonly privateClaims?: PrivateClaims;
  /** The session's caller-ID number (E.164), a public claim (S6); or `privateClaims.callerNumber`. */
  readonly callerNumber?: string;
  /** Default 60 s; more than 300 s is refused. */
  readonly ttlSeconds?: number;
  readonly jti?: string;
}

export interface IssuedCallToken {
  readonly token: string;
  readonly claims: CallTokenPublicClaims;
  readonly expiresAt: Date;
}

export interface CallTokenIssuer {
  issue(params: IssueParams): Promise<IssuedCallToken>;
}

/** Imports the keys once and returns an issuer for many tokens. */
export async function createCallTokenIssuer(
  options: CallTokenIssuerOptions,
): Promise<CallTokenIssuer> {
  const signing = importSigningKey(options.signingKey);
  const encryption = importEncryptionKey(options.encryptionKey);
  if (signing.key.type !== 'private') throw new TypeError('signingKey must be a private JWK');
  const now = options.now ?? Date.now;
  const defaultTtl = options.defaultTtlSeconds ?? DEFAULT_TTL_SECONDS;
  checkTtl(defaultTtl);
  return {
    issue: (params) => issueWith(options, signing, encryption, now, defaultTtl, params),
  };
}

/** Issues one token (imports the keys each time: use {@link createCallTokenIssuer} for many). */
export async function issueCallToken(
  options: CallTokenIssuerOptions & IssueParams,
): Promise<IssuedCallToken> {
  return (await createCallTokenIssuer(options)).issue(options);
}

function checkTtl(ttl: number): void {
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > MAX_TTL_SECONDS) {
    throw new ParleyError(
      'bad_request',
      `ttlSeconds must be a whole number from 1 to ${MAX_TTL_SECONDS}, got ${ttl}`,
    );
  }
}

function requireText(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ParleyError('bad_request', `${name} must be a non-empty string`);
  }
}

async function issueWith(
  options: CallTokenIssuerOptions,
  signing: ImportedKey,
  encryption: ImportedKey,
  now: () => number,
  defaultTtl: number,
  params: IssueParams,
): Promise<IssuedCallToken> {
  const ttl = params.ttlSeconds ?? defaultTtl;
  checkTtl(ttl);
  requireText('subject', params.subject);
  requireText('scope', params.scope);
  requireText('origin', params.origin);
  if (params.callerNumber !== undefined) requireText('callerNumber', params.callerNumber);
  const iat = Math.floor(now() / 1000);
  const jti = params.jti ?? randomUUID();
  const envelope: EncryptedEnvelope = {
    iss: options.issuer,
    jti,
    claims: params.privateClaims ?? {},
  };
  const enc = encryptEcdhEs(new TextEncoder().encode(JSON.stringify(envelope)), encryption.key, {
    kid: encryption.kid,
    cty: PRIVATE_CLAIMS_CTY,
  });
  const claims: CallTokenPublicClaims = {
    iss: options.issuer,
    aud: options.audience,
    sub: params.subject,
    jti,
    iat,
    nbf: iat,
    exp: iat + ttl,
    scope: params.scope,
    origin: params.origin,
    ...(params.callerNumber === undefined ? {} : { callerNumber: params.callerNumber }),
  };
  const token = signCompact(
    { alg: signing.alg, kid: signing.kid, typ: CALL_TOKEN_TYP },
    { ...claims, enc },
    signing.alg as JoseSigningAlgorithm,
    signing.key,
  );
  return { token, claims, expiresAt: new Date(claims.exp * 1000) };
}
