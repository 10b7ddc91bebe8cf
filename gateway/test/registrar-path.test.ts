/**
 * RFC 3327 Path: an agent's phone registered through an edge proxy (Kamailio
 * adds `Path: <sip:proxy;lr;received=…>`) can only be reached through that
 * proxy, which holds its connection. The registrar keeps the Path with the
 * binding and returns it (to a UA that supports Path); the agent's INVITE is
 * sent to the Path's first hop with the Path as its Route set, and the
 * Request-URI is the phone's contact. A bare UDP socket plays the proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SipRequest, SipResponse } from '../src/sip/message/index.js';
import { startTestGateway, type TestGateway } from './harness.js';
import { isFinal, isRequest, reasonOf, reply, visitorInvite } from './raw-call.js';
import { RawSipClient } from './raw-sip.js';

let gw: TestGateway;
let proxy: RawSipClient;
let visitor: RawSipClient;

beforeAll(async () => {
  [proxy, visitor] = await Promise.all([RawSipClient.open('127.0.0.2'), RawSipClient.open()]);
  gw = await startTestGateway({
    agents: [{ id: 'agent1' }],
    maxAttempts: 1,
    sipExtra: { edge: { trusted: ['127.0.0.2'] } },
  });
});
afterAll(async () => {
  proxy?.close();
  visitor?.close();
  await gw?.close();
});

describe('a registration through an edge proxy', () => {
  const path = `<sip:127.0.0.2:${0};lr;received=sip:192.0.2.50:5099>`;

  it('keeps the Path and returns it to a UA that supports Path', async () => {
    const route = path.replace(':0;', `:${proxy.port};`);
    const ok = await proxy.register(
      gw.udp,
      'agent1',
      'secret',
      ['<sip:agent1-x@192.0.2.50:5099;transport=tcp>'],
      [`Path: ${route}`, 'Supported: path', 'X-Parley-Source: TCP 192.0.2.50:5099'],
      'MD5',
    );
    expect(ok.status).toBe(200);
    expect(ok.headers.getAll('path')).toEqual([route]);
  });

  it('calls the agent through the Path: to its first hop, Route set from it, Request-URI the contact', async () => {
    const route = path.replace(':0;', `:${proxy.port};`);
    const { text, callId } = await visitorInvite(gw, visitor);
    visitor.send(gw.udp, text);
    const invite = (await proxy.waitFor(isRequest('INVITE'), 5000)) as SipRequest;
    expect(invite.requestUri).toBe('sip:agent1-x@192.0.2.50:5099;transport=tcp');
    expect(invite.headers.getAll('route')).toEqual([route]);
    // Over UDP to the proxy: our Contact is the UDP one.
    expect(invite.headers.get('contact')).not.toContain('transport=tcp');
    reply(proxy, gw, invite, 486, { toTag: 'busy' });
    const final = (await visitor.waitFor(isFinal(callId), 5000)) as SipResponse;
    expect(final.status).toBeGreaterThanOrEqual(400);
    expect(reasonOf(final)).toBeDefined();
  });
});
