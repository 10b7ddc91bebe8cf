import {
  createPrivateKey,
  createPublicKey,
  type JsonWebKey as NodeJsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { KEY_MANAGEMENT_ALGORITHM, SIGNING_ALGORITHMS, type SigningAlgorithm } from './claims.js';

export type { JWK };

/** A JWK set as published at a JWKS URL (RFC 7517 §5). */
export interface JwkSet {
  keys: JWK[];
}

export interface KeyPairFiles {
  /** The private JWK (keep secret). */
  privateJwk: JWK;
  /** The public JWK (give away). */
  publicJwk: JWK;
}

export type EncryptionCurve = 'P-256' | 'X25519';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'] as const;

/** The public half of a JWK: every private member removed. */
export function publicJwkOf(jwk: JWK): JWK {
  const pub: Record<string, unknown> = { ...jwk };
  for (const member of PRIVATE_MEMBERS) delete pub[member];
  return pub as JWK;
}

async function finish(
  privateKey: CryptoKey,
  publicKey: CryptoKey,
  extra: Pick<JWK, 'alg' | 'use'>,
): Promise<KeyPairFiles> {
  const publicJwk = { ...(await exportJWK(publicKey)), ...extra };
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    privateJwk: { ...(await exportJWK(privateKey)), ...extra, kid },
    publicJwk: { ...publicJwk, kid },
  };
}

/** A tenant's signing key pair (ES256 on P-256, or EdDSA on Ed25519); `kid` is the RFC 7638 thumbprint. */
export async function generateSigningKeyPair(
  alg: SigningAlgorithm = 'ES256',
): Promise<KeyPairFiles> {
  const { privateKey, publicKey } =
    alg === 'EdDSA'
      ? await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
      : await generateKeyPair('ES256', { extractable: true });
  return finish(privateKey, publicKey, { alg, use: 'sig' });
}

/** The gateway's encryption key pair for ECDH-ES+A256KW (P-256 or X25519). */
export async function generateEncryptionKeyPair(
  crv: EncryptionCurve = 'X25519',
): Promise<KeyPairFiles> {
  const { privateKey, publicKey } = await generateKeyPair(KEY_MANAGEMENT_ALGORITHM, {
    crv,
    extractable: true,
  });
  return finish(privateKey, publicKey, { alg: KEY_MANAGEMENT_ALGORITHM, use: 'enc' });
}

/** The signing algorithm a JWK is for, from its `alg`, or from its key type when `alg` is absent. */
export function signingAlgorithmOf(jwk: JWK): SigningAlgorithm | undefined {
  if (jwk.alg !== undefined) {
    return (SIGNING_ALGORITHMS as readonly string[]).includes(jwk.alg)
      ? (jwk.alg as SigningAlgorithm)
      : jwk.alg === 'Ed25519'
        ? 'EdDSA'
        : undefined;
  }
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  return undefined;
}

/** A JWK with its kid and algorithm, imported once as a node:crypto KeyObject. */
export interface ImportedKey {
  readonly kid: string;
  readonly alg: string;
  readonly key: KeyObject;
}

function toKeyObject(jwk: JWK): KeyObject {
  return typeof jwk.d === 'string'
    ? createPrivateKey({ key: jwk as NodeJsonWebKey, format: 'jwk' })
    : createPublicKey({ key: jwk as NodeJsonWebKey, format: 'jwk' });
}

function requireKid(jwk: JWK, what: string): string {
  if (typeof jwk.kid !== 'string' || jwk.kid.length === 0)
    throw new TypeError(`${what} has no kid`);
  return jwk.kid;
}

/** Imports a signing JWK: private (to issue) or public (to verify). */
export function importSigningKey(jwk: JWK): ImportedKey {
  const kid = requireKid(jwk, 'signing key');
  const alg = signingAlgorithmOf(jwk);
  if (!alg) throw new TypeError(`signing key ${kid}: unsupported key type or alg`);
  const key = toKeyObject(jwk);
  const ok =
    alg === 'ES256'
      ? key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
      : key.asymmetricKeyType === 'ed25519';
  if (!ok) throw new TypeError(`signing key ${kid}: key type does not fit ${alg}`);
  return { kid, alg, key };
}

/** Imports an encryption JWK (P-256 or X25519): private (gateway) or public (issuer). */
export function importEncryptionKey(jwk: JWK): ImportedKey {
  const kid = requireKid(jwk, 'encryption key');
  if (jwk.alg !== undefined && jwk.alg !== KEY_MANAGEMENT_ALGORITHM) {
    throw new TypeError(`encryption key ${kid}: alg must be ${KEY_MANAGEMENT_ALGORITHM}`);
  }
  const key = toKeyObject(jwk);
  const ok =
    key.asymmetricKeyType === 'x25519' ||
    (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1');
  if (!ok) throw new TypeError(`encryption key ${kid}: must be EC P-256 or OKP X25519`);
  return { kid, alg: KEY_MANAGEMENT_ALGORITHM, key };
}
