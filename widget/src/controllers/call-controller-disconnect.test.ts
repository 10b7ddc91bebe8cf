/**
 * The element leaving the page, with the real CallClient behind the
 * controller: its client is let go (the PermissionStatus the browser holds
 * would keep it, the element with it, alive; a WebSocket opened ahead would
 * stay open), and back in the page a hover reads the permission again.
 */
import { describe, expect, it, vi } from 'vitest';
import type { ReactiveControllerHost } from 'lit';
import { CallClient } from '../client/call-client.js';
import type { FetchLike } from '../client/call-token.js';
import { FakePermissionStatus, FakeStack, fakeMicrophone, json } from '../client/testing/fakes.js';
import { CallController } from './call-controller.js';
import { FakeHost } from './testing/fake-host.js';

function setup(status: FakePermissionStatus) {
  const host = new FakeHost();
  const sip = new FakeStack();
  const fetch = vi.fn<FetchLike>(async () =>
    json(200, {
      token: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
      expiresAt: '2030-01-01T01:00:00Z',
      claims: {},
      gateway: { url: 'http://127.0.0.1:5080' },
    }),
  );
  const query = vi.fn(async () => status);
  const clients: CallClient[] = [];
  const controller = new CallController(host as unknown as ReactiveControllerHost & HTMLElement, {
    load: async () => ({
      createCallClient: (options) => {
        const client = new CallClient(options, {
          sip,
          getUserMedia: async () => fakeMicrophone().stream,
          fetch,
          ringback: () => ({ start: () => undefined, stop: () => undefined }),
          baseUrl: 'https://shop.example/',
          now: () => 1000,
          wallClock: () => Date.UTC(2030, 0, 1),
          newId: () => 'm1',
          microphonePermission: query,
        });
        clients.push(client);
        return client;
      },
    }),
    options: () => ({ tokenUrl: '/api/call-token', queue: 'sales' }),
  });
  /** The element is removed from the page (and stays out). */
  const remove = async () => {
    host.isConnected = false;
    controller.hostDisconnected();
    await flush();
  };
  /** The element is put back in the page. */
  const insert = () => {
    host.isConnected = true;
    controller.hostConnected();
  };
  return { host, sip, fetch, query, clients, controller, remove, insert };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('CallController: the element leaves the page', () => {
  it('closes the permission watch and the WebSocket opened ahead', async () => {
    const status = new FakePermissionStatus('prompt');
    const t = setup(status);
    t.controller.prefetch(); // a hover
    await flush();
    expect(status.listeners).toBe(1);
    expect(t.sip.userAgents).toHaveLength(1);
    expect(t.sip.userAgent.stopped).toBe(false);

    await t.remove();
    expect(status.listeners).toBe(0); // nothing the browser holds points at the client any more
    expect(t.sip.userAgent.stopped).toBe(true);
    const updates = t.host.updates;
    status.set('denied');
    expect(t.host.updates).toBe(updates);
  });

  it('back in the page, a hover reads the permission again: allowed while it was out, the block is gone and the call warmed', async () => {
    const status = new FakePermissionStatus('denied');
    const t = setup(status);
    t.controller.prefetch();
    await flush();
    expect(t.controller.microphone).toBe('denied');
    expect(t.fetch).not.toHaveBeenCalled();

    const updates = t.host.updates;
    await t.remove();
    expect(status.listeners).toBe(0);
    expect(t.controller.microphone).toBeUndefined(); // not shown blocked when it comes back
    expect(t.host.updates).toBe(updates + 1);
    status.set('prompt'); // allowed in the site settings meanwhile: nobody listens

    t.insert();
    t.controller.prefetch();
    await flush();
    expect(t.clients).toHaveLength(2);
    expect(t.query).toHaveBeenCalledTimes(2);
    expect(status.listeners).toBe(1);
    expect(t.controller.microphone).toBe('prompt');
    expect(t.fetch).toHaveBeenCalledTimes(1);
    expect(t.sip.userAgents).toHaveLength(1);
    expect(t.sip.userAgent.stopped).toBe(false);
  });

  it('keeps its client when it is only moved in the page (out and back in the same task)', async () => {
    const status = new FakePermissionStatus('prompt');
    const t = setup(status);
    t.controller.prefetch();
    await flush();
    t.host.isConnected = false;
    t.controller.hostDisconnected();
    t.insert();
    await flush();
    expect(status.listeners).toBe(1);
    expect(t.sip.userAgent.stopped).toBe(false);
    t.controller.prefetch();
    await flush();
    expect(t.clients).toHaveLength(1);
  });
});
