import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import type { Config } from '../config/index.js';
import { SipRequest, type Flow } from '../sip/index.js';
import { classifyInvite } from './classify.js';
import { failureForStatus } from './dial-failure.js';
import { Trunk } from './trunk.js';

const logger = pino({ level: 'silent' });

function trunkSettings(extra: Record<string, unknown> = {}): Config['trunks'][string] {
  const config = loadConfig({
    input: {
      gatewayId: 'gw',
      tokens: { encryptionKeys: [{ kty: 'EC', kid: 'k', d: 'x' }] },
      tenants: { acme: { jwks: [{ kty: 'EC', kid: 's' }] } },
      flows: { main: [{ verb: 'hangup' }] },
      trunks: {
        t: {
          peers: [{ host: '192.0.2.10' }, { host: '192.0.2.11', priority: 5 }],
          keepAlive: { intervalSeconds: 0 },
          defaultCountry: 'GB',
          inbound: {
            allow: ['198.51.100.0/24'],
            numbers: [{ from: '+442079460000', to: '+442079460099', tenant: 'acme', flow: 'main' }],
          },
          maxConcurrentCalls: 1,
          codecs: ['PCMA'],
          ...extra,
        },
      },
    },
  });
  return config.trunks['t'] as Config['trunks'][string];
}

function trunk(extra: Record<string, unknown> = {}, random?: () => number): Trunk {
  return new Trunk({
    settings: { ...trunkSettings(extra), id: 't' },
    stack: undefined as never,
    logger,
    ...(random ? { random } : {}),
  });
}

function flow(address: string, protocol: Flow['protocol'] = 'UDP'): Flow {
  return {
    id: `x:${address}`,
    protocol,
    local: { address: '127.0.0.1', port: 5060 },
    remote: { address, port: 5060 },
    reliable: protocol !== 'UDP',
    origin: undefined,
    closed: false,
    send: () => true,
    close: () => undefined,
  };
}

function invite(
  uri: string,
  headers: [string, string][] = [],
  sdp = 'v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 0\r\n',
): SipRequest {
  const base: [string, string][] = [
    ['Via', 'SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK1'],
    ['From', '<sip:02079460500@carrier.example>;tag=1'],
    ['To', `<${uri}>`],
    ['Call-ID', 'c1'],
    ['CSeq', '1 INVITE'],
  ];
  const replaced = new Set(headers.map(([name]) => name.toLowerCase()));
  return new SipRequest({
    method: 'INVITE',
    requestUri: uri,
    headers: [
      ...base.filter(([name]) => !replaced.has(name.toLowerCase())),
      ...headers,
      ...(sdp ? ([['Content-Type', 'application/sdp']] as [string, string][]) : []),
    ],
    body: sdp,
  });
}

describe('classifyInvite', () => {
  it('leaves browsers and callers that are not the carrier to the visitor pipeline', () => {
    const t = trunk();
    expect(classifyInvite([t], invite('sip:sales@parley.test'), flow('203.0.113.5'))).toEqual({
      kind: 'not-trunk',
    });
    expect(classifyInvite([t], invite('sip:02079460001@gw'), flow('192.0.2.10', 'WSS')).kind).toBe(
      'not-trunk',
    );
  });

  it("refuses a trunk number from outside the access list, naming the number's trunk", () => {
    expect(
      classifyInvite([trunk()], invite('sip:02079460001@gw'), flow('203.0.113.5')),
    ).toMatchObject({ kind: 'refused', code: 'trunk_source_not_allowed', trunk: 't' });
  });

  it('accepts from a peer or an allowed network, reading national numbers, PAI, privacy and anonymous callers', () => {
    const t = trunk();
    const fromPeer = classifyInvite(
      [t],
      invite('sip:020-7946-0001@gw;user=phone', [
        ['P-Asserted-Identity', '<sip:+441632960123@carrier.example>'],
        ['Privacy', 'id'],
      ]),
      flow('192.0.2.11'),
    );
    expect(fromPeer).toMatchObject({
      kind: 'accepted',
      call: {
        trunk: 't',
        peer: { host: '192.0.2.11' },
        called: '+442079460001',
        caller: { kind: 'number', number: '+441632960123', private: true },
        tenant: 'acme',
        flow: 'main',
        codecs: ['PCMA'],
      },
    });
    if (fromPeer.kind === 'accepted') fromPeer.call.slot.release();

    const anonymous = classifyInvite(
      [t],
      invite('tel:+44-20-7946-0002', [
        ['From', '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=2'],
      ]),
      flow('198.51.100.7'),
    );
    expect(anonymous).toMatchObject({
      kind: 'accepted',
      call: { peer: undefined, called: '+442079460002', caller: { kind: 'anonymous' } },
    });
    if (anonymous.kind === 'accepted') anonymous.call.slot.release();

    // The From's national number, when no PAI.
    const plain = classifyInvite([t], invite('sip:02079460003@gw'), flow('192.0.2.10'));
    expect(plain).toMatchObject({
      call: { caller: { kind: 'number', number: '+442079460500', private: false } },
    });
    if (plain.kind === 'accepted') plain.call.slot.release();
  });

  it('refuses an unknown number 404, an offer without the trunk codecs 488, and beyond the cap 503', () => {
    const t = trunk();
    const f = flow('192.0.2.10');
    expect(classifyInvite([t], invite('sip:02079469999@gw'), f)).toMatchObject({
      kind: 'refused',
      code: 'trunk_unknown_number',
    });
    expect(
      classifyInvite(
        [t],
        invite(
          'sip:02079460001@gw',
          [],
          'v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 18\r\n',
        ),
        f,
      ),
    ).toMatchObject({ kind: 'refused', code: 'offer_required' });
    const held = classifyInvite([t], invite('sip:02079460001@gw', [], ''), f);
    expect(held.kind).toBe('accepted');
    expect(classifyInvite([t], invite('sip:02079460001@gw'), f)).toMatchObject({
      kind: 'refused',
      code: 'trunk_call_limit',
    });
    if (held.kind === 'accepted') {
      held.call.slot.release();
      held.call.slot.release();
    }
    expect(t.activeCalls).toBe(0);
  });
});

describe('Trunk', () => {
  it('dials lower priorities first and shares one priority by weight', () => {
    const t = trunk({
      peers: [
        { host: '192.0.2.1', priority: 2 },
        { host: '192.0.2.2', priority: 1, weight: 1 },
        { host: '192.0.2.3', priority: 1, weight: 3 },
      ],
    });
    const order = (random: number) =>
      trunk(
        {
          peers: [
            { host: '192.0.2.1', priority: 2 },
            { host: '192.0.2.2', priority: 1, weight: 1 },
            { host: '192.0.2.3', priority: 1, weight: 3 },
          ],
        },
        () => random,
      )
        .dialOrder()
        .map((p) => p.host);
    expect(t.dialOrder().at(-1)?.host).toBe('192.0.2.1');
    // 0.1 × 4 falls in the first weight (1); 0.5 × 4 in the second (3).
    expect(order(0.1)).toEqual(['192.0.2.2', '192.0.2.3', '192.0.2.1']);
    expect(order(0.5)).toEqual(['192.0.2.3', '192.0.2.2', '192.0.2.1']);
  });
});

describe('failureForStatus', () => {
  it.each([
    [486, 'busy', 'number_busy'],
    [600, 'busy', 'number_busy'],
    [480, 'no_answer', 'number_no_answer'],
    [487, 'no_answer', 'number_no_answer'],
    [484, 'invalid_number', 'number_invalid'],
    [502, 'unavailable', 'trunk_unavailable'],
    [404, 'rejected', 'number_rejected'],
    [603, 'rejected', 'number_rejected'],
  ])('%i is %s (%s)', (status, reason, code) => {
    expect(failureForStatus(status)).toEqual({ reason, code });
  });
});
