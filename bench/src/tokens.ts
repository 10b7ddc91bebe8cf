/**
 * Call token throughput on one core: tokens issued/s and verified/s (the full
 * nested token: signature, claims, JWE decrypt, replay store), next to a plain
 * compact JWS verify of a payload of the same size, in the same process.
 *
 *   pnpm bench tokens [--seconds 2]
 */
import { CompactSign, compactVerify, importJWK } from 'jose';
import { createPublicKey, verify as cryptoVerify, type JsonWebKey } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  ConfiguredTenantKeys,
  MemoryReplayStore,
  createCallTokenIssuer,
  createCallTokenVerifier,
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  type ReplayStore,
  type EncryptionCurve,
  type SigningAlgorithm,
} from '@parley/shared/tokens';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '2' } } });
const SECONDS = Number(values.seconds);

async function rate(label: string, op: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 200; i += 1) await op(i); // warm up
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  const start = performance.now();
  while (performance.now() < end) {
    // Batches keep the clock reads off the measurement.
    for (let j = 0; j < 50; j += 1) await op(n + j);
    n += 50;
  }
  const perSecond = n / ((performance.now() - start) / 1000);
  process.stderr.write(`  ${label}: ${Math.round(perSecond)}/s\n`);
  return perSecond;
}

async function run(alg: SigningAlgorithm, crv: EncryptionCurve) {
  const tenant = await generateSigningKeyPair(alg);
  const gateway = await generateEncryptionKeyPair(crv);
  const issuer = await createCallTokenIssuer({
    issuer: 'acme',
    audience: 'gw',
    signingKey: tenant.privateJwk,
    encryptionKey: gateway.publicJwk,
  });
  // A real replay store, emptied each time the pre-issued tokens come round again.
  let replay = new MemoryReplayStore();
  const replayStore: ReplayStore = { consume: (id, until) => replay.consume(id, until) };
  const verifier = await createCallTokenVerifier({
    audience: 'gw',
    tenantKeys: new ConfiguredTenantKeys({ acme: { jwks: [tenant.publicJwk] } }),
    decryptionKeys: [gateway.privateJwk],
    replayStore,
  });
  const params = {
    subject: 'web-session-0001',
    scope: 'queue:sales',
    origin: 'https://shop.acme.example',
    privateClaims: {
      customerId: 'C-100234',
      phone: '+15550100',
      tier: 'gold',
      name: 'Ada Lovelace',
    },
  };
  process.stderr.write(`${alg} + ${crv}:\n`);
  const issued = await rate('issue', () => issuer.issue(params));

  // Pre-issue distinct tokens (distinct jti) so the replay store is exercised for real.
  const tokens: string[] = [];
  for (let i = 0; i < 2000; i += 1) tokens.push((await issuer.issue(params)).token);
  const tokenBytes = tokens[0]!.length;
  const verified = await rate('verify (full nested token)', (i) => {
    if (i % tokens.length === 0) replay = new MemoryReplayStore();
    return verifier.verify(tokens[i % tokens.length]);
  });

  // The baseline: a plain ES256 compact JWS whose payload is as large as ours.
  const plainKey = await generateSigningKeyPair('ES256');
  const privateKey = await importJWK(plainKey.privateJwk, 'ES256');
  const publicKey = await importJWK(plainKey.publicJwk, 'ES256');
  const payloadBytes = Buffer.from(tokens[0]!.split('.')[1]!, 'base64url').length;
  const plain = await new CompactSign(
    new TextEncoder().encode(JSON.stringify({ pad: 'x'.repeat(payloadBytes - 10) })),
  )
    .setProtectedHeader({ alg: 'ES256' })
    .sign(privateKey);
  const plainJose = await rate('plain ES256 JWS verify (jose), same payload size', () =>
    compactVerify(plain, publicKey),
  );
  // The same plain token through node:crypto directly, as our verifier does: the stricter baseline.
  const nodeKey = createPublicKey({ key: plainKey.publicJwk as JsonWebKey, format: 'jwk' });
  const [ph = '', pp = '', ps = ''] = plain.split('.');
  const plainNode = await rate('plain ES256 JWS verify (node:crypto), same payload size', () => {
    if (
      !cryptoVerify(
        'sha256',
        Buffer.from(`${ph}.${pp}`),
        { key: nodeKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(ps, 'base64url'),
      )
    )
      throw new Error('bad');
    return Promise.resolve(JSON.parse(Buffer.from(pp, 'base64url').toString()));
  });
  return {
    alg,
    crv,
    tokenBytes,
    issued,
    verified,
    plainJose,
    plainNode,
    ratio: verified / Math.max(plainJose, plainNode),
  };
}

const results = [];
for (const [alg, crv] of [
  ['ES256', 'X25519'],
  ['EdDSA', 'X25519'],
  ['ES256', 'P-256'],
] as const) {
  results.push(await run(alg, crv));
}
const rows = results.map(
  (r) =>
    `| ${r.alg} + ${r.crv} | ${r.tokenBytes} | ${Math.round(r.issued)} | ${Math.round(r.verified)} | ${Math.round(r.plainJose)} | ${Math.round(r.plainNode)} | ${r.ratio.toFixed(2)} |`,
);
process.stdout.write(
  [
    '| signing + encryption | token bytes | issued/s | verified/s (full) | plain ES256 verify/s (jose) | plain ES256 verify/s (node:crypto) | full ÷ best plain |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n'),
);
