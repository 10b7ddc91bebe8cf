/**
 * The demo, started by `./scripts/demo.sh`: makes keys (first run only), writes
 * the gateway's config, starts the gateway as its own process, starts the demo
 * company site, and prints the URL to open.
 *
 * Ports: DEMO_PORT (company site, default 3000), DEMO_GATEWAY_PORT (8080),
 * DEMO_SIP_PORT (5070, UDP and TCP). Everything lives under DEMO_DIR
 * (default .var/demo/: keys, config, SQLite, logs).
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
import { loopAudio, speak, startBaresipAgent, stopAll } from '@parley/testkit';
import { randomBytes } from 'node:crypto';
import { createCompanySite } from './company-site.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = resolve(ROOT, process.env['DEMO_DIR'] ?? '.var/demo');
const HOST = '127.0.0.1';
const SITE_PORT = Number(process.env['DEMO_PORT'] ?? 3000);
const GATEWAY_PORT = Number(process.env['DEMO_GATEWAY_PORT'] ?? 8080);
const SIP_PORT = Number(process.env['DEMO_SIP_PORT'] ?? 5070);
const TENANT = 'demo-company';
const greeting = (who: string) =>
  `Hello, and thank you for calling the Demo Company. You are talking to our ${who}, a test agent of the Parley demo. ` +
  'Everything you say is recorded on this machine.';
/** The demo's agents: two SIP phones (baresip) of different tiers, and one for the desk's softphone. */
const AGENTS = [
  { id: 'senior', displayName: 'Senior agent', tier: 'senior', phone: true },
  { id: 'junior', displayName: 'Junior agent', tier: 'junior', phone: true },
  { id: 'desk', displayName: 'Desk agent', tier: 'senior', phone: false },
] as const;

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
    if (child.exitCode !== null)
      throw new Error(`the gateway exited with code ${child.exitCode}; see ${DIR}/gateway.log`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `the gateway did not answer ${url}/healthz within ${timeoutMs / 1000} s; see ${DIR}/gateway.log`,
  );
}

async function main(): Promise<void> {
  mkdirSync(DIR, { recursive: true });
  const siteOrigin = `http://${HOST}:${SITE_PORT}`;
  const gatewayUrl = `http://${HOST}:${GATEWAY_PORT}`;

  say('==> keys');
  const tenantKeys = await keyPair('tenant', () => generateSigningKeyPair('ES256'));
  await keyPair('gateway', () => generateEncryptionKeyPair('X25519'));

  say('==> gateway');
  const passwords = Object.fromEntries(
    AGENTS.map((a) => [a.id, randomBytes(9).toString('base64url')]),
  );
  const apiKey = randomBytes(18).toString('base64url');
  const config = {
    gatewayId: 'demo-gateway',
    http: { host: HOST, port: GATEWAY_PORT, publicUrl: gatewayUrl },
    tokens: { encryptionKeys: ['gateway.private.jwk.json'] },
    tenants: {
      [TENANT]: {
        name: 'Demo Company',
        jwks: ['tenant.public.jwk.json'],
        origins: [siteOrigin],
        // Value-based routing: the company's scoring endpoints (served by the demo site).
        routing: {
          benefit: { url: `${siteOrigin}/scores/benefit`, timeoutMs: 500 },
          burden: { url: `${siteOrigin}/scores/burden`, timeoutMs: 500 },
          algorithm: {
            kind: 'weighted',
            version: 'demo-1',
            weights: { benefit: 1, burden: 1, repeatContacts: 5 },
            tiers: [{ name: 'high', minValue: 100 }, { name: 'standard' }],
          },
        },
      },
    },
    sip: {
      listen: [
        { protocol: 'udp', host: HOST, port: SIP_PORT },
        { protocol: 'tcp', host: HOST, port: SIP_PORT },
      ],
      // baresip 1.0 cannot answer a SHA-256 digest challenge.
      digestAlgorithms: ['MD5'],
    },
    queues: {
      // High-value customers reach a senior agent first; everyone else a junior one.
      sales: {
        tenant: TENANT,
        ringTimeoutSeconds: 15,
        bands: { high: ['senior', 'junior'], standard: ['junior', 'senior'] },
      },
      support: { tenant: TENANT, ringTimeoutSeconds: 15 },
    },
    agents: AGENTS.map((a) => ({
      id: a.id,
      tenant: TENANT,
      password: passwords[a.id],
      displayName: a.displayName,
      tier: a.tier,
      queues: ['sales', 'support'],
    })),
    media: {
      address: HOST,
      portMin: Number(process.env['DEMO_MEDIA_PORT'] ?? 21000),
      portMax: Number(process.env['DEMO_MEDIA_PORT'] ?? 21000) + 499,
      webrtcPortMin: Number(process.env['DEMO_MEDIA_PORT'] ?? 21000) + 500,
      webrtcPortMax: Number(process.env['DEMO_MEDIA_PORT'] ?? 21000) + 999,
    },
    storage: { path: join(DIR, 'parley.sqlite') },
    // A key for the /v1 API, made now: the call records with their routing decisions.
    api: { keys: [{ id: 'demo', key: apiKey, privateClaims: true }] },
  };
  const configPath = join(DIR, 'gateway.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const log = createWriteStream(join(DIR, 'gateway.log'), { flags: 'a' });
  const gateway = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'gateway/src/main.ts'), '--config', configPath],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  gateway.stdout?.pipe(log);
  gateway.stderr?.pipe(log);
  const stop = () => {
    gateway.kill('SIGTERM');
    void stopAll().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
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

  say('==> agents (baresip phones answering with a spoken greeting, recording the call)');
  for (const a of AGENTS.filter((x) => x.phone)) {
    const spoken = await speak({
      text: greeting(a.displayName.toLowerCase()),
      path: join(DIR, `greeting-${a.id}-16k.wav`),
    });
    // A desk phone: G.711, which the gateway's early answer offers a SIP phone
    // alone. aufile does not resample: 8 kHz mono, looped so the call is not hung up.
    const audio = await loopAudio({
      input: spoken,
      path: join(DIR, `greeting-${a.id}-8k.wav`),
      seconds: 600,
      gapSeconds: 2,
      rate: 8000,
      channels: 1,
    });
    const phone = await startBaresipAgent({
      user: a.id,
      password: passwords[a.id] ?? '',
      registrar: `${HOST}:${SIP_PORT}`,
      audioSource: audio,
      codecs: ['PCMU', 'PCMA'],
      keepDir: true,
    });
    await phone.registered();
    say(`  ${a.id} (${a.tier}) registered; recordings in ${phone.recordingDir}`);
  }

  say('==> demo company site');
  // As a company would: the gateway's public settings (its URL, ICE servers) for the widget.
  const client = (await (await fetch(`${gatewayUrl}/.well-known/parley-gateway.json`)).json()) as {
    url: string;
    iceServers: { urls: string | string[]; username?: string; credential?: string }[];
  };
  const site = createCompanySite({
    issuer,
    gatewayUrl: client.url,
    iceServers: client.iceServers,
    origin: siteOrigin,
    widgetDir: join(ROOT, 'widget/dist'),
  });
  await new Promise<void>((resolveListen, reject) => {
    const server = site.listen(SITE_PORT, HOST, () => resolveListen());
    server.once('error', (error) =>
      reject(new Error(`cannot listen on ${siteOrigin}: ${error.message} (set DEMO_PORT)`)),
    );
  });
  say('');
  say(`Parley demo is running. Open ${siteOrigin}/`);
  say(
    `Agent desk: ${gatewayUrl}/desk — sign in as senior or junior (beside their phones), or as desk (the desk is the phone):`,
  );
  for (const a of AGENTS) say(`  ${a.id.padEnd(7)} password ${passwords[a.id]}`);
  say(
    `Call records (who answered, the customer's value): curl -H 'Authorization: Bearer ${apiKey}' ${gatewayUrl}/v1/calls`,
  );
  say('Press Ctrl+C to stop.');
}

main().catch((error: unknown) => {
  process.stderr.write(`demo: ${(error as Error).message}\n`);
  process.exit(1);
});
