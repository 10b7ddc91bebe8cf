/**
 * The one-shot functions the docs and issues name, `issueCallToken(...)` and
 * `verifyCallToken(...)`: the same tokens and the same results as the
 * factories, and nothing untyped out of the verifier whatever it is given.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ParleyError } from '../errors/index.js';
import {
  CallTokenError,
  ConfiguredTenantKeys,
  MemoryReplayStore,
  createCallTokenVerifier,
  issueCallToken,
  verifyCallToken,
  type IssueParams,
  type CallTokenIssuerOptions,
  type VerifyCallTokenOptions,
} from './index.js';
import { makeTestKeys, type TestKeys } from './test-keys.js';

const ISS = 'acme';
const AUD = 'gw.parley.test';
const ORIGIN = 'https://shop.acme.test';
const T0 = 1_800_000_000_000;
const now = () => T0;

let keys: TestKeys;
let issuing: CallTokenIssuerOptions & IssueParams;
let verifying: VerifyCallTokenOptions;

beforeAll(async () => {
  keys = await makeTestKeys('EdDSA');
  issuing = {
    issuer: ISS,
    audience: AUD,
    signingKey: keys.tenant.privateJwk,
    encryptionKey: keys.gateway.publicJwk,
    now,
    subject: 'web-session-1',
    scope: 'queue:sales',
    origin: ORIGIN,
    privateClaims: { customerId: 'C-1001' },
  };
  verifying = {
    audience: AUD,
    tenantKeys: new ConfiguredTenantKeys({ [ISS]: { jwks: [keys.tenant.publicJwk] } }),
    decryptionKeys: [keys.gateway.privateJwk],
    replayStore: new MemoryReplayStore({ now }),
    now,
  };
});

/** The refusal a promise rejected with: a token reason, another Parley code, or 'untyped'. */
async function refusalOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof CallTokenError) return `token:${error.reason}`;
    if (error instanceof ParleyError) return `parley:${error.code}`;
    return 'untyped';
  }
}

describe('issueCallToken + verifyCallToken', () => {
  it('round-trips: the claims issued are the claims verified, private claims included', async () => {
    const issued = await issueCallToken(issuing);
    expect(issued.claims).toMatchObject({ iss: ISS, aud: AUD, sub: 'web-session-1' });
    expect(issued.expiresAt.getTime()).toBe((Math.floor(T0 / 1000) + 60) * 1000);
    const verified = await verifyCallToken(issued.token, {
      ...verifying,
      replayStore: new MemoryReplayStore({ now }),
      origin: ORIGIN,
      requiredScope: 'queue:sales',
    });
    expect(verified.claims).toEqual(issued.claims);
    expect(verified.privateClaims).toEqual({ customerId: 'C-1001' });
    expect(verified.alg).toBe('EdDSA');
  });

  it('applies the context given with the options (origin, scope, consume)', async () => {
    const { token } = await issueCallToken(issuing);
    const store = new MemoryReplayStore({ now });
    const opts = { ...verifying, replayStore: store };
    expect(await refusalOf(verifyCallToken(token, { ...opts, origin: 'https://evil.test' }))).toBe(
      'token:origin_mismatch',
    );
    expect(await refusalOf(verifyCallToken(token, { ...opts, requiredScope: 'queue:vip' }))).toBe(
      'token:scope_denied',
    );
    // A dry run does not use the token up; the real use does, once.
    expect(await refusalOf(verifyCallToken(token, { ...opts, consume: false }))).toBe('ok');
    expect(await refusalOf(verifyCallToken(token, opts))).toBe('ok');
    expect(await refusalOf(verifyCallToken(token, opts))).toBe('token:replayed');
  });

  it('verifies a factory-issued token like the factory verifier does', async () => {
    const { token } = await issueCallToken(issuing);
    const factory = await createCallTokenVerifier({
      ...verifying,
      replayStore: new MemoryReplayStore({ now }),
    });
    const oneShot = await verifyCallToken(token, {
      ...verifying,
      replayStore: new MemoryReplayStore({ now }),
    });
    expect(oneShot).toEqual(await factory.verify(token));
  });
});

describe('verifyCallToken refuses with a typed error', () => {
  const garbage: [string, unknown][] = [
    ['undefined', undefined],
    ['a number', 42],
    ['an object', { token: 'x' }],
    ['an empty string', ''],
    ['one part', 'garbage'],
    ['three parts of nothing', '..'],
    ['three non-JSON parts', 'a.b.c'],
    ['non-base64url parts', 'a!.b?.c#'],
    ['a JSON header without alg', `${b64({ typ: 'x' })}.${b64({})}.sig`],
    ['an alg of none', `${b64({ alg: 'none', typ: 'parley-call+jwt', kid: 'k' })}.${b64({})}.`],
    ['a megabyte', 'a'.repeat(1_000_000)],
  ];
  it.each(garbage)('for %s', async (_, input) => {
    const refusal = await refusalOf(verifyCallToken(input, verifying));
    expect(refusal).toMatch(/^token:/);
  });

  it('for a token of a tenant it does not know', async () => {
    const { token } = await issueCallToken({ ...issuing, issuer: 'globex' });
    expect(await refusalOf(verifyCallToken(token, verifying))).toBe('token:wrong_issuer');
  });

  it('and names bad options invalid_config, not the token', async () => {
    const { token } = await issueCallToken(issuing);
    const publicOnly = { ...verifying, decryptionKeys: [keys.gateway.publicJwk] };
    expect(await refusalOf(verifyCallToken(token, publicOnly))).toBe('parley:invalid_config');
    const notAKey = { ...verifying, decryptionKeys: [{ kty: 'nope' }] };
    expect(await refusalOf(verifyCallToken(token, notAKey))).toBe('parley:invalid_config');
  });
});

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
