import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPrivateKey, sign, type JsonWebKey as NodeJwk } from 'node:crypto';
import { CompactEncrypt, SignJWT, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_REASONS, type TokenReason } from '../errors/index.js';
import {
  CallTokenError,
  ConfiguredTenantKeys,
  MemoryReplayStore,
  createCallTokenIssuer,
  createCallTokenVerifier,
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  issueCallToken,
  type CallTokenIssuer,
  type CallTokenVerifier,
  type KeyPairFiles,
} from './index.js';
import { makeTestKeys, type TestKeys } from './test-keys.js';

const ISS = 'acme';
const AUD = 'gw.parley.test';
const ORIGIN = 'https://shop.acme.test';
const T0 = 1_800_000_000_000;

let keys: TestKeys;
let issuer: CallTokenIssuer;
let clock = T0;
const now = () => clock;

async function verifierFor(
  overrides: Partial<Parameters<typeof createCallTokenVerifier>[0]> = {},
): Promise<CallTokenVerifier> {
  return createCallTokenVerifier({
    audience: AUD,
    tenantKeys: new ConfiguredTenantKeys({ [ISS]: { jwks: [keys.tenant.publicJwk] } }),
    decryptionKeys: [keys.gateway.privateJwk],
    replayStore: new MemoryReplayStore({ now }),
    now,
    ...overrides,
  });
}

async function issue(
  extra: Partial<Parameters<CallTokenIssuer['issue']>[0]> = {},
): Promise<string> {
  const { token } = await issuer.issue({
    subject: 'web-session-1',
    scope: 'queue:sales listing:42',
    origin: ORIGIN,
    privateClaims: { customerId: 'C-1001', phone: '+15550100', tier: 'gold', name: 'Ada' },
    ...extra,
  });
  return token;
}

/** Signs an arbitrary header and payload with an ES256 key, bypassing every check jose makes. */
function signRaw(
  header: Record<string, unknown>,
  payload: unknown,
  jwk: JWK = keys.tenant.privateJwk,
) {
  const input = `${b64({ alg: 'ES256', ...header })}.${b64(payload)}`;
  const key = createPrivateKey({ key: jwk as NodeJwk, format: 'jwk' });
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return Promise.resolve(`${input}.${signature.toString('base64url')}`);
}

function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString(
    'base64url',
  );
}

function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

async function reasonOf(promise: Promise<unknown>): Promise<TokenReason | 'ok' | 'untyped'> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return error instanceof CallTokenError ? error.reason : 'untyped';
  }
}

beforeAll(async () => {
  keys = await makeTestKeys('ES256');
  issuer = await createCallTokenIssuer({
    issuer: ISS,
    audience: AUD,
    signingKey: keys.tenant.privateJwk,
    encryptionKey: keys.gateway.publicJwk,
    now,
  });
});

describe('verifyCallToken: accepts', () => {
  it.each(['ES256', 'EdDSA'] as const)(
    'a token signed with %s and returns both claim sets',
    async (alg) => {
      const own = await makeTestKeys(alg);
      const token = (
        await issueCallToken({
          issuer: ISS,
          audience: AUD,
          signingKey: own.tenant.privateJwk,
          encryptionKey: own.gateway.publicJwk,
          subject: 's-1',
          scope: 'queue:sales',
          origin: ORIGIN,
          privateClaims: { customerId: 'C-7', custom: { nested: [1, 2] } },
          now,
        })
      ).token;
      const verifier = await createCallTokenVerifier({
        audience: AUD,
        tenantKeys: new ConfiguredTenantKeys({ [ISS]: { jwks: [own.tenant.publicJwk] } }),
        decryptionKeys: [own.gateway.privateJwk],
        replayStore: new MemoryReplayStore({ now }),
        now,
      });
      const verified = await verifier.verify(token, {
        origin: ORIGIN,
        requiredScope: 'queue:sales',
      });
      expect(verified.claims).toMatchObject({
        iss: ISS,
        aud: AUD,
        sub: 's-1',
        scope: 'queue:sales',
        origin: ORIGIN,
      });
      expect(verified.claims.exp - verified.claims.iat).toBe(60);
      expect(verified.privateClaims).toEqual({ customerId: 'C-7', custom: { nested: [1, 2] } });
      expect(verified.alg).toBe(alg);
    },
  );

  it('carries a public callerNumber claim (S6) and refuses one that is not a string', async () => {
    const verifier = await verifierFor();
    const verified = await verifier.verify(await issue({ callerNumber: '+14155550142' }), {
      origin: ORIGIN,
    });
    expect(verified.claims.callerNumber).toBe('+14155550142');
    const plain = await verifier.verify(await issue(), { origin: ORIGIN });
    expect('callerNumber' in plain.claims).toBe(false);
    const payload = payloadOf(await issue());
    const forged = await signRaw(
      { typ: 'parley-call+jwt', kid: keys.tenant.publicJwk.kid },
      { ...payload, callerNumber: 14155550142 },
    );
    await expect(verifier.verify(forged, { origin: ORIGIN })).rejects.toMatchObject({
      code: 'malformed',
    });
  });

  it('keeps private claims out of the readable payload', async () => {
    const token = await issue();
    const text = Buffer.from(token.split('.')[1] ?? '', 'base64url').toString();
    expect(text).not.toContain('C-1001');
    expect(text).not.toContain('+15550100');
    expect(payloadOf(token)['enc']).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('accepts a token within the clock-skew allowance', async () => {
    const token = await issue();
    clock = T0 + 64_000; // exp = iat + 60 s, tolerance 5 s
    try {
      await expect((await verifierFor()).verify(token)).resolves.toBeDefined();
    } finally {
      clock = T0;
    }
  });

  it('decrypts with any of several gateway keys (rotation)', async () => {
    const old = await generateEncryptionKeyPair();
    const verifier = await verifierFor({
      decryptionKeys: [old.privateJwk, keys.gateway.privateJwk],
    });
    await expect(verifier.verify(await issue())).resolves.toBeDefined();
  });

  it("runs the caller's check before using up the jti: a token it refuses is not burned", async () => {
    const verifier = await verifierFor();
    const token = await issue();
    const refuse = () => {
      throw new CallTokenError('origin_mismatch', 'not on the allowlist');
    };
    expect(await reasonOf(verifier.verify(token, { check: refuse }))).toBe('origin_mismatch');
    // Any other error from the check is still a typed refusal.
    const broken = () => {
      throw new TypeError('bug');
    };
    expect(await reasonOf(verifier.verify(token, { check: broken }))).toBe('malformed');
    const seen: string[] = [];
    await verifier.verify(token, { check: (claims) => void seen.push(claims.jti) });
    expect(seen).toEqual([payloadOf(token)['jti']]);
    expect(await reasonOf(verifier.verify(token))).toBe('replayed');
  });

  it('refuses to issue a token that lives more than 300 s', async () => {
    await expect(issue({ ttlSeconds: 301 })).rejects.toMatchObject({ code: 'bad_request' });
    await expect(issue({ ttlSeconds: 300 })).resolves.toBeTypeOf('string');
  });
});

describe('verifyCallToken: every reason code', () => {
  const cases: Record<
    Exclude<TokenReason, 'token_missing'>,
    () => Promise<TokenReason | 'ok' | 'untyped'>
  > = {
    malformed: async () => reasonOf((await verifierFor()).verify('not-a-token')),
    too_large: async () =>
      reasonOf(
        (await verifierFor({ maxTokenBytes: 600 })).verify(
          await issue({ privateClaims: { blob: 'x'.repeat(600) } }),
        ),
      ),
    unsupported_algorithm: async () => {
      const p = payloadOf(await issue());
      const none = `${b64({ alg: 'none', typ: 'parley-call+jwt', kid: keys.tenant.publicJwk.kid })}.${b64(p)}.AAAA`;
      return reasonOf((await verifierFor()).verify(none));
    },
    bad_header: async () =>
      reasonOf(
        (await verifierFor()).verify(
          await signRaw({ typ: 'JWT', kid: keys.tenant.publicJwk.kid }, payloadOf(await issue())),
        ),
      ),
    unknown_key: async () =>
      reasonOf(
        (await verifierFor()).verify(
          await signRaw({ typ: 'parley-call+jwt', kid: 'nope' }, payloadOf(await issue())),
        ),
      ),
    key_unavailable: async () => {
      const verifier = await verifierFor({
        tenantKeys: new ConfiguredTenantKeys(
          { [ISS]: { jwksUrl: 'http://127.0.0.1:9/jwks.json' } },
          { timeoutMs: 500 },
        ),
      });
      return reasonOf(verifier.verify(await issue()));
    },
    bad_signature: async () => {
      const token = await issue();
      const [h, p, s = ''] = token.split('.');
      const flipped = (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
      return reasonOf((await verifierFor()).verify(`${h}.${p}.${flipped}`));
    },
    wrong_issuer: async () =>
      reasonOf(
        (await verifierFor()).verify(
          await signRaw(
            { typ: 'parley-call+jwt', kid: keys.tenant.publicJwk.kid },
            { ...payloadOf(await issue()), iss: 'evil' },
          ),
        ),
      ),
    wrong_audience: async () =>
      reasonOf((await verifierFor({ audience: 'other-gateway' })).verify(await issue())),
    expired: async () => {
      const token = await issue();
      clock = T0 + 66_000;
      try {
        return await reasonOf((await verifierFor()).verify(token));
      } finally {
        clock = T0;
      }
    },
    not_yet_valid: async () => {
      clock = T0 + 60_000;
      const token = await issue();
      clock = T0;
      return reasonOf((await verifierFor()).verify(token));
    },
    lifetime_too_long: async () => {
      const p = payloadOf(await issue());
      return reasonOf(
        (await verifierFor()).verify(
          await signRaw(
            { typ: 'parley-call+jwt', kid: keys.tenant.publicJwk.kid },
            { ...p, exp: (p['iat'] as number) + 3600 },
          ),
        ),
      );
    },
    replayed: async () => {
      const verifier = await verifierFor();
      const token = await issue();
      await verifier.verify(token);
      return reasonOf(verifier.verify(token));
    },
    origin_mismatch: async () =>
      reasonOf((await verifierFor()).verify(await issue(), { origin: 'https://evil.test' })),
    scope_denied: async () =>
      reasonOf((await verifierFor()).verify(await issue(), { requiredScope: 'queue:billing' })),
    decrypt_failed: async () => {
      const stranger = await generateEncryptionKeyPair();
      return reasonOf(
        (await verifierFor({ decryptionKeys: [stranger.privateJwk] })).verify(await issue()),
      );
    },
    enc_mismatch: async () => {
      const donor = payloadOf(await issue());
      const p = payloadOf(await issue());
      return reasonOf(
        (await verifierFor()).verify(
          await signRaw(
            { typ: 'parley-call+jwt', kid: keys.tenant.publicJwk.kid },
            { ...p, enc: donor['enc'] },
          ),
        ),
      );
    },
  };

  it('has a case for every token reason the verifier can give', () => {
    expect(Object.keys(cases).sort()).toEqual(
      TOKEN_REASONS.filter((r) => r !== 'token_missing').sort(),
    );
  });

  it.each(Object.entries(cases))('%s', async (reason, run) => {
    expect(await run()).toBe(reason);
  });
});

describe('verifyCallToken: attacks and malformed input', () => {
  const header = () => ({ typ: 'parley-call+jwt', kid: keys.tenant.publicJwk.kid });

  const attacks: [string, () => Promise<string | unknown>, TokenReason][] = [
    ['a number instead of a string', async () => 42, 'malformed'],
    ['an empty string', async () => '', 'malformed'],
    [
      'bad base64 in the header',
      async () => `%%%.${(await issue()).split('.').slice(1).join('.')}`,
      'malformed',
    ],
    ['a truncated token', async () => (await issue()).slice(0, 80), 'malformed'],
    [
      'a token without signature part',
      async () => (await issue()).split('.').slice(0, 2).join('.'),
      'malformed',
    ],
    [
      'a header that is not JSON',
      async () => `${b64('{nope')}.${(await issue()).split('.').slice(1).join('.')}`,
      'malformed',
    ],
    [
      'a header that is a JSON array',
      async () => `${b64([1])}.${(await issue()).split('.').slice(1).join('.')}`,
      'malformed',
    ],
    [
      'a payload that is not UTF-8',
      async () =>
        `${(await issue()).split('.')[0]}.${Buffer.from([0xff, 0xfe, 0xfd]).toString('base64url')}.AAAA`,
      'malformed',
    ],
    ['a huge token', async () => 'a'.repeat(1_000_000), 'too_large'],
    [
      'alg none with an empty signature',
      async () => `${b64({ ...header(), alg: 'none' })}.${b64(payloadOf(await issue()))}.`,
      'malformed',
    ],
    [
      'alg none with a signature',
      async () => `${b64({ ...header(), alg: 'none' })}.${b64(payloadOf(await issue()))}.AAAA`,
      'unsupported_algorithm',
    ],
    [
      'HS256 signed with the public key as the secret',
      async () => {
        const secret = new TextEncoder().encode(JSON.stringify(keys.tenant.publicJwk));
        return new SignJWT(payloadOf(await issue()) as Record<string, unknown>)
          .setProtectedHeader({ alg: 'HS256', ...header() })
          .sign(secret);
      },
      'unsupported_algorithm',
    ],
    [
      'RS256 claimed',
      async () => `${b64({ ...header(), alg: 'RS256' })}.${b64(payloadOf(await issue()))}.AAAA`,
      'unsupported_algorithm',
    ],
    [
      'EdDSA claimed for an ES256 key',
      async () => `${b64({ ...header(), alg: 'EdDSA' })}.${b64(payloadOf(await issue()))}.AAAA`,
      'unsupported_algorithm',
    ],
    [
      'wrong typ',
      async () => signRaw({ ...header(), typ: 'at+jwt' }, payloadOf(await issue())),
      'bad_header',
    ],
    ['no typ', async () => signRaw({ kid: header().kid }, payloadOf(await issue())), 'bad_header'],
    [
      'no kid',
      async () => signRaw({ typ: 'parley-call+jwt' }, payloadOf(await issue())),
      'bad_header',
    ],
    [
      'an unknown crit extension',
      async () => signRaw({ ...header(), crit: ['x-wow'], 'x-wow': 1 }, payloadOf(await issue())),
      'bad_header',
    ],
    [
      'a payload without sub',
      async () => {
        const p = payloadOf(await issue());
        delete p['sub'];
        return signRaw(header(), p);
      },
      'malformed',
    ],
    [
      'exp as a string',
      async () => signRaw(header(), { ...payloadOf(await issue()), exp: '9999999999' }),
      'malformed',
    ],
    [
      'aud as an object',
      async () => signRaw(header(), { ...payloadOf(await issue()), aud: { a: 1 } }),
      'malformed',
    ],
    [
      'no enc',
      async () => {
        const p = payloadOf(await issue());
        delete p['enc'];
        return signRaw(header(), p);
      },
      'malformed',
    ],
    [
      'enc that is garbage',
      async () => signRaw(header(), { ...payloadOf(await issue()), enc: 'garbage' }),
      'decrypt_failed',
    ],
    [
      'a nested JWS as the JWE',
      async () => signRaw(header(), { ...payloadOf(await issue()), enc: await issue() }),
      'decrypt_failed',
    ],
    [
      'a JWE with dir + A256GCM (wrong algorithm)',
      async () => {
        const jwe = await new CompactEncrypt(new TextEncoder().encode('{}'))
          .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
          .encrypt(new Uint8Array(32));
        return signRaw(header(), { ...payloadOf(await issue()), enc: jwe });
      },
      'decrypt_failed',
    ],
    [
      'a JWE whose ciphertext was swapped with another token’s',
      async () => {
        const a = String(payloadOf(await issue())['enc']).split('.');
        const b = String(payloadOf(await issue())['enc']).split('.');
        return signRaw(header(), {
          ...payloadOf(await issue()),
          enc: [a[0], a[1], a[2], b[3], a[4]].join('.'),
        });
      },
      'decrypt_failed',
    ],
    [
      'a JWE made for the right gateway key but with a plaintext that is not ours',
      async () => {
        const jwe = await new CompactEncrypt(new TextEncoder().encode('[1,2,3]'))
          .setProtectedHeader({
            alg: 'ECDH-ES+A256KW',
            enc: 'A256GCM',
            kid: keys.gateway.publicJwk.kid,
          })
          .encrypt(await importJWK(keys.gateway.publicJwk, 'ECDH-ES+A256KW'));
        return signRaw(header(), { ...payloadOf(await issue()), enc: jwe });
      },
      'enc_mismatch',
    ],
    [
      'a token signed by another key under the tenant’s kid',
      async () => {
        const other: KeyPairFiles = await generateSigningKeyPair('ES256');
        return signRaw(header(), payloadOf(await issue()), other.privateJwk);
      },
      'bad_signature',
    ],
  ];

  it.each(attacks)('%s → %s', async (_name, build, expected) => {
    expect(await reasonOf((await verifierFor()).verify(await build()))).toBe(expected);
  });
});

describe('tenant keys from a JWKS URL', () => {
  let server: Server;
  let served: { keys: JWK[] } = { keys: [] };
  let fetches = 0;
  let url = '';

  beforeAll(async () => {
    server = createServer((_req, res) => {
      fetches += 1;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(served));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('rotates: a new kid is fetched on first sight, without restart', async () => {
    served = { keys: [keys.tenant.publicJwk] };
    const tenantKeys = new ConfiguredTenantKeys({ [ISS]: { jwksUrl: url } }, { cooldownMs: 0 });
    const verifier = await verifierFor({ tenantKeys });
    await verifier.verify(await issue());
    await verifier.verify(await issue());
    expect(fetches).toBe(1); // cached

    const next = await generateSigningKeyPair('EdDSA');
    served = { keys: [keys.tenant.publicJwk, next.publicJwk] };
    const rotated = await createCallTokenIssuer({
      issuer: ISS,
      audience: AUD,
      signingKey: next.privateJwk,
      encryptionKey: keys.gateway.publicJwk,
      now,
    });
    const token = (await rotated.issue({ subject: 's', scope: 'queue:sales', origin: ORIGIN }))
      .token;
    await expect(verifier.verify(token)).resolves.toMatchObject({ alg: 'EdDSA' });
    expect(fetches).toBe(2);
  });

  it('does not refetch for every unknown kid within the cooldown', async () => {
    served = { keys: [keys.tenant.publicJwk] };
    fetches = 0;
    const verifier = await verifierFor({
      tenantKeys: new ConfiguredTenantKeys({ [ISS]: { jwksUrl: url } }, { cooldownMs: 60_000 }),
    });
    for (let i = 0; i < 5; i += 1) {
      const token = await signRaw(
        { typ: 'parley-call+jwt', kid: `k${i}` },
        payloadOf(await issue()),
      );
      expect(await reasonOf(verifier.verify(token))).toBe('unknown_key');
    }
    expect(fetches).toBe(1);
  });

  it('a gateway cut off from the keys says key_unavailable for the whole cooldown, not unknown_key', async () => {
    const down = createServer((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
    try {
      const downUrl = `http://127.0.0.1:${(down.address() as AddressInfo).port}/jwks.json`;
      const verifier = await verifierFor({
        tenantKeys: new ConfiguredTenantKeys(
          { [ISS]: { jwksUrl: downUrl } },
          { cooldownMs: 60_000 },
        ),
      });
      // The first token fetches and fails; the next ones, within the cooldown, do not fetch.
      for (let i = 0; i < 3; i += 1)
        expect(await reasonOf(verifier.verify(await issue()))).toBe('key_unavailable');
    } finally {
      await new Promise<void>((resolve) => down.close(() => resolve()));
    }
  });
});
