import { describe, expect, it, vi } from 'vitest';
import { CONNECT_TIMEOUT_MS } from './defaults.js';
import { exponentialBackoff } from './reconnect-policy.js';
import { CALL_HEADER, Softphone } from './softphone.js';
import type { PhoneCallChange, PhoneStatusChange } from './softphone-types.js';
import { SoftphoneError } from './softphone-error.js';
import { FakePhoneStack, HANG, ManualTimers, fakeMicrophone, settle } from './testing/fakes.js';

const SETTINGS = {
  wsUrl: 'wss://gw.example/sip',
  domain: 'parley.test',
  username: 'agent1',
  password: 'secret',
  displayName: 'Grace',
};

function setup(options: { microphone?: 'granted' | 'denied' } = {}) {
  const stack = new FakePhoneStack();
  const timers = new ManualTimers();
  const microphones: ReturnType<typeof fakeMicrophone>[] = [];
  const phone = new Softphone({
    stack,
    getUserMedia: async () => {
      if (options.microphone === 'denied') throw new DOMException('denied', 'NotAllowedError');
      const mic = fakeMicrophone();
      microphones.push(mic);
      return mic.stream;
    },
    reconnect: exponentialBackoff({ initialMs: 1000, maxMs: 8000, jitter: 0 }),
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
  });
  const statuses: PhoneStatusChange[] = [];
  const calls: PhoneCallChange[] = [];
  const media: string[] = [];
  phone.on('status', (s) => statuses.push(s));
  phone.on('call', (c) => calls.push(c));
  phone.on('media', (callId) => media.push(callId));
  return { stack, timers, phone, statuses, calls, media, microphones };
}

async function registered(t: ReturnType<typeof setup>) {
  await t.phone.start(SETTINGS);
  t.stack.userAgent.accept();
  return t.stack.userAgent;
}

describe('Softphone registration', () => {
  it('registers sip:<username>@<domain> over the WebSocket with digest credentials and no STUN', async () => {
    const t = setup();
    const ua = await registered(t);
    expect(ua.options).toMatchObject({
      uri: 'sip:agent1@parley.test',
      authorizationUsername: 'agent1',
      authorizationPassword: 'secret',
      displayName: 'Grace',
      transportOptions: { server: 'wss://gw.example/sip' },
      sessionDescriptionHandlerFactoryOptions: { peerConnectionConfiguration: { iceServers: [] } },
    });
    expect(ua.started).toBe(1);
    expect(ua.registers).toHaveLength(1);
    expect(t.statuses.map((s) => s.status)).toEqual(['connecting', 'registered']);
  });

  it('does not retry a refused password', async () => {
    const t = setup();
    await t.phone.start(SETTINGS);
    t.stack.userAgent.refuse(401, 'Unauthorized');
    expect(t.phone.status).toEqual({
      status: 'failed',
      code: 'password_refused',
      reason: 'the gateway refused the password (401 Unauthorized)',
    });
    expect(t.timers.pending.size).toBe(0);
  });

  it('reconnects and registers again after the WebSocket dropped, with backoff', async () => {
    const t = setup();
    const ua = await registered(t);
    ua.drop();
    expect(t.phone.status.status).toBe('reconnecting');
    expect(t.timers.delays).toEqual([1000]);
    ua.startError = new Error('refused');
    t.timers.runAll();
    await settle();
    expect(ua.reconnects).toBe(1);
    expect(t.timers.delays).toEqual([2000]);
    ua.startError = undefined;
    t.timers.runAll();
    await settle();
    expect(ua.registers).toHaveLength(2);
    ua.accept();
    expect(t.phone.status.status).toBe('registered');
    ua.drop();
    expect(t.timers.delays).toEqual([1000]); // reset by the registration
  });

  it('keeps trying when the gateway cannot be reached at start', async () => {
    const t = setup();
    t.stack.startError = new Error('ECONNREFUSED');
    await t.phone.start(SETTINGS);
    expect(t.phone.status).toMatchObject({ status: 'reconnecting', code: 'unreachable' });
  });

  it('retries instead of waiting for ever on a WebSocket that neither opens nor closes', async () => {
    vi.useFakeTimers();
    try {
      const t = setup();
      t.stack.startError = HANG;
      const starting = t.phone.start(SETTINGS);
      await vi.advanceTimersByTimeAsync(CONNECT_TIMEOUT_MS);
      await starting;
      expect(t.phone.status).toMatchObject({ status: 'reconnecting', code: 'unreachable' });
      expect(t.phone.status.reason).toMatch(/no WebSocket connection in 10 s/);
    } finally {
      vi.useRealTimers();
    }
  });

  it('stops: user agent stopped, retries cancelled, status off', async () => {
    const t = setup();
    const ua = await registered(t);
    ua.drop();
    await t.phone.stop();
    expect(ua.stopped).toBe(true);
    expect(t.timers.pending.size).toBe(0);
    expect(t.phone.status.status).toBe('off');
  });
});

describe('Softphone calls', () => {
  it('knows an INVITE by its X-Parley-Call header, and answers it with a fresh microphone', async () => {
    const t = setup();
    const ua = await registered(t);
    expect(t.phone.canAnswer('c1')).toBe(false);
    const invitation = ua.invite({ [CALL_HEADER]: 'c1' });
    expect(t.calls).toEqual([{ callId: 'c1', state: 'ringing' }]);
    expect(t.phone.canAnswer('c1')).toBe(true);
    expect(t.phone.canAnswer('c2')).toBe(false);

    await t.phone.answer('c1');
    expect(invitation.accepted).toEqual({
      sessionDescriptionHandlerOptions: {
        constraints: { audio: true, video: false },
        iceGatheringTimeout: 500,
      },
    });
    // sip.js got the microphone asked for this answer.
    expect(invitation.localStream).toBe(t.microphones[0]!.stream);
    expect(t.calls.map((c) => c.state)).toEqual(['ringing', 'answering', 'connected']);
    expect(t.media).toEqual(['c1']);
    expect(t.phone.remoteStream('c1')).toBe(invitation.remote);
  });

  it('refuses INVITEs it cannot show (no call header) with 486', async () => {
    const t = setup();
    const ua = await registered(t);
    const stray = ua.invite({});
    expect(stray.rejected).toBe(486);
    expect(t.calls).toEqual([]);
  });

  it('declines with 486 Busy Here', async () => {
    const t = setup();
    const ua = await registered(t);
    const invitation = ua.invite({ [CALL_HEADER]: 'c1' });
    await t.phone.decline('c1');
    expect(invitation.rejected).toBe(486);
    expect(t.calls.at(-1)).toEqual({ callId: 'c1', state: 'ended' });
    expect(t.phone.callState('c1')).toBeUndefined();
    await expect(t.phone.answer('c1')).rejects.toBeInstanceOf(SoftphoneError);
  });

  it('keeps ringing when the microphone is refused', async () => {
    const t = setup({ microphone: 'denied' });
    const ua = await registered(t);
    const invitation = ua.invite({ [CALL_HEADER]: 'c1' });
    await expect(t.phone.answer('c1')).rejects.toMatchObject({ reason: 'microphone_denied' });
    expect(invitation.accepted).toBeUndefined();
    expect(t.phone.canAnswer('c1')).toBe(true);
  });

  it('ends a call the gateway cancelled, also while the microphone was being asked for', async () => {
    const t = setup();
    const ua = await registered(t);
    ua.invite({ [CALL_HEADER]: 'c1' }).cancel();
    expect(t.calls.at(-1)).toEqual({ callId: 'c1', state: 'ended' });

    const second = ua.invite({ [CALL_HEADER]: 'c2' });
    const answering = t.phone.answer('c2');
    second.cancel(); // before getUserMedia resolved
    await expect(answering).rejects.toMatchObject({ reason: 'not_ringing' });
    expect(second.accepted).toBeUndefined();
    expect(t.microphones[0]!.track.stopped).toBe(true);
  });

  it('mutes, holds locally and hangs up with BYE, releasing the microphone', async () => {
    const t = setup();
    const ua = await registered(t);
    const invitation = ua.invite({ [CALL_HEADER]: 'c1' });
    await t.phone.answer('c1');
    expect(invitation.tracks).toEqual({ send: true, receive: true });
    t.phone.setMuted(true);
    expect(invitation.tracks).toEqual({ send: false, receive: true });
    t.phone.setHeld(true);
    expect(invitation.tracks).toEqual({ send: false, receive: false });
    t.phone.setMuted(false);
    expect(invitation.tracks).toEqual({ send: false, receive: false }); // still on hold
    t.phone.setHeld(false);
    expect(invitation.tracks).toEqual({ send: true, receive: true });

    t.phone.setHeld(true);
    await t.phone.hangup('c1');
    expect(invitation.byes).toBe(1);
    expect(t.microphones[0]!.track.stopped).toBe(true);
    expect(t.phone.held).toBe(false); // reset for the next call
    expect(t.calls.at(-1)).toEqual({ callId: 'c1', state: 'ended' });
  });

  it('ends on the gateway’s BYE', async () => {
    const t = setup();
    const ua = await registered(t);
    const invitation = ua.invite({ [CALL_HEADER]: 'c1' });
    await t.phone.answer('c1');
    invitation.remoteBye();
    expect(t.calls.at(-1)).toEqual({ callId: 'c1', state: 'ended' });
    expect(t.microphones[0]!.track.stopped).toBe(true);
  });

  it('checks the microphone once and lets it go', async () => {
    const t = setup();
    expect(await t.phone.checkMicrophone()).toBe(true);
    expect(t.microphones[0]!.track.stopped).toBe(true);
    expect(await setup({ microphone: 'denied' }).phone.checkMicrophone()).toBe(false);
  });
});
