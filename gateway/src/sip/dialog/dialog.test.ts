import { describe, expect, it } from 'vitest';
import { createResponse, parseMessage, type SipRequest } from '../message/index.js';
import type { Flow, SipProtocol } from '../transport/index.js';
import { Dialog } from './dialog.js';

/** An INVITE from a visitor whose path record-routed through two proxies. */
const INVITE = [
  'INVITE sip:sales@gw.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK-p2;received=198.51.100.7',
  'Via: SIP/2.0/UDP 203.0.113.9:5070;branch=z9hG4bK-ua',
  'Record-Route: <sip:198.51.100.7:5062;lr;ftag=v1>',
  'Record-Route: <sip:p1.example.net;transport=tcp;lr>',
  'From: <sip:visitor@example.net>;tag=v1',
  'To: <sip:sales@gw.example.com>',
  'Call-ID: rr-1@example.net',
  'CSeq: 7 INVITE',
  'Contact: <sip:visitor@203.0.113.9:5070>',
  'Max-Forwards: 68',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

function invite(text = INVITE): SipRequest {
  const m = parseMessage(text);
  if (m.type !== 'request') throw new Error('request expected');
  return m;
}

function flow(protocol: SipProtocol, remote = { address: '198.51.100.7', port: 5060 }): Flow {
  return {
    id: `${protocol.toLowerCase()}:test`,
    protocol,
    local: { address: '192.0.2.1', port: 5060 },
    remote,
    reliable: protocol !== 'UDP',
    origin: undefined,
    closed: false,
    send: () => true,
    close: () => undefined,
  };
}

const CONTACT = 'sip:parley@192.0.2.1:5060';

describe('Dialog as UAS (RFC 3261 §12.1.1)', () => {
  it('takes the route set from Record-Route in order, and routes loosely through it (§12.2.1.1)', () => {
    const dialog = Dialog.asUas(invite(), 'gw1', flow('UDP'), CONTACT);
    expect(dialog.routeSet).toEqual([
      '<sip:198.51.100.7:5062;lr;ftag=v1>',
      '<sip:p1.example.net;transport=tcp;lr>',
    ]);
    const bye = dialog.createRequest('BYE');
    // Loose routing: the Request-URI is the remote target, the route set goes in Route.
    expect(bye.requestUri).toBe('sip:visitor@203.0.113.9:5070');
    expect(bye.headers.getAll('route')).toEqual([
      '<sip:198.51.100.7:5062;lr;ftag=v1>',
      '<sip:p1.example.net;transport=tcp;lr>',
    ]);
    expect(bye.cseq.method).toBe('BYE');
    expect(bye.to.tag).toBe('v1');
    expect(bye.from.tag).toBe('gw1');
    // To the first Route's address (§8.1.2), not back along the flow the INVITE came on.
    expect(dialog.target()).toEqual({ protocol: 'UDP', address: '198.51.100.7', port: 5062 });
  });

  it('matches the route set the UAC derives from our 2xx (§12.1.2: reversed)', () => {
    const request = invite();
    const ok = createResponse(request, 200, undefined, { toTag: 'gw1' });
    const uasRoutes = Dialog.asUas(request, 'gw1', flow('UDP'), CONTACT).routeSet;
    expect(ok.headers.getAll('record-route')).toEqual(uasRoutes);
    expect([...ok.headers.getAll('record-route')].reverse()).toEqual([...uasRoutes].reverse());
  });

  it('keeps using the flow without a route set, and always for a WebSocket (a browser accepts no connections)', () => {
    const plain = invite(INVITE.replace(/Record-Route: [^\r]*\r\n/g, ''));
    const udp = flow('UDP', { address: '203.0.113.9', port: 40_000 });
    const direct = Dialog.asUas(plain, 'gw1', udp, CONTACT);
    expect(direct.createRequest('BYE').headers.has('route')).toBe(false);
    expect(direct.target()).toMatchObject({ address: '203.0.113.9', port: 40_000, flow: udp });

    const ws = flow('WS', { address: '203.0.113.9', port: 51_000 });
    const browser = Dialog.asUas(invite(), 'gw1', ws, CONTACT);
    expect(browser.createRequest('BYE').headers.getAll('route')).toHaveLength(2);
    expect(browser.target()).toMatchObject({ protocol: 'WS', flow: ws });
  });

  it('falls back to the flow when the first Route cannot be resolved', () => {
    const sips = invite(
      INVITE.replace('<sip:198.51.100.7:5062;lr;ftag=v1>', '<mailto:proxy@example.net>'),
    );
    const udp = flow('UDP');
    expect(Dialog.asUas(sips, 'gw1', udp, CONTACT).target()).toMatchObject({ flow: udp });
  });
});
