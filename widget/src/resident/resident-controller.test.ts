/**
 * The resident phone's behaviour over fakes of the device API and sip.js: the
 * device signs in and registers with its credential, the resident signs in
 * with a PIN, a call rings with the caller's name from the INVITE, a wrong PIN
 * keeps it ringing, a right one answers with the gateway's ticket in the
 * 200 OK, a lockout declines the call.
 */
import { describe, expect, it } from 'vitest';
import { Softphone } from '../desk/softphone.js';
import {
  FakeApi,
  FakeHost,
  FakePhoneStack,
  apiError,
  fakeMicrophone,
  json,
  settle,
} from '../desk/testing/fakes.js';
import { ResidentClient } from './resident-client.js';
import { ResidentController } from './resident-controller.js';

const CREDENTIAL = { tenant: 'facility', device: 'tab-7', secret: 's3cret' };

function setup(signedIn = false) {
  const api = new FakeApi()
    .route('POST /resident/api/session', {
      token: 'device-session',
      expiresAt: '2030-01-01T00:00:00Z',
      device: { address: 'tab-7', kind: 'app', name: 'Unit B tablet 7' },
      sip: { wsPath: '/sip', domain: 'parley.test', username: 'gd-0011' },
    })
    .route('GET /resident/api/state', {
      registered: true,
      signedIn: signedIn
        ? { residentId: 'r-1', name: 'Rita', until: '2030-01-01T00:00:00Z' }
        : null,
    })
    .route('POST /resident/api/sign-in', (r: { body: unknown }) =>
      (r.body as { pin: string }).pin === '2468'
        ? json(200, { resident: { id: 'r-1', name: 'Rita' }, until: '2030-01-01T00:00:00Z' })
        : apiError(403, 'pin_refused'),
    );
  const stack = new FakePhoneStack();
  const phone = new Softphone({ stack, getUserMedia: async () => fakeMicrophone().stream });
  const host = new FakeHost();
  const tones: string[] = [];
  const controller = new ResidentController(host, {
    client: new ResidentClient({ fetch: api.fetch, gatewayUrl: 'https://gw.example/' }),
    phone,
    ringTone: () => ({ start: () => tones.push('start'), stop: () => tones.push('stop') }),
    notify: (event, detail) =>
      host.dispatchEvent(new CustomEvent(`parley-resident-${event}`, { detail })),
  });
  host.connect();
  return { api, stack, controller, host, tones };
}

async function ringing(t: ReturnType<typeof setup>) {
  await t.controller.start(CREDENTIAL);
  t.stack.userAgent.accept();
  const invitation = t.stack.userAgent.invite({
    'X-Parley-Call': 'call-1',
    From: '"Grace Hopper" <sip:+14155550123@parley.test>;tag=1',
  });
  await settle();
  return invitation;
}

describe('ResidentController', () => {
  it('signs the device in and registers with its SIP username and secret', async () => {
    const t = setup();
    await t.controller.start(CREDENTIAL);
    expect(t.api.requests[0]?.body).toEqual(CREDENTIAL);
    expect(t.stack.userAgent.options).toMatchObject({
      uri: 'sip:gd-0011@parley.test',
      authorizationUsername: 'gd-0011',
      authorizationPassword: 's3cret',
      transportOptions: { server: 'wss://gw.example/sip' },
      userAgentString: 'Parley resident',
    });
    expect(t.controller.phase).toBe('resident-sign-in');
    // The device session is the bearer of what follows.
    await t.controller.signIn('2468');
    const signIn = t.api.requests.find((r) => r.path === '/resident/api/sign-in');
    expect((signIn?.init.headers as Record<string, string>)['authorization']).toBe(
      'Bearer device-session',
    );
    expect(t.controller.phase).toBe('idle');
    expect(t.controller.resident).toEqual({ id: 'r-1', name: 'Rita' });
  });

  it('says a wrong resident PIN, and a device the gateway does not know', async () => {
    const t = setup();
    await t.controller.start(CREDENTIAL);
    await t.controller.signIn('0000');
    expect(t.controller).toMatchObject({
      phase: 'resident-sign-in',
      error: 'That PIN is not correct.',
    });
    t.api.route('POST /resident/api/session', apiError(401, 'unauthorized'));
    await t.controller.start(CREDENTIAL);
    expect(t.controller).toMatchObject({
      phase: 'setup',
      error: 'This device is not known, or its secret is wrong.',
    });
  });

  it('rings with the caller’s name; a wrong PIN keeps it ringing; the right one answers with the ticket', async () => {
    const t = setup(true);
    const invitation = await ringing(t);
    expect(t.controller.phase).toBe('ringing');
    expect(t.controller.ringing?.callerName).toBe('Grace Hopper');
    expect(t.tones).toEqual(['start']);
    expect(t.host.details('parley-resident-call')).toEqual([
      { callId: 'call-1', state: 'ringing', callerName: 'Grace Hopper' },
    ]);

    t.api.route('POST /resident/api/calls/call-1/pin', apiError(403, 'pin_refused'));
    await t.controller.answer('1111');
    expect(t.controller.ringing?.error).toBe('That PIN is not correct.');
    expect(invitation.accepted).toBeUndefined();

    t.api.route('POST /resident/api/calls/call-1/pin', {
      ticket: 'T1CK3T',
      expiresAt: '2030-01-01T00:00:00Z',
      header: 'X-Parley-Device-Ticket',
    });
    await t.controller.answer('2468');
    expect(invitation.accepted?.extraHeaders).toEqual(['X-Parley-Device-Ticket: T1CK3T']);
    expect(t.controller.phase).toBe('call');
    expect(t.controller.call?.callerName).toBe('Grace Hopper');
    expect(t.tones).toEqual(['start', 'stop']);

    invitation.remoteBye();
    expect(t.controller.phase).toBe('idle');
  });

  it('declines the call when the PIN is locked out, and says for how long', async () => {
    const t = setup(true);
    const invitation = await ringing(t);
    t.api.route('POST /resident/api/calls/call-1/pin', apiError(429, 'pin_locked'));
    t.api.routes.set('POST /resident/api/calls/call-1/pin', () =>
      json(429, { error: { code: 'pin_locked', message: 'locked' } }, { 'retry-after': '840' }),
    );
    await t.controller.answer('2468');
    expect(invitation.rejected).toBe(486);
    expect(t.controller.phase).toBe('idle');
    expect(t.controller.error).toBe('Too many wrong PINs. Try again in 14 min.');
  });

  it('takes no call while no resident is signed in', async () => {
    const t = setup(false);
    const invitation = await ringing(t);
    expect(invitation.rejected).toBe(486);
    expect(t.controller.phase).toBe('resident-sign-in');
  });
});
