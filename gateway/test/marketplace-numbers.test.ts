/**
 * A listing's numbers checked against the trunks through the API: a number
 * destination must be one the trunk's outbound rules let the tenant call
 * (`number_not_allowed` / `trunk_not_allowed`, naming the rule); a static
 * number must be an inbound number of a trunk for the listing's tenant, and
 * nobody else's (a tracking pool's, the fallback, another listing's). Nothing
 * is written when it is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT, startTestGateway, type TestGateway } from './harness.js';

type Refusal = { error: { code: string; detail: string } };

describe('listing numbers against the trunks (API)', () => {
  let gw: TestGateway;
  let advertiserId = '';

  beforeAll(async () => {
    gw = await startTestGateway({
      otherTenants: ['globex'],
      config: {
        flows: { 'not-in-service': [{ verb: 'hangup', reason: 'rejected' }] },
        marketplace: {
          tenants: {
            [TENANT]: {
              trackingNumbers: { numbers: ['+14155550101', '+14155550102'] },
              fallbackNumber: '+14155550103',
            },
          },
        },
        trunks: {
          carrier: {
            peers: [{ host: '127.0.0.2' }],
            keepAlive: { intervalSeconds: 0 },
            defaultCountry: 'US',
            inbound: {
              numbers: [
                {
                  from: '+14155550101',
                  to: '+14155550109',
                  tenant: TENANT,
                  flow: 'not-in-service',
                },
                { number: '+14155550201', tenant: 'globex', flow: 'not-in-service' },
              ],
            },
            outbound: { allowPrefixes: ['+1'], denyPrefixes: ['+1900'] },
          },
          partner: {
            peers: [{ host: '127.0.0.3' }],
            keepAlive: { intervalSeconds: 0 },
            outbound: { tenants: ['globex'] },
          },
        },
      },
    });
    const a = await gw.apiRequest<{ id: string }>('POST', '/v1/advertisers', {
      tenant: TENANT,
      name: 'Bob the Plumber',
      initialBalanceCents: 10_000,
    });
    expect(a.status).toBe(201);
    advertiserId = a.body.id;
  });
  afterAll(() => gw.close());

  const listing = (change: Record<string, unknown>) =>
    gw.apiRequest<Refusal & { id: string; staticNumber: string | null }>('POST', '/v1/listings', {
      advertiserId,
      title: 'Plumber',
      category: 'plumbing',
      region: 'US',
      destination: { kind: 'queue', queue: 'sales' },
      bidCents: 500,
      dailyBudgetCents: 10_000,
      ...change,
    });

  const count = async () =>
    (await gw.api<{ listings: unknown[] }>('/v1/listings')).body.listings.length;

  it("refuses a number destination the trunk's outbound rules refuse, naming the rule", async () => {
    const before = await count();
    const cases: [Record<string, unknown>, number, string, RegExp][] = [
      [
        { kind: 'number', number: '+19005550100', trunk: 'carrier' },
        403,
        'number_not_allowed',
        /\+19005550100 is refused by trunks\.carrier\.outbound\.denyPrefixes \(\+1900\)/,
      ],
      [
        // No trunk named: the one the dialer would pick for the tenant (carrier).
        { kind: 'number', number: '+442079460000' },
        403,
        'number_not_allowed',
        /not in trunks\.carrier\.outbound\.allowPrefixes \(\+1\)/,
      ],
      [
        { kind: 'number', number: '+14155550100', trunk: 'partner' },
        403,
        'trunk_not_allowed',
        /tenant acme may not call out through trunk partner \(trunks\.partner\.outbound\.tenants\)/,
      ],
      [
        { kind: 'number', number: '+14155550100', trunk: 'nope' },
        403,
        'trunk_not_allowed',
        /no trunk nope is configured/,
      ],
    ];
    for (const [destination, status, code, detail] of cases) {
      const res = await listing({ destination });
      expect(res.status, JSON.stringify(destination)).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.detail).toMatch(detail);
    }
    expect(await count()).toBe(before);
  });

  it('accepts an allowed number, and refuses changing it to a denied one (the listing unchanged)', async () => {
    const ok = await listing({
      destination: { kind: 'number', number: '+14155550100', trunk: 'carrier' },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    const changed = await gw.apiRequest<Refusal>('PATCH', `/v1/listings/${ok.body.id}`, {
      destination: { kind: 'number', number: '+19005550100' },
    });
    expect(changed.status).toBe(403);
    expect(changed.body.error.code).toBe('number_not_allowed');
    const now = await gw.api<{ destination: unknown }>(`/v1/listings/${ok.body.id}`);
    expect(now.body.destination).toEqual({
      kind: 'number',
      number: '+14155550100',
      trunk: 'carrier',
    });
  });

  it('refuses a static number no trunk of the tenant owns, or one the marketplace hands out otherwise', async () => {
    const before = await count();
    const cases: [string, number, RegExp][] = [
      ['+14155550999', 400, /\+14155550999 is not an inbound number of any trunk/],
      [
        '+14155550201',
        400,
        /\+14155550201 reaches tenant globex through trunks\.carrier, not acme/,
      ],
      [
        '+14155550101',
        409,
        /in use: a tracking number of tenant acme's pool \(leased per impression\)/,
      ],
      ['+14155550103', 409, /in use: the fallback number of tenant acme/],
    ];
    for (const [staticNumber, status, detail] of cases) {
      const res = await listing({ staticNumber });
      expect(res.status, staticNumber).toBe(status);
      expect(res.body.error.detail).toMatch(detail);
    }
    expect(await count()).toBe(before);
  });

  it("refuses another listing's static number, at creation and by update", async () => {
    const first = await listing({ staticNumber: '+14155550105' });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const again = await listing({ staticNumber: '+14155550105' });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: 'conflict',
      detail: `staticNumber: +14155550105 is already the static number of listing ${first.body.id}`,
    });
    const second = await listing({ staticNumber: '+14155550106' });
    expect(second.status).toBe(201);
    const taken = await gw.apiRequest<Refusal>('PATCH', `/v1/listings/${second.body.id}`, {
      staticNumber: '+14155550105',
    });
    expect(taken.status).toBe(409);
    expect(
      (await gw.api<{ staticNumber: string }>(`/v1/listings/${second.body.id}`)).body,
    ).toMatchObject({ staticNumber: '+14155550106' });
    // A listing keeps its own number through an update; an archived one gives it up.
    const same = await gw.apiRequest('PATCH', `/v1/listings/${first.body.id}`, {
      staticNumber: '+14155550105',
      title: 'Plumber (24 h)',
    });
    expect(same.status).toBe(200);
    const archived = await gw.apiRequest('PATCH', `/v1/listings/${first.body.id}`, {
      status: 'archived',
    });
    expect(archived.status).toBe(200);
    const moved = await gw.apiRequest('PATCH', `/v1/listings/${second.body.id}`, {
      staticNumber: '+14155550105',
    });
    expect(moved.status).toBe(200);
  });
});
