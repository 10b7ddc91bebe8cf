/**
 * Issues call tokens in a child process: reads `{ issuer, audience,
 * signingKey, encryptionKey, scope, origin, first, count }` as JSON on stdin,
 * prints one token per line, then `done`.
 *
 * A child with a time limit because on Node 20 the issuer's ECDH-ES step
 * (generateKeyPairSync + KeyObject.export, shared/src/tokens/compact.ts) has
 * been seen to deadlock the thread when a GC runs inside the export; a
 * deadlocked thread runs no timers, so the parent kills and retries instead.
 */
import type { JWK } from 'jose';
import { createCallTokenIssuer } from '@parley/shared/tokens';

interface Request {
  readonly issuer: string;
  readonly audience: string;
  readonly signingKey: JWK;
  readonly encryptionKey: JWK;
  readonly scope: string;
  readonly origin: string;
  readonly first: number;
  readonly count: number;
}

let input = '';
for await (const chunk of process.stdin) input += String(chunk);
const request = JSON.parse(input) as Request;
const issuer = await createCallTokenIssuer({
  issuer: request.issuer,
  audience: request.audience,
  signingKey: request.signingKey,
  encryptionKey: request.encryptionKey,
});
const out: string[] = [];
for (let i = 0; i < request.count; i += 1) {
  const n = request.first + i;
  const issued = await issuer.issue({
    subject: `webrtc-visitor-${n}`,
    scope: request.scope,
    origin: request.origin,
    privateClaims: { customerId: `C-${n}`, name: 'Ada Lovelace', tier: 'gold' },
    ttlSeconds: 300, // the most the issuer allows; tokens are issued just before each step
  });
  out.push(issued.token);
}
process.stdout.write(`${[...out, 'done'].join('\n')}\n`);
