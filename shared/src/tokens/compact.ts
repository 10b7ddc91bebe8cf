/**
 * The JOSE operations a call token needs (RFC 7515 compact JWS with ES256 or
 * EdDSA; RFC 7516 compact JWE with ECDH-ES+A256KW and A256GCM, RFC 7518 §4.6),
 * done with node:crypto's synchronous primitives.
 *
 * Why not jose for these: jose 6 runs everything through WebCrypto, whose every
 * step is a thread-pool round trip. Measured on this machine: a JWE decrypt took
 * 1.16 ms through jose and about 0.1 ms here. jose stays the reference: the tests
 * check that each side reads what the other writes.
 * @internal
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { CONTENT_ENCRYPTION_ALGORITHM, KEY_MANAGEMENT_ALGORITHM } from './claims.js';

export type JoseSigningAlgorithm = 'ES256' | 'EdDSA';

/** RFC 3394 §2.2.3.1 default initial value. */
const AES_KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');
const ALG_ID = Buffer.from(KEY_MANAGEMENT_ALGORITHM, 'ascii');

export const b64u = (bytes: Uint8Array | string): string =>
  (typeof bytes === 'string' ? Buffer.from(bytes) : Buffer.from(bytes)).toString('base64url');

export function signCompact(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  alg: JoseSigningAlgorithm,
  key: KeyObject,
): string {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  const signature =
    alg === 'ES256'
      ? cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
      : cryptoSign(null, Buffer.from(input), key);
  return `${input}.${b64u(signature)}`;
}

/** Verifies the signature of a compact JWS whose parts were already split and checked. */
export function verifyCompact(
  headerPart: string,
  payloadPart: string,
  signaturePart: string,
  alg: JoseSigningAlgorithm,
  key: KeyObject,
): boolean {
  const signature = Buffer.from(signaturePart, 'base64url');
  const input = Buffer.from(`${headerPart}.${payloadPart}`);
  try {
    if (alg === 'ES256') {
      // r || s, 32 bytes each (RFC 7518 §3.4); anything else is not a signature.
      if (signature.length !== 64) return false;
      return cryptoVerify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, signature);
    }
    if (signature.length !== 64) return false;
    return cryptoVerify(null, input, key, signature);
  } catch {
    return false;
  }
}

/** RFC 7518 §4.6.2: Concat KDF (NIST SP 800-56A) with SHA-256, one round for a 256-bit key. */
function concatKdf(z: Buffer, apu: Buffer, apv: Buffer): Buffer {
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  return createHash('sha256')
    .update(u32(1))
    .update(z)
    .update(u32(ALG_ID.length))
    .update(ALG_ID)
    .update(u32(apu.length))
    .update(apu)
    .update(u32(apv.length))
    .update(apv)
    .update(u32(256))
    .digest();
}

function gcmAndWrap(kek: Buffer, plaintext: Uint8Array, aad: string) {
  const cek = randomBytes(32);
  const wrap = createCipheriv('id-aes256-wrap', kek, AES_KW_IV);
  const encryptedKey = Buffer.concat([wrap.update(cek), wrap.final()]);
  const iv = randomBytes(12);
  const gcm = createCipheriv('aes-256-gcm', cek, iv);
  gcm.setAAD(Buffer.from(aad, 'ascii'));
  const ciphertext = Buffer.concat([gcm.update(plaintext), gcm.final()]);
  return { encryptedKey, iv, ciphertext, tag: gcm.getAuthTag() };
}

/**
 * The public JWK of an ephemeral key, read from its SPKI DER. Not
 * `export({ format: 'jwk' })`: on Node 20 that deadlocks the main thread when
 * garbage collection finalises a key-generation job during the export
 * (reproduced here within the first tokens of a loop; seen in gdb as
 * ExportJWKEdKey → GC → ~KeyGenJob → uv_mutex_lock).
 */
function publicJwkFromSpki(key: KeyObject, x25519: boolean): Record<string, string> {
  const der = key.export({ type: 'spki', format: 'der' });
  if (x25519) {
    // SPKI for X25519 ends with the 32-byte key (RFC 8410 §4).
    return { kty: 'OKP', crv: 'X25519', x: b64u(der.subarray(der.length - 32)) };
  }
  // SPKI for P-256 ends with the uncompressed point 04 || X || Y (RFC 5480 §2.2).
  const point = der.subarray(der.length - 65);
  if (point[0] !== 0x04) throw new Error('unexpected P-256 public key encoding');
  return {
    kty: 'EC',
    crv: 'P-256',
    x: b64u(point.subarray(1, 33)),
    y: b64u(point.subarray(33, 65)),
  };
}

/** Encrypts to a recipient's EC P-256 or X25519 public key with a fresh ephemeral key. */
export function encryptEcdhEs(
  plaintext: Uint8Array,
  recipient: KeyObject,
  header: { kid: string; cty?: string },
): string {
  const curve = recipient.asymmetricKeyType;
  const ephemeral =
    curve === 'x25519'
      ? generateKeyPairSync('x25519')
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const epk = publicJwkFromSpki(ephemeral.publicKey, curve === 'x25519');
  const protectedHeader = b64u(
    JSON.stringify({
      alg: KEY_MANAGEMENT_ALGORITHM,
      enc: CONTENT_ENCRYPTION_ALGORITHM,
      ...header,
      epk,
    }),
  );
  const z = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient });
  const kek = concatKdf(z, Buffer.alloc(0), Buffer.alloc(0));
  const { encryptedKey, iv, ciphertext, tag } = gcmAndWrap(kek, plaintext, protectedHeader);
  return [protectedHeader, b64u(encryptedKey), b64u(iv), b64u(ciphertext), b64u(tag)].join('.');
}

/**
 * Decrypts a compact JWE made with ECDH-ES+A256KW / A256GCM. `header` is the
 * decoded protected header (already checked for alg, enc and crit). Throws on
 * any failure; the caller maps that to one reason code.
 */
export function decryptEcdhEs(
  parts: readonly string[],
  header: Record<string, unknown>,
  privateKey: KeyObject,
  importEpk: (jwk: Record<string, unknown>) => KeyObject,
): Buffer {
  const [
    protectedHeader = '',
    encryptedKeyPart = '',
    ivPart = '',
    ciphertextPart = '',
    tagPart = '',
  ] = parts;
  if (header['zip'] !== undefined) throw new Error('compressed JWE is not accepted');
  const epk = header['epk'];
  if (typeof epk !== 'object' || epk === null) throw new Error('epk is missing');
  // Public members only: a "d" in the epk would make createPublicKey derive it from a private key.
  const { kty, crv, x, y } = epk as Record<string, unknown>;
  const publicEpk = importEpk(y === undefined ? { kty, crv, x } : { kty, crv, x, y });
  if (publicEpk.asymmetricKeyType !== privateKey.asymmetricKeyType) {
    throw new Error('epk is on another curve than the key');
  }
  const apu =
    typeof header['apu'] === 'string' ? Buffer.from(header['apu'], 'base64url') : Buffer.alloc(0);
  const apv =
    typeof header['apv'] === 'string' ? Buffer.from(header['apv'], 'base64url') : Buffer.alloc(0);
  const z = diffieHellman({ privateKey, publicKey: publicEpk });
  const kek = concatKdf(z, apu, apv);
  const unwrap = createDecipheriv('id-aes256-wrap', kek, AES_KW_IV);
  const cek = Buffer.concat([
    unwrap.update(Buffer.from(encryptedKeyPart, 'base64url')),
    unwrap.final(),
  ]);
  const iv = Buffer.from(ivPart, 'base64url');
  const tag = Buffer.from(tagPart, 'base64url');
  if (cek.length !== 32 || iv.length !== 12 || tag.length !== 16)
    throw new Error('bad key, iv or tag length');
  const gcm = createDecipheriv('aes-256-gcm', cek, iv, { authTagLength: 16 });
  gcm.setAAD(Buffer.from(protectedHeader, 'ascii'));
  gcm.setAuthTag(tag);
  return Buffer.concat([gcm.update(Buffer.from(ciphertextPart, 'base64url')), gcm.final()]);
}
