import {
  CallTokenError,
  createCallTokenIssuer,
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  type CallTokenIssuer,
} from '@parley/shared/tokens';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { Metrics, createLogger } from '../observability/index.js';
import { createTokenService, type TokenService } from './token-service.js';

const SHOP = 'https://shop.acme.test';
let service: TokenService;
let metrics: Metrics;
let issuer: CallTokenIssuer;

beforeAll(async () => {
  const gw = await generateEncryptionKeyPair();
  const tenant = await generateSigningKeyPair();
  metrics = new Metrics({ defaultMetrics: false });
  service = await createTokenService({
    config: loadConfig({
      input: {
        gatewayId: 'gw-test',
        tokens: { encryptionKeys: [gw.privateJwk] },
        tenants: { acme: { jwks: [tenant.publicJwk], origins: [SHOP] } },
        storage: { path: ':memory:' },
      },
    }),
    metrics,
    logger: createLogger('silent'),
  });
  issuer = await createCallTokenIssuer({
    issuer: 'acme',
    audience: 'gw-test',
    signingKey: tenant.privateJwk,
    encryptionKey: gw.publicJwk,
  });
});

const issue = async (origin: string) =>
  (await issuer.issue({ subject: 's1', scope: 'queue:sales', origin })).token;

async function reason(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return error instanceof CallTokenError ? error.reason : 'untyped';
  }
}

describe('the gateway token service', () => {
  it("refuses an origin outside the tenant's allowlist without burning the token", async () => {
    const token = await issue('https://elsewhere.test');
    const context = { origin: 'https://elsewhere.test' };
    expect(await reason(service.verify(token, context))).toBe('origin_mismatch');
    expect(await reason(service.verify(token, context))).toBe('origin_mismatch');
    const refused = await metrics.tokensRefused.get();
    expect(refused.values.find((v) => v.labels.reason === 'origin_mismatch')?.value).toBe(2);
  });

  it("runs the caller's check before the jti is used up, then uses it up once", async () => {
    const token = await issue(SHOP);
    const refuse = () => {
      throw new CallTokenError('scope_denied', 'queue of another tenant');
    };
    expect(await reason(service.verify(token, { origin: SHOP, check: refuse }))).toBe(
      'scope_denied',
    );
    expect(await reason(service.verify(token, { origin: SHOP }))).toBe('ok');
    expect(await reason(service.verify(token, { origin: SHOP }))).toBe('replayed');
  });
});
