/**
 * The CallClient with the microphone permission read ahead (issue 15 item 4,
 * `microphone-permission.ts`): a blocked microphone opens nothing, neither on
 * hover nor at the click, and the click fails at once as a refused
 * getUserMedia does.
 */
import { describe, expect, it, vi } from 'vitest';
import { ERROR_CODES } from '@parley/shared/errors';
import type { CallStateChange } from '../api/call-stack.js';
import { CallClient } from './call-client.js';
import type { FetchLike } from './call-token.js';
import type { MicrophoneState } from './microphone-permission.js';
import { FakePermissionStatus, FakeStack, fakeMicrophone, json } from './testing/fakes.js';

function setup(
  permission: FakePermissionStatus | Error,
  grant: () => Promise<MediaStream> = async () => fakeMicrophone().stream,
) {
  const sip = new FakeStack();
  const getUserMedia = vi.fn(grant);
  const fetch = vi.fn<FetchLike>(async () =>
    json(200, {
      token: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
      expiresAt: '2030-01-01T01:00:00Z',
      claims: {},
      gateway: { url: 'http://127.0.0.1:5080' },
    }),
  );
  const query = vi.fn(async () => {
    if (permission instanceof Error) throw permission;
    return permission;
  });
  const client = new CallClient(
    { tokenUrl: '/api/call-token', queue: 'sales' },
    {
      sip,
      getUserMedia,
      fetch,
      ringback: () => ({ start: () => undefined, stop: () => undefined }),
      baseUrl: 'https://shop.example/',
      now: () => 1000,
      wallClock: () => Date.UTC(2030, 0, 1),
      newId: () => 'm1',
      microphonePermission: query,
    },
  );
  const changes: CallStateChange[] = [];
  const permissions: MicrophoneState[] = [];
  client.on('state', (change) => changes.push(change));
  client.on('permission', (state) => permissions.push(state));
  return { client, sip, getUserMedia, fetch, query, changes, permissions };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('CallClient and the microphone permission', () => {
  it('blocked: a hover says so and opens nothing; the click fails at once with microphone_denied, nothing asked or opened', async () => {
    const t = setup(new FakePermissionStatus('denied'));
    t.client.prefetch();
    await flush();
    expect(t.permissions).toEqual(['denied']);
    expect(t.sip.warmed).toBe(1); // sip.js's code is run once all the same: nothing leaves
    expect(t.fetch).not.toHaveBeenCalled();
    expect(t.sip.userAgents).toHaveLength(0);

    await t.client.call();
    expect(t.changes).toEqual([
      { state: 'permission' },
      {
        state: 'error',
        code: 'microphone_denied',
        message: `${ERROR_CODES.microphone_denied.message} (the microphone permission is denied)`,
        human: ERROR_CODES.microphone_denied.human,
      },
    ]);
    expect(t.getUserMedia).not.toHaveBeenCalled();
    expect(t.fetch).not.toHaveBeenCalled();
    expect(t.sip.userAgents).toHaveLength(0);
    expect(t.query).toHaveBeenCalledTimes(1);
  });

  it('blocked, clicked before any hover: the click does not wait for the permission, getUserMedia decides; the next click knows', async () => {
    const t = setup(new FakePermissionStatus('denied'), () =>
      Promise.reject(new DOMException('Permission denied', 'NotAllowedError')),
    );
    await t.client.call();
    expect(t.getUserMedia).toHaveBeenCalledTimes(1);
    expect(t.changes.map((c) => [c.state, c.code])).toEqual([
      ['permission', undefined],
      ['error', 'microphone_denied'],
    ]);
    await flush();
    expect(t.permissions).toEqual(['denied']); // read meanwhile
    await t.client.call();
    expect(t.getUserMedia).toHaveBeenCalledTimes(1); // failed at once this time
    expect(t.changes.at(-1)).toMatchObject({ state: 'error', code: 'microphone_denied' });
  });

  it('unblocked in the site settings: the block clears and the next click calls', async () => {
    const status = new FakePermissionStatus('denied');
    const t = setup(status);
    t.client.prefetch();
    await flush();
    await t.client.call();
    expect(t.client.state).toBe('error');
    status.set('prompt');
    expect(t.permissions).toEqual(['denied', 'prompt']);
    await t.client.call();
    expect(t.getUserMedia).toHaveBeenCalledTimes(1);
    expect(t.fetch).toHaveBeenCalledTimes(1);
    expect(t.sip.userAgent.session.target).toBe('sip:sales@parley.invalid');
    expect(t.client.state).toBe('connecting');
  });

  it('unblocked in the site settings after a first hover: the next hover warms the call (token, WebSocket)', async () => {
    const status = new FakePermissionStatus('denied');
    const t = setup(status);
    t.client.prefetch();
    await flush();
    expect(t.fetch).not.toHaveBeenCalled();
    status.set('prompt');
    t.client.prefetch();
    await flush();
    expect(t.permissions).toEqual(['denied', 'prompt']);
    expect(t.query).toHaveBeenCalledTimes(1); // still the one watch
    expect(t.fetch).toHaveBeenCalledTimes(1);
    expect(t.sip.userAgents).toHaveLength(1);
    expect(t.sip.userAgent.stopped).toBe(false);
  });

  it('blocked after the hover opened a WebSocket: it is closed, a call could not use it', async () => {
    const status = new FakePermissionStatus('prompt');
    const t = setup(status);
    t.client.prefetch();
    await flush();
    expect(t.sip.userAgents).toHaveLength(1);
    expect(t.sip.userAgent.stopped).toBe(false);
    status.set('denied');
    expect(t.sip.userAgent.stopped).toBe(true);
    expect(t.permissions).toEqual(['prompt', 'denied']);
  });

  it('granted: noted, and the warm-up and the call go as before', async () => {
    const t = setup(new FakePermissionStatus('granted'));
    t.client.prefetch();
    await flush();
    expect(t.permissions).toEqual(['granted']);
    expect(t.sip.userAgents).toHaveLength(1);
    await t.client.call();
    expect(t.sip.userAgents).toHaveLength(1); // the one opened on hover
    expect(t.getUserMedia).toHaveBeenCalledTimes(1);
    expect(t.changes.map((c) => c.state)).toEqual(['permission', 'connecting']);
  });

  it('a browser that cannot tell (the query throws): the warm-up and the call go as before', async () => {
    const t = setup(new TypeError("'microphone' is not a valid value for name"));
    t.client.prefetch();
    await flush();
    expect(t.permissions).toEqual([]);
    expect(t.sip.userAgents).toHaveLength(1);
    await t.client.call();
    expect(t.getUserMedia).toHaveBeenCalledTimes(1);
    expect(t.client.state).toBe('connecting');
  });

  it('stops watching when disposed', async () => {
    const status = new FakePermissionStatus('prompt');
    const t = setup(status);
    t.client.prefetch();
    await flush();
    expect(status.listeners).toBe(1);
    t.client.dispose();
    expect(status.listeners).toBe(0);
  });
});
