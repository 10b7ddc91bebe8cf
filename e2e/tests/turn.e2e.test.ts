/**
 * A visitor whose network allows media only through TURN: the gateway mints
 * short-lived credentials for a real coturn (`media.turn`) and asks browsers to
 * relay (`iceTransportPolicy: relay`); the company site fetches them with its
 * API key per token (`gatewayInfoSource`). Chromium's media then goes
 * browser → coturn → gateway, and audio flows both ways.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  startBaresipAgent,
  startCoturn,
  stopAll,
  type BaresipAgent,
  type Coturn,
} from '@parley/testkit';
import {
  clickCall,
  expectAgentHeardFakeMicrophone,
  inboundAudio,
  startWidgetWorld,
  states,
  type WidgetWorld,
} from '../src/widget-fixture.js';

const SECRET = randomBytes(24).toString('base64url');

let coturn: Coturn;
let world: WidgetWorld;
let agent: BaresipAgent;

beforeAll(async () => {
  coturn = await startCoturn({ secret: SECRET });
  world = await startWidgetWorld(
    {
      agents: [{ id: 'agent1' }],
      mediaExtra: {
        turn: { urls: coturn.urls, secret: SECRET, ttlSeconds: 600 },
        iceTransportPolicy: 'relay',
      },
    },
    { iceServersFromGateway: true },
  );
  agent = await startBaresipAgent({
    user: 'agent1',
    password: 'secret',
    registrar: world.gw.udp,
    codecs: ['PCMU'],
  });
  await agent.registered();
});

afterAll(async () => {
  await agent?.stop();
  await world?.close();
  await coturn?.stop();
  await stopAll();
});

interface PairView {
  local: { candidateType?: string; address?: string; port?: number; relayProtocol?: string };
  remote: { candidateType?: string; address?: string; port?: number };
  bytesSent: number;
  bytesReceived: number;
  offeredTypes: string[];
}

/** The browser's selected ICE candidate pair, and the types of every local candidate. */
function selectedPair(page: Page): Promise<PairView | undefined> {
  return page.evaluate(async () => {
    const pc = (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs.at(-1);
    if (!pc) return undefined;
    const reports = new Map<string, Record<string, unknown>>();
    (await pc.getStats()).forEach((r: Record<string, unknown>) => {
      reports.set(r['id'] as string, r);
    });
    const all = [...reports.values()];
    const transport = all.find((r) => r['type'] === 'transport');
    const pair = reports.get(transport?.['selectedCandidatePairId'] as string);
    if (!pair) return undefined;
    const pick = (r: Record<string, unknown> | undefined) => ({
      candidateType: r?.['candidateType'] as string,
      address: r?.['address'] as string,
      port: r?.['port'] as number,
      relayProtocol: r?.['relayProtocol'] as string,
    });
    return {
      local: pick(reports.get(pair['localCandidateId'] as string)),
      remote: pick(reports.get(pair['remoteCandidateId'] as string)),
      bytesSent: pair['bytesSent'] as number,
      bytesReceived: pair['bytesReceived'] as number,
      offeredTypes: all
        .filter((r) => r['type'] === 'local-candidate')
        .map((r) => r['candidateType'] as string),
    };
  });
}

describe('widget through TURN only', () => {
  it('relays the call through coturn with minted credentials: audio both ways', async () => {
    const { context, page } = await world.newPage();
    await page.goto(`${world.siteOrigin}/`);
    const mark = agent.sipMessages().length;
    await clickCall(page);
    await expect.poll(() => states(page), { timeout: 20_000 }).toContain('in-call');
    await expect
      .poll(async () => (await inboundAudio(page)).energy, { timeout: 10_000 })
      .toBeGreaterThan(0.001);

    const pair = await selectedPair(page);
    // The browser offered relay candidates only, and the pair in use goes
    // through coturn's relay ports to the gateway's ICE-lite host candidate.
    expect(pair?.offeredTypes.length).toBeGreaterThan(0);
    expect(new Set(pair?.offeredTypes)).toEqual(new Set(['relay']));
    expect(pair?.local.candidateType).toBe('relay');
    expect(pair?.local.address).toBe('127.0.0.1');
    expect(pair?.local.port).toBeGreaterThanOrEqual(coturn.relayPorts.min);
    expect(pair?.local.port).toBeLessThanOrEqual(coturn.relayPorts.max);
    expect(pair?.remote.candidateType).toBe('host');
    expect(pair?.bytesReceived).toBeGreaterThan(1000);
    expect(pair?.bytesSent).toBeGreaterThan(1000);
    // coturn allocated for the minted username <expiry>:<user> (the site's API key is
    // not limited to a tenant, so the user is `parley`).
    expect(coturn.log()).toMatch(/user <\d+:parley>: incoming packet ALLOCATE processed, success/);

    await page.waitForTimeout(1500);
    await page.locator('parley-call').getByRole('button', { name: 'Hang up' }).click();
    await agent.waitForRequest('BYE', undefined, 5000, { since: mark });
    // The agent heard the page's 700 Hz microphone, through the relay.
    await expectAgentHeardFakeMicrophone(agent);
    await context.close();
  });
});
