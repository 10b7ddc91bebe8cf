/**
 * The built-in authenticating server: an allowed call, and each check failing
 * on its own, with the reason stored and the caller told nothing but
 * "not available".
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuthorizeContext } from './auth/authenticator.js';
import type { GateDecision } from './decision.js';
import { TENANT, createGatedWorld, gatedConfig, type GatedWorld } from './testing/world.js';

let w: GatedWorld;
let calls = 0;

const ctx = (extra: Partial<AuthorizeContext> = {}): AuthorizeContext => ({
  callId: `call-${++calls}`,
  tenant: TENANT,
  channel: 'phone',
  callerNumber: '+14155550123',
  ...extra,
});

/** A facility with one resident (PIN 2468) on a SIP phone and one caller approved for them. */
async function facility(): Promise<void> {
  w.device('cell-12');
  await w.resident('r-1', {
    name: 'Rita Resident',
    pin: '2468',
    devices: ['cell-12'],
    number: '1001',
  });
  await w.account('a-1', {
    name: 'Grace Hopper',
    phone: '+14155550123',
    pin: '9753',
    number: '5550001111',
    approve: ['r-1'],
    balance: 100,
    ratePerMinute: 10,
  });
}

/** The decision as stored, and what the caller would be told. */
async function refusedBecause(d: GateDecision, failed: string, detail?: RegExp): Promise<void> {
  expect(d.allowed).toBe(false);
  expect(d.failed).toBe(failed);
  expect(d.outward).toEqual({
    kind: 'not_available',
    code: 'callee_not_available',
    prompt: 'The person you are calling is not available. Goodbye.',
  });
  const stored = await w.store.decisions.get(TENANT, d.id);
  expect(stored?.failed).toBe(failed);
  const failing = stored?.checks.find((c) => !c.ok);
  expect(failing?.name).toBe(failed);
  if (detail) expect(failing?.detail).toMatch(detail);
  // Everything before the failure passed and was recorded.
  expect(stored?.checks.slice(0, -1).every((c) => c.ok)).toBe(true);
}

beforeEach(async () => {
  w = await createGatedWorld();
  await facility();
});

afterEach(() => w.close());

describe('authorize (built-in)', () => {
  it('allows a verified caller number to ring the resident’s active device, with the caller’s name', async () => {
    const d = await w.gate.authorize(ctx());
    expect(d).toMatchObject({
      allowed: true,
      failed: null,
      decidedBy: 'builtin',
      accountId: 'a-1',
      residentId: 'r-1',
      callerName: 'Grace Hopper',
      devices: [{ address: 'cell-12', kind: 'sip', sipUser: 'gd-cell-12' }],
      outward: { kind: 'proceed' },
    });
    expect(d.checks.map((c) => c.name)).toEqual([
      'caller_account',
      'account_status',
      'callee',
      'account_resident',
      'account_device',
      'resident_pin_device',
      'device_active',
      'balance',
    ]);
    expect(await w.store.decisions.list(TENANT, { callId: d.callId!, limit: 5 })).toHaveLength(1);
    expect(w.gate.pendingCount).toBe(1);
  });

  it('identifies the account by account number and PIN (gather), or by the token’s claims', async () => {
    const byPin = await w.gate.authorize(
      ctx({ callerNumber: null, account: { number: '5550001111', pin: '9753' } }),
    );
    expect(byPin.allowed).toBe(true);
    expect(byPin.checks.slice(0, 2)).toEqual([
      { name: 'caller_account', ok: true, detail: 'account number' },
      { name: 'account_pin', ok: true },
    ]);
    const byToken = await w.gate.authorize(
      ctx({ channel: 'browser', callerNumber: null, privateClaims: { account: '5550001111' } }),
    );
    expect(byToken).toMatchObject({ allowed: true, accountId: 'a-1' });
    await w.account('a-2', { webLogin: 'ada@example.org', approve: ['r-1'] });
    const byLogin = await w.gate.authorize(
      ctx({
        channel: 'browser',
        callerNumber: null,
        privateClaims: { webLogin: 'ada@example.org' },
      }),
    );
    expect(byLogin).toMatchObject({ allowed: true, accountId: 'a-2' });
  });

  it('refuses a caller on no account (unknown number, unverified number, nothing at all)', async () => {
    await refusedBecause(
      await w.gate.authorize(ctx({ callerNumber: '+14155559999' })),
      'caller_account',
      /no verified number/,
    );
    await w.account('a-3', {
      phones: [{ number: '+14155550777', verifiedAt: null }],
      approve: ['r-1'],
    });
    await refusedBecause(
      await w.gate.authorize(ctx({ callerNumber: '+14155550777' })),
      'caller_account',
    );
    await refusedBecause(
      await w.gate.authorize(ctx({ callerNumber: null })),
      'caller_account',
      /nothing identifies/,
    );
    await refusedBecause(
      await w.gate.authorize(ctx({ callerNumber: null, privateClaims: { account: '0000000000' } })),
      'caller_account',
    );
  });

  it('refuses an account number that does not exist, and a wrong account PIN', async () => {
    await refusedBecause(
      await w.gate.authorize(
        ctx({ callerNumber: null, account: { number: '1234567890', pin: '9753' } }),
      ),
      'caller_account',
      /no account has this number/,
    );
    await refusedBecause(
      await w.gate.authorize(
        ctx({ callerNumber: null, account: { number: '5550001111', pin: '0000' } }),
      ),
      'account_pin',
      /wrong PIN/,
    );
  });

  it('refuses a suspended or closed account', async () => {
    const a = (await w.store.accounts.get(TENANT, 'a-1'))!;
    await w.store.accounts.update({ ...a, status: 'suspended' });
    await refusedBecause(await w.gate.authorize(ctx()), 'account_status', /suspended/);
  });

  it('refuses an unknown, inactive or ambiguous callee', async () => {
    await refusedBecause(
      await w.gate.authorize(ctx({ callee: { resident: 'nobody' } })),
      'callee',
      /no such resident/,
    );
    await refusedBecause(
      await w.gate.authorize(ctx({ callee: { residentNumber: '9999' } })),
      'callee',
    );
    await w.resident('r-2', { pin: '1111', devices: ['cell-12'] });
    await w.store.accounts.setApproval({
      tenant: TENANT,
      accountId: 'a-1',
      residentId: 'r-2',
      status: 'approved',
      decidedAt: w.now,
      decidedBy: 't',
    });
    await refusedBecause(await w.gate.authorize(ctx()), 'callee', /several residents/);
    // Named, it goes through.
    expect((await w.gate.authorize(ctx({ callee: { residentNumber: '1001' } }))).allowed).toBe(
      true,
    );
    const r = (await w.store.residents.get(TENANT, 'r-1'))!;
    await w.store.residents.put({ ...r, status: 'inactive' });
    await refusedBecause(
      await w.gate.authorize(ctx({ callee: { resident: 'r-1' } })),
      'callee',
      /inactive/,
    );
  });

  it('refuses an account the facility has not approved for the resident', async () => {
    await w.resident('r-2', { pin: '1111', devices: ['cell-12'] });
    await refusedBecause(
      await w.gate.authorize(ctx({ callee: { resident: 'r-2' } })),
      'account_resident',
      /not approved/,
    );
    await w.store.accounts.setApproval({
      tenant: TENANT,
      accountId: 'a-1',
      residentId: 'r-2',
      status: 'pending',
      decidedAt: null,
      decidedBy: null,
    });
    await refusedBecause(
      await w.gate.authorize(ctx({ callee: { resident: 'r-2' } })),
      'account_resident',
      /pending/,
    );
    await w.store.accounts.setApproval({
      tenant: TENANT,
      accountId: 'a-1',
      residentId: 'r-2',
      status: 'denied',
      decidedAt: w.now,
      decidedBy: 't',
    });
    await refusedBecause(
      await w.gate.authorize(ctx({ callee: { resident: 'r-2' } })),
      'account_resident',
      /denied/,
    );
  });

  it('refuses when the account is not tied to the device address (another resident’s device, or none)', async () => {
    w.device('cell-99');
    await refusedBecause(
      await w.gate.authorize(ctx({ callee: { device: 'cell-99' } })),
      'callee',
      /no resident on the device/,
    );
    await w.resident('r-3', { pin: '1111', devices: ['cell-99'] });
    await refusedBecause(await w.gate.authorize(ctx({ callee: { device: 'cell-99' } })), 'callee');
    const r = (await w.store.residents.get(TENANT, 'r-1'))!;
    await w.store.residents.put({ ...r, devices: [] });
    await refusedBecause(await w.gate.authorize(ctx()), 'account_device', /no device/);
  });

  it('refuses when the resident has no PIN tied to the device', async () => {
    const r = (await w.store.residents.get(TENANT, 'r-1'))!;
    await w.store.residents.put({ ...r, pinHash: null, pinSet: false });
    await refusedBecause(await w.gate.authorize(ctx()), 'resident_pin_device', /no PIN/);
  });

  it('refuses an inactive device: not registered, disabled, blocked, outside its calling hours', async () => {
    w.presence.setContacts(TENANT, 'cell-12', []);
    await refusedBecause(await w.gate.authorize(ctx()), 'device_active', /cell-12: not registered/);
    w.device('cell-12', { enabled: false });
    await refusedBecause(await w.gate.authorize(ctx()), 'device_active', /disabled/);
    w.device('cell-12', { blockedUntil: w.now + 60_000 });
    await refusedBecause(await w.gate.authorize(ctx()), 'device_active', /blocked/);
    // Monday 12:00 UTC is 06:00 in Chicago: before its 08:00–21:00 hours.
    w.device('cell-12', {
      callingHours: { timeZone: 'America/Chicago', weekly: { mon: [['08:00', '21:00']] } },
    });
    await refusedBecause(await w.gate.authorize(ctx()), 'device_active', /outside calling hours/);
    w.now += 3 * 3600_000; // 09:00 in Chicago
    w.device('cell-12', {
      callingHours: { timeZone: 'America/Chicago', weekly: { mon: [['08:00', '21:00']] } },
    }); // (registered again: the first registration has expired meanwhile)
    expect((await w.gate.authorize(ctx())).allowed).toBe(true);
  });

  it('takes the tenant’s default calling hours for devices without their own', async () => {
    w.restart({
      [TENANT]: gatedConfig({
        callingHours: { timeZone: 'UTC', weekly: { tue: [['00:00', '24:00']] } },
      }),
    });
    await refusedBecause(await w.gate.authorize(ctx()), 'device_active', /outside calling hours/);
  });

  it('refuses an app no resident is signed in on, or one another resident is signed in on', async () => {
    w.device('tab-1', { kind: 'app' });
    await w.resident('r-4', { pin: '4444', devices: ['tab-1'] });
    await w.resident('r-5', { pin: '5555', devices: ['tab-1'] });
    await w.account('a-4', { phone: '+14155550444', approve: ['r-4'] });
    const call = ctx({ callerNumber: '+14155550444' });
    await refusedBecause(await w.gate.authorize(call), 'device_active', /no resident signed in/);
    w.presence.signIn(TENANT, 'tab-1', { residentId: 'r-5', until: w.now + 60_000 });
    await refusedBecause(
      await w.gate.authorize({ ...call, callId: 'c-x' }),
      'device_active',
      /another resident/,
    );
    w.presence.signIn(TENANT, 'tab-1', { residentId: 'r-4', until: w.now + 60_000 });
    expect((await w.gate.authorize({ ...call, callId: 'c-y' })).devices).toEqual([
      { address: 'tab-1', kind: 'app', sipUser: 'gd-tab-1' },
    ]);
  });

  it('refuses when the balance does not buy the minimum minutes', async () => {
    await w.store.billing.credit({
      tenant: TENANT,
      accountId: 'a-1',
      key: 'take',
      amount: -95,
      note: null,
      actor: 't',
      at: w.now,
    });
    await refusedBecause(await w.gate.authorize(ctx()), 'balance', /5 < 10/);
  });

  it('tells the caller the same thing whatever failed, and stores only the decision’s own reasons', async () => {
    const outcomes = [
      await w.gate.authorize(ctx({ callerNumber: '+14155559999' })),
      await w.gate.authorize(ctx({ callee: { resident: 'nobody' } })),
      await w.gate.authorize(
        ctx({ callerNumber: null, account: { number: '5550001111', pin: '0000' } }),
      ),
    ];
    expect(new Set(outcomes.map((d) => JSON.stringify(d.outward))).size).toBe(1);
    for (const d of outcomes) {
      const stored = await w.store.decisions.get(TENANT, d.id);
      // The PINs keyed (0000) and the real ones (9753, 2468) appear nowhere in the record.
      expect(JSON.stringify(stored?.checks)).not.toMatch(/0000|9753|2468/);
      expect(JSON.stringify({ ...stored, at: 0 })).not.toMatch(/"pin"|0000|9753|2468/);
    }
  });

  it('counts decisions in Prometheus by stage, result and the check that failed', async () => {
    await w.gate.authorize(ctx());
    await w.gate.authorize(ctx({ callerNumber: '+14155559999' }));
    const text = await w.registry.metrics();
    expect(text).toContain(
      'parley_gated_decisions_total{tenant="facility",stage="authorize",result="allowed",failed=""} 1',
    );
    expect(text).toContain(
      'parley_gated_decisions_total{tenant="facility",stage="authorize",result="refused",failed="caller_account"} 1',
    );
  });
});
