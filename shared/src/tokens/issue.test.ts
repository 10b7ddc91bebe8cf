import { describe, expect, it } from 'vitest';
import { createCallTokenIssuer } from './issue.js';
import { makeTestKeys } from './test-keys.js';

describe('createCallTokenIssuer', () => {
  it('issues thousands of tokens in a row (regression: JWK export of ephemeral keys deadlocked Node 20)', async () => {
    const keys = await makeTestKeys('EdDSA');
    const issuer = await createCallTokenIssuer({
      issuer: 'a',
      audience: 'g',
      signingKey: keys.tenant.privateJwk,
      encryptionKey: keys.gateway.publicJwk,
    });
    const jtis = new Set<string>();
    for (let i = 0; i < 3000; i += 1) {
      jtis.add(
        (
          await issuer.issue({
            subject: 's',
            scope: 'queue:sales',
            origin: 'https://a.test',
            privateClaims: { n: i },
          })
        ).claims.jti,
      );
    }
    expect(jtis.size).toBe(3000);
  }, 30_000);
});
