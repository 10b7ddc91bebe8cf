/**
 * After authorize: the resident's PIN on the device (DTMF on a SIP phone, the
 * app's PIN pad and ticket), re-verification before connecting, periodic
 * rechecks, resident sign-in on an app, and PIN brute force (delays that
 * grow, lockouts that survive a restart).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuthorizeContext } from './auth/authenticator.js';
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

beforeEach(async () => {
  w = await createGatedWorld({
    [TENANT]: gatedConfig({ pin: { maxFailures: 3, delayMs: 1000, lockoutMinutes: 15 } }),
  });
  w.device('cell-12');
  w.device('tab-7', { kind: 'app' });
  await w.resident('r-1', { pin: '2468', devices: ['cell-12', 'tab-7'] });
  await w.account('a-1', {
    name: 'Grace Hopper',
    phone: '+14155550123',
    pin: '9753',
    number: '5550001111',
    approve: ['r-1'],
  });
});

afterEach(() => w.close());

describe('reverify with a PIN keyed on a SIP phone (DTMF)', () => {
  it('connects with the resident’s PIN and refuses a wrong one, each decision stored', async () => {
    const { callId } = await w.gate.authorize(ctx());
    const wrong = await w.gate.reverify(callId!, { device: 'cell-12', pin: '1111' });
    expect(wrong).toMatchObject({ allowed: false, failed: 'resident_pin', stage: 'reverify' });
    expect(wrong.outward.kind).toBe('not_available');
    w.now += 1000; // the delay after one wrong PIN
    const right = await w.gate.reverify(callId!, { device: 'cell-12', pin: '2468' });
    expect(right).toMatchObject({
      allowed: true,
      stage: 'reverify',
      residentId: 'r-1',
      accountId: 'a-1',
    });
    expect(right.checks.map((c) => c.name)).toEqual([
      'resident_pin_device',
      'resident_pin',
      'callee',
      'account_status',
      'account_resident',
      'account_device',
      'device_active',
      'balance',
    ]);
    expect(
      (await w.store.decisions.list(TENANT, { callId: callId!, limit: 10 })).map((d) => [
        d.stage,
        d.allowed,
      ]),
    ).toEqual([
      ['reverify', true],
      ['reverify', false],
      ['authorize', true],
    ]);
  });

  it('refuses a device the call was not authorised for, and a call never authorised', async () => {
    const { callId } = await w.gate.authorize(ctx({ callee: { device: 'cell-12' } }));
    expect(await w.gate.reverify(callId!, { device: 'tab-7', pin: '2468' })).toMatchObject({
      allowed: false,
      failed: 'pending_call',
    });
    expect(
      await w.gate.reverify('never-authorised', { device: 'cell-12', pin: '2468' }),
    ).toMatchObject({
      allowed: false,
      failed: 'pending_call',
    });
  });

  it('forgets an authorisation not re-verified in time', async () => {
    const { callId } = await w.gate.authorize(ctx());
    w.now += 121_000;
    expect((await w.gate.reverify(callId!, { device: 'cell-12', pin: '2468' })).failed).toBe(
      'pending_call',
    );
  });

  it('re-checks the device and the account: one gone since authorize is refused', async () => {
    const { callId } = await w.gate.authorize(ctx());
    w.presence.setContacts(TENANT, 'cell-12', []);
    expect((await w.gate.reverify(callId!, { device: 'cell-12', pin: '2468' })).failed).toBe(
      'device_active',
    );
  });
});

describe('PIN brute force', () => {
  it('makes each try wait longer, then locks the device and resident; the lockout outlives a restart', async () => {
    const { callId } = await w.gate.authorize(ctx());
    const tryPin = (pin: string) => w.gate.reverify(callId!, { device: 'cell-12', pin });
    expect((await tryPin('0001')).failed).toBe('resident_pin');
    // Too soon: not even checked (the right PIN is refused as well).
    const early = await tryPin('2468');
    expect(early.failed).toBe('pin_lockout');
    expect(early.checks[0]?.detail).toMatch(/device:facility\/cell-12 waiting, 1 s/);
    w.now += 1000;
    expect((await tryPin('0002')).failed).toBe('resident_pin');
    w.now += 1000; // the second delay is 2 s
    expect((await tryPin('2468')).failed).toBe('pin_lockout');
    w.now += 1000;
    expect((await tryPin('0003')).failed).toBe('resident_pin');
    // Three wrong in a row: locked for 15 minutes, the right PIN included.
    w.now += 60_000;
    const locked = await tryPin('2468');
    expect(locked.failed).toBe('pin_lockout');
    expect(locked.checks[0]?.detail).toMatch(/locked, 840 s/);
    const text = await w.registry.metrics();
    expect(text).toContain('parley_gated_pin_failures_total{subject="device"} 3');
    expect(text).toContain('parley_gated_pin_lockouts_total{subject="resident"} 1');

    // A restart (a new Gate on the same store) keeps the lockout.
    w.restart();
    const again = await w.gate.authorize(ctx());
    expect((await w.gate.reverify(again.callId!, { device: 'cell-12', pin: '2468' })).failed).toBe(
      'pin_lockout',
    );
    // Once it is over, the right PIN works and clears the count.
    w.now += 15 * 60_000;
    const after = await w.gate.authorize(ctx());
    expect((await w.gate.reverify(after.callId!, { device: 'cell-12', pin: '2468' })).allowed).toBe(
      true,
    );
    expect(await w.store.pinAttempts.get('device:facility/cell-12')).toBeUndefined();
  });

  it('counts a wrong account PIN or a non-existent account number against what was keyed', async () => {
    const keyed = (number: string, pin: string) =>
      w.gate.authorize(ctx({ callerNumber: null, account: { number, pin } }));
    expect((await keyed('5550001111', '0000')).failed).toBe('account_pin');
    expect((await keyed('5550001111', '9753')).failed).toBe('pin_lockout');
    w.now += 1000;
    expect((await keyed('5550001111', '9753')).allowed).toBe(true);
    expect((await keyed('1234567890', '1234')).failed).toBe('caller_account');
    expect((await keyed('1234567890', '1234')).failed).toBe('pin_lockout');
  });

  it('takes one try at a time per subject: a parallel guess is refused, not checked', async () => {
    const { callId } = await w.gate.authorize(ctx());
    const [a, b] = await Promise.all([
      w.gate.reverify(callId!, { device: 'cell-12', pin: '0001' }),
      w.gate.reverify(callId!, { device: 'cell-12', pin: '2468' }),
    ]);
    expect(a.failed).toBe('resident_pin');
    expect(b.failed).toBe('pin_lockout');
  });

  it('refuses what is no PIN at all (letters, too long) as a wrong PIN, without hashing it', async () => {
    const { callId } = await w.gate.authorize(ctx());
    const d = await w.gate.reverify(callId!, { device: 'cell-12', pin: '12ab'.repeat(1000) });
    expect(d.checks).toEqual([{ name: 'resident_pin', ok: false, detail: 'not a PIN' }]);
    expect((await w.store.pinAttempts.get('resident:facility/r-1'))?.failures).toBe(1);
  });
});

describe('the resident app', () => {
  async function signedIn(): Promise<void> {
    const result = await w.gate.signIn(TENANT, 'tab-7', { pin: '2468' });
    expect(result).toMatchObject({ ok: true, decision: { stage: 'sign-in', residentId: 'r-1' } });
  }

  it('signs a resident in with their PIN, which makes the app active for them', async () => {
    const before = await w.gate.authorize(ctx({ callee: { device: 'tab-7' } }));
    expect(before.failed).toBe('device_active');
    const wrong = await w.gate.signIn(TENANT, 'tab-7', { resident: 'r-1', pin: '1357' });
    expect(wrong).toMatchObject({
      ok: false,
      code: 'pin_refused',
      decision: { failed: 'resident_pin' },
    });
    w.now += 1000;
    await signedIn();
    const after = await w.gate.authorize(ctx({ callee: { device: 'tab-7' } }));
    expect(after.devices).toEqual([{ address: 'tab-7', kind: 'app', sipUser: 'gd-tab-7' }]);
    // The sign-in lasts signInMinutes (480).
    w.now += 480 * 60_000;
    w.device('tab-7', { kind: 'app' });
    expect((await w.gate.authorize(ctx({ callee: { device: 'tab-7' } }))).failed).toBe(
      'device_active',
    );
  });

  it('refuses a sign-in on a SIP phone, or by a resident not on the device', async () => {
    expect((await w.gate.signIn(TENANT, 'cell-12', { pin: '2468' })).decision.failed).toBe(
      'resident_pin_device',
    );
    await w.resident('r-2', { pin: '1111', devices: ['cell-12'] });
    w.now += 5000;
    expect(
      (await w.gate.signIn(TENANT, 'tab-7', { resident: 'r-2', pin: '1111' })).decision.checks[0],
    ).toEqual({
      name: 'resident_pin_device',
      ok: false,
      detail: 'the resident is not on this device',
    });
  });

  it('checks the PIN keyed while it rings, gives a one-time ticket, and the 200 OK’s ticket connects', async () => {
    await signedIn();
    const { callId } = await w.gate.authorize(ctx({ callee: { device: 'tab-7' } }));
    const wrong = await w.gate.devicePin(TENANT, callId!, 'tab-7', '1111');
    expect(wrong).toMatchObject({
      ok: false,
      code: 'pin_refused',
      decision: { stage: 'device-pin', failed: 'resident_pin' },
    });
    w.now += 1000;
    const pin = await w.gate.devicePin(TENANT, callId!, 'tab-7', '2468');
    if (!pin.ok) throw new Error('expected a ticket');
    expect(pin.ticket).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(
      (await w.gate.reverify(callId!, { device: 'tab-7', ticket: 'x'.repeat(24) })).failed,
    ).toBe('device_ticket');
    const connected = await w.gate.reverify(callId!, { device: 'tab-7', ticket: pin.ticket });
    expect(connected).toMatchObject({ allowed: true, stage: 'reverify' });
    expect(connected.checks[0]).toEqual({ name: 'device_ticket', ok: true });
    // Used up.
    expect((await w.gate.reverify(callId!, { device: 'tab-7', ticket: pin.ticket })).failed).toBe(
      'device_ticket',
    );
  });

  it('refuses a ticket past ticketSeconds, and a PIN for a call not ringing on that device', async () => {
    await signedIn();
    const { callId } = await w.gate.authorize(ctx({ callee: { device: 'tab-7' } }));
    const pin = await w.gate.devicePin(TENANT, callId!, 'tab-7', '2468');
    if (!pin.ok) throw new Error('expected a ticket');
    w.now += 61_000;
    const late = await w.gate.reverify(callId!, { device: 'tab-7', ticket: pin.ticket });
    expect(late.checks[0]).toEqual({ name: 'device_ticket', ok: false, detail: 'ticket expired' });
    expect(await w.gate.devicePin(TENANT, callId!, 'cell-12', '2468')).toMatchObject({
      ok: false,
      code: 'not_found',
    });
    expect(await w.gate.devicePin('other-tenant', callId!, 'tab-7', '2468')).toMatchObject({
      ok: false,
      code: 'not_found',
    });
  });
});

describe('recheck during the call', () => {
  it('stays allowed while nothing changed, and refuses once the facility withdraws the approval', async () => {
    const { callId } = await w.gate.authorize(ctx());
    expect((await w.gate.recheck(callId!)).failed).toBe('pending_call'); // not connected yet
    await w.gate.reverify(callId!, { device: 'cell-12', pin: '2468' });
    expect((await w.gate.recheck(callId!)).allowed).toBe(true);
    await w.store.accounts.setApproval({
      tenant: TENANT,
      accountId: 'a-1',
      residentId: 'r-1',
      status: 'denied',
      decidedAt: w.now,
      decidedBy: 'officer',
    });
    expect(await w.gate.recheck(callId!)).toMatchObject({
      allowed: false,
      failed: 'account_resident',
    });
    w.gate.forget(callId!);
    expect((await w.gate.recheck(callId!)).failed).toBe('pending_call');
  });
});
