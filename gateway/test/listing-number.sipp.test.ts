/**
 * A listing whose destination is a phone number through a trunk, on real
 * calls with sipp as the carrier on both sides (issue 12): the trunk's
 * outbound rules changed after the listings were written (a restart with
 * `outbound.denyPrefixes`), so a carrier's call to the listing whose number
 * is now denied is refused 403 `number_not_allowed` and that number is never
 * dialled, while the other listing's number is dialled, answered, bridged and
 * charged once. The records say which is which.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PortAllocator,
  bundledScenario,
  runSipp,
  sippAvailable,
  startSipp,
  stopAll,
  type PortBlock,
  type SippInstance,
} from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../src/config/index.js';
import { CARRIER, carrierTrunk } from './carrier.js';
import { TENANT, startTestGateway, type TestGateway } from './harness.js';
import { transactionsIn } from './sipp-log.js';

const ALLOWED = { staticNumber: '+14155550171', destination: '+14155550188' };
const DENIED = { staticNumber: '+14155550172', destination: '+19005550199' };

afterAll(() => stopAll());

describe.skipIf(!sippAvailable())(
  "a listing's number destination and the trunk's rules (sipp carrier)",
  () => {
    const ports = new PortAllocator();
    let block: PortBlock;
    let dir = '';
    let gw: TestGateway;
    let carrierUas: SippInstance | undefined;
    const ids: Record<'allowed' | 'denied', string> = { allowed: '', denied: '' };
    let advertiserId = '';

    const config = (denyPrefixes: string[]): Partial<ConfigInput> => ({
      storage: { path: join(dir, 'parley.db') },
      flows: { 'not-in-service': [{ verb: 'hangup', reason: 'rejected' }] },
      marketplace: { tenants: { [TENANT]: {} } },
      trunks: {
        carrier: {
          ...carrierTrunk({
            port: block.base,
            dids: {
              [ALLOWED.staticNumber]: 'not-in-service',
              [DENIED.staticNumber]: 'not-in-service',
            },
          }),
          outbound: { denyPrefixes },
        },
      },
    });

    beforeAll(async () => {
      block = await ports.allocate(1, { protocols: ['udp'] });
      dir = mkdtempSync(join(tmpdir(), 'parley-listing-number-'));
      // Both listings are written while the trunk denies nothing.
      const before = await startTestGateway({ config: config([]) });
      const a = await before.apiRequest<{ id: string }>('POST', '/v1/advertisers', {
        tenant: TENANT,
        name: 'Bob the Plumber',
        initialBalanceCents: 10_000,
      });
      expect(a.status).toBe(201);
      advertiserId = a.body.id;
      for (const [name, l] of [
        ['allowed', ALLOWED],
        ['denied', DENIED],
      ] as const) {
        const res = await before.apiRequest<{ id: string }>('POST', '/v1/listings', {
          advertiserId,
          title: `Plumber ${name}`,
          category: 'plumbing',
          region: 'US',
          destination: { kind: 'number', number: l.destination, trunk: 'carrier' },
          bidCents: 500,
          dailyBudgetCents: 10_000,
          qualification: { minConnectedSeconds: 1 },
          staticNumber: l.staticNumber,
        });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        ids[name] = res.body.id;
      }
      await before.close();
      // The operator then denies premium-rate numbers on the trunk and restarts.
      gw = await startTestGateway({ config: config(['+1900']) });
      carrierUas = await startSipp({
        scenario: await bundledScenario('uas-carrier-answer'),
        address: CARRIER,
        localPort: block.base,
        traceMessages: true,
        rtpEcho: true,
      });
    });
    afterAll(async () => {
      await carrierUas?.stop();
      await gw?.close();
      block?.release();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('refuses the call to the denied listing cleanly: 403, never dialled, recorded, not charged', async () => {
      const result = await runSipp({
        scenario: await bundledScenario('uac-carrier-invite'),
        remote: gw.udp,
        address: CARRIER,
        calls: 1,
        injection: { rows: [[DENIED.staticNumber, '4155550701', 'X-Test: 1', '0']] },
        timeoutMs: 30_000,
      });
      expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
      expect(result.messages).toMatch(/SIP\/2\.0 403/);
      expect(result.messages).toMatch(/Reason: [^\n]*number_not_allowed/);

      await gw.callsEnded();
      const record = (await gw.gateway.callStore.listRecent(1, { tenant: TENANT }))[0]!;
      expect(record).toMatchObject({
        called: DENIED.staticNumber,
        outcome: 'failed',
        reason: 'number_not_allowed',
        sipStatus: 403,
      });
      const call = await gw.api<Record<string, unknown>>(`/v1/marketplace/calls/${record.id}`);
      expect(call.status, JSON.stringify(call.body)).toBe(200);
      expect(call.body).toMatchObject({ listingId: ids.denied, chargedCents: 0 });
      expect(String(call.body['refusal'])).toMatch(
        /number_not_allowed: destination\.number: \+19005550199 is refused by trunks\.carrier\.outbound\.denyPrefixes \(\+1900\)/,
      );
    });

    it("dials the allowed listing's number through the trunk and charges it once", async () => {
      const result = await runSipp({
        scenario: await bundledScenario('uac-carrier-call'),
        remote: gw.udp,
        address: CARRIER,
        calls: 1,
        callDurationMs: 3000,
        injection: { rows: [[ALLOWED.staticNumber, '4155550702']] },
        timeoutMs: 60_000,
      });
      expect(result.stats.successful, `${result.output}\n${result.errors}`).toBe(1);
      await gw.callsEnded();
      const record = (await gw.gateway.callStore.listRecent(1, { tenant: TENANT }))[0]!;
      expect(record).toMatchObject({ called: ALLOWED.staticNumber, outcome: 'answered' });
      const call = await gw.api<Record<string, unknown>>(`/v1/marketplace/calls/${record.id}`);
      expect(call.body).toMatchObject({
        listingId: ids.allowed,
        kind: 'direct',
        chargedCents: 500,
        refusal: null,
      });

      // The carrier's far end got exactly one INVITE: the allowed number's, never the denied one's.
      const far = await carrierUas!.stop();
      carrierUas = undefined;
      const invites = transactionsIn(far.messages, 'INVITE');
      expect(invites).toHaveLength(1);
      expect(invites[0]?.startLine).toMatch(/^INVITE sip:\+14155550188@/);
      expect(far.messages).not.toContain('9005550199');

      const ledger = await gw.api<{ transactions: { kind: string }[] }>(
        `/v1/advertisers/${advertiserId}/ledger`,
      );
      expect(ledger.body.transactions.filter((t) => t.kind === 'charge')).toHaveLength(1);
    });
  },
);
