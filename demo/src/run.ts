/**
 * The demo, started by `./scripts/demo.sh`: makes keys (first run only), writes
 * the gateway's config, starts the gateway as its own process, starts the demo
 * company site, and prints the URL to open.
 *
 * Ports: DEMO_PORT (company site, default 3000), DEMO_GATEWAY_PORT (8080).
 * Everything lives under .var/demo/ (keys, config, SQLite, logs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createCallTokenIssuer,
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  type JWK,
  type JwkSet,
  type KeyPairFiles,
} from '@parley/shared/tokens';
import { createCompanySite } from './company-site.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = resolve(ROOT, '.var/demo');
const HOST = '127.0.0.1';
const SITE_PORT = Number(process.env['DEMO_PORT'] ?? 3000);
const GATEWAY_PORT = Number(process.env['DEMO_GATEWAY_PORT'] ?? 8080);
const TENANT = 'demo-company';

const say = (line: string) => process.stdout.write(`${line}\n`);

async function keyPair(name: string, make: () => Promise<KeyPairFiles>): Promise<KeyPairFiles> {
  const privatePath = join(DIR, `${name}.private.jwk.json`);
  const publicPath = join(DIR, `${name}.public.jwk.json`);
  if (existsSync(privatePath) && existsSync(publicPath)) {
    return {
      privateJwk: JSON.parse(readFileSync(privatePath, 'utf8')) as JWK,
      publicJwk: JSON.parse(readFileSync(publicPath, 'utf8')) as JWK,
    };
  }
  const pair = await make();
  writeFileSync(privatePath, JSON.stringify(pair.privateJwk, null, 2), { mode: 0o600 });
  writeFileSync(publicPath, JSON.stringify(pair.publicJwk, null, 2));
  say(`  made ${name} keys (kid ${pair.publicJwk.kid})`);
  return pair;
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the gateway exited with code ${child.exitCode}; see ${DIR}/gateway.log`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the gateway did not answer ${url}/healthz within ${timeoutMs / 1000} s; see ${DIR}/gateway.log`);
}

async function main(): Promise<void> {
  mkdirSync(DIR, { recursive: true });
  const siteOrigin = `http://${HOST}:${SITE_PORT}`;
  const gatewayUrl = `http://${HOST}:${GATEWAY_PORT}`;

  say('==> keys');
  const tenantKeys = await keyPair('tenant', () => generateSigningKeyPair('ES256'));
  await keyPair('gateway', () => generateEncryptionKeyPair('X25519'));

  say('==> gateway');
  const config = {
    gatewayId: 'demo-gateway',
    http: { host: HOST, port: GATEWAY_PORT, publicUrl: gatewayUrl },
    tokens: { encryptionKeys: ['gateway.private.jwk.json'] },
    tenants: { [TENANT]: { name: 'Demo Company', jwks: ['tenant.public.jwk.json'], origins: [siteOrigin] } },
    storage: { path: join(DIR, 'parley.sqlite') },
  };
  const configPath = join(DIR, 'gateway.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const log = createWriteStream(join(DIR, 'gateway.log'), { flags: 'a' });
  const gateway = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'gateway/src/main.ts'), '--config', configPath], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  gateway.stdout?.pipe(log);
  gateway.stderr?.pipe(log);
  const stopAll = () => {
    gateway.kill('SIGTERM');
    process.exit(0);
  };
  process.once('SIGINT', stopAll);
  process.once('SIGTERM', stopAll);
  await waitForHealth(gatewayUrl, gateway);
  say(`  gateway up at ${gatewayUrl} (logs: ${join(DIR, 'gateway.log')})`);

  // As a company would: take the gateway's encryption key from its JWKS.
  const jwks = (await (await fetch(`${gatewayUrl}/.well-known/jwks.json`)).json()) as JwkSet;
  const encryptionKey = jwks.keys[0];
  if (!encryptionKey) throw new Error('the gateway publishes no encryption key');
  const issuer = await createCallTokenIssuer({
    issuer: TENANT,
    audience: config.gatewayId,
    signingKey: tenantKeys.privateJwk,
    encryptionKey,
  });

  say('==> demo company site');
  const site = createCompanySite({ issuer, gatewayUrl, origin: siteOrigin, widgetDir: join(ROOT, 'widget/dist') });
  await new Promise<void>((resolveListen, reject) => {
    const server = site.listen(SITE_PORT, HOST, () => resolveListen());
    server.once('error', (error) => reject(new Error(`cannot listen on ${siteOrigin}: ${error.message} (set DEMO_PORT)`)));
  });
  say('');
  say(`Parley demo is running. Open ${siteOrigin}/`);
  say('Press Ctrl+C to stop.');
}

main().catch((error: unknown) => {
  process.stderr.write(`demo: ${(error as Error).message}\n`);
  process.exit(1);
});
