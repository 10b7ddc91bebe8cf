/** Our node:crypto JOSE path against jose, the reference implementation, both ways. */
import { createPrivateKey, createPublicKey, type JsonWebKey } from 'node:crypto';
import { CompactEncrypt, compactDecrypt, compactVerify, importJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { decryptEcdhEs, encryptEcdhEs, signCompact, verifyCompact } from './compact.js';
import { generateEncryptionKeyPair, generateSigningKeyPair } from './keys.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const importEpk = (jwk: Record<string, unknown>) =>
  createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
const header = (jwe: string) =>
  JSON.parse(Buffer.from(jwe.split('.')[0] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;

describe.each(['ES256', 'EdDSA'] as const)('JWS %s', (alg) => {
  it('jose verifies what we sign, and we verify what jose verifies', async () => {
    const pair = await generateSigningKeyPair(alg);
    const priv = createPrivateKey({ key: pair.privateJwk as JsonWebKey, format: 'jwk' });
    const pub = createPublicKey({ key: pair.publicJwk as JsonWebKey, format: 'jwk' });
    const jws = signCompact({ alg, kid: 'k' }, { hello: 'world' }, alg, priv);
    const { payload } = await compactVerify(jws, await importJWK(pair.publicJwk, alg));
    expect(JSON.parse(text(payload))).toEqual({ hello: 'world' });
    const [h = '', p = '', s = ''] = jws.split('.');
    expect(verifyCompact(h, p, s, alg, pub)).toBe(true);
    expect(verifyCompact(h, `${p}x`, s, alg, pub)).toBe(false);
    expect(verifyCompact(h, p, s.slice(4), alg, pub)).toBe(false);
  });
});

describe.each(['P-256', 'X25519'] as const)('JWE ECDH-ES+A256KW / A256GCM on %s', (crv) => {
  it('jose decrypts what we encrypt', async () => {
    const pair = await generateEncryptionKeyPair(crv);
    const pub = createPublicKey({ key: pair.publicJwk as JsonWebKey, format: 'jwk' });
    const jwe = encryptEcdhEs(new TextEncoder().encode('secret claims'), pub, { kid: 'g1' });
    const { plaintext, protectedHeader } = await compactDecrypt(
      jwe,
      await importJWK(pair.privateJwk, 'ECDH-ES+A256KW'),
    );
    expect(text(plaintext)).toBe('secret claims');
    expect(protectedHeader).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'g1' });
  });

  it('we decrypt what jose encrypts, including apu/apv', async () => {
    const pair = await generateEncryptionKeyPair(crv);
    const priv = createPrivateKey({ key: pair.privateJwk as JsonWebKey, format: 'jwk' });
    const jwe = await new CompactEncrypt(new TextEncoder().encode('from jose'))
      .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM' })
      .setKeyManagementParameters({
        apu: new TextEncoder().encode('Alice'),
        apv: new TextEncoder().encode('Bob'),
      })
      .encrypt(await importJWK(pair.publicJwk, 'ECDH-ES+A256KW'));
    expect(text(decryptEcdhEs(jwe.split('.'), header(jwe), priv, importEpk))).toBe('from jose');
  });

  it('refuses a tampered ciphertext, tag, header or a foreign epk', async () => {
    const pair = await generateEncryptionKeyPair(crv);
    const other = await generateEncryptionKeyPair(crv === 'X25519' ? 'P-256' : 'X25519');
    const pub = createPublicKey({ key: pair.publicJwk as JsonWebKey, format: 'jwk' });
    const priv = createPrivateKey({ key: pair.privateJwk as JsonWebKey, format: 'jwk' });
    const jwe = encryptEcdhEs(new TextEncoder().encode('x'.repeat(40)), pub, { kid: 'g1' });
    const parts = jwe.split('.');
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    for (const i of [1, 2, 3, 4]) {
      const copy = [...parts];
      copy[i] = flip(copy[i] ?? '');
      expect(() => decryptEcdhEs(copy, header(jwe), priv, importEpk)).toThrow();
    }
    const h = header(jwe);
    expect(() => decryptEcdhEs(parts, { ...h, epk: other.publicJwk }, priv, importEpk)).toThrow();
    expect(() => decryptEcdhEs(parts, { ...h, zip: 'DEF' }, priv, importEpk)).toThrow();
    // AAD covers the protected header: a re-encoded header is refused.
    const reencoded = Buffer.from(JSON.stringify({ ...h, extra: 1 })).toString('base64url');
    expect(() => decryptEcdhEs([reencoded, ...parts.slice(1)], h, priv, importEpk)).toThrow();
  });
});
