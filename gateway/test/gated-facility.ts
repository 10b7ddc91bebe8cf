/**
 * A gated facility reached from the carrier (`gated-trunk.sipp.test.ts`,
 * `gated-trunk-*.baresip.test.ts`): the tenant's DID comes in on the
 * carrier trunk, resident r-1 "Rita" (PIN 1593) has one SIP device, cell-12,
 * and callers' accounts are approved to call her.
 */
import { expect } from 'vitest';
import { PinHasher } from '../src/gated/index.js';
import { carrierTrunk } from './carrier.js';
import { TENANT, startTestGateway, type TestGateway } from './harness.js';

/** The tenant's gated API. */
export const GATED = `/v1/gated/${TENANT}`;

export interface GatedFacility {
  readonly gw: TestGateway;
  /** Resident r-1's device, to register a phone with. */
  readonly device: { sipUser: string; secret: string };
}

/**
 * `gated` is the tenant's `gated` settings (PIN, prompts…); `flow` the DID's
 * flow (default: the gate alone); `lines` more DIDs of the facility, each
 * with its own flow.
 */
export async function startGatedFacility(
  did: string,
  gated: Record<string, unknown>,
  flow: Record<string, unknown>[] = [{ verb: 'gate' }],
  lines: Record<string, Record<string, unknown>[]> = {},
): Promise<GatedFacility> {
  const more = Object.keys(lines).map((number, i) => [number, `line-${i + 1}`] as const);
  const gw = await startTestGateway({
    agents: [],
    tenantExtra: { gated },
    sipExtra: { digestAlgorithms: ['MD5'] },
    // Cheap scrypt: the PIN checks are not what these tests measure.
    pins: new PinHasher({ logN: 4, r: 8, p: 1 }),
    config: {
      // The DID's flow: the `gate` verb hands the call to the gated path.
      flows: {
        'facility-line': flow as never,
        ...Object.fromEntries(more.map(([number, name]) => [name, lines[number] as never])),
      },
      trunks: {
        carrier: carrierTrunk({
          dids: { [did]: 'facility-line', ...Object.fromEntries(more) },
        }),
      },
    },
  });
  const made = await gw.apiRequest<{ credential: { sipUser: string; secret: string } }>(
    'PUT',
    `${GATED}/devices/cell-12`,
    { kind: 'sip' },
  );
  expect(made.status).toBe(201);
  await gw.apiRequest('PUT', `${GATED}/residents/r-1`, {
    name: 'Rita',
    pin: '1593',
    devices: ['cell-12'],
  });
  return { gw, device: made.body.credential };
}

/**
 * A caller's account (10 a minute), approved to call r-1, with `credit`
 * (none when 0) under the idempotency key `seed-<key>`.
 */
export async function approvedAccount(
  gw: TestGateway,
  key: string,
  body: Record<string, unknown>,
  credit: number,
): Promise<{ id: string; number: string }> {
  const made = await gw.apiRequest<{ id: string; number: string }>('POST', `${GATED}/accounts`, {
    ratePerMinute: 10,
    ...body,
  });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  await gw.apiRequest('PUT', `${GATED}/accounts/${made.body.id}/residents/r-1`, {
    status: 'approved',
  });
  if (credit > 0)
    await gw.apiRequest('POST', `${GATED}/accounts/${made.body.id}/credits`, {
      amount: credit,
      key: `seed-${key}`,
    });
  return made.body;
}

/** A Gate decision as the facility's API shows it (the fields these tests read). */
export interface StoredDecision {
  readonly stage: string;
  readonly allowed: boolean;
  readonly failed: string | null;
  readonly accountId: string | null;
  readonly residentId: string | null;
  readonly at: string;
}

/** The Gate's decisions of one call, oldest first, read back from the facility's API. */
export async function decisionsOf(gw: TestGateway, callId: string): Promise<StoredDecision[]> {
  const { body } = await gw.apiRequest<{ decisions: StoredDecision[] }>(
    'GET',
    `${GATED}/decisions?callId=${callId}&limit=500`,
  );
  return body.decisions.reverse();
}
