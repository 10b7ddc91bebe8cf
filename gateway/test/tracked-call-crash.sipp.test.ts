/**
 * Money across a crash, on a live tracked call (issue 12 item 6: "kill the
 * gateway (SIGKILL) during a qualifying call and at the qualification moment:
 * after restart, exactly one charge"). The gateway runs as a child process on
 * one SQLite file; sipp is the carrier's caller (127.0.0.2) dialling a leased
 * tracking number, and a sipp UAS with RTP echo is the listing's agent (a
 * fixed contact). The process is killed with SIGKILL
 *
 * - after the call qualified (charged, still talking): after restart the
 *   call is closed and still charged once;
 * - inside the charge's own transaction, at `qualifiesAt` (the process kills
 *   itself after every write, before the commit): nothing was committed, and
 *   the restart's recovery charges it, once;
 * - before the call qualified: it is closed at the last sign of life and
 *   never charged.
 *
 * Read where it is kept: the marketplace's calls and the ledger, through the
 * API of the restarted gateway.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '@parley/shared/tokens';
import {
  PortAllocator,
  bundledScenario,
  sippAvailable,
  spawnGateway,
  startSipp,
  stopAll,
  type ManagedProcess,
  type PortBlock,
  type SippInstance,
} from '@parley/testkit';

const API_KEY = 'crash-test-key-0123456789abcdef';
const CARRIER = '127.0.0.2';
const PAGE_ORIGIN = 'https://news.example';
const NUMBERS = ['+14155550171', '+14155550172', '+14155550173', '+14155550174'];
const dir = mkdtempSync(join(tmpdir(), 'parley-tracked-crash-'));
const configPath = join(dir, 'parley.json');
const ports = new PortAllocator();

interface MarketplaceCallView {
  callId: string;
  listingId: string;
  impressionId: string | null;
  priceCents: number;
  connectedAt: string | null;
  qualifiedAt: string | null;
  endedAt: string | null;
  chargedCents: number;
}

let sipPort: PortBlock;
let mediaPorts: PortBlock;
let gateway: ManagedProcess | undefined;
let httpUrl = '';
let agentUas: SippInstance;
let carrier: SippInstance | undefined;
const listings: Record<'quick' | 'slow', string> = { quick: '', slow: '' };
let placementKey = '';
let advertiserId = '';
const callIds = new Set<string>();

async function startGateway(killInCharge = false): Promise<ManagedProcess> {
  const started = await spawnGateway({
    configPath,
    entry: 'gateway/test/fixtures/gateway-child.ts',
    env: killInCharge ? { PARLEY_TEST_KILL_IN_CHARGE: '1' } : {},
  });
  httpUrl = started.httpUrl;
  return started.process;
}

async function restart(killInCharge = false): Promise<void> {
  await gateway?.stop({ signal: 'SIGKILL' });
  gateway = await startGateway(killInCharge);
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${httpUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${API_KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** A publisher's page shows the listing of `category` to `device`: its leased number. */
async function place(category: string, device: string): Promise<string> {
  const res = await fetch(`${httpUrl}/v1/placements`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: PAGE_ORIGIN },
    body: JSON.stringify({ publisher: placementKey, category, slots: 1, deviceId: device }),
  });
  const body = (await res.json()) as { slots: { number: string | null; numberKind: string }[] };
  expect(body.slots[0]?.numberKind, JSON.stringify(body)).toBe('leased');
  return body.slots[0]!.number!;
}

/** The carrier's caller dials `number` and stays on the line (longer than any test). */
async function dial(number: string, caller: string): Promise<void> {
  await carrier?.stop();
  carrier = await startSipp({
    scenario: await bundledScenario('uac-carrier-call'),
    remote: `127.0.0.1:${sipPort.base}`,
    address: CARRIER,
    calls: 1,
    callDurationMs: 120_000,
    injection: { rows: [[number, caller]] },
    name: 'carrier',
  });
}

/** Polls the listing's newest marketplace call until `done` holds. */
async function callOf(
  listingId: string,
  done: (c: MarketplaceCallView) => boolean,
): Promise<MarketplaceCallView> {
  for (let i = 0; i < 300; i += 1) {
    const { calls } = await api<{ calls: MarketplaceCallView[] }>(
      'GET',
      `/v1/marketplace/calls?listingId=${listingId}`,
    );
    const call = calls[0];
    if (call && done(call)) return call;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no call of ${listingId} reached the expected state`);
}

async function chargesOf(callId: string) {
  const ledger = await api<{
    transactions: {
      kind: string;
      key: string;
      postings: { account: string; amountCents: number }[];
    }[];
  }>('GET', `/v1/advertisers/${advertiserId}/ledger`);
  return ledger.transactions.filter((t) => t.kind === 'charge' && t.key === `charge:${callId}`);
}

describe.skipIf(!sippAvailable())('a tracked call when the gateway is killed (SIGKILL)', () => {
  beforeAll(async () => {
    sipPort = await ports.allocate(1, { protocols: ['udp'] });
    mediaPorts = await ports.allocate(32, { protocols: ['udp'], even: true });
    agentUas = await startSipp({
      scenario: await bundledScenario('uas-answer-pcmu-echo'),
      rtpEcho: true,
      name: 'agent-uas',
    });
    // No visitor calls here, but a tenant needs its key and the gateway its own.
    const [tenantKeys, gatewayKeys] = await Promise.all([
      generateSigningKeyPair('ES256'),
      generateEncryptionKeyPair(),
    ]);
    writeFileSync(
      configPath,
      JSON.stringify({
        gatewayId: 'gw-tracked-crash',
        log: { level: 'info' },
        http: { host: '127.0.0.1', port: 0 },
        tokens: { encryptionKeys: [gatewayKeys.privateJwk] },
        tenants: { acme: { name: 'Acme Plumbing', jwks: [tenantKeys.publicJwk] } },
        sip: {
          domain: 'parley.test',
          listen: [{ protocol: 'udp', host: '127.0.0.1', port: sipPort.base }],
          t1Ms: 100,
        },
        queues: { sales: { tenant: 'acme' } },
        agents: [
          {
            id: 'agent1',
            tenant: 'acme',
            password: 'secret',
            queues: ['sales'],
            contact: `sip:agent1@${agentUas.address}`,
          },
        ],
        media: {
          address: '127.0.0.1',
          portMin: mediaPorts.base,
          portMax: mediaPorts.base + mediaPorts.size - 1,
          inactivityTimeoutSeconds: 0,
        },
        api: { keys: [{ id: 'test', key: API_KEY }] },
        storage: { path: join(dir, 'parley.sqlite') },
        flows: { 'not-in-service': [{ verb: 'hangup', reason: 'rejected' }] },
        marketplace: {
          reserveCents: 300,
          tenants: { acme: { trackingNumbers: { numbers: NUMBERS, leaseSeconds: 600 } } },
        },
        trunks: {
          carrier: {
            peers: [{ host: CARRIER }],
            keepAlive: { intervalSeconds: 0 },
            defaultCountry: 'US',
            inbound: {
              numbers: NUMBERS.map((number) => ({
                number,
                tenant: 'acme',
                flow: 'not-in-service',
              })),
            },
          },
        },
      }),
    );
    gateway = await startGateway();
    advertiserId = (
      await api<{ id: string }>('POST', '/v1/advertisers', {
        tenant: 'acme',
        name: 'Bob the Plumber',
        initialBalanceCents: 100_000,
      })
    ).id;
    placementKey = (
      await api<{ placementKey: string }>('POST', '/v1/publishers', {
        tenant: 'acme',
        name: 'Daily News',
        origins: [PAGE_ORIGIN],
      })
    ).placementKey;
    for (const [name, category, minConnectedSeconds] of [
      ['quick', 'plumbing', 1],
      ['slow', 'roofing', 3600],
    ] as const) {
      listings[name] = (
        await api<{ id: string }>('POST', '/v1/listings', {
          advertiserId,
          title: name,
          category,
          destination: { kind: 'agent', agent: 'agent1' },
          bidCents: 1000,
          dailyBudgetCents: 100_000,
          qualification: { minConnectedSeconds },
        })
      ).id;
    }
  }, 120_000);

  afterAll(async () => {
    await carrier?.stop();
    await agentUas?.stop();
    await gateway?.stop();
    await stopAll();
    sipPort?.release();
    mediaPorts?.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the one charge of a call killed after it qualified', async () => {
    await dial(await place('plumbing', 'device-crash-1'), '4155550701');
    const charged = await callOf(listings.quick, (c) => c.qualifiedAt !== null);
    expect(charged.chargedCents).toBe(300);
    expect(charged.endedAt).toBeNull();
    await restart();
    const after = await callOf(listings.quick, (c) => c.callId === charged.callId);
    expect(after.endedAt, JSON.stringify(after)).not.toBeNull();
    expect(after.chargedCents).toBe(300);
    expect(await chargesOf(charged.callId)).toHaveLength(1);
    callIds.add(charged.callId);
  });

  it('charges once, at restart, a call killed inside its charge at the qualification moment', async () => {
    await restart(true);
    const number = await place('plumbing', 'device-crash-2');
    const killed = gateway!;
    await dial(number, '4155550702');
    const exit = await killed.exited;
    expect(exit.signal, killed.describe()).toBe('SIGKILL');
    await restart();
    const after = await callOf(listings.quick, (c) => !callIds.has(c.callId) && c.endedAt !== null);
    expect(after.connectedAt).not.toBeNull();
    expect(after.qualifiedAt, JSON.stringify(after)).not.toBeNull();
    expect(after.chargedCents).toBe(300);
    const charges = await chargesOf(after.callId);
    expect(charges).toHaveLength(1);
    expect(charges[0]?.postings).toContainEqual({
      account: `advertiser:${advertiserId}`,
      amountCents: -300,
    });
    // A second restart finds nothing left to do: still one charge.
    await restart();
    expect(await chargesOf(after.callId)).toHaveLength(1);
  });

  it('never charges a call killed before it qualified, and closes it', async () => {
    await dial(await place('roofing', 'device-crash-3'), '4155550703');
    const connected = await callOf(listings.slow, (c) => c.connectedAt !== null);
    await restart();
    const after = await callOf(listings.slow, (c) => c.callId === connected.callId);
    expect(after.endedAt, JSON.stringify(after)).not.toBeNull();
    expect(after.qualifiedAt).toBeNull();
    expect(after.chargedCents).toBe(0);
    expect(await chargesOf(connected.callId)).toHaveLength(0);
    // The Parley call record was closed at start-up too, and names the listing.
    const record = await api<{ reason: string; marketplace: { listingId: string } | null }>(
      'GET',
      `/v1/calls/${connected.callId}`,
    );
    expect(record).toMatchObject({
      reason: 'gateway_restart',
      marketplace: { listingId: listings.slow },
    });
  });
});
