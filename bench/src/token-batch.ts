/**
 * Issues a batch of call tokens in a child process: reads
 * `{ issuer, audience, signingKey, encryptionKey, first, count }` as JSON on
 * stdin, prints one token per line (web session `bench-visitor-<n>`, n from
 * `first`), then `done`.
 *
 * Why a child: on Node 20 the issuer's ECDH-ES step (generateKeyPairSync +
 * KeyObject.export as JWK, shared/src/tokens/compact.ts) can deadlock the
 * thread when a GC runs inside the export (the key-generation job's destructor
 * takes the mutex the export holds). A deadlocked thread ignores signals
 * handled in JS and timers, so the benchmark issues tokens here, with a
 * time limit, and retries a batch that hangs.
 */
import type { JWK } from 'jose';
import { createCallTokenIssuer } from '@parley/shared/tokens';

interface BatchRequest {
  readonly issuer: string;
  readonly audience: string;
  readonly signingKey: JWK;
  readonly encryptionKey: JWK;
  readonly scope: string;
  readonly first: number;
  readonly count: number;
}

let input = '';
for await (const chunk of process.stdin) input += String(chunk);
const request = JSON.parse(input) as BatchRequest;
const issuer = await createCallTokenIssuer({
  issuer: request.issuer,
  audience: request.audience,
  signingKey: request.signingKey,
  encryptionKey: request.encryptionKey,
});
const lines: string[] = [];
for (let i = 0; i < request.count; i += 1) {
  const n = request.first + i;
  const issued = await issuer.issue({
    subject: `bench-visitor-${n}`,
    scope: request.scope,
    origin: 'https://shop.bench.test',
    privateClaims: { customerId: `C-${n}`, name: 'Ada Lovelace', tier: 'gold' },
    ttlSeconds: 300,
  });
  lines.push(issued.token);
  if (lines.length >= 200) process.stdout.write(`${lines.splice(0).join('\n')}\n`);
}
process.stdout.write(`${[...lines, 'done'].join('\n')}\n`);
