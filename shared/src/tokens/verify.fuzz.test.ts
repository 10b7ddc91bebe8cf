/**
 * Property test: thousands of mutated tokens through the verifier. Whatever the
 * input, it either refuses with a CallTokenError or, when the mutation left the
 * signed bytes intact (non-canonical base64 tail bits), returns the original
 * claims; it never throws anything else and never accepts altered claims.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CallTokenError,
  ConfiguredTenantKeys,
  MemoryReplayStore,
  createCallTokenIssuer,
  createCallTokenVerifier,
  type CallTokenVerifier,
  type VerifiedCallToken,
} from './index.js';
import { makeTestKeys } from './test-keys.js';

const RUNS = 4000;
let token = '';
let original: VerifiedCallToken;
let verifier: CallTokenVerifier;

beforeAll(async () => {
  const keys = await makeTestKeys('ES256');
  const issuer = await createCallTokenIssuer({
    issuer: 'acme',
    audience: 'gw',
    signingKey: keys.tenant.privateJwk,
    encryptionKey: keys.gateway.publicJwk,
  });
  token = (
    await issuer.issue({
      subject: 'sess',
      scope: 'queue:sales',
      origin: 'https://acme.test',
      privateClaims: { customerId: 'C-1' },
    })
  ).token;
  verifier = await createCallTokenVerifier({
    audience: 'gw',
    tenantKeys: new ConfiguredTenantKeys({ acme: { jwks: [keys.tenant.publicJwk] } }),
    decryptionKeys: [keys.gateway.privateJwk],
    replayStore: new MemoryReplayStore(),
  });
  original = await verifier.verify(token, { consume: false });
});

const ALPHABET =
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/%\u0000\u00ff😀 ';

type Mutation =
  | { kind: 'replace'; at: number; char: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'swapParts'; a: number; b: number }
  | { kind: 'duplicatePart'; part: number }
  | { kind: 'replacePartJson'; part: 0 | 1; json: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('replace' as const),
    at: fc.nat(),
    char: fc.constantFrom(...ALPHABET),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 40 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.string({ maxLength: 20 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swapParts' as const), a: fc.nat(2), b: fc.nat(2) }),
  fc.record({ kind: fc.constant('duplicatePart' as const), part: fc.nat(2) }),
  fc.record({
    kind: fc.constant('replacePartJson' as const),
    part: fc.constantFrom(0 as const, 1 as const),
    json: fc.jsonValue({ maxDepth: 3 }),
  }),
);

function apply(input: string, m: Mutation): string {
  const at =
    input.length === 0
      ? 0
      : m.kind === 'swapParts' || m.kind === 'duplicatePart' || m.kind === 'replacePartJson'
        ? 0
        : (m as { at: number }).at % input.length;
  const parts = input.split('.');
  switch (m.kind) {
    case 'replace':
      return input.slice(0, at) + m.char + input.slice(at + 1);
    case 'delete':
      return input.slice(0, at) + input.slice(at + m.length);
    case 'insert':
      return input.slice(0, at) + m.text + input.slice(at);
    case 'truncate':
      return input.slice(0, at);
    case 'swapParts': {
      const copy = [...parts];
      [copy[m.a], copy[m.b]] = [parts[m.b] ?? '', parts[m.a] ?? ''];
      return copy.join('.');
    }
    case 'duplicatePart':
      return [...parts, parts[m.part] ?? ''].join('.');
    case 'replacePartJson': {
      const copy = [...parts];
      copy[m.part] = Buffer.from(JSON.stringify(m.json) ?? 'null').toString('base64url');
      return copy.join('.');
    }
  }
}

describe('verifyCallToken fuzz', () => {
  it(`refuses ${RUNS} mutated tokens with a typed error, or returns the unaltered claims`, async () => {
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
        const mutated = mutations.reduce(apply, token);
        try {
          const result = await verifier.verify(mutated, { consume: false });
          expect(result.claims).toEqual(original.claims);
          expect(result.privateClaims).toEqual(original.privateClaims);
        } catch (error) {
          expect(error).toBeInstanceOf(CallTokenError);
          refused += 1;
        }
      }),
      { numRuns: RUNS },
    );
    expect(refused).toBeGreaterThan(RUNS * 0.9);
  });
});
